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
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
)

// TestReloadKeepsHistory checks that the probers a Manager makes keep a
// history when it has a Pool, that a reload leaves an unchanged target's
// history alone and starts a changed one afresh, and that dynamic probers
// keep one too.
func TestReloadKeepsHistory(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour, History: history.NewPool(time.Hour, time.Minute)})
	a := config.Target{Name: "a", Address: srv.addr()}
	b := config.Target{Name: "b", Address: srv.addr()}
	m.Reconcile(testConfig(a, b))
	byName := func() map[string]*Prober {
		out := map[string]*Prober{}
		for _, p := range m.Static() {
			out[p.opts.Name] = p
		}
		return out
	}
	before := byName()
	waitFor(t, "20 probes in both histories", 5*time.Second, func() bool {
		sa, _, _ := sumHistory(before["a"])
		sb, _, _ := sumHistory(before["b"])
		return sa >= 20 && sb >= 20
	})
	sentA, _, _ := sumHistory(before["a"])

	b.Labels = map[string]string{"site": "y"}
	m.Reconcile(testConfig(a, b))
	after := byName()
	if got, _, medians := sumHistory(after["a"]); got < sentA || medians == 0 {
		t.Errorf("unchanged target a: %d probes in its history after the reload, %d before", got, sentA)
	}
	if got, _, _ := sumHistory(after["b"]); got >= 20 {
		t.Errorf("changed target b: %d probes in its history right after the reload, want a new history", got)
	}

	p, _, err := m.Get("default", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a dynamic prober's history", 5*time.Second, func() bool {
		n, _, _ := sumHistory(p)
		return n >= 5
	})
}

// TestNoHistoryWithoutPool checks that a Manager without a Pool keeps no
// history: --web.history=0.
func TestNoHistoryWithoutPool(t *testing.T) {
	srv := startServer(t, echoHandler)
	for _, pool := range []*history.Pool{nil, history.NewPool(0, time.Minute)} {
		m := newTestManager(t, ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour, History: pool})
		m.Reconcile(testConfig(config.Target{Name: "a", Address: srv.addr()}))
		p := m.Static()[0]
		// Five probes answered or timed out: either would be recorded in a
		// history. A loaded machine may time out the first probes.
		waitFor(t, "five completed probes", 20*time.Second, func() bool {
			s := p.Snapshot()
			return s.Received+s.Timeouts >= 5
		})
		if pts := p.History(nil, time.Now().Add(-time.Hour), time.Now().Add(time.Minute)); len(pts) != 0 {
			t.Errorf("pool %v: %d points of history, want none", pool.Span(), len(pts))
		}
	}
}

// TestEachFlowKeepsItsHistory checks that every flow of a target has a
// history of its own probes.
func TestEachFlowKeepsItsHistory(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour, History: history.NewPool(time.Hour, time.Minute)})
	cfg := testConfig(config.Target{Name: "ecmp", Address: srv.addr()})
	mod := cfg.Modules["default"]
	mod.Flows = 3
	cfg.Modules["default"] = mod
	m.Reconcile(cfg)
	flows := m.Static()[0].Flows()
	if len(flows) != 3 {
		t.Fatalf("%d flows, want 3", len(flows))
	}
	waitFor(t, "10 probes in every flow's history", 5*time.Second, func() bool {
		for _, f := range flows {
			if n, _, _ := sumHistory(f); n < 10 {
				return false
			}
		}
		return true
	})
	for _, f := range flows {
		f.Stop()
	}
	for _, f := range flows {
		s := f.Snapshot()
		// A late reply undoes its probe's loss in the history (timeouts −
		// late), as in TestResultsAndHistoryFollowTheCounters.
		if sent, lost, _ := sumHistory(f); uint64(sent) != s.Received+s.Timeouts || uint64(lost) != s.Timeouts-s.Late {
			t.Errorf("flow %d: history %d sent %d lost; its counters %d received %d timed out %d late", f.opts.Flow, sent, lost, s.Received, s.Timeouts, s.Late)
		}
	}
}
