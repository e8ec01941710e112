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
	"net"
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
// The margins, for a loaded 2-core machine under -race. With rto_margin
// 0.5 the timeout in force is at least 1.5 × SRTT ≥ 220 ms, so a reply
// the server writes at most 153 ms after the probe arrived has 67 ms to
// spare; the prober's own scheduling does not count, as it takes the
// reply's arrival from the kernel. But the test's server is a goroutine
// of this process, and on a machine loaded by other work (seen: load 8 on
// 2 cores, echoes written up to 330 ms after their hold) it can write an
// echo later than that: such a reply is late in truth, and the prober is
// right to count its probe as timed out and its reply as late. So the
// server reports how late it wrote each echo, and each echo written more
// than 67 ms after its hold excuses one timeout, which must then have
// its late reply; any other timeout fails the test. reconnect_after is 0
// so that three such stalls in a row do not close the connection and
// time out its probes in flight, which no late reply would follow. The
// drop's deadline allows 150 ms of scheduling delay in counting it and in
// the test's polling.
func TestTimeoutMeansLoss(t *testing.T) {
	const (
		base     = 150 * time.Millisecond
		jitter   = 3 * time.Millisecond
		interval = 10 * time.Millisecond
		slack    = 150 * time.Millisecond
		// spare is how late the server may write an echo before its
		// reply could miss a timeout of 1.5 × SRTT.
		spare = time.Duration(1.5*float64(base-jitter)) - (base + jitter)
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
				// stalled counts the echoes the server wrote more than
				// spare after their hold; worst is the latest.
				stalled int
				worst   time.Duration
			)
			server := func() (int, time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				return stalled, worst
			}
			addr := testenv.HeldEchoServer(t, testenv.HeldEcho{
				Hold: hold, Drop: tt.drop,
				Dropped: func(at time.Time) {
					mu.Lock()
					defer mu.Unlock()
					dropped = at
				},
				Written: func(late time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					worst = max(worst, late)
					if late > spare {
						stalled++
					}
				},
			})
			m := config.DefaultModule()
			m.Interval = config.Duration(interval)
			m.RTOMargin = tt.margin
			m.ReconnectAfter = 0
			m.IPProtocol = "ip4"
			// Not startProber: its checker's snapshot every millisecond
			// competes, under -race, with the server's goroutines. The
			// invariant is checked on every snapshot taken here.
			p := New(Options{Name: "t", Address: addr, ModuleName: "test", Module: m, NoSplay: true}, nil)
			p.startOn(t.Context(), testEngine(t))
			t.Cleanup(p.Stop)
			snap := func() Snapshot {
				s := p.Snapshot()
				checkInvariant(t, s, m.MaxInFlight())
				return s
			}

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
			// The last timed-out probes' replies may still be on their way.
			var lost uint64
			if tt.drop != 0 {
				lost = 1
			}
			s := snap()
			deadline := time.Now().Add(5 * time.Second)
			for s.Late+lost < s.Timeouts && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				s = snap()
			}
			n, w := server()
			t.Logf("%d timeouts, %d late over %d probes; the server wrote %d echoes more than %v late (the latest %v after its hold)",
				s.Timeouts, s.Late, s.Sent, n, spare, w)
			if s.Dropped != 0 || s.Unexpected != 0 {
				t.Fatalf("%d dropped, %d unexpected, want none; events %v", s.Dropped, s.Unexpected, p.Events())
			}
			if s.Late+lost != s.Timeouts {
				t.Fatalf("%d timeouts, %d late: every timeout but the dropped frame's (%d) must have its late reply", s.Timeouts, s.Late, lost)
			}
			if tt.margin == 0 {
				if s.Late <= uint64(n) {
					t.Fatalf("%d timeouts over %d probes with rto_margin 0, no more than the server's %d stalls explain (timeout in force %v, SRTT %v): the server's jitter does not reach RFC 6298's timeout, and the test proves nothing",
						s.Timeouts, s.Sent, n, s.Timeout, s.SRTT)
				}
				return
			}
			if s.Late > uint64(n) {
				t.Fatalf("%d probes timed out whose replies came late, but the server wrote only %d echoes more than %v late (timeout in force %v, SRTT %v): jitter of ±%v counted as loss",
					s.Late, n, spare, s.Timeout, s.SRTT, jitter)
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
			if n > 0 {
				return // timeoutAt may be a stalled echo's probe's
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

// TestWriteFailureTakesOneSlot checks that a probe whose write fails (the
// peer reset the connection) is counted once: sent, and timed out with
// the connection, in its own slot, which the next probe slot does not
// count again as one that fell with no connection. With max_probes 1 the
// prober sends exactly one.
func TestWriteFailureTakesOneSlot(t *testing.T) {
	conns := make(chan net.Conn, 4)
	srv := startServerStop(t, func(c net.Conn, stop <-chan struct{}) {
		conns <- c
		<-stop
	})
	m := testModule(200*time.Millisecond, time.Second, false)
	m.EchoProtocol = config.EchoProtocolV1
	p := New(Options{Name: "t", Address: srv.addr(), ModuleName: "test", Module: m, NoSplay: true, MaxProbes: 1}, nil)
	var once sync.Once
	p.more().hooks = &sendHooks{beforeWrite: func() {
		once.Do(func() {
			select {
			case c := <-conns:
				_ = c.(*net.TCPConn).SetLinger(0)
				_ = c.Close() // a reset: the prober's write fails
			case <-time.After(2 * time.Second):
				t.Error("no server connection")
			}
			time.Sleep(50 * time.Millisecond) // the reset arrives
		})
	}}
	p.startOn(t.Context(), testEngine(t))
	defer p.Stop()
	waitFor(t, "the connection lost", 3*time.Second, func() bool { return p.Snapshot().Dropped >= 1 })
	time.Sleep(3 * m.Interval.D()) // slots after the first, if any were counted
	s := p.Snapshot()
	if s.Sent != 1 || s.Timeouts != 1 || s.InFlight != 0 {
		t.Errorf("max_probes 1, write failed: sent %d timeouts %d in flight %d, want 1, 1, 0",
			s.Sent, s.Timeouts, s.InFlight)
	}
	// Both loops word it alike.
	if want := "write: connection reset by peer"; s.LastError != want {
		t.Errorf("last error %q, want %q", s.LastError, want)
	}
}
