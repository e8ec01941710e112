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

//go:build linux

package prober

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestWaitingReplyKeepsItsArrival holds the prober's loop for longer than
// the interval after every third send, with a timeout longer than the
// interval, so that the next probe falls due while the last reply waits
// unread and no deadline makes the loop read it first. TCP merges the next
// reply into the unread one's buffer, which then carries the later arrival
// time: unless the waiting reply is read before the next probe is sent,
// its RTT becomes about the hold. Kernel timestamps time every reply, so
// the hold itself is in no RTT.
func TestWaitingReplyKeepsItsArrival(t *testing.T) {
	const (
		interval = 20 * time.Millisecond
		hold     = 80 * time.Millisecond
	)
	holdRxTimestamps(t)
	m := testModule(interval, 2*time.Second, false)
	p := New(Options{Name: "t", Address: startServer(t, echoHandler).addr(), Module: m, NoSplay: true}, nil)
	var sends atomic.Int64
	p.more().hooks = &sendHooks{afterSend: func() {
		if sends.Add(1)%3 == 0 {
			time.Sleep(hold)
		}
	}}
	p.startOn(t.Context(), testEngine(t))
	t.Cleanup(p.Stop)
	waitFor(t, "30 replies", 20*time.Second, func() bool { return p.Snapshot().Received >= 30 })
	s := p.Snapshot()
	if !s.KernelTimestamps {
		t.Fatal("kernel receive timestamps are off: the test needs them")
	}
	if s.Timeouts != 0 || s.Late != 0 {
		t.Errorf("timeouts %d late %d, want 0", s.Timeouts, s.Late)
	}
	// A reply that waited through a hold and took the next one's arrival
	// time is counted at about the hold: no reply took more than 51.2 ms
	// (the buckets above it), which only a stall of the echo server that
	// long could explain.
	var slow uint64
	for i, c := range s.Histogram.Counts {
		if i > 0 && s.Histogram.UpperBounds[i-1] >= 0.0512 {
			slow += c
		}
	}
	if slow != 0 {
		t.Errorf("%d of %d replies took %v or more (buckets %v, counts %v): replies that waited through a %v hold took a later reply's arrival time",
			slow, s.Histogram.Count, 51200*time.Microsecond, s.Histogram.UpperBounds, s.Histogram.Counts, hold)
	}
}
