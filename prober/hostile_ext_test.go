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
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"net"
	"testing"
	"time"
)

// TestTurnaroundWithinTheRoundTrip probes extended echo servers whose
// replies claim a turnaround longer than the round trip the prober
// measured: a server that lies, or one whose wall clock stepped forward
// between its receive and its send. The echo server receives the probe and
// sends its reply within the round trip, so no turnaround exceeds it: the
// turnaround histogram must not take more than each RTT, or the
// network-only RTT (RTT − turnaround) goes negative, the echo host's share
// of the RTT passes 100 % and its p99 turnaround reads +Inf.
func TestTurnaroundWithinTheRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		turnaround uint32
	}{
		{"the longest turnaround the field holds", math.MaxUint32},
		{"a turnaround of one second", uint32(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, extServer(func(r []byte, _ int) []byte {
				binary.LittleEndian.PutUint32(r[12:16], tt.turnaround)
				return r
			}))
			_, snap := startProber(t, srv.addr(), testModule(20*time.Millisecond, 500*time.Millisecond, false))
			waitFor(t, "20 replies", 10*time.Second, func() bool {
				s := snap()
				return s.Received >= 20 && s.Turnaround.Count == s.Received
			})
			s := snap()
			if !s.Extended {
				t.Fatal("the prober did not speak the extended protocol")
			}
			if s.Turnaround.Sum > s.Histogram.Sum {
				t.Errorf("turnarounds sum to %.6fs, more than the %d RTTs they are part of (%.6fs)",
					s.Turnaround.Sum, s.Histogram.Count, s.Histogram.Sum)
			}
			last := len(s.Turnaround.Counts) - 1
			if inf := s.Turnaround.Counts[last]; inf != 0 {
				t.Errorf("%d turnarounds above the top bucket (%vs), for RTTs of at most %v on loopback",
					inf, s.Turnaround.UpperBounds[last-1], s.LastRTT)
			}
			if net := s.ForwardDelay + s.ReverseDelay; net < 0 || net > s.LastRTT {
				t.Errorf("forward %v + reverse %v = %v: the network's share of a %v RTT must lie within it",
					s.ForwardDelay, s.ReverseDelay, net, s.LastRTT)
			}
		})
	}
}

// TestAbsurdPeerReceiveTimes probes extended echo servers whose replies
// carry receive times no clock shows: 1970, 2^63 ns and 2^64-1 ns after
// it (years 2262 and 2554), and one that jumps 2^63 ns back and forth
// from the request's send time. One-way delays are clock differences,
// absurd here, but they must keep the sign of the server clock's offset (a
// server clock in 2554 is ahead, not behind), and no jitter may be
// negative: int64 arithmetic must not wrap.
func TestAbsurdPeerReceiveTimes(t *testing.T) {
	tests := []struct {
		name string
		rx   func(tx uint64, n int) uint64
		// ahead: +1 the server clock is ahead (forward delay > 0, reverse
		// < 0), -1 behind, 0 jumping (not checked).
		ahead int
	}{
		{"1970", func(uint64, int) uint64 { return 1 }, -1},
		{"2^63 ns", func(uint64, int) uint64 { return 1 << 63 }, +1},
		{"2^64-1 ns", func(uint64, int) uint64 { return math.MaxUint64 }, +1},
		{"2^63 ns back and forth", func(tx uint64, n int) uint64 {
			if n%2 == 0 {
				return tx
			}
			return tx + 1<<63
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, func(c net.Conn) {
				if f, err := readFrame(c); err != nil || !bytes.Equal(f, testHello) {
					return
				}
				if _, err := c.Write(offerFrame(9000)); err != nil {
					return
				}
				for n := 1; ; n++ {
					r := make([]byte, 24)
					if _, err := io.ReadFull(c, r); err != nil {
						return
					}
					r[6] = 2
					binary.LittleEndian.PutUint64(r[16:24], tt.rx(binary.LittleEndian.Uint64(r[16:24]), n))
					if _, err := c.Write(r); err != nil {
						return
					}
				}
			})
			m := testModule(20*time.Millisecond, 300*time.Millisecond, false)
			m.TxTimestamps = false // the send time is then the request's
			_, snap := startProber(t, srv.addr(), m)
			waitFor(t, "20 replies", 10*time.Second, func() bool { return snap().Received >= 20 })
			s := snap()
			if !s.Extended || s.Unexpected != 0 || s.Dropped != 0 {
				t.Fatalf("extended %v unexpected %d dropped %d", s.Extended, s.Unexpected, s.Dropped)
			}
			if s.ForwardJitter < 0 || s.ReverseJitter < 0 {
				t.Errorf("forward jitter %v, reverse jitter %v: a jitter is never negative", s.ForwardJitter, s.ReverseJitter)
			}
			if tt.ahead == 0 {
				return
			}
			if ahead := s.ForwardDelay > 0 && s.ReverseDelay < 0; ahead != (tt.ahead > 0) {
				t.Errorf("forward delay %v, reverse delay %v: the server's clock is %s", s.ForwardDelay, s.ReverseDelay,
					map[bool]string{true: "ahead", false: "behind"}[tt.ahead > 0])
			}
			if net := s.ForwardDelay + s.ReverseDelay; net < 0 || net > s.LastRTT {
				t.Errorf("forward %v + reverse %v = %v: the network's share of a %v RTT must lie within it",
					s.ForwardDelay, s.ReverseDelay, net, s.LastRTT)
			}
		})
	}
}

// TestWrongLengthInAShortFrame probes an extended echo server with 24-byte
// extended frames (payload_size 24) whose third reply states another
// length than the connection's, in a header that arrives whole. As a bad
// magic or kind does, a bad length closes the connection and counts as
// unexpected, never as a reply: the README says so of every frame length,
// and the length is checked when the header arrives in parts too.
func TestWrongLengthInAShortFrame(t *testing.T) {
	for _, l := range []uint16{48, 9000} {
		srv := startServer(t, extServer(func(r []byte, n int) []byte {
			if n == 3 {
				binary.LittleEndian.PutUint16(r[4:6], l)
			}
			return r
		}))
		m := testModule(20*time.Millisecond, 300*time.Millisecond, false)
		m.ReconnectAfter = 0
		_, snap := startProber(t, srv.addr(), m)
		waitFor(t, "10 replies", 10*time.Second, func() bool { return snap().Received >= 10 })
		s := snap()
		if !s.Extended || s.FrameLength != 24 || s.Unexpected < 1 || s.Dropped < 1 || srv.accepted.Load() < 2 {
			t.Errorf("length %d in the third reply: extended %v, %d-byte frames, unexpected %d, dropped %d, %d connections; want 24-byte extended frames, the reply unexpected and the connection closed",
				l, s.Extended, s.FrameLength, s.Unexpected, s.Dropped, srv.accepted.Load())
		}
	}
}
