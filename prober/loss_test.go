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
	"sync"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestTimeoutMeansLoss probes, over a real connection with the default
// module's adaptive timeout and rto_margin, at 10 ms intervals, an echo
// server on 127.0.0.1 that holds its replies 150 ms ± 3 ms, in order: 150
// ms exactly, and one frame in 10 (at random) anywhere within ± 3 ms, the
// steady path with a little jitter on which RFC 6298's estimator alone
// settles at SRTT + 1 ms (its RTTVAR decays between the jittered frames)
// and times out answered probes. Over 1 000 probes none times out and no
// reply is late; when the server never answers one frame, exactly that
// probe times out, no earlier than 150 ms after it was sent and within
// the timeout in force plus slack, and nothing else is lost. The control,
// rto_margin 0, does time out answered probes on the same server, and
// each of their replies is counted late: timeouts − late is the loss.
// TestJitterIsNotLoss checks the same on the state machine alone.
//
// The margins, for a loaded 2-core machine under -race: with rto_margin
// 0.5 the timeout in force is at least 1.5 × SRTT ≈ 225 ms, so an
// answered probe would time out only if its reply (sent by the server at
// most 153 ms after the probe) were delayed more than 70 ms by scheduling,
// of the server's writer or of the prober; the drop's deadline allows
// 150 ms of such delay, plus the 2 ms of the test's polling, before the
// timeout is counted. Scheduling delays only add jitter, which makes the
// control time out more, not less.
func TestTimeoutMeansLoss(t *testing.T) {
	const (
		base     = 150 * time.Millisecond
		jitter   = 3 * time.Millisecond
		interval = 10 * time.Millisecond
		slack    = 150 * time.Millisecond
	)
	hold := func() time.Duration {
		if rand.N(10) != 0 {
			return base
		}
		return base - jitter + rand.N(2*jitter+1)
	}
	tests := []struct {
		name   string
		margin float64
		probes uint64
		drop   uint64 // the probe whose frame the server never answers, or 0
	}{
		{"1000 probes, none lost", config.DefaultModule().RTOMargin, 1000, 0},
		// The estimator has settled (RTTVAR's initial R/2 decays by 3/4
		// a sample) long before probe 300.
		{"probe 300 lost", config.DefaultModule().RTOMargin, 400, 300},
		{"control: rto_margin 0 times out answered probes", 0, 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu      sync.Mutex
				dropped time.Time // when the lost probe's frame arrived
			)
			addr := testenv.HeldEchoServer(t, testenv.HeldEcho{
				Hold: hold, Drop: tt.drop,
				Dropped: func(at time.Time) {
					mu.Lock()
					defer mu.Unlock()
					dropped = at
				},
			})
			m := config.DefaultModule()
			m.Interval = config.Duration(interval)
			m.RTOMargin = tt.margin
			m.IPProtocol = "ip4"
			p, snap := startProber(t, addr, m)

			var timeoutAt time.Time
			var inForce time.Duration // the timeout in force when the drop arrived
			waitFor(t, "the probes' results", time.Duration(tt.probes)*interval+30*time.Second, func() bool {
				s := snap()
				mu.Lock()
				d := dropped
				mu.Unlock()
				if !d.IsZero() && inForce == 0 {
					inForce = s.Timeout
				}
				if s.Timeouts > 0 && timeoutAt.IsZero() {
					timeoutAt = time.Now()
				}
				return s.Received+s.Timeouts >= tt.probes
			})
			s := snap()
			if s.Dropped != 0 || s.Unexpected != 0 {
				t.Fatalf("%d dropped, %d unexpected, want none; events %v", s.Dropped, s.Unexpected, p.Events())
			}
			if tt.margin == 0 {
				// The last timed-out probe's reply may still be on its way.
				waitFor(t, "every timed-out probe's reply", 5*time.Second, func() bool {
					s = snap()
					return s.Late == s.Timeouts
				})
				if s.Timeouts == 0 {
					t.Fatalf("no timeouts over %d probes with rto_margin 0 (timeout in force %v, SRTT %v): the server's jitter does not reach RFC 6298's timeout, and the test proves nothing",
						s.Sent, s.Timeout, s.SRTT)
				}
				t.Logf("rto_margin 0: %d timeouts, all late, over %d probes", s.Timeouts, s.Sent)
				return
			}
			wantTimeouts := uint64(0)
			if tt.drop != 0 {
				wantTimeouts = 1
			}
			if s.Timeouts != wantTimeouts || s.Late != 0 {
				t.Fatalf("%d timeouts, %d late over %d probes (received %d, timeout in force %v, SRTT %v): want %d timeouts, none late",
					s.Timeouts, s.Late, s.Sent, s.Received, s.Timeout, s.SRTT, wantTimeouts)
			}
			if s.SRTT < base-jitter || s.SRTT > base+slack {
				t.Errorf("SRTT %v, want about the %v hold", s.SRTT, base)
			}
			if tt.drop == 0 {
				return
			}
			mu.Lock()
			d := dropped
			mu.Unlock()
			if d.IsZero() {
				t.Fatalf("the server never saw probe %d", tt.drop)
			}
			// The probe was sent before its frame arrived, and timed out
			// at its deadline, send + the timeout in force then.
			took := timeoutAt.Sub(d)
			if took < base {
				t.Errorf("probe %d counted as a timeout %v after it arrived: before a reply held %v could have come", tt.drop, took, base)
			}
			if inForce < time.Duration(1.5*float64(base-jitter)) {
				t.Errorf("timeout in force %v, want at least 1.5 × SRTT", inForce)
			}
			if took > inForce+slack {
				t.Errorf("probe %d counted as a timeout %v after it arrived, want within the %v timeout in force (+%v)", tt.drop, took, inForce, slack)
			}
		})
	}
}
