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

// resolve_interval against a real DNS server whose record changes: Go's
// resolver reads /etc/resolv.conf, which cannot name a port, so the test
// runs again inside a network namespace of its own (testenv.RunInNetns),
// once per loop, with dnsmasq on the namespace's 127.0.0.1:53.

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestResolveInterval runs both loops itself, each in a namespace of its
// own; TestBothLoops leaves it out.
func TestResolveInterval(t *testing.T) {
	if testenv.InNetns() != "" {
		testResolveInterval(t)
		return
	}
	testenv.LookPath(t, "dnsmasq", "dnsmasq")
	loops := []Loop{LoopGoroutine, LoopEngine}
	for _, l := range loops {
		t.Run(l.String(), func(t *testing.T) {
			testenv.RunInNetns(t, "r"+l.String()[:1], "TestResolveInterval", "-prober.loop="+l.String())
		})
	}
}

// listenEcho runs an echo server on addr, inside the namespace.
func listenEcho(t *testing.T, addr string) *testServer {
	t.Helper()
	return startServerAt(t, addr, func(c net.Conn, _ <-chan struct{}) { echoHandler(c) })
}

func testResolveInterval(t *testing.T) {
	testenv.CheckResolvConf(t)
	d := testenv.StartDnsmasq(t, "127.0.0.1")
	// Two echo servers on one port, on two addresses of the namespace's
	// loopback: the name moves from one to the other.
	a := listenEcho(t, "127.0.0.2:0")
	_, port, _ := net.SplitHostPort(a.addr())
	b := listenEcho(t, "127.0.0.3:"+port)
	d.SetHosts(t, "127.0.0.2 echo.mesh.test")

	// A fixed timeout well above loopback's RTT and an interval that
	// leaves a replacement's dial (a lookup and a handshake) time on a
	// loaded machine: a probe lost here is the refresh's fault.
	const resolve = 500 * time.Millisecond
	m := testModule(200*time.Millisecond, 500*time.Millisecond, false)
	m.ResolveInterval = config.Duration(resolve)
	p, snap := startProber(t, "echo.mesh.test:"+port, m)
	waitFor(t, "connected to 127.0.0.2", 10*time.Second, func() bool { return snap().Received >= 3 && a.accepted.Load() == 1 })

	// settle waits several re-resolutions and checks that the
	// connection is still the one to the server at want.
	settle := func(what string, want *testServer, conns int64) {
		t.Helper()
		pause := time.NewTimer(3 * resolve)
		<-pause.C
		if n := want.accepted.Load(); n != conns {
			t.Errorf("%s: %d connections to the server, want %d", what, n, conns)
		}
	}
	settle("unchanged record", a, 1)

	t.Run("the record moves: reconnect to the new address", func(t *testing.T) {
		before := snap()
		d.SetHosts(t, "127.0.0.3 echo.mesh.test")
		start := time.Now()
		waitFor(t, "a connection to 127.0.0.3", 10*time.Second, func() bool { return b.accepted.Load() == 1 })
		if took := time.Since(start); took > resolve+2*time.Second {
			t.Errorf("reconnected %v after the change, want within resolve_interval %v and a little", took, resolve)
		}
		waitFor(t, "replies from 127.0.0.3", 5*time.Second, func() bool { return snap().Received >= before.Received+3 })
		s := snap()
		if s.Dropped != 0 || s.Timeouts != 0 {
			t.Errorf("dropped %d, timeouts %d across the move, want 0 and 0; events %v", s.Dropped, s.Timeouts, p.Events())
		}
		if !strings.HasPrefix(s.LocalAddr, "127.0.0.") || countEvents(p, "address 127.0.0.2 no longer resolved") != 1 {
			t.Errorf("events %v", p.Events())
		}
	})
	t.Run("the old address comes back beside the new one: no reconnect", func(t *testing.T) {
		d.SetHosts(t, "127.0.0.2 echo.mesh.test", "127.0.0.3 echo.mesh.test")
		settle("both addresses", b, 1)
	})
	t.Run("the server fails: the connection stays", func(t *testing.T) {
		d.Stop(t)
		settle("DNS server down", b, 1)
		if s := snap(); !s.Connected || s.Dropped != 0 {
			t.Errorf("with the DNS server down: connected %v, dropped %d; want true, 0", s.Connected, s.Dropped)
		}
		d.Start(t)
	})
	t.Run("the name is gone: reconnect, and the failed lookup shows", func(t *testing.T) {
		d.SetHosts(t)
		waitFor(t, "a failed connection attempt", 10*time.Second, func() bool {
			s := snap()
			return s.Dropped >= 1 && !s.Connected
		})
		if s := snap(); !strings.Contains(s.LastError, "echo.mesh.test") {
			t.Errorf("last error %q, want the failed lookup of the name", s.LastError)
		}
		d.SetHosts(t, "127.0.0.2 echo.mesh.test")
		waitFor(t, "connected again, to 127.0.0.2", 10*time.Second, func() bool { return a.accepted.Load() == 2 && snap().Connected })
	})
}
