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

package web

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// parseText parses a text exposition.
func parseText(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return mfs
}

// flowValues returns the flow label of each series of family name whose
// target label is target ("" for /probe), "-" for a series without one.
func flowValues(mfs map[string]*dto.MetricFamily, name, target string) []string {
	var out []string
	for _, m := range mfs[name].GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["target"] != target {
			continue
		}
		v, ok := labels["flow"]
		if !ok {
			v = "-"
		}
		out = append(out, v)
	}
	return out
}

func TestProbeFlows(t *testing.T) {
	addr := testenv.EchoServer(t)
	cfg := fastConfig()
	ecmp := cfg.Modules["default"]
	ecmp.Flows = 3
	cfg.Modules["ecmp"] = ecmp
	srv, m := probeServer(t, cfg, 10)

	code, body := testenv.Get(t, srv.URL+"/probe?module=ecmp&target="+addr, nil)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	mfs := parseText(t, body)
	// The first request waited for every flow's first result.
	if v, ok := testenv.Value(mfs, "probe_success", nil); !ok || v != 1 {
		t.Errorf("probe_success = %v (present %v), want 1", v, ok)
	}
	for _, flow := range []string{"0", "1", "2"} {
		if v, _ := testenv.Value(mfs, "tcp_echo_received_total", map[string]string{"flow": flow}); v < 1 {
			t.Errorf("tcp_echo_received_total{flow=%q} = %v, want >= 1", flow, v)
		}
	}
	if got := strings.Join(flowValues(mfs, "tcp_echo_sent_total", ""), ","); got != "0,1,2" {
		t.Errorf("tcp_echo_sent_total flows %q, want 0,1,2", got)
	}
	if _, n := m.Counts(); n != 1 {
		t.Errorf("%d dynamic targets, want 1", n)
	}
	// A module of one flow: no flow label, as before flows existed.
	_, body = testenv.Get(t, srv.URL+"/probe?target="+addr, nil)
	if got := strings.Join(flowValues(parseText(t, body), "tcp_echo_sent_total", ""), ","); got != "-" {
		t.Errorf("module of one flow: flows %q, want no flow label", got)
	}

	_, body = testenv.Get(t, srv.URL+"/probe?debug=true&module=ecmp&target="+addr, nil)
	for _, want := range []string{"flow 0 of 3", "flow 1 of 3", "flow 2 of 3"} {
		if !strings.Contains(body, want) {
			t.Errorf("debug page lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "Recent connection events:"); n != 3 {
		t.Errorf("debug page has %d flows' events, want 3", n)
	}
}

// TestReloadFlows checks flows across reloads on /metrics: the flow label
// appears with a target of several flows, a change of flows restarts that
// target alone, and with one flow everywhere the label is gone.
func TestReloadFlows(t *testing.T) {
	addr := testenv.EchoServer(t)
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	conf := func(flows int) string {
		return `modules:
  default: {interval: 50ms, ip_protocol: ip4}
  ecmp: {interval: 50ms, ip_protocol: ip4, flows: ` + itoa(flows) + `}
targets:
  - {name: a, address: "` + addr + `", module: ecmp}
  - {name: b, address: "` + addr + `", labels: {site: x}}
`
	}
	writeConfig(t, file, conf(2))
	rl, _, srv := newTestReloader(t, ConfigFile{Path: file, Explicit: true}, "/metrics")
	m := rl.manager
	byName := func(name string) []*prober.Prober {
		var out []*prober.Prober
		for _, p := range m.Static() {
			if p.Options().Name == name {
				out = append(out, p)
			}
		}
		return out
	}
	scrape := func() map[string]*dto.MetricFamily {
		_, body := testenv.Get(t, srv.URL+"/metrics", nil)
		return parseText(t, body)
	}
	waitConnected := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			connected := 0
			for _, p := range m.Static() {
				if p.Snapshot().Received > 0 {
					connected++
				}
			}
			if connected == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d probers have replies", connected, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitConnected(3)
	mfs := scrape()
	if got := strings.Join(flowValues(mfs, "tcp_echo_connected", "a"), ","); got != "0,1" {
		t.Errorf("a's flows on /metrics %q, want 0,1", got)
	}
	if got := strings.Join(flowValues(mfs, "tcp_echo_connected", "b"), ","); got != "" {
		t.Errorf("b's flow label %q, want empty (absent)", got)
	}
	if _, body := testenv.Get(t, srv.URL+"/", nil); !strings.Contains(body, ">a</a></td><td>1</td>") || !strings.Contains(body, ">b</a></td><td></td>") {
		t.Errorf("landing page lacks a row per flow of a with its number:\n%s", body)
	}
	b := byName("b")[0]

	writeConfig(t, file, conf(3))
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := byName("b"); len(got) != 1 || got[0] != b {
		t.Fatal("b was restarted by a change of a's flows")
	}
	if got := byName("a"); len(got) != 3 {
		t.Fatalf("a has %d flows after the reload, want 3", len(got))
	}
	waitConnected(4)
	if got := strings.Join(flowValues(scrape(), "tcp_echo_connected", "a"), ","); got != "0,1,2" {
		t.Errorf("a's flows after the reload %q, want 0,1,2", got)
	}
	if s := b.Snapshot(); s.Dropped != 0 || !s.Connected {
		t.Errorf("b: dropped %d, connected %v; want its connection kept", s.Dropped, s.Connected)
	}

	writeConfig(t, file, conf(1))
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	waitConnected(2)
	mfs = scrape()
	for _, name := range []string{"a", "b"} {
		if got := strings.Join(flowValues(mfs, "tcp_echo_connected", name), ","); got != "-" {
			t.Errorf("%s with one flow everywhere: flow label %q, want none at all", name, got)
		}
	}
}
