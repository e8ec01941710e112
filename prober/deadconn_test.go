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
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestLateRepliesKeepTheConnection probes every 200 ms, with a fixed 50 ms
// timeout and reconnect_after 3, an echo server that answers every probe
// 120 ms after it: each probe times out, then its reply comes, 130 ms
// before the next probe's timeout. The connection is not dead, it answers
// every probe: it is kept, and nothing is lost (timeouts less late
// replies). A connection whose probes all time out and are never answered
// is still declared dead (TestDeclaredDeadAfterConsecutiveTimeouts).
func TestLateRepliesKeepTheConnection(t *testing.T) {
	var frames atomic.Int64
	addr := testenv.HeldEchoServer(t, testenv.HeldEcho{Hold: func() time.Duration {
		if frames.Add(1) == 1 {
			return 0 // the HELLO
		}
		return 120 * time.Millisecond
	}})
	mod := testModule(200*time.Millisecond, 50*time.Millisecond, false)
	mod.ReconnectAfter = 3
	_, snap := startProber(t, addr, mod)
	waitFor(t, "10 probes", 10*time.Second, func() bool { return snap().Sent >= 10 })
	s := snap()
	if s.Dropped != 0 || s.Late < 8 || s.Timeouts-s.Late > 1 {
		t.Errorf("%d connections dropped, %d timeouts, %d late replies: want none dropped and every timeout answered late (but the last's, maybe)",
			s.Dropped, s.Timeouts, s.Late)
	}
}
