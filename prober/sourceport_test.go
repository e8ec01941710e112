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
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// localPort is a prober's source port.
func localPort(t *testing.T, p *Prober) uint16 {
	t.Helper()
	ap, err := netip.ParseAddrPort(p.Snapshot().LocalAddr)
	if err != nil {
		t.Fatalf("local address %q: %v", p.Snapshot().LocalAddr, err)
	}
	return ap.Port()
}

// closeServerConn closes the server's side of the latest connection from
// local.
func closeServerConn(t *testing.T, s *testServer, local string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range slices.Backward(s.conns) {
		if c.RemoteAddr().String() == local {
			_ = c.Close()
			return
		}
	}
	t.Fatalf("no server connection from %s", local)
}

// TestFlowKeepsItsSourcePort checks that a flow whose connection is lost
// dials again from the same source port, so it stays on its path, and
// that the target's other flows lose nothing.
func TestFlowKeepsItsSourcePort(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour})
	m.Reconcile(flowConfig(20*time.Millisecond, 2, config.Target{Name: "a", Address: srv.addr()}))
	ps := targetFlows(m, "a")
	waitFor(t, "replies on both flows", 10*time.Second, func() bool {
		return ps[0].Snapshot().Received >= 5 && ps[1].Snapshot().Received >= 5
	})
	local0, local1 := ps[0].Snapshot().LocalAddr, ps[1].Snapshot().LocalAddr
	for round := 1; round <= 3; round++ {
		closeServerConn(t, srv, local0)
		waitFor(t, fmt.Sprintf("flow 0 reconnected (%d)", round), 10*time.Second, func() bool {
			s := ps[0].Snapshot()
			return s.Dropped == uint64(round) && s.Connected && srv.accepted.Load() == int64(2+round)
		})
		if got := ps[0].Snapshot().LocalAddr; got != local0 {
			t.Fatalf("round %d: flow 0 reconnected from %s, want its port again: %s", round, got, local0)
		}
	}
	before := ps[0].Snapshot().Received
	waitFor(t, "replies on the new connection", 5*time.Second, func() bool { return ps[0].Snapshot().Received >= before+5 })
	if s := ps[1].Snapshot(); s.Dropped != 0 || s.LocalAddr != local1 || !s.Connected {
		t.Errorf("flow 1: dropped %d, local %s (was %s), connected %v: it must not notice flow 0's reconnections",
			s.Dropped, s.LocalAddr, local1, s.Connected)
	}
	for _, e := range ps[0].Events() {
		if strings.Contains(e.Text, "source port") {
			t.Errorf("flow 0 kept its port, but its events say: %s", e.Text)
		}
	}
}

// TestFlowTakesAnotherPortWhenItsOwnIsTaken checks what a flow does when
// its port cannot be had: it dials from a port the kernel chooses, keeps
// that one, and says so in its events.
func TestFlowTakesAnotherPortWhenItsOwnIsTaken(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour})
	cfg := flowConfig(20*time.Millisecond, 2, config.Target{Name: "a", Address: srv.addr()})
	mod := cfg.Modules["default"]
	// A second to redial in: the time the test takes the port in.
	mod.ReconnectBackoff, mod.MaxReconnectBackoff = config.Duration(time.Second), config.Duration(2*time.Second)
	cfg.Modules["default"] = mod
	m.Reconcile(cfg)
	ps := targetFlows(m, "a")
	waitFor(t, "replies on flow 0", 10*time.Second, func() bool { return ps[0].Snapshot().Received >= 5 })
	local0 := ps[0].Snapshot().LocalAddr
	port := localPort(t, ps[0])
	closeServerConn(t, srv, local0)
	waitFor(t, "flow 0's connection lost", 5*time.Second, func() bool { return ps[0].Snapshot().Dropped == 1 })
	// Its socket is closed (reset) by now: a listener takes the port. A
	// flow's socket may share its port with connected sockets, never with
	// a listening one.
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("listen on flow 0's port %d: %v", port, err)
	}
	defer ln.Close()
	waitFor(t, "flow 0 reconnected", 10*time.Second, func() bool {
		s := ps[0].Snapshot()
		return s.Dropped == 1 && s.Connected
	})
	newPort := localPort(t, ps[0])
	if newPort == port {
		t.Fatalf("flow 0 reconnected from port %d, which a listener holds", port)
	}
	want := fmt.Sprintf("source port %d unavailable, now %d: the flow may take another path", port, newPort)
	if !slices.ContainsFunc(ps[0].Events(), func(e Event) bool { return e.Text == want }) {
		t.Errorf("flow 0's events %v lack %q", ps[0].Events(), want)
	}
	// The new port is its port from now on.
	_ = ln.Close()
	local0 = ps[0].Snapshot().LocalAddr
	closeServerConn(t, srv, local0)
	waitFor(t, "flow 0 reconnected again", 10*time.Second, func() bool {
		s := ps[0].Snapshot()
		return s.Dropped == 2 && s.Connected
	})
	if got := localPort(t, ps[0]); got != newPort {
		t.Errorf("flow 0 reconnected from %d, want the port it took, %d", got, newPort)
	}
}
