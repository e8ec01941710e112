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

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dashboardFile is the example Grafana dashboard.
var dashboardFile = filepath.Join("examples", "grafana", "tcpping.json")

// The parts of a Grafana dashboard the tests look at.
type (
	grafanaDatasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	grafanaTarget struct {
		Datasource *grafanaDatasource `json:"datasource"`
		Expr       string             `json:"expr"`
		Format     string             `json:"format"`
		RefID      string             `json:"refId"`
	}
	grafanaPanel struct {
		ID         int                `json:"id"`
		Type       string             `json:"type"`
		Title      string             `json:"title"`
		Datasource *grafanaDatasource `json:"datasource"`
		GridPos    struct {
			X int `json:"x"`
			Y int `json:"y"`
			W int `json:"w"`
			H int `json:"h"`
		} `json:"gridPos"`
		Repeat  string          `json:"repeat"`
		Targets []grafanaTarget `json:"targets"`
		Panels  []grafanaPanel  `json:"panels"` // of a row
	}
	grafanaVariable struct {
		Type       string             `json:"type"`
		Name       string             `json:"name"`
		Datasource *grafanaDatasource `json:"datasource"`
		Query      json.RawMessage    `json:"query"`
		IncludeAll bool               `json:"includeAll"`
		AllValue   string             `json:"allValue"`
	}
	grafanaDashboard struct {
		UID           string         `json:"uid"`
		Title         string         `json:"title"`
		SchemaVersion int            `json:"schemaVersion"`
		Panels        []grafanaPanel `json:"panels"`
		Templating    struct {
			List []grafanaVariable `json:"list"`
		} `json:"templating"`
	}
)

// datasourceUID is how every panel and query names the data source: the
// dashboard's datasource variable.
const datasourceUID = "${datasource}"

// readDashboard parses the example dashboard.
func readDashboard(t *testing.T) grafanaDashboard {
	t.Helper()
	b, err := os.ReadFile(repoFile(dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels returns the dashboard's panels, those inside rows included.
func (d grafanaDashboard) allPanels() []grafanaPanel {
	var out []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// variableQuery returns the label_values(...) query of a query variable,
// written as a string or as the Prometheus editor's object.
func (v grafanaVariable) variableQuery() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var obj struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &obj)
	return obj.Query
}

// grafanaVarRef matches a variable reference: $name, ${name}, ${name:fmt}
// or [[name]].
var grafanaVarRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// grafanaBuiltins are the values the tests give Grafana's own variables.
var grafanaBuiltins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "5m",
	"__range_s":       "300",
}

// expandGrafana replaces the variables in a dashboard query as Grafana
// would with every template variable at "All" (its allValue .*).
func expandGrafana(expr string) string {
	return grafanaVarRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := grafanaVarRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if v, ok := grafanaBuiltins[name]; ok {
			return v
		}
		return ".*"
	})
}

// labelValuesQuery turns a variable's label_values(selector, label) into
// PromQL that returns one series per value.
var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// TestDashboardJSON checks the dashboard's structure: schema, data source
// and template variables, panel layout, that every query filters with the
// variables by regex (so that "All" works), and that the panels cover the
// metrics the issue lists.
func TestDashboardJSON(t *testing.T) {
	d := readDashboard(t)
	if d.SchemaVersion < 36 || d.SchemaVersion > 41 {
		t.Errorf("schemaVersion %d, want 36 to 41 (Grafana 9.x to 11.x)", d.SchemaVersion)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both must be set", d.UID, d.Title)
	}
	vars := map[string]grafanaVariable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if ds := vars["datasource"]; ds.Type != "datasource" || string(ds.Query) != `"prometheus"` {
		t.Errorf("datasource variable: type %q, query %s; want a prometheus datasource variable", ds.Type, ds.Query)
	}
	for _, name := range []string{"job", "instance", "target", "module"} {
		v, ok := vars[name]
		switch {
		case !ok:
			t.Errorf("template variable %s missing", name)
		case v.Type != "query" || v.Datasource == nil || v.Datasource.UID != datasourceUID:
			t.Errorf("variable %s: type %q, datasource %v; want a query on %s", name, v.Type, v.Datasource, datasourceUID)
		case !labelValuesQuery.MatchString(v.variableQuery()):
			t.Errorf("variable %s: query %q is not label_values(selector, label)", name, v.variableQuery())
		case !v.IncludeAll || v.AllValue != ".*":
			// .* also matches series without the label, such as /probe
			// series without target; Grafana's own "All" would not.
			t.Errorf("variable %s: includeAll %v, allValue %q; want All as .*", name, v.IncludeAll, v.AllValue)
		}
	}

	ids := map[int]string{}
	var exprs []string
	heatmap := false
	for _, p := range d.allPanels() {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, g)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != datasourceUID || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q: datasource %v, want prometheus %s", p.Title, p.Datasource, datasourceUID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != datasourceUID {
				t.Errorf("panel %q query %s: datasource %v, want %s", p.Title, tg.RefID, tg.Datasource, datasourceUID)
			}
			if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
				t.Errorf("panel %q: query without expr or refId: %+v", p.Title, tg)
			}
			exprs = append(exprs, tg.Expr)
			for _, m := range grafanaVarRef.FindAllStringSubmatchIndex(tg.Expr, -1) {
				ref := tg.Expr[m[0]:m[1]]
				name := strings.Trim(ref, "${}[]")
				name, _, _ = strings.Cut(name, ":")
				if _, builtin := grafanaBuiltins[name]; builtin {
					continue
				}
				if _, ok := vars[name]; !ok {
					t.Errorf("panel %q: %s is not a template variable", p.Title, ref)
				}
				if !strings.HasSuffix(tg.Expr[:m[0]], `=~"`) {
					t.Errorf("panel %q: %s is not matched with =~ (multi-value and All need a regex): %s", p.Title, ref, tg.Expr)
				}
			}
			if p.Type == "heatmap" && tg.Format == "heatmap" && strings.Contains(tg.Expr, "tcp_echo_rtt_seconds_bucket") {
				heatmap = true
			}
		}
	}
	if !heatmap {
		t.Error("no heatmap panel of tcp_echo_rtt_seconds_bucket with format heatmap")
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{
		"histogram_quantile(0.5,", "histogram_quantile(0.9,", "histogram_quantile(0.99,",
		"tcp_echo_timeouts_total", "tcp_echo_sent_total", "tcp_echo_late_total", "tcp_echo_dropped_total",
		"tcp_echo_connected", "tcp_echo_estimated_timeout_seconds", "tcp_echo_retransmits_total",
		"tcp_echo_smoothed_rtt_seconds", "tcp_echo_peer_turnaround_seconds_bucket",
		"tcp_echo_peer_turnaround_seconds_sum", "tcp_echo_jitter_seconds",
		"tcp_echo_forward_jitter_seconds", "tcp_echo_reverse_jitter_seconds",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no panel query contains %s", want)
		}
	}
}

// originalQueries are the queries of the original tcp_ping_prometheus: the
// PromQL examples of its README, and its dashboard's panel queries with
// their $job and $target variables at "All". Its series carried the labels
// target and address, as ours on /metrics do. Users have these in their
// dashboards and alerts; they must keep returning data.
var originalQueries = []struct{ name, expr string }{
	{"README: packet loss rate (%)", `rate(tcp_echo_timeouts_total[5m]) / rate(tcp_echo_sent_total[5m]) * 100`},
	{"README: average latency", `rate(tcp_echo_rtt_seconds_sum[5m]) / rate(tcp_echo_rtt_seconds_count[5m])`},
	{"README: p99 latency (histogram)", `histogram_quantile(0.99, rate(tcp_echo_rtt_seconds_bucket[5m]))`},
	{"README: connection status", `tcp_echo_connected`},
	{"panel: average RTT (ms)", `rate(tcp_echo_rtt_seconds_sum{job=~".*", target=~".*"}[5m]) / rate(tcp_echo_rtt_seconds_count{job=~".*", target=~".*"}[5m]) * 1000`},
	{"panel: packet loss", `100 * rate(tcp_echo_timeouts_total{job=~".*", target=~".*"}[5m]) / rate(tcp_echo_sent_total{job=~".*", target=~".*"}[5m])`},
	{"panel: p50 RTT (ms)", `histogram_quantile(0.5, rate(tcp_echo_rtt_seconds_bucket{job=~".*", target=~".*"}[5m])) * 1000`},
	{"panel: p90 RTT by target", `histogram_quantile(0.9, sum by (le, target) (rate(tcp_echo_rtt_seconds_bucket{job=~".*", target=~".*"}[5m])))`},
	{"panel: p99 RTT by target and address", `histogram_quantile(0.99, sum by (le, target, address) (rate(tcp_echo_rtt_seconds_bucket{job=~".*", target=~".*"}[5m])))`},
	{"panel: link status", `tcp_echo_connected{job=~".*", target=~".*"}`},
	{"panel: adaptive RTO (ms)", `tcp_echo_estimated_timeout_seconds{job=~".*", target=~".*"} * 1000`},
	{"panel: last RTT (ms)", `tcp_echo_last_rtt_seconds{job=~".*", target=~".*"} * 1000`},
}

// timingSeries matches the series of the extended protocol's timing
// panels: the echo host's turnaround, and the RTT's and each direction's
// jitter.
var timingSeries = regexp.MustCompile(`tcp_echo_(peer_turnaround_seconds|jitter_seconds|forward_jitter_seconds|reverse_jitter_seconds)`)
