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
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// discoveredAt returns a discovered target of module default for the
// server's port on loopback address 127.0.0.n, named after its address as
// discovery names it.
func discoveredAt(srv *testServer, n int, labels map[string]string) config.Target {
	_, port, _ := net.SplitHostPort(srv.addr())
	addr := net.JoinHostPort(fmt.Sprintf("127.0.0.%d", n), port)
	return config.Target{Name: addr, Address: addr, Module: config.DefaultModuleName, Labels: labels}
}

// byAddress returns the running static and discovered probers by address.
func byAddress(m *Manager) map[string]*Prober {
	out := map[string]*Prober{}
	for _, p := range m.Static() {
		out[p.opts.Address] = p
	}
	return out
}

// TestReconcileTargetsSpellings checks that probers are keyed by the
// endpoint, not its spelling: a discovered target that spells a static
// target's address otherwise is left out, as is a second spelling of a
// discovered one, and /probe's Get finds either by any spelling.
func TestReconcileTargetsSpellings(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour})
	_, port, _ := net.SplitHostPort(srv.addr())
	cfg := testConfig(config.Target{Name: "s", Address: "127.0.0.1:0" + port})
	d := func(addr string) config.Target {
		return config.Target{Name: addr, Address: addr, Module: config.DefaultModuleName}
	}
	res := m.ReconcileTargets(cfg, []config.Target{d("[::ffff:127.0.0.1]:" + port), d("127.0.0.2:" + port), d("127.0.0.2:00" + port)})
	if res.Started != 2 || res.Ignored != 2 {
		t.Errorf("reconcile = %+v, want 2 started (s, 127.0.0.2) and 2 ignored", res)
	}
	for _, c := range []struct{ address, want string }{
		{"127.0.0.1:" + port, "s"},
		{"[0::ffff:7f00:1]:" + port, "s"},
		{"127.0.0.2:0" + port, "127.0.0.2:" + port},
	} {
		p, created, err := m.Get(config.DefaultModuleName, c.address)
		if err != nil {
			t.Fatalf("Get(%s): %v", c.address, err)
		}
		if created || p.opts.Name != c.want {
			t.Errorf("Get(%s) = %q (created %v), want the prober of %s", c.address, p.opts.Name, created, c.want)
		}
	}
}

func TestReconcileTargetsDiscovered(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour})
	d1, d2, d3 := discoveredAt(srv, 1, map[string]string{"zone": "a"}), discoveredAt(srv, 2, nil), discoveredAt(srv, 3, nil)
	static := config.Target{Name: "s", Address: d2.Address} // same module and address as d2
	cfg := testConfig(static)

	res := m.ReconcileTargets(cfg, []config.Target{d1, d2, d3})
	if res.Started != 3 || res.Ignored != 1 {
		t.Fatalf("reconcile = %+v, want 3 started (s, d1, d3) and d2 ignored", res)
	}
	if s, d, dyn := m.SourceCounts(); s != 1 || d != 2 || dyn != 0 {
		t.Errorf("counts static %d discovered %d dynamic %d, want 1 2 0", s, d, dyn)
	}
	before := byAddress(m)
	if p := before[d2.Address]; p.opts.Name != "s" || p.discovered.Load() {
		t.Errorf("prober of %s is %q (discovered %v), want the static target s", d2.Address, p.opts.Name, p.discovered.Load())
	}
	if p, _, err := m.Get(config.DefaultModuleName, d1.Address); err != nil || p != before[d1.Address] {
		t.Errorf("/probe of a discovered target's address does not answer from its prober (err %v)", err)
	}
	waitFor(t, "replies on d1", 5*time.Second, func() bool { return before[d1.Address].Snapshot().Received >= 3 })
	accepted := srv.accepted.Load()

	// A discovery update without d3 and with d1 unchanged.
	res = m.ReconcileTargets(cfg, []config.Target{d1, d2})
	if res.Started != 0 || res.Kept != 2 || res.Stopped != 1 {
		t.Errorf("update without d3 = %+v, want 2 kept, 1 stopped", res)
	}
	if s := before[d3.Address].Snapshot(); s.State != StateStopped {
		t.Errorf("d3, gone from discovery, is %v", s.State)
	}
	// A reload whose static targets and modules are unchanged, with the
	// same discovered targets: nothing restarts.
	res = m.ReconcileTargets(testConfig(static), []config.Target{d1, d2})
	if res.Started != 0 || res.Kept != 2 || res.Stopped != 0 {
		t.Errorf("unchanged reload = %+v, want everything kept", res)
	}
	after := byAddress(m)
	if after[d1.Address] != before[d1.Address] {
		t.Fatal("d1, unchanged, got a new prober")
	}
	if s := after[d1.Address].Snapshot(); s.Dropped != 0 || s.Received < 3 {
		t.Errorf("d1 lost its connection or counters: %+v", s)
	}
	if n := srv.accepted.Load(); n != accepted {
		t.Errorf("%d connections accepted across the update and reload, want %d: the kept probers redialed", n, accepted)
	}

	// The static target goes: d2 is probed by a discovered prober now.
	res = m.ReconcileTargets(testConfig(), []config.Target{d1, d2})
	if res.Started != 1 || res.Stopped != 1 || res.Ignored != 0 {
		t.Errorf("static target removed = %+v, want d2 started and s stopped", res)
	}
	if p := byAddress(m)[d2.Address]; !p.discovered.Load() || p.opts.Name != d2.Name {
		t.Errorf("prober of %s: %+v, want the discovered target", d2.Address, p.opts)
	}
	// A changed label restarts the target; a module the config lacks
	// leaves it out.
	d1b := d1
	d1b.Labels = map[string]string{"zone": "b"}
	gone := discoveredAt(srv, 4, nil)
	gone.Module = "vanished"
	res = m.ReconcileTargets(testConfig(), []config.Target{d1b, d2, gone})
	if res.Started != 1 || res.Stopped != 1 || res.Kept != 1 || res.Ignored != 1 {
		t.Errorf("label change and unknown module = %+v, want d1 restarted, d2 kept, one ignored", res)
	}
	if s, d, _ := m.SourceCounts(); s != 0 || d != 2 {
		t.Errorf("counts static %d discovered %d, want 0 2", s, d)
	}
	// Discovery empty: every discovered prober stops.
	m.ReconcileTargets(testConfig(), nil)
	if n := len(m.Static()); n != 0 {
		t.Errorf("%d probers after discovery emptied, want 0", n)
	}
}

// TestDesiredOptionsShareModule checks that discovered probers share the
// copy of their module's settings with the static ones.
func TestDesiredOptionsShareModule(t *testing.T) {
	cfg := testConfig(config.Target{Name: "s", Address: "127.0.0.1:1"})
	opts, ignored := desiredOptions(cfg, []config.Target{
		{Name: "a", Address: "127.0.0.2:1", Module: "default"},
		{Name: "b", Address: "127.0.0.2:1", Module: "default"}, // same module and address as a
		{Name: "c", Address: "127.0.0.3:1", Module: "default"},
	})
	if len(opts) != 3 || ignored != 1 {
		t.Fatalf("%d options, %d ignored; want 3 (s, a, c) and 1", len(opts), ignored)
	}
	// A discovered target of several flows cannot have a label named flow.
	mod := cfg.Modules["default"]
	mod.Flows = 2
	cfg.Modules["multi"] = mod
	opts, ignored = desiredOptions(cfg, []config.Target{
		{Name: "d", Address: "127.0.0.4:1", Module: "multi", Labels: map[string]string{config.FlowLabel: "x"}},
		{Name: "e", Address: "127.0.0.5:1", Module: "default", Labels: map[string]string{config.FlowLabel: "x"}},
	})
	if len(opts) != 2 || ignored != 1 || opts[1].Name != "e" {
		t.Errorf("%d options (%v), %d ignored; want s and e, and d ignored", len(opts), opts, ignored)
	}
	for _, o := range opts[1:] {
		if o.shared != opts[0].shared || !o.Discovered {
			t.Errorf("%s: shares module %v, discovered %v; want true, true", o.Name, o.shared == opts[0].shared, o.Discovered)
		}
	}
}
