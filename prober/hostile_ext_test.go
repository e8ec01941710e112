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
	"encoding/binary"
	"math"
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
