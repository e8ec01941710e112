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
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// stallHandler reads everything and never answers.
func stallHandler(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// resetHandler answers one frame, then resets the connection.
func resetHandler(c net.Conn) {
	f, err := readFrame(c)
	if err != nil {
		return
	}
	_, _ = c.Write(f)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST
	}
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestInvariantUnderFaults(t *testing.T) {
	tests := []struct {
		name  string
		addr  func(t *testing.T) string
		check func(t *testing.T, s Snapshot)
	}{
		{
			name: "server stalls",
			addr: func(t *testing.T) string { return startServer(t, stallHandler).addr() },
			check: func(t *testing.T, s Snapshot) {
				if s.Received != 0 || s.Timeouts == 0 {
					t.Errorf("received %d timeouts %d: want 0 and > 0", s.Received, s.Timeouts)
				}
				if s.Dropped == 0 {
					t.Error("dropped = 0: a stalled connection was never declared dead")
				}
			},
		},
		{
			name: "server resets",
			addr: func(t *testing.T) string { return startServer(t, resetHandler).addr() },
			check: func(t *testing.T, s Snapshot) {
				if s.Received == 0 || s.Dropped == 0 {
					t.Errorf("received %d dropped %d: want both > 0", s.Received, s.Dropped)
				}
			},
		},
		{
			name: "server answers late",
			addr: func(t *testing.T) string { return startServer(t, delayedEchoHandler(60*time.Millisecond)).addr() },
			check: func(t *testing.T, s Snapshot) {
				if s.Late == 0 || s.Timeouts == 0 {
					t.Errorf("late %d timeouts %d: want both > 0", s.Late, s.Timeouts)
				}
				if s.Histogram.Count != s.Received {
					t.Errorf("histogram count %d != received %d: late replies must not be observed",
						s.Histogram.Count, s.Received)
				}
			},
		},
		{
			name: "nothing listening",
			addr: closedPort,
			check: func(t *testing.T, s Snapshot) {
				if s.Connected || s.Received != 0 || s.InFlight != 0 {
					t.Errorf("connected %v received %d in flight %d: want false, 0, 0", s.Connected, s.Received, s.InFlight)
				}
				if s.Timeouts != s.Sent || s.Sent == 0 {
					t.Errorf("sent %d timeouts %d: probes due while disconnected are sent and timed out", s.Sent, s.Timeouts)
				}
				if s.Dropped == 0 || s.LastError == "" {
					t.Errorf("dropped %d last error %q: failed dials must count", s.Dropped, s.LastError)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Fixed 30ms timeout, 20ms interval, dead after 3 timeouts;
			// 24-byte frames only, as these servers fail every frame the
			// same way, the HELLO included (TestHelloUnanswered).
			m := testModule(20*time.Millisecond, 30*time.Millisecond, false)
			m.ReconnectAfter = 3
			m.EchoProtocol = config.EchoProtocolV1
			_, snap := startProber(t, tt.addr(t), m)
			waitFor(t, "40 probes", 10*time.Second, func() bool { return snap().Sent >= 40 })
			tt.check(t, snap())
		})
	}
}

func TestTimeoutFiresAtItsDeadline(t *testing.T) {
	srv := startServer(t, stallHandler)
	// One probe per 10 s with a 50 ms timeout: the timeout must be counted
	// long before the next probe is due.
	m := testModule(10*time.Second, 50*time.Millisecond, false)
	m.ReconnectAfter = 0
	m.EchoProtocol = config.EchoProtocolV1 // a stalled HELLO would not connect
	_, snap := startProber(t, srv.addr(), m)
	waitFor(t, "first timeout", 5*time.Second, func() bool { return snap().Timeouts == 1 })
	if s := snap(); s.Sent != 1 || s.InFlight != 0 || !s.Connected {
		t.Errorf("sent %d in flight %d connected %v: want 1, 0, true", s.Sent, s.InFlight, s.Connected)
	}
}

// TestAdaptiveTimeoutBacksOffAndRecovers stalls the server until the
// timeout in force has doubled up to max_timeout (RFC 6298 section 5.5),
// then lets it answer: the replies' RTT samples must bring the timeout
// back down from max_timeout to their estimate (section 2.3), near
// min_timeout on loopback.
func TestAdaptiveTimeoutBacksOffAndRecovers(t *testing.T) {
	var answer atomic.Bool
	srv := startServer(t, func(c net.Conn) {
		for {
			f, err := readFrame(c)
			if err != nil {
				return
			}
			if !answer.Load() {
				continue // stalled: the probe times out
			}
			if _, err := c.Write(f); err != nil {
				return
			}
		}
	})
	m := testModule(30*time.Millisecond, 20*time.Millisecond, true)
	m.MinTimeout = config20ms()
	m.MaxTimeout = config160ms()
	m.ReconnectAfter = 0
	m.EchoProtocol = config.EchoProtocolV1
	_, snap := startProber(t, srv.addr(), m)
	// Each timeout doubles the timeout in force, up to max_timeout.
	waitFor(t, "timeout to reach max_timeout", 10*time.Second, func() bool {
		return snap().Timeout == 160*time.Millisecond
	})
	if s := snap(); s.Received != 0 {
		t.Fatalf("%d replies from a stalled server", s.Received)
	}
	answer.Store(true)
	// A reply's sample recomputes the timeout from SRTT and RTTVAR: a
	// loopback RTT puts it at min_timeout, however far it had backed off.
	// Probes sent into the stall still time out and back it off again,
	// until the last of them has. Below half of max_timeout is a level
	// that backoff alone never reaches from max_timeout, with room for
	// the RTTs of a loaded machine.
	waitFor(t, "timeout back down after replies", 10*time.Second, func() bool {
		s := snap()
		return s.Received >= 3 && s.Timeout < 80*time.Millisecond
	})
}

func TestDeclaredDeadAfterConsecutiveTimeouts(t *testing.T) {
	srv := startServer(t, stallHandler)
	m := testModule(20*time.Millisecond, 30*time.Millisecond, false)
	m.ReconnectAfter = 3
	m.EchoProtocol = config.EchoProtocolV1
	_, snap := startProber(t, srv.addr(), m)
	waitFor(t, "connection declared dead", 5*time.Second, func() bool { return snap().Dropped >= 1 })
	s := snap()
	if s.Timeouts < 3 {
		t.Errorf("declared dead after %d timeouts, want >= 3", s.Timeouts)
	}
	waitFor(t, "reconnect", 5*time.Second, func() bool { return srv.accepted.Load() >= 2 })
}

func TestReconnectBackoffSchedule(t *testing.T) {
	addr := closedPort(t)
	m := testModule(time.Hour, 100*time.Millisecond, false)
	m.ReconnectBackoff = config20ms()
	m.MaxReconnectBackoff = config160ms()
	p, snap := startProber(t, addr, m)
	_ = p
	// Attempts at 0, then after at least 20, 40, 80, 160, 160 ... ms: in
	// 620 ms at most 0+20+40+80+160+160+160 -> 7 attempts can fit.
	start := time.Now()
	waitFor(t, "3 failed attempts", 5*time.Second, func() bool { return snap().Dropped >= 3 })
	time.Sleep(620*time.Millisecond - time.Since(start))
	if d := snap().Dropped; d > 7 {
		t.Errorf("%d connection attempts in 620ms: faster than the backoff schedule allows (7)", d)
	}
}

func TestStopReleasesEverything(t *testing.T) {
	srv := startServer(t, echoHandler)
	e := testEngine(t)
	base := runtime.NumGoroutine()
	var ps []*Prober
	for range 50 {
		p := New(Options{Name: "x", Address: srv.addr(), Module: testModule(10*time.Millisecond, 100*time.Millisecond, true)}, nil)
		p.startOn(t.Context(), e)
		ps = append(ps, p)
	}
	waitFor(t, "all connected", 10*time.Second, func() bool {
		for _, p := range ps {
			if p.Snapshot().Received == 0 {
				return false
			}
		}
		return true
	})
	for _, p := range ps {
		p.Stop()
		if s := p.Snapshot(); s.Connected || s.State != StateStopped {
			t.Errorf("after Stop: connected %v state %v", s.Connected, s.State)
		}
	}
	waitFor(t, "goroutines back to start", 5*time.Second, func() bool { return runtime.NumGoroutine() <= base })
}

func TestFirstResult(t *testing.T) {
	tests := []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"reply", func(t *testing.T) string { return startServer(t, echoHandler).addr() }},
		{"connect failure", closedPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(Options{Name: "x", Address: tt.addr(t), Module: testModule(time.Second, time.Second, true), NoSplay: true}, nil)
			p.startOn(t.Context(), testEngine(t))
			t.Cleanup(p.Stop)
			select {
			case <-p.FirstResult():
			case <-time.After(5 * time.Second):
				t.Fatal("no first result")
			}
			if p.Snapshot().Results == 0 {
				t.Error("first result signalled with no result")
			}
		})
	}
}

func config20ms() config.Duration  { return config.Duration(20 * time.Millisecond) }
func config160ms() config.Duration { return config.Duration(160 * time.Millisecond) }
