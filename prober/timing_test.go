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
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// path is a synthetic network path for the state machine: each probe takes
// fwd[i] to reach the echo server, which holds it hold[i] and whose clock
// reads offset ahead of the prober's, and rev[i] to come back.
type path struct {
	fwd, hold, rev []time.Duration
	offset         time.Duration
}

// run sends len(p.fwd) probes through p, 10 ms apart, with kernel
// transmit and receive timestamps, and returns the state.
func (p path) run(t *testing.T) *state {
	t.Helper()
	m := config.DefaultModule()
	s := &state{}
	s.init(&m)
	start := time.Unix(1_000_000, 0)
	s.connUp(start, 0, "", "", true, true)
	for i := range p.fwd {
		sent := start.Add(time.Duration(i+1) * 10 * time.Millisecond)
		seq := s.send(sent)
		tx := sent.Add(5 * time.Microsecond) // the local send path
		s.inflight[len(s.inflight)-1].txNs = tx.UnixNano()
		peerRx := tx.Add(p.fwd[i])
		rx := peerRx.Add(p.hold[i] + p.rev[i])
		r := echoReply{
			seq: seq, recv: rx.Add(30 * time.Microsecond), kernelNs: rx.UnixNano(),
			ext: true, peerRxNs: uint64(peerRx.Add(p.offset).UnixNano()), turnaround: p.hold[i],
		}
		if res := s.reply(r, &m); res != replyMatched {
			t.Fatalf("probe %d: reply result %v", i, res)
		}
	}
	return s
}

func repeat(n int, ds ...time.Duration) []time.Duration {
	out := make([]time.Duration, 0, n)
	for i := range n {
		out = append(out, ds[i%len(ds)])
	}
	return out
}

// TestTimingOfExtendedReplies checks what the state machine makes of
// extended replies: the turnaround is the server's, not network time, in
// neither direction's transit or jitter (only the RTT's jitter sees it);
// each direction's jitter follows its own transit's changes; a clock
// offset shifts the one-way delays by exactly itself and leaves the
// jitters as they were.
func TestTimingOfExtendedReplies(t *testing.T) {
	us, ms := time.Microsecond, time.Millisecond
	const n = 200
	tests := []struct {
		name                         string
		p                            path
		wantFwdDelay, wantRevDelay   time.Duration
		wantFwdJitter, wantRevJitter time.Duration // within 1 µs
		wantRTTJitter                time.Duration // within 1 µs
	}{
		{"steady path, steady server",
			path{repeat(n, 40*us), repeat(n, 10*us), repeat(n, 60*us), 0},
			40 * us, 60 * us, 0, 0, 0},
		{"the server holds replies 0 or 4 ms by turns",
			path{repeat(n, 40*us), repeat(n, 0, 4*ms), repeat(n, 60*us), 0},
			40 * us, 60 * us, 0, 0, 4 * ms},
		{"the forward path alternates 40 and 140 µs",
			path{repeat(n, 40*us, 140*us), repeat(n, 10*us), repeat(n, 60*us), 0},
			140 * us, 60 * us, 100 * us, 0, 100 * us},
		{"the reverse path alternates 60 and 260 µs",
			path{repeat(n, 40*us), repeat(n, 10*us), repeat(n, 60*us, 260*us), 0},
			40 * us, 260 * us, 0, 200 * us, 200 * us},
		{"the server's clock is 1.5 s ahead",
			path{repeat(n, 40*us, 140*us), repeat(n, 10*us), repeat(n, 60*us, 260*us), 1500 * ms},
			1500*ms + 140*us, 260*us - 1500*ms, 100 * us, 200 * us, 300 * us},
		{"the server's clock is 3 s behind",
			path{repeat(n, 40*us, 140*us), repeat(n, 10*us), repeat(n, 60*us, 260*us), -3000 * ms},
			140*us - 3000*ms, 260*us + 3000*ms, 100 * us, 200 * us, 300 * us},
	}
	near := func(got, want time.Duration) bool { return got >= want-us && got <= want+us }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.p.run(t)
			var snap Snapshot
			m := config.DefaultModule()
			s.snapshot(time.Unix(1_000_010, 0), &snap, &m)
			if snap.ForwardDelay != tt.wantFwdDelay || snap.ReverseDelay != tt.wantRevDelay {
				t.Errorf("delays forward %v reverse %v, want %v %v", snap.ForwardDelay, snap.ReverseDelay, tt.wantFwdDelay, tt.wantRevDelay)
			}
			if !near(snap.ForwardJitter, tt.wantFwdJitter) || !near(snap.ReverseJitter, tt.wantRevJitter) {
				t.Errorf("jitter forward %v reverse %v, want %v %v", snap.ForwardJitter, snap.ReverseJitter, tt.wantFwdJitter, tt.wantRevJitter)
			}
			if !near(snap.Jitter, tt.wantRTTJitter) {
				t.Errorf("RTT jitter %v, want %v", snap.Jitter, tt.wantRTTJitter)
			}
			var holds time.Duration
			for _, h := range tt.p.hold {
				holds += h
			}
			if got := snap.Turnaround; got.Count != n || !near(time.Duration(got.Sum*1e9), holds) {
				t.Errorf("turnaround histogram: %d observations summing to %vs, want %d and %v", got.Count, got.Sum, n, holds)
			}
			if snap.Histogram.Count != n {
				t.Errorf("RTT histogram: %d observations, want %d", snap.Histogram.Count, n)
			}
		})
	}
}

// TestTimingOfV1Replies checks that replies without the extended fields
// leave every extended series at 0, with an empty turnaround histogram
// shaped like the RTT's, and still give the RTT's jitter.
func TestTimingOfV1Replies(t *testing.T) {
	m := config.DefaultModule()
	var s state
	s.init(&m)
	start := time.Unix(1_000_000, 0)
	s.connUp(start, 0, "", "", false, false)
	for i, rtt := range repeat(50, 100*time.Microsecond, 300*time.Microsecond) {
		sent := start.Add(time.Duration(i+1) * 10 * time.Millisecond)
		seq := s.send(sent)
		s.reply(echoReply{seq: seq, recv: sent.Add(rtt)}, &m)
	}
	var snap Snapshot
	s.snapshot(start, &snap, &m)
	if snap.Jitter < 150*time.Microsecond || snap.Jitter > 200*time.Microsecond {
		t.Errorf("RTT jitter %v, want close to the 200µs steps", snap.Jitter)
	}
	if snap.ForwardDelay != 0 || snap.ReverseDelay != 0 || snap.ForwardJitter != 0 || snap.ReverseJitter != 0 {
		t.Errorf("extended series %v %v %v %v, want 0", snap.ForwardDelay, snap.ReverseDelay, snap.ForwardJitter, snap.ReverseJitter)
	}
	var empty HistogramSnapshot
	newHistogram(m.Buckets, m.NativeHistogramBucketFactor).snapshotInto(&empty)
	got := snap.Turnaround
	if got.Count != 0 || len(got.Counts) != len(empty.Counts) || got.Native != empty.Native || got.Schema != empty.Schema ||
		got.ZeroThreshold != empty.ZeroThreshold || len(got.UpperBounds) != len(empty.UpperBounds) {
		t.Errorf("turnaround histogram %+v, want an empty one like %+v", got, empty)
	}
}
