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

package collector

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// flowTargets returns synthetic probers: target "ecmp" of 3 flows, "own"
// of one flow with an extra label named flow, and "plain" of one flow.
func flowTargets() []target {
	ecmp := config.DefaultModule()
	ecmp.Flows = 3
	base := syntheticTargets(5, false)
	var ts []target
	for k := range 3 {
		f := *base[k].(*fakeTarget)
		f.opts = prober.Options{Name: "ecmp", Address: "10.0.0.1:4000", ModuleName: "ecmp", Module: ecmp, Flow: k,
			Labels: map[string]string{"site": "ams"}}
		ts = append(ts, &f)
	}
	own := *base[3].(*fakeTarget)
	own.opts = prober.Options{Name: "own", Address: "10.0.0.2:4000", ModuleName: "default", Module: config.DefaultModule(),
		Labels: map[string]string{"flow": "north"}}
	plain := *base[4].(*fakeTarget)
	plain.opts = prober.Options{Name: "plain", Address: "10.0.0.3:4000", ModuleName: "default", Module: config.DefaultModule()}
	return append(ts, &own, &plain)
}

// flowsByTarget returns the values of the flow label of the series of
// family name, by target, in order.
func flowsByTarget(mfs []*dto.MetricFamily, name string) map[string][]string {
	out := map[string][]string{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var target, flow string
			hasFlow := false
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "target":
					target = lp.GetValue()
				case "flow":
					flow, hasFlow = lp.GetValue(), true
				}
			}
			if !hasFlow {
				flow = "(none)"
			}
			out[target] = append(out[target], flow)
		}
	}
	return out
}

// TestFlowLabel checks the flow label on /metrics in every format: the
// flows of a target of several flows carry their number, a target of one
// flow its own extra label of that name or none.
func TestFlowLabel(t *testing.T) {
	ts := flowTargets()
	c := newCollector(func() []target { return ts }, []string{"flow", "site"})
	// Empty is absent to Prometheus: a target of one flow has no flow.
	want := map[string]string{"ecmp": "0,1,2", "own": "north", "plain": ""}
	check := func(t *testing.T, mfs []*dto.MetricFamily) {
		t.Helper()
		for _, name := range []string{"tcp_echo_sent_total", "tcp_echo_rtt_seconds", "tcp_echo_connected"} {
			got := flowsByTarget(mfs, name)
			for target, w := range want {
				if g := strings.Join(got[target], ","); g != w {
					t.Errorf("%s of %s: flow labels %q, want %q", name, target, g, w)
				}
			}
		}
	}
	for _, tt := range streamedFormats {
		if !tt.parse {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			got, _ := checkStreamed(t, tt.format, nil, c, tt.name)
			check(t, testenv.DecodeExposition(t, got, tt.format))
		})
	}
	t.Run("protobuf", func(t *testing.T) {
		f := expfmt.NewFormat(expfmt.TypeProtoDelim)
		got, _ := checkStreamed(t, f, nil, c, "protobuf")
		check(t, testenv.DecodeExposition(t, got, f))
	})
	t.Run("Gather", func(t *testing.T) {
		mfs, err := c.Gather()
		if err != nil {
			t.Fatal(err)
		}
		check(t, mfs)
	})
	t.Run("Collect", func(t *testing.T) {
		if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
			t.Errorf("lint: %v %v", err, problems)
		}
		if n := testutil.CollectAndCount(c, "tcp_echo_sent_total"); n != 5 {
			t.Errorf("%d tcp_echo_sent_total series, want 5 (3 flows and 2 targets)", n)
		}
	})
}

// flowTarget starts a dynamic target of flows on a Manager against addr
// and waits for every flow's first result.
func flowTarget(t *testing.T, addr string, flows int) *prober.Prober {
	t.Helper()
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour, Loop: prober.LoopGoroutine}, nil)
	t.Cleanup(m.Stop)
	mod := fastModule()
	mod.Flows = flows
	mod.Timeout, mod.MinTimeout, mod.MaxTimeout = config.Duration(50*time.Millisecond), config.Duration(50*time.Millisecond), config.Duration(50*time.Millisecond)
	cfg := config.Default()
	cfg.Modules["default"] = mod
	m.Reconcile(cfg)
	p, _, err := m.Get("default", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Flows() {
		<-f.FirstResult()
	}
	return p
}

// TestProbeCollectorFlows checks /probe for a target of several flows:
// each flow's series with its flow label, and probe_success 1 only while
// every flow is answered.
func TestProbeCollectorFlows(t *testing.T) {
	// The second connection's frames are read and never answered: one
	// bad path among three.
	var conns atomic.Int64
	var silent atomic.Bool
	addr := testenv.Serve(t, func(c net.Conn) {
		if conns.Add(1) == 2 {
			buf := make([]byte, 24)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				if !silent.Load() {
					_, _ = c.Write(buf) // whole frames: 24-byte writes on loopback
				}
			}
		}
		testenv.Echo(c)
	})
	p := flowTarget(t, addr, 3)
	c := NewProbe(p)
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	success := func() float64 {
		for m := range collectAll(c) {
			if m.Desc() == c.success {
				var d dto.Metric
				_ = m.Write(&d)
				return d.GetGauge().GetValue()
			}
		}
		return -1
	}
	deadline := time.Now().Add(5 * time.Second)
	for success() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := success(); s != 1 {
		t.Fatalf("probe_success = %v with every flow answered, want 1", s)
	}
	want := `
# HELP tcp_echo_connected Whether the probe connection is established (1) or not (0).
# TYPE tcp_echo_connected gauge
tcp_echo_connected{flow="0"} 1
tcp_echo_connected{flow="1"} 1
tcp_echo_connected{flow="2"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "tcp_echo_connected"); err != nil {
		t.Error(err)
	}
	silent.Store(true)
	deadline = time.Now().Add(5 * time.Second)
	for success() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := success(); s != 0 {
		t.Fatalf("probe_success = %v with one flow unanswered, want 0", s)
	}
	timedOut := 0
	for _, f := range p.Flows() {
		if s := f.Snapshot(); s.Timeouts > 0 && !s.LastProbeOK {
			timedOut++
		}
	}
	if timedOut != 1 {
		t.Errorf("%d flows time out, want the one on the silent connection", timedOut)
	}
}
