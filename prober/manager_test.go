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
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// moduleConfig returns a config without targets whose default module is
// mod: what a dynamic prober runs once the Manager has been reconciled
// with it.
func moduleConfig(mod config.Module) *config.Config {
	cfg := config.Default()
	cfg.Modules["default"] = mod
	return cfg
}

func testConfig(targets ...config.Target) *config.Config {
	cfg := config.Default()
	cfg.Modules["default"] = testModule(10*time.Millisecond, 200*time.Millisecond, true)
	cfg.Targets = targets
	return cfg
}

// localPort is the local port of a prober's connection, as the server saw
// it: the server records each accepted connection's remote address.
func localPorts(s *testServer) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.conns {
		out = append(out, c.RemoteAddr().String())
	}
	return out
}

func TestReconcileKeepsUnchangedTargets(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour})
	a := config.Target{Name: "a", Address: srv.addr(), Labels: map[string]string{"site": "x"}}
	b := config.Target{Name: "b", Address: srv.addr()}
	c := config.Target{Name: "c", Address: srv.addr()}
	res := m.Reconcile(testConfig(a, b, c))
	if res.Started != 3 {
		t.Fatalf("started %d, want 3", res.Started)
	}
	waitFor(t, "3 connections", 5*time.Second, func() bool { return srv.accepted.Load() == 3 })
	byName := func() map[string]*Prober {
		out := map[string]*Prober{}
		for _, p := range m.Static() {
			out[p.opts.Name] = p
		}
		return out
	}
	before := byName()
	waitFor(t, "replies on a", 5*time.Second, func() bool { return before["a"].Snapshot().Received >= 5 })
	snapA := before["a"].Snapshot()

	// b changes address label set, c is removed, d is new, a is unchanged.
	b2 := b
	b2.Labels = map[string]string{"site": "y"}
	d := config.Target{Name: "d", Address: srv.addr()}
	res = m.Reconcile(testConfig(a, b2, d))
	if res != (ReconcileResult{Started: 2, Kept: 1, Stopped: 2}) {
		t.Errorf("reconcile = %+v, want 2 started (b, d), 1 kept (a), 2 stopped (b, c)", res)
	}
	after := byName()
	if after["a"] != before["a"] {
		t.Error("unchanged target a was restarted")
	}
	if after["b"] == before["b"] {
		t.Error("changed target b was kept")
	}
	if _, ok := after["c"]; ok {
		t.Error("removed target c still runs")
	}
	if s := after["a"].Snapshot(); s.Sent < snapA.Sent || s.Received < snapA.Received || s.Dropped != 0 {
		t.Errorf("a's counters went back or it reconnected: before %+v after %+v", snapA, s)
	}
	// a kept its one TCP connection: the server saw exactly 3 + 2 connections.
	waitFor(t, "new connections for b and d", 5*time.Second, func() bool { return srv.accepted.Load() == 5 })
	if n := srv.accepted.Load(); n != 5 {
		t.Errorf("%d connections accepted, want 5: %v", n, localPorts(srv))
	}
	if before["c"].Snapshot().State != StateStopped {
		t.Error("removed prober c not stopped")
	}

	// A module change restarts the targets that use it.
	cfg := testConfig(a, b2, d)
	mod := cfg.Modules["default"]
	mod.Interval = config.Duration(20 * time.Millisecond)
	cfg.Modules["default"] = mod
	if res := m.Reconcile(cfg); res.Started != 3 || res.Kept != 0 {
		t.Errorf("module change: %+v, want all 3 restarted", res)
	}
}

func TestDynamicProbers(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 50, IdleTimeout: time.Hour})
	mod := testModule(50*time.Millisecond, 200*time.Millisecond, true)
	m.Reconcile(moduleConfig(mod))

	// 200 concurrent requests for 50 new targets start exactly 50 probers.
	// Distinct addresses: 127.0.0.x on the server's port all reach it.
	_, port, _ := net.SplitHostPort(srv.addr())
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 200 {
		wg.Go(func() {
			addr := net.JoinHostPort(fmt.Sprintf("127.0.0.%d", 1+i%50), port)
			_, c, err := m.Get("default", addr)
			if err != nil {
				t.Error(err)
			}
			if c {
				mu.Lock()
				created++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if _, n := m.Counts(); n != 50 || created != 50 {
		t.Fatalf("%d dynamic probers, %d created; want 50", n, created)
	}
	// At the cap, a new target is refused; existing ones are still served.
	if _, _, err := m.Get("default", "127.0.0.99:"+port); !errors.Is(err, ErrTooManyTargets) {
		t.Errorf("51st target: err %v, want ErrTooManyTargets", err)
	}
	if _, c, err := m.Get("default", "127.0.0.1:"+port); err != nil || c {
		t.Errorf("existing target: created %v err %v", c, err)
	}
	// A static prober for (module, address) is returned as is.
	m.Reconcile(testConfig(config.Target{Name: "s", Address: "127.0.0.1:" + port}))
	p, c, err := m.Get("default", "127.0.0.1:"+port)
	if err != nil || c || p.opts.Dynamic {
		t.Errorf("static target: dynamic %v created %v err %v", p.opts.Dynamic, c, err)
	}
	// That reload's default module differs from mod, the module the
	// dynamic probers run with, so they were all stopped.
	if _, n := m.Counts(); n != 0 {
		t.Errorf("%d dynamic probers survived a change of their module, want 0", n)
	}
}

func TestDynamicProbersSurviveReloadWithSameModule(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 5, IdleTimeout: time.Hour})
	m.Reconcile(testConfig())
	p, _, err := m.Get("default", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	m.Reconcile(testConfig())
	if q, c, _ := m.Get("default", srv.addr()); q != p || c {
		t.Error("dynamic prober with an unchanged module did not survive the reload")
	}
	m.Reconcile(config.Default()) // default module changed
	if p.Snapshot().State != StateStopped {
		t.Error("dynamic prober whose module changed still runs")
	}
}

// TestDynamicProberRunsTheReconciledModule checks that a dynamic prober
// runs its module as the latest reconcile has it, not as an earlier one
// had it, and that a module it removed is refused.
func TestDynamicProberRunsTheReconciledModule(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 5, IdleTimeout: time.Hour})
	cfg := testConfig()
	cfg.Modules["gone"] = cfg.Modules["default"]
	m.Reconcile(cfg)
	cfg = testConfig()
	mod := cfg.Modules["default"]
	mod.Interval = config.Duration(3 * mod.Interval.D())
	cfg.Modules["default"] = mod
	m.Reconcile(cfg)
	p, _, err := m.Get("default", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Options().Module.Interval; got != mod.Interval {
		t.Errorf("dynamic prober runs interval %v, want the reconciled %v", got, mod.Interval)
	}
	if _, _, err := m.Get("gone", srv.addr()); !errors.Is(err, ErrUnknownModule) {
		t.Errorf("module the reconcile does not have: err %v, want ErrUnknownModule", err)
	}
}

// TestGetBeforeReconcile checks that the modules a dynamic prober may run
// are those of the config the Manager was reconciled with, and nothing
// else: before the first reconcile there are none, so Get refuses and
// starts nothing.
func TestGetBeforeReconcile(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 5, IdleTimeout: time.Hour})
	if p, _, err := m.Get("default", srv.addr()); !errors.Is(err, ErrUnknownModule) {
		t.Errorf("Get before any reconcile: err %v, prober %v; want ErrUnknownModule", err, p != nil)
	}
	if _, n := m.Counts(); n != 0 {
		t.Errorf("%d dynamic probers before any reconcile, want 0", n)
	}
}

func TestDynamicIdleTimeout(t *testing.T) {
	srv := startServer(t, echoHandler)
	idle := 300 * time.Millisecond
	m := newTestManager(t, ManagerOptions{MaxDynamic: 5, IdleTimeout: idle})
	m.Reconcile(moduleConfig(testModule(50*time.Millisecond, 200*time.Millisecond, true)))
	p, _, _ := m.Get("default", srv.addr())
	// Requests keep it alive past the timeout.
	for range 6 {
		time.Sleep(idle / 3)
		if _, c, _ := m.Get("default", srv.addr()); c {
			t.Fatal("prober in use was stopped")
		}
	}
	start := time.Now()
	waitFor(t, "idle prober stopped", idle+idle/10+2*time.Second, func() bool {
		_, n := m.Counts()
		return n == 0
	})
	if took := time.Since(start); took < idle-50*time.Millisecond {
		t.Errorf("stopped after %v idle, before the %v timeout", took, idle)
	}
	// Counts drops the prober before its goroutine has finished stopping.
	waitFor(t, "idle prober stopped", 5*time.Second, func() bool { return p.Snapshot().State == StateStopped })
}

func TestDynamicProberGivesWayToStaticTarget(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 5, IdleTimeout: time.Hour})
	m.Reconcile(testConfig())
	dyn, _, err := m.Get("default", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	res := m.Reconcile(testConfig(config.Target{Name: "s", Address: srv.addr()}))
	if res.DynamicStopped != 1 {
		t.Errorf("reconcile %+v: the dynamic prober of a now-static target was not stopped", res)
	}
	if _, n := m.Counts(); n != 0 || dyn.Snapshot().State != StateStopped {
		t.Errorf("%d dynamic probers, state %v: want 0 and stopped", n, dyn.Snapshot().State)
	}
	if p, _, _ := m.Get("default", srv.addr()); p.Options().Dynamic {
		t.Error("/probe is not answered by the static prober")
	}
}

// TestStaticProbersShareModule checks that the probers of one module keep
// one copy of its settings, and that each still reports them in full.
func TestStaticProbersShareModule(t *testing.T) {
	m := newTestManager(t, ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour})
	cfg := testConfig(config.Target{Name: "a", Address: "127.0.0.1:1"}, config.Target{Name: "b", Address: "127.0.0.1:1"})
	other := testModule(time.Second, 500*time.Millisecond, false)
	cfg.Modules["other"] = other
	cfg.Targets = append(cfg.Targets, config.Target{Name: "c", Address: "127.0.0.1:1", Module: "other"})
	m.Reconcile(cfg)
	ps := map[string]*Prober{}
	for _, p := range m.Static() {
		ps[p.opts.Name] = p
	}
	if ps["a"].mod != ps["b"].mod {
		t.Error("probers a and b of module default keep a copy each")
	}
	if ps["c"].mod == ps["a"].mod {
		t.Error("prober c of module other shares default's settings")
	}
	if got := ps["b"].Options().Module; !got.Equal(cfg.Modules["default"]) {
		t.Errorf("b's module = %+v, want %+v", got, cfg.Modules["default"])
	}
	if got := ps["c"].Options().Module; !got.Equal(other) {
		t.Errorf("c's module = %+v, want %+v", got, other)
	}
}

// TestManagerLoop checks the Loop option and that a Manager owns what it
// starts: on the engine (Linux) its probers run on the workers of an
// engine the Manager started, not a goroutine each, and on either loop
// Stop leaves no goroutine of the Manager's behind.
func TestManagerLoop(t *testing.T) {
	const targets = 20
	tests := []struct {
		loop       Loop
		wantEngine bool
	}{
		{LoopEngine, engineSupported},
		{LoopGoroutine, false},
	}
	for _, tt := range tests {
		t.Run(tt.loop.String(), func(t *testing.T) {
			srv := startServer(t, echoHandler)
			base := runtime.NumGoroutine()
			m := NewManager(t.Context(), ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour, Loop: tt.loop}, nil)
			t.Cleanup(m.Stop)
			if (m.engine != nil) != tt.wantEngine {
				t.Fatalf("engine started: %v, want %v", m.engine != nil, tt.wantEngine)
			}
			var ts []config.Target
			for i := range targets {
				ts = append(ts, config.Target{Name: fmt.Sprint("t", i), Address: srv.addr()})
			}
			m.Reconcile(testConfig(ts...))
			waitFor(t, "every target answered", 10*time.Second, func() bool {
				for _, p := range m.Static() {
					if p.Snapshot().Received == 0 {
						return false
					}
				}
				return true
			})
			// Besides the echo server's goroutine per connection and the
			// Manager's sweep, the engine adds only its workers (at most
			// 8), where the goroutine loop has one per prober.
			if extra := runtime.NumGoroutine() - base - targets - 1; m.engine != nil && extra >= targets/2 {
				t.Errorf("%d goroutines for %d probers on the engine: want only its workers", extra, targets)
			}
			ps := m.Static()
			m.Stop()
			waitFor(t, "every goroutine of the Manager to end", 5*time.Second, func() bool {
				return runtime.NumGoroutine() <= base
			})
			for _, p := range ps {
				if s := p.Snapshot(); s.State != StateStopped {
					t.Errorf("after Stop: state %v", s.State)
				}
			}
		})
	}
}
