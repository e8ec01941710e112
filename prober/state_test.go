// Copyright 2026 The tcpping_exporter Authors
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package prober

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// TestJitterIsNotLoss feeds the state machine 1 000 probes, one every
// 10 ms, on a path whose RTT is 150 ms ± 3 ms, with the default adaptive
// settings, and one probe whose reply never comes. With the default
// rto_margin no answered probe times out and the lost one is counted
// within 1.5 SRTT of its send; without the margin RFC 6298's timeout hugs
// SRTT and the jitter shows as timeouts and late replies.
func TestJitterIsNotLoss(t *testing.T) {
	const (
		probes   = 1000
		interval = 10 * time.Millisecond
		lost     = 500 // this probe's reply never comes
	)
	tests := []struct {
		name         string
		margin       float64
		wantTimeouts func(n uint64) bool
	}{
		{"default rto_margin", config.DefaultModule().RTOMargin, func(n uint64) bool { return n == 1 }},
		// At least one answered probe besides the lost one times out.
		{"rto_margin 0", 0, func(n uint64) bool { return n > 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := config.DefaultModule()
			m.RTOMargin = tt.margin
			var s state
			s.init(&m)
			rng := rand.New(rand.NewPCG(1, 2))
			start := time.Unix(1_000_000, 0)
			arrival := make([]time.Time, probes+1) // by sequence number
			var lostAt time.Time
			var lostCounted time.Time
			next := 1 // next reply to deliver, in order
			for i := 1; i <= probes+30; i++ {
				now := start.Add(time.Duration(i) * interval)
				// Deliver the replies due by now, in order (TCP keeps it),
				// expiring what is due before each.
				for next <= probes && !arrival[next].IsZero() && !arrival[next].After(now) {
					before := s.timeouts
					s.expire(arrival[next], 0)
					if next > lost && lostCounted.IsZero() && s.timeouts > before {
						lostCounted = arrival[next]
					}
					if next != lost {
						s.reply(echoReply{seq: uint64(next), recv: arrival[next]}, &m)
					}
					next++
				}
				before := s.timeouts
				s.expire(now, 0)
				if lostCounted.IsZero() && !lostAt.IsZero() && s.timeouts > before {
					lostCounted = now
				}
				if i <= probes {
					seq := s.send(now)
					jitter := time.Duration(rng.Int64N(int64(6*time.Millisecond+1))) - 3*time.Millisecond
					arrival[seq] = now.Add(150*time.Millisecond + jitter)
					if seq == lost {
						lostAt = now
					}
				}
			}
			if !tt.wantTimeouts(s.timeouts) {
				t.Errorf("%d timeouts, %d late, %d received of %d probes", s.timeouts, s.late, s.received, probes)
			}
			if tt.margin == 0 {
				return
			}
			if s.late != 0 || s.received != probes-1 {
				t.Errorf("late %d, received %d: want 0 and %d", s.late, s.received, probes-1)
			}
			srtt := s.rto.smoothed()
			if lostCounted.IsZero() || lostCounted.Sub(lostAt) > srtt*3/2+interval {
				t.Errorf("the lost probe sent at %v was counted at %v: want within 1.5 SRTT (%v) + one step",
					lostAt.Sub(start), lostCounted.Sub(start), srtt*3/2)
			}
		})
	}
}

// TestReplyTimes checks what a reply's RTT is measured from: the kernel's
// transmit and receive timestamps where they are consistent with the
// clock reads around them, the clock reads where a stamp is missing (a
// transmit timestamp that never came) or could only come from a clock
// step.
func TestReplyTimes(t *testing.T) {
	us := time.Microsecond
	sent := time.Unix(1_000_000, 0)
	wall := sent.UnixNano()
	recv := sent.Add(500 * us) // the read, by the monotonic clock
	tests := []struct {
		name          string
		txNs, rxNs    int64
		wantDeparture time.Duration
		wantArrival   time.Duration
	}{
		{"clock reads only", 0, 0, 0, 500 * us},
		{"both kernel times", wall + int64(12*us), wall + int64(120*us), 12 * us, 120 * us},
		{"transmit stamp never came", 0, wall + int64(120*us), 0, 120 * us},
		{"transmit stamp with a user-space arrival", wall + int64(12*us), 0, 12 * us, 500 * us},
		{"transmit stamp after the arrival: a clock step", wall + int64(200*us), wall + int64(120*us), 0, 120 * us},
		{"transmit stamp before the clock read: a clock step", wall - int64(us), wall + int64(120*us), 0, 120 * us},
		{"receive time after the read: a clock step", 0, wall + int64(600*us), 0, 500 * us},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := echoReply{seq: 1, recv: recv, kernelNs: tt.rxNs}
			d, a := r.times(probe{seq: 1, sent: sent, txNs: tt.txNs})
			if d != tt.wantDeparture || a != tt.wantArrival {
				t.Errorf("departure %v arrival %v, want %v %v", d, a, tt.wantDeparture, tt.wantArrival)
			}
		})
	}
}

// TestTxStampKeys checks that each transmit timestamp reaches the probe
// whose frame it stamps: probe n of a connection (n from 1) has key
// hello + n·L − 1 modulo 2³², whatever the connection's first sequence
// number, and a stamp with another key, or a second stamp of a frame (a
// retransmission), changes nothing.
func TestTxStampKeys(t *testing.T) {
	tests := []struct {
		name      string
		hello     uint32
		length    uint32
		connFirst uint64
		stampSeq  uint64 // the probe stamped
		key       uint32
	}{
		{"v1, first probe", 0, 24, 1, 1, 23},
		{"v1, third probe", 0, 24, 1, 3, 71},
		{"after the HELLO", 24, 24, 1, 2, 24 + 48 - 1},
		{"1400-byte frames on a second connection", 24, 1400, 101, 102, 24 + 2800 - 1},
		{"keys wrap at 2^32", 24, 9000, 1, 477_300, 24 + 477_300*9000 - 1 - 1<<32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := config.DefaultModule()
			var s state
			s.init(&m)
			s.seq = tt.connFirst - 1
			s.connUp(time.Unix(1, 0), 0, "", "", true, false)
			s.txBase, s.frameLen = tt.hello, tt.length
			s.seq = max(s.seq, tt.stampSeq-2) // the probes before went unstamped
			for s.seq < tt.stampSeq+1 {
				s.send(time.Unix(2, 0))
			}
			s.txStamp(tt.key+1, 5) // another frame's, or no frame's
			s.txStamp(tt.key, 7)
			s.txStamp(tt.key, 9) // a retransmission's
			for _, pr := range s.inflight {
				want := int64(0)
				if pr.seq == tt.stampSeq {
					want = 7
				}
				if pr.txNs != want {
					t.Errorf("probe %d has stamp %d, want %d", pr.seq, pr.txNs, want)
				}
			}
		})
	}
}

// TestRecentEvents checks the ring of connection events that /probe's
// debug output and the target page show: the last maxEvents, oldest first,
// before and after the ring fills and wraps.
func TestRecentEvents(t *testing.T) {
	for _, n := range []int{0, 3, maxEvents, maxEvents + 1, 3*maxEvents + 5} {
		var s state
		for i := range n {
			s.event(time.Unix(int64(i), 0), strconv.Itoa(i))
		}
		got := s.recentEvents()
		var texts []string
		for _, e := range got {
			texts = append(texts, e.Text)
		}
		var want []string
		for i := max(0, n-maxEvents); i < n; i++ {
			want = append(want, strconv.Itoa(i))
		}
		if !slices.Equal(texts, want) {
			t.Errorf("after %d events: %v, want %v", n, texts, want)
		}
	}
}
