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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// countEvents returns how many of the prober's recent events contain s.
func countEvents(p *Prober, s string) int {
	n := 0
	for _, e := range p.Events() {
		if strings.Contains(e.Text, s) {
			n++
		}
	}
	return n
}

// TestReconnectInterval checks that reconnect_interval redials on its
// period without a drop and without losing a probe. The server answers
// each probe 100 ms late, so a probe is in flight half the time: a
// replacement must wait for its reply, then dial within the 100 ms left
// before the next probe. The invariant is checked on every snapshot
// throughout (startProber).
func TestReconnectInterval(t *testing.T) {
	srv := startServer(t, delayedEchoHandler(100*time.Millisecond))
	m := testModule(200*time.Millisecond, 500*time.Millisecond, false)
	m.ReconnectInterval = config.Duration(500 * time.Millisecond)
	p, snap := startProber(t, srv.addr(), m)
	waitFor(t, "six connections", 10*time.Second, func() bool { return srv.accepted.Load() >= 6 })
	s := snap()
	if s.Dropped != 0 {
		t.Errorf("dropped = %d across planned reconnects, want 0 (they are not losses)", s.Dropped)
	}
	if s.Timeouts != 0 || s.Received < 10 {
		t.Errorf("timeouts %d, received %d across %d connections: want no probe lost (%+v)",
			s.Timeouts, s.Received, srv.accepted.Load(), s)
	}
	if n := countEvents(p, "reconnecting: reconnect_interval"); n == 0 {
		t.Errorf("no reconnect event in %v", p.Events())
	}
	if s.ConnectDuration <= 0 {
		t.Errorf("connect duration %v after reconnects, want the last handshake's", s.ConnectDuration)
	}
}

// TestReconnectIntervalWithoutReplies checks a planned reconnect of a
// connection whose probes never empty (nothing answers, reconnect_after
// 0): it goes ahead after the longest timeout and an interval, its probes
// in flight time out, and it is still not a drop.
func TestReconnectIntervalWithoutReplies(t *testing.T) {
	srv := startServer(t, stallHandler)
	m := testModule(50*time.Millisecond, 100*time.Millisecond, false)
	m.ReconnectAfter = 0
	m.ReconnectInterval = config.Duration(200 * time.Millisecond)
	m.EchoProtocol = config.EchoProtocolV1 // a stalled HELLO would not connect
	p, snap := startProber(t, srv.addr(), m)
	waitFor(t, "three connections", 10*time.Second, func() bool { return srv.accepted.Load() >= 3 })
	s := snap()
	if s.Dropped != 0 || s.Received != 0 || s.Timeouts == 0 {
		t.Errorf("dropped %d received %d timeouts %d, want 0, 0, some", s.Dropped, s.Received, s.Timeouts)
	}
	if n := countEvents(p, "reconnecting: reconnect_interval"); n == 0 {
		t.Errorf("no reconnect event in %v", p.Events())
	}
}

// TestReconnectIntervalLongRTT checks a planned reconnect where the round
// trip (150 ms) is three intervals (50 ms) long, so a probe is always in
// flight: the old connection sends nothing after the probe the
// replacement waits for, the replies in flight all come back, and the
// slots that fall meanwhile are skipped, not lost.
func TestReconnectIntervalLongRTT(t *testing.T) {
	srv := startServer(t, delayedEchoHandler(150*time.Millisecond))
	m := testModule(50*time.Millisecond, time.Second, false)
	m.EchoProtocol = config.EchoProtocolV1
	m.ReconnectInterval = config.Duration(500 * time.Millisecond)
	p, snap := startProber(t, srv.addr(), m)
	waitFor(t, "three connections", 10*time.Second, func() bool { return srv.accepted.Load() >= 3 })
	s := snap()
	if s.Timeouts != 0 || s.Dropped != 0 || s.Received < 10 {
		t.Errorf("timeouts %d dropped %d received %d across %d planned reconnects of a connection that answers every probe in 150 ms (timeout 1 s): want no loss; events %v",
			s.Timeouts, s.Dropped, s.Received, srv.accepted.Load()-1, p.Events())
	}
}

// TestReplacementTimeoutsReported checks that the probes a planned
// reconnect times out (nothing answers) are reported one by one, as every
// other timeout is: the ping command and the history see what the
// counters count.
func TestReplacementTimeoutsReported(t *testing.T) {
	srv := startServer(t, stallHandler)
	m := testModule(50*time.Millisecond, 100*time.Millisecond, false)
	m.ReconnectAfter = 0
	m.ReconnectInterval = config.Duration(200 * time.Millisecond)
	m.EchoProtocol = config.EchoProtocolV1
	var reported atomic.Uint64
	p := New(Options{Name: "t", Address: srv.addr(), ModuleName: "test", Module: m, NoSplay: true,
		OnResult: func(r Result) {
			if r.Kind == ResultTimeout {
				reported.Add(1)
			}
		}}, nil)
	p.startOn(t.Context(), testEngine(t))
	waitFor(t, "three connections", 10*time.Second, func() bool { return srv.accepted.Load() >= 3 })
	p.Stop()
	s := p.Snapshot()
	if s.Timeouts == 0 || s.Timeouts != reported.Load() {
		t.Errorf("the counters have %d timeouts, OnResult reported %d: want them equal, and some", s.Timeouts, reported.Load())
	}
	if n := countEvents(p, "reconnecting: reconnect_interval"); n == 0 {
		t.Errorf("no reconnect event in %v", p.Events())
	}
}

// TestRefreshOffByDefaultForAddresses checks that a target given by IP
// address is never re-resolved and, with reconnect_interval 0, keeps its
// one connection.
func TestRefreshOffByDefaultForAddresses(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := testModule(10*time.Millisecond, 200*time.Millisecond, true)
	m.ResolveInterval = config.Duration(20 * time.Millisecond)
	_, snap := startProber(t, srv.addr(), m)
	waitFor(t, "30 replies", 10*time.Second, func() bool { return snap().Received >= 30 })
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestDNSHost(t *testing.T) {
	tests := []struct{ address, want string }{
		{"127.0.0.1:4000", ""},
		{"[::1]:4000", ""},
		{"[fe80::1%eth0]:4000", ""},
		{"echo.mesh.test:4000", "echo.mesh.test"},
		{"localhost:4000", "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			if got := dnsHost(tt.address); got != tt.want {
				t.Errorf("dnsHost(%q) = %q, want %q", tt.address, got, tt.want)
			}
		})
	}
}
