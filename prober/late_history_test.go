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

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// TestLateReplyIsNotLostInHistory runs a prober of three probes against a
// server that answers the third 300 ms after it, past the probe's 100 ms
// timeout: the counters have 1 timeout and 1 late reply, and the history
// has the three probes and none lost (the graphs' loss is the probes
// never answered), with the RTTs of the two answered in time.
func TestLateReplyIsNotLostInHistory(t *testing.T) {
	const slot = time.Minute
	srv := startServer(t, lateThird)
	mod := testModule(20*time.Millisecond, 100*time.Millisecond, false)
	mod.ReconnectAfter = 0
	// A late reply crossing into the next slot would leave its loss in
	// the slot before (history.Recorder.Late's bound): keep the second
	// this test takes clear of a slot's end.
	if left := slot - time.Duration(time.Now().UnixNano()%int64(slot)); left < 2*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	p, log := startObserved(t, srv.addr(), Options{Module: mod, MaxProbes: 3,
		History: history.NewPool(time.Hour, slot).NewRecorder()})
	waitFor(t, "a late reply", 5*time.Second, func() bool { return log.count(ResultLate) == 1 })
	s := p.Snapshot()
	if s.Sent != 3 || s.Received != 2 || s.Timeouts != 1 || s.Late != 1 || s.InFlight != 0 {
		t.Fatalf("counters: %d sent, %d received, %d timeouts, %d late, %d in flight; want 3, 2, 1, 1, 0",
			s.Sent, s.Received, s.Timeouts, s.Late, s.InFlight)
	}
	if n := log.count(ResultTimeout); n != 1 {
		t.Errorf("%d timeouts reported, want 1", n)
	}
	sent, lost, medians := sumHistory(p)
	if sent != 3 || lost != 0 || medians != 1 {
		t.Errorf("history: %d sent, %d lost, %d slots with a median; want 3 sent, 0 lost (%d timeouts − %d late), 1 median",
			sent, lost, medians, s.Timeouts, s.Late)
	}
}
