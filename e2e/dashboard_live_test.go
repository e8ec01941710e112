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
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// dashboardStack runs an exporter (two web listeners, standing for two
// exporters; a static target and one of several flows; echo on three
// loopback addresses) and a Prometheus with the example static.yml and
// probe.yml and the example rules, and returns Prometheus' base URL once
// both jobs have RTT data.
func dashboardStack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	webA, webB, echoPort := testenv.Port(t), testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", flowsConfig(echoPort))
	args := []string{"--config.file=" + cfg,
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(webA), "--web.listen-address=127.0.0.1:" + strconv.Itoa(webB)}
	for i := 1; i <= 3; i++ {
		args = append(args, fmt.Sprintf("--echo.listen-address=127.0.0.%d:%d", i, echoPort))
	}
	startBinary(t, dir, args...)
	// Two /probe targets, one choosing its module through the label.
	sd, err := json.Marshal([]sdGroup{
		{Targets: []string{fmt.Sprintf("127.0.0.2:%d", echoPort)}},
		{Targets: []string{fmt.Sprintf("127.0.0.3:%d", echoPort)}, Labels: map[string]string{"module": "default"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "targets.json", string(sd))
	rules := repoFile(rulesFile)
	base := startPrometheus(t, dir, exampleConfig(t, map[string]string{
		exporterA:                    "127.0.0.1:" + strconv.Itoa(webA),
		exporterB:                    "127.0.0.1:" + strconv.Itoa(webB),
		"../rules/tcpping.rules.yml": rules,
	}, "static.yml", "probe.yml"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := promQuery(base, `count by (job) (tcp_echo_rtt_seconds_count > 0)`)
		got := map[string]float64{}
		for _, r := range res {
			got[r.Metric["job"]] = r.Value
		}
		// Two exporters, each with self and the flows of self-flows.
		if err == nil && got["tcpping_exporter"] == 2*(1+selfFlows) && got["tcpping"] == 2 {
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("no RTT data from both jobs: %v (%v); Prometheus targets: %s", got, err, promTargets(base))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestDashboardQueries runs every query of the example dashboard (with the
// variables at "All"), its variables' label_values, the original tool's
// dashboard queries and the example recording rules against a real
// Prometheus scraping a running exporter through /metrics and /probe: each
// must parse and return data. The example rules must evaluate without
// error.
func TestDashboardQueries(t *testing.T) {
	requireTool(t, "prometheus", "prometheus")
	d := readDashboard(t)
	base := dashboardStack(t)

	type query struct{ name, expr string }
	var queries []query
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			queries = append(queries, query{"panel/" + p.Title + "/" + tg.RefID, expandGrafana(tg.Expr)})
		}
	}
	for _, v := range d.Templating.List {
		if m := labelValuesQuery.FindStringSubmatch(v.variableQuery()); m != nil {
			queries = append(queries, query{"variable/" + v.Name, labelValuesPromQL(expandGrafana(m[1]), m[2])})
		}
	}
	for _, o := range originalQueries {
		queries = append(queries, query{"original/" + o.name, o.expr})
	}
	_, records := readRules(t).names()
	for _, r := range records {
		queries = append(queries, query{"recording rule/" + r, r})
	}

	// Rate windows need two samples: give every query the same generous
	// deadline rather than sleeping.
	deadline := time.Now().Add(20 * time.Second)
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			if strings.Contains(q.expr, "$") {
				t.Fatalf("unexpanded variable in %s", q.expr)
			}
			for {
				res, err := promQuery(base, q.expr)
				if err != nil && strings.Contains(err.Error(), "parse error") {
					t.Fatalf("%s: %v", q.expr, err)
				}
				if err == nil && len(res) > 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("no data (err %v):\n%s", err, q.expr)
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}

	// The timing panels of the extended protocol must show what the
	// exporter measured against its own echo server (echo_protocol auto),
	// not series at 0 or the NaN of a quantile of nothing.
	t.Run("timing panels show measurements", func(t *testing.T) {
		n := 0
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if !timingSeries.MatchString(tg.Expr) {
					continue
				}
				n++
				expr := expandGrafana(tg.Expr)
				for {
					res, err := promQuery(base, expr)
					if err == nil && slices.ContainsFunc(res, func(r promResult) bool {
						v := r.Value
						return v > 0 && !math.IsInf(v, 0) // NaN > 0 is false
					}) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("panel %q %s: no positive value (err %v): %v\n%s", p.Title, tg.RefID, err, res, expr)
					}
					time.Sleep(500 * time.Millisecond)
				}
			}
		}
		// Turnaround p50 and p99, network-only RTT, and three jitters.
		if n < 6 {
			t.Errorf("%d panel queries of turnaround or jitter, want at least 6", n)
		}
	})
	t.Run("original labels target and address on /metrics", func(t *testing.T) {
		res, err := promQuery(base, `tcp_echo_connected{job="tcpping_exporter"}`)
		if err != nil || len(res) == 0 {
			t.Fatalf("%v (%v)", res, err)
		}
		for _, r := range res {
			if r.Metric["target"] == "" || r.Metric["address"] == "" {
				t.Errorf("series without target or address: %v", r.Metric)
			}
		}
	})
	t.Run("rules evaluate without error", func(t *testing.T) {
		for {
			health, err := ruleHealth(base)
			if err == nil && len(health) > 0 && !slices.Contains(slices.Collect(maps.Values(health)), "unknown") {
				for name, h := range health {
					if h != "ok" {
						t.Errorf("rule %s: %s", name, h)
					}
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("rules not evaluated: %v (%v)", health, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
}

// labelValuesPromQL returns PromQL with one series per value of label
// among the series of selector, as Grafana's label_values(selector, label).
func labelValuesPromQL(selector, label string) string {
	nonEmpty := label + `!=""`
	if sel, ok := strings.CutSuffix(selector, "}"); ok {
		selector = sel + ", " + nonEmpty + "}"
	} else {
		selector += "{" + nonEmpty + "}"
	}
	return fmt.Sprintf("group by (%s) (%s)", label, selector)
}

// ruleHealth returns the health of every rule Prometheus has loaded, by
// name: "ok", "unknown" (not yet evaluated) or the evaluation error.
func ruleHealth(base string) (map[string]string, error) {
	resp, err := http.Get(base + "/api/v1/rules")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	var out struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("%w: %s", err, buf.String())
	}
	health := map[string]string{}
	for _, g := range out.Data.Groups {
		for _, r := range g.Rules {
			h := r.Health
			if h != "ok" && h != "unknown" {
				h += ": " + r.LastError
			}
			health[r.Name] = h
		}
	}
	return health, nil
}
