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

package faults

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// What the mesh's exporters say, read per ordered pair of nodes through
// the mesh's Prometheus.

// pair is an ordered pair of nodes: the exporter of from probes to.
type pair struct{ from, to int }

func (p pair) String() string { return fmt.Sprintf("%d→%d", p.from, p.to) }

// nodeOf returns the node of an address of the mesh (host:port), or 0.
func nodeOf(addr string) int {
	var i int
	if _, err := fmt.Sscanf(strings.Split(addr, ":")[0], "10.234.0.%d", &i); err != nil || i <= 10 {
		return 0
	}
	return i - 10
}

// pairs returns, for one instant query of a per-prober family, each
// pair's value.
func (m *mesh) pairs(t *testing.T, q string) map[pair]float64 {
	t.Helper()
	res, err := m.prom.query(q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[pair]float64{}
	for _, s := range res {
		p := pair{nodeOf(s.Metric["instance"]), nodeOf(s.Metric["address"])}
		if p.from == 0 || p.to == 0 {
			t.Fatalf("%s: a series of no pair: %v", q, s.Metric)
		}
		if _, dup := out[p]; dup {
			t.Fatalf("%s: two series for %v", q, p)
		}
		out[p] = s.Value
	}
	return out
}

// allPairs returns every ordered pair of distinct nodes.
func allPairs(nodes []int) []pair {
	var out []pair
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				out = append(out, pair{a, b})
			}
		}
	}
	return out
}

// sortedPairs returns the pairs of a set, sorted.
func sortedPairs(set map[pair]float64) []pair {
	return slices.SortedFunc(maps.Keys(set), func(a, b pair) int {
		if a.from != b.from {
			return a.from - b.from
		}
		return a.to - b.to
	})
}

// waitPairs waits until the pairs that Prometheus has RTT for (and has
// any series of at all) are exactly want, and returns how long that took.
func (m *mesh) waitPairs(t *testing.T, what string, want []pair, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	slices.SortFunc(want, func(a, b pair) int {
		if a.from != b.from {
			return a.from - b.from
		}
		return a.to - b.to
	})
	var rtt, any map[pair]float64
	for {
		rtt = m.pairs(t, `tcp_echo_rtt_seconds_count{job="mesh"} > 0`)
		any = m.pairs(t, `tcp_echo_sent_total{job="mesh"}`)
		if slices.Equal(sortedPairs(rtt), want) && slices.Equal(sortedPairs(any), want) {
			took := time.Since(start)
			t.Logf("%s: %d pairs after %v", what, len(want), took.Round(100*time.Millisecond))
			return took
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v.\nwant %v\nwith RTT %v\nany series %v", what, within, want, sortedPairs(rtt), sortedPairs(any))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// counters are the loss counters of every pair, as Prometheus has them.
type counters struct{ sent, timeouts, late, dropped map[pair]float64 }

func (m *mesh) counters(t *testing.T) counters {
	t.Helper()
	return counters{
		sent:     m.pairs(t, `tcp_echo_sent_total{job="mesh"}`),
		timeouts: m.pairs(t, `tcp_echo_timeouts_total{job="mesh"}`),
		late:     m.pairs(t, `tcp_echo_late_total{job="mesh"}`),
		dropped:  m.pairs(t, `tcp_echo_dropped_total{job="mesh"}`),
	}
}

// checkNoLoss checks that between before and after every pair of pairs
// kept probing, on the same prober (its counters went on from where they
// were), and lost no probe and no connection.
func checkNoLoss(t *testing.T, what string, pairs []pair, before, after counters) {
	t.Helper()
	for _, p := range pairs {
		switch {
		case after.sent[p] <= before.sent[p]:
			t.Errorf("%s: pair %v: sent %v then %v: not probing, or restarted", what, p, before.sent[p], after.sent[p])
		case after.timeouts[p] != before.timeouts[p] || after.dropped[p] != before.dropped[p]:
			t.Errorf("%s: pair %v lost probes: timeouts %v → %v (late replies %v → %v), dropped %v → %v", what, p,
				before.timeouts[p], after.timeouts[p], before.late[p], after.late[p], before.dropped[p], after.dropped[p])
		}
	}
}

// waitGauge waits until every one of the nodes' exporters has the
// self-metric q (a PromQL selector, one series per exporter) at want.
func (m *mesh) waitGauge(t *testing.T, what, q string, nodes []int, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := m.prom.query(q)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]float64{}
		for _, s := range res {
			got[nodeOf(s.Metric["instance"])] = s.Value
		}
		ok := len(got) == len(nodes)
		for _, i := range nodes {
			v, has := got[i]
			ok = ok && has && v == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not %v on every node of %v within %v: %v", what, q, want, nodes, within, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
