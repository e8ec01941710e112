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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// requireTool finds a command the test needs (see testenv.LookPath).
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	return testenv.LookPath(t, name, pkg)
}

// promResult is one series of a Prometheus instant query.
type promResult = testenv.PromSeries

// promQuery runs an instant query against the Prometheus HTTP API.
func promQuery(base, q string) ([]promResult, error) { return testenv.PromQuery(nil, base, q) }

// startPrometheus runs the Debian prometheus server with cfg and returns
// its base URL once it is ready.
func startPrometheus(t *testing.T, dir, cfg string) string {
	t.Helper()
	bin := requireTool(t, "prometheus", "prometheus")
	port := testenv.Port(t)
	cfgFile := writeFile(t, dir, "prometheus.yml", cfg)
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--storage.tsdb.path="+dir+"/data",
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port))
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("prometheus did not become ready")
	return ""
}

// readmePromQL returns the expressions in the promql code blocks of the
// README and of docs/timing.md; blank lines separate expressions within a
// block.
func readmePromQL(t *testing.T) []string {
	t.Helper()
	var exprs []string
	for _, f := range []string{"README.md", filepath.Join("docs", "timing.md")} {
		b, err := os.ReadFile(repoFile(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
			for _, chunk := range strings.Split(m[1], "\n\n") {
				if e := strings.TrimSpace(chunk); e != "" {
					exprs = append(exprs, e)
				}
			}
		}
	}
	if len(exprs) < 8 {
		t.Fatalf("found only %d PromQL examples in README.md", len(exprs))
	}
	return exprs
}

func TestPrometheusScrapesProbeAndMetrics(t *testing.T) {
	requireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", flowsConfig(echoPort))
	// The echo server listens on three loopback addresses: three /probe
	// targets for Prometheus to discover.
	startBinary(t, dir, "--config.file="+cfg, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort),
		"--echo.listen-address=127.0.0.2:"+strconv.Itoa(echoPort),
		"--echo.listen-address=127.0.0.3:"+strconv.Itoa(echoPort))
	targets := []string{
		fmt.Sprintf("127.0.0.1:%d", echoPort), fmt.Sprintf("127.0.0.2:%d", echoPort), fmt.Sprintf("127.0.0.3:%d", echoPort),
	}
	sd, _ := json.Marshal([]map[string]any{{"targets": targets}})
	writeFile(t, dir, "targets.json", string(sd))
	base := startPrometheus(t, dir, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: tcpping
    metrics_path: /probe
    params:
      module: [default]
    file_sd_configs:
      - files: [%s/targets.json]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:%d
  - job_name: tcpping_exporter
    static_configs:
      - targets: ['127.0.0.1:%d']
`, dir, web, web))

	// Every /probe target is up and has RTT samples under its own instance.
	deadline := time.Now().Add(60 * time.Second)
	for {
		up, err1 := promQuery(base, `up{job="tcpping"} == 1`)
		cnt, err2 := promQuery(base, `tcp_echo_rtt_seconds_count{job="tcpping"} > 0`)
		got := map[string]bool{}
		for _, r := range cnt {
			got[r.Metric["instance"]] = true
		}
		ok := err1 == nil && err2 == nil && len(up) == len(targets)
		for _, tg := range targets {
			ok = ok && got[tg]
		}
		if ok {
			for _, r := range cnt {
				for _, l := range []string{"target", "address", "module"} {
					if _, has := r.Metric[l]; has {
						t.Errorf("/probe series carries label %s: %v", l, r.Metric)
					}
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not all up with RTT data: up=%v (%v) count=%v (%v)", up, err1, cnt, err2)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if resp, err := http.Get(base + "/api/v1/targets"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("prometheus targets: %s", b)
			}
		}
	})
	checks := []struct {
		name, query string
		ok          func([]promResult) bool
	}{
		{"probe_success for every /probe target", `probe_success{job="tcpping"} == 1`,
			func(r []promResult) bool { return len(r) == len(targets) }},
		{"the static job's target with its labels", `tcp_echo_received_total{job="tcpping_exporter",target="self",site="local"} > 0`,
			func(r []promResult) bool { return len(r) == 1 }},
		// One of the three /probe targets is the static target's address
		// and module: it is answered by the static prober.
		{"two dynamic probers", `tcpping_exporter_probers{job="tcpping_exporter",source="dynamic"}`,
			func(r []promResult) bool { return len(r) == 1 && r[0].Value == 2 }},
	}
	for _, c := range checks {
		var res []promResult
		var err error
		for range 40 {
			if res, err = promQuery(base, c.query); err == nil && c.ok(res) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil || !c.ok(res) {
			t.Errorf("%s: %s = %v (%v)", c.name, c.query, res, err)
		}
	}
	// Give rate() windows two samples, then every README example must
	// parse and return data.
	time.Sleep(3 * time.Second)
	for _, expr := range readmePromQL(t) {
		t.Run(expr, func(t *testing.T) {
			var res []promResult
			var err error
			for range 20 {
				res, err = promQuery(base, expr)
				if err == nil && len(res) > 0 {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
			t.Errorf("README example returned no data (err %v):\n%s", err, expr)
		})
	}
}
