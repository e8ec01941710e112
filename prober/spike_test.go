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

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestDelaySpikeIsNotLoss probes every 20 ms, with the default module's
// adaptive timeout and reconnect_after, an echo server 5 ms away whose
// path once holds a frame 400 ms (a queue filling up), and the frames
// behind it, in order, as TCP keeps them. The timeout in force is
// min_timeout, 100 ms: the held frame times out, and so do the four sent
// after it with the timeout not yet backed off, all before the first
// reply comes back. Every one of them is answered: each timeout has its
// late reply, nothing is lost, and the connection, which answers, is not
// declared dead, which would count the probes in flight on it as lost.
func TestDelaySpikeIsNotLoss(t *testing.T) {
	const (
		interval = 20 * time.Millisecond
		spikeAt  = 60 // the frame held, after the HELLO: the estimator has settled
	)
	var frames atomic.Int64
	addr := testenv.HeldEchoServer(t, testenv.HeldEcho{Hold: func() time.Duration {
		switch frames.Add(1) {
		case 1:
			return 0 // the HELLO
		case spikeAt:
			return 400 * time.Millisecond
		}
		return 5 * time.Millisecond
	}})
	m := config.DefaultModule()
	m.Interval = config.Duration(interval)
	m.IPProtocol = "ip4"
	_, snap := startProber(t, addr, m)
	waitFor(t, "the spike and 1 s after it", 15*time.Second, func() bool { return snap().Sent >= spikeAt+50 })
	s := snap()
	if s.Timeouts == 0 {
		t.Fatalf("no timeout at all: the 400 ms hold did not outlast the timeout in force (%v)", s.Timeout)
	}
	if s.Dropped != 0 || s.Timeouts != s.Late {
		t.Errorf("%d connections dropped, %d timeouts, %d late replies: want none dropped and every timeout answered late",
			s.Dropped, s.Timeouts, s.Late)
	}
}
