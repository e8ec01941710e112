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
	"net"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

func TestFlowPhase(t *testing.T) {
	const iv = 100 * time.Millisecond
	tests := []struct {
		name        string
		phase       uint64
		flow, flows int
		want        uint64
	}{
		{"one flow keeps the target's phase", 12345, 0, 1, 12345},
		{"flow 0 of 4 keeps the target's slot", uint64(3*iv + 7), 0, 4, 7},
		{"flow 1 of 4 a quarter later", 7, 1, 4, uint64(iv/4) + 7},
		{"flow 3 of 4", 7, 3, 4, uint64(3*iv/4) + 7},
		{"flow 15 of 16", 0, 15, 16, uint64(15 * iv / 16)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := flowPhase(tt.phase, tt.flow, tt.flows, iv); got != tt.want {
				t.Errorf("flowPhase(%d, %d, %d) = %d, want %d", tt.phase, tt.flow, tt.flows, got, tt.want)
			}
		})
	}
	// The slots that the phases give: flow k's first slot at or after
	// any instant is k×interval/N after flow 0's, modulo the interval.
	base := phaseOf("host", "target", "10.0.0.1:4000")
	now := time.Now()
	s0 := slotAt(now, flowPhase(base, 0, 4, iv), iv)
	for k := 1; k < 4; k++ {
		sk := slotAt(now, flowPhase(base, k, 4, iv), iv)
		if d := (sk.Sub(s0) + iv) % iv; d != time.Duration(k)*iv/4 {
			t.Errorf("flow %d's slot is %v after flow 0's, want %v", k, d, time.Duration(k)*iv/4)
		}
	}
}

// arrivals is an echo server that records when each frame arrived, by the
// connection's remote address (the prober's local address).
type arrivals struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (a *arrivals) handler(c net.Conn) {
	for {
		f, err := readFrame(c)
		if err != nil {
			return
		}
		now := time.Now()
		a.mu.Lock()
		a.at[c.RemoteAddr().String()] = append(a.at[c.RemoteAddr().String()], now)
		a.mu.Unlock()
		if _, err := c.Write(f); err != nil {
			return
		}
	}
}

func (a *arrivals) of(local string) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.at[local])
}

// flowModule is testModule with flows.
func flowModule(interval time.Duration, flows int) config.Module {
	m := testModule(interval, 500*time.Millisecond, true)
	m.Flows = flows
	return m
}

// flowConfig is testConfig whose default module has the given interval
// and flows.
func flowConfig(interval time.Duration, flows int, targets ...config.Target) *config.Config {
	cfg := testConfig(targets...)
	cfg.Modules["default"] = flowModule(interval, flows)
	return cfg
}

// targetFlows returns the static probers of target name, in m.Static's
// order.
func targetFlows(m *Manager, name string) []*Prober {
	var out []*Prober
	for _, p := range m.Static() {
		if p.opts.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// TestTargetFlows checks what a target of 4 flows is: 4 probers of one
// target, each with its own connection from its own source port, its own
// counters, and probes spread a quarter interval apart.
func TestTargetFlows(t *testing.T) {
	const iv, flows = 200 * time.Millisecond, 4
	rec := &arrivals{at: map[string][]time.Time{}}
	srv := startServer(t, rec.handler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour})
	m.Reconcile(flowConfig(iv, flows, config.Target{Name: "a", Address: srv.addr()}))

	ps := targetFlows(m, "a")
	if len(ps) != flows {
		t.Fatalf("%d probers for target a, want %d", len(ps), flows)
	}
	for k, p := range ps {
		if o := p.Options(); o.Flow != k || o.Name != "a" || o.Module.Flows != flows {
			t.Errorf("prober %d: flow %d, name %q, flows %d", k, o.Flow, o.Name, o.Module.Flows)
		}
		if got := p.Flows(); !slices.Equal(got, ps) {
			t.Errorf("flow %d's Flows() = %v, want the target's 4 probers", k, got)
		}
	}
	if static, _ := m.Counts(); static != 1 {
		t.Errorf("Counts() static = %d, want 1 target", static)
	}
	waitFor(t, "8 replies on every flow", 10*time.Second, func() bool {
		for _, p := range ps {
			if p.Snapshot().Received < 8 {
				return false
			}
		}
		return true
	})
	if n := srv.accepted.Load(); n != flows {
		t.Errorf("server accepted %d connections, want %d", n, flows)
	}
	ports := map[uint16]int{}
	for k, p := range ps {
		s := p.Snapshot()
		checkInvariant(t, s, p.mod.MaxInFlight())
		if s.Dropped != 0 || !s.Connected {
			t.Errorf("flow %d: dropped %d, connected %v", k, s.Dropped, s.Connected)
		}
		if prev, dup := ports[localPort(t, p)]; dup {
			t.Errorf("flows %d and %d share source port %d", prev, k, localPort(t, p))
		}
		ports[localPort(t, p)] = k
		if len(rec.of(s.LocalAddr)) == 0 {
			t.Errorf("flow %d: the server saw no frame from its local address %s", k, s.LocalAddr)
		}
	}

	// Each flow probes on its own slot, a quarter interval after the
	// previous one: the median phase of its frames' arrivals (the first
	// two, sent as the connection came up, left out) is compared.
	phase := make([]time.Duration, flows)
	for k, p := range ps {
		at := rec.of(p.Snapshot().LocalAddr)[2:]
		ph := make([]time.Duration, len(at))
		for i, a := range at {
			ph[i] = time.Duration(a.UnixNano() % int64(iv))
		}
		sort.Slice(ph, func(i, j int) bool { return ph[i] < ph[j] })
		phase[k] = ph[len(ph)/2]
	}
	for k := 1; k < flows; k++ {
		d := (phase[k] - phase[k-1] + iv) % iv
		if d < iv/flows-iv/20 || d > iv/flows+iv/20 {
			t.Errorf("flow %d probes %v after flow %d, want %v ± %v (phases %v)", k, d, k-1, iv/flows, iv/20, phase)
		}
	}
}

// TestFlowsHaveTheirOwnMeasurements checks that a slow path shows on its
// flow alone: the server delays the replies of one connection, and only
// the flow on it has the higher RTT, timeout and histogram tail.
func TestFlowsHaveTheirOwnMeasurements(t *testing.T) {
	const delay = 40 * time.Millisecond
	var n atomic.Int64
	slow := make(chan string, 1)
	srv := startServer(t, func(c net.Conn) {
		if n.Add(1) == 1 {
			slow <- c.RemoteAddr().String()
			delayedEchoHandler(delay)(c)
			return
		}
		echoHandler(c)
	})
	m := newTestManager(t, ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour})
	m.Reconcile(flowConfig(20*time.Millisecond, 3, config.Target{Name: "a", Address: srv.addr()}))
	ps := targetFlows(m, "a")
	waitFor(t, "20 replies on every flow", 10*time.Second, func() bool {
		for _, p := range ps {
			if p.Snapshot().Received < 20 {
				return false
			}
		}
		return true
	})
	slowAddr := <-slow
	seen := 0
	for k, p := range ps {
		s := p.Snapshot()
		if s.LocalAddr == slowAddr {
			seen++
			if s.SRTT < delay*3/4 || s.Histogram.Sum/float64(s.Histogram.Count) < (delay*3/4).Seconds() {
				t.Errorf("flow %d on the slow connection: SRTT %v, mean RTT %.1fms; want about %v", k, s.SRTT, 1e3*s.Histogram.Sum/float64(s.Histogram.Count), delay)
			}
			if s.Timeout < s.SRTT {
				t.Errorf("flow %d: timeout %v below its SRTT %v", k, s.Timeout, s.SRTT)
			}
			continue
		}
		if s.SRTT > delay/2 {
			t.Errorf("flow %d on a fast connection: SRTT %v, want well under %v: it shares the slow flow's estimator", k, s.SRTT, delay)
		}
	}
	if seen != 1 {
		t.Errorf("%d flows on the slow connection %s, want 1", seen, slowAddr)
	}
}

// TestReconcileFlows checks that a change of flows restarts that target
// with its new number of flows, and that other targets keep their
// connections and counters.
func TestReconcileFlows(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour})
	cfg := func(flows int) *config.Config {
		c := testConfig(config.Target{Name: "a", Address: srv.addr(), Module: "ecmp"}, config.Target{Name: "b", Address: srv.addr()})
		c.Modules["ecmp"] = flowModule(10*time.Millisecond, flows)
		return c
	}
	if res := m.Reconcile(cfg(2)); res.Started != 2 {
		t.Fatalf("first reconcile: %+v, want 2 targets started", res)
	}
	if n := len(m.Static()); n != 3 {
		t.Fatalf("%d static probers, want 3 (a's 2 flows and b)", n)
	}
	waitFor(t, "3 connections", 5*time.Second, func() bool { return srv.accepted.Load() == 3 })
	b := targetFlows(m, "b")[0]
	oldA := targetFlows(m, "a")
	waitFor(t, "replies on b", 5*time.Second, func() bool { return b.Snapshot().Received >= 3 })

	// The same config again keeps everything.
	if res := m.Reconcile(cfg(2)); res != (ReconcileResult{Kept: 2}) {
		t.Errorf("unchanged config: %+v, want 2 targets kept", res)
	}
	if got := targetFlows(m, "a"); !slices.Equal(got, oldA) {
		t.Error("an unchanged target of 2 flows was restarted")
	}

	sb := b.Snapshot()
	if res := m.Reconcile(cfg(3)); res != (ReconcileResult{Started: 1, Kept: 1, Stopped: 1}) {
		t.Errorf("flows 2 to 3: %+v, want a restarted and b kept", res)
	}
	newA := targetFlows(m, "a")
	if len(newA) != 3 {
		t.Fatalf("a has %d flows after the change, want 3", len(newA))
	}
	for _, p := range oldA {
		if slices.Contains(newA, p) || p.Snapshot().State != StateStopped {
			t.Errorf("a's old flow %d still runs", p.opts.Flow)
		}
	}
	if got := targetFlows(m, "b"); len(got) != 1 || got[0] != b {
		t.Fatal("target b was restarted by a change of a's flows")
	}
	waitFor(t, "a's 3 new connections", 5*time.Second, func() bool { return srv.accepted.Load() == 3+3 })
	if s := b.Snapshot(); s.Dropped != 0 || s.Sent < sb.Sent || !s.Connected {
		t.Errorf("b: %+v; want its connection and counters kept", s)
	}
	if static, _ := m.Counts(); static != 2 {
		t.Errorf("Counts() static = %d, want 2 targets", static)
	}
	// Back to one flow: a's series lose their flow label (Flows 1).
	m.Reconcile(cfg(1))
	if got := targetFlows(m, "a"); len(got) != 1 || got[0].Options().Module.Flows != 1 || len(got[0].Flows()) != 1 {
		t.Errorf("a after flows 1: %d probers", len(got))
	}
}

// TestDynamicTargetFlows checks /probe's targets of several flows: one
// target against the cap, every flow started, and all stopped when idle.
func TestDynamicTargetFlows(t *testing.T) {
	srv := startServer(t, echoHandler)
	idle := 300 * time.Millisecond
	m := newTestManager(t, ManagerOptions{MaxDynamic: 1, IdleTimeout: idle})
	m.Reconcile(moduleConfig(flowModule(20*time.Millisecond, 3)))
	p, created, err := m.Get("default", srv.addr())
	if err != nil || !created {
		t.Fatalf("Get: created %v, err %v", created, err)
	}
	flows := p.Flows()
	if len(flows) != 3 || flows[0] != p {
		t.Fatalf("Flows() has %d probers, first %p; want 3, first %p", len(flows), flows[0], p)
	}
	if _, n := m.Counts(); n != 1 {
		t.Errorf("Counts() dynamic = %d, want 1 target", n)
	}
	if got := m.Dynamic(); !slices.Equal(got, flows) {
		t.Errorf("Dynamic() = %d probers, want the target's 3 flows", len(got))
	}
	for _, f := range flows {
		select {
		case <-f.FirstResult():
		case <-time.After(5 * time.Second):
			t.Fatalf("flow %d: no first result", f.opts.Flow)
		}
	}
	waitFor(t, "3 connections", 5*time.Second, func() bool { return srv.accepted.Load() == 3 })
	waitFor(t, "every flow stopped when idle", idle+idle/10+3*time.Second, func() bool {
		for _, f := range flows {
			if f.Snapshot().State != StateStopped {
				return false
			}
		}
		return true
	})
}
