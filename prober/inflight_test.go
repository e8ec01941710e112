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
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// TestInFlightBoundWithSlowReads: the read of waiting replies before a
// probe can take longer than an interval (a peer flooding the connection:
// the prober reads maxDrain frames first). The next slot must then count
// from the late probe's send: counted from when the read began, the slot
// after it is already due, so two probes go at once, both late, and a
// timeout later (a whole number of intervals) both are still in flight
// when a probe is next due: one more than the bound tcp_echo_in_flight
// keeps, ceil(T/interval) + 1 (Module.MaxInFlight). It happened under a
// flood with the race detector on a loaded machine. Against a server that
// never answers, every twelfth such read (more than a timeout apart) takes
// 1.25 intervals, and hostileProbe checks the bound every millisecond.
func TestInFlightBoundWithSlowReads(t *testing.T) {
	srv := startServerStop(t, func(c net.Conn, _ <-chan struct{}) { _, _ = io.Copy(io.Discard, c) })
	m := hostileModule()
	m.Interval = config.Duration(40 * time.Millisecond)
	m.Timeout = config.Duration(400 * time.Millisecond) // at most 11 in flight
	m.MaxTimeout = m.Timeout
	m.ReconnectAfter = 0
	var reads, slow atomic.Int64
	hooks := &sendHooks{afterRead: func() {
		if reads.Add(1)%12 == 0 {
			slow.Add(1)
			time.Sleep(m.Interval.D() * 5 / 4)
		}
	}}
	snap, stop := hostileProbeHooked(t, srv.addr(), m, hooks)
	defer stop()
	s := hostileWait(t, "60 timeouts", snap, func(s Snapshot) bool { return s.Timeouts >= 60 })
	if n := slow.Load(); n < 3 {
		t.Fatalf("%d slow reads before probes, want 3 or more: the hook did not run", n)
	}
	t.Logf("sent %d, timed out %d, %d slow reads; in flight %d (bound %d)", s.Sent, s.Timeouts, slow.Load(), s.InFlight, m.MaxInFlight())
}
