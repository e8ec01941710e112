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
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// prometheusExamples holds the Prometheus configs of examples/prometheus.
const prometheusExamples = "examples/prometheus"

// The exporter addresses the examples use; the live tests replace them
// and nothing else (besides the global scrape interval).
const (
	exporterA = "exporter-a.example.net:2112"
	exporterB = "exporter-b.example.net:2112"
)

// examplePassword is the password whose bcrypt hash web-config.yml ships,
// as its comment says.
const examplePassword = "changeme"

// sdGroup is one target group of a file_sd file.
type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// readTargetsJSON reads the example file_sd file.
func readTargetsJSON(t *testing.T) []sdGroup {
	t.Helper()
	b, err := os.ReadFile(repoFile(filepath.Join(prometheusExamples, "targets.json")))
	if err != nil {
		t.Fatal(err)
	}
	var groups []sdGroup
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&groups); err != nil {
		t.Fatalf("targets.json: %v", err)
	}
	return groups
}

// promHashmod is Prometheus' relabel action hashmod on one source label: the
// low 64 bits of the value's MD5, big-endian, modulo mod.
func promHashmod(value string, mod uint64) uint64 {
	sum := md5.Sum([]byte(value))
	var v uint64
	for _, b := range sum[8:] {
		v = v<<8 | uint64(b)
	}
	return v % mod
}

// exampleConfig returns a Prometheus config for a live test built from the
// named files of examples/prometheus: each file's text with the
// replacements in repl (addresses and paths), their rule_files and
// scrape_configs merged (the first job of a name wins), and a 1 s global
// scrape and evaluation interval so that data arrives within seconds.
// Relative paths in the jobs stay relative: the test puts the files they
// name next to the config it writes.
func exampleConfig(t *testing.T, repl map[string]string, names ...string) string {
	t.Helper()
	var (
		rules, jobs []any
		seen        = map[string]bool{}
	)
	for _, name := range names {
		b, err := os.ReadFile(repoFile(filepath.Join(prometheusExamples, name)))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, old := range slices.Sorted(maps.Keys(repl)) {
			text = strings.ReplaceAll(text, old, repl[old])
		}
		var cfg struct {
			RuleFiles     []any            `yaml:"rule_files"`
			ScrapeConfigs []map[string]any `yaml:"scrape_configs"`
		}
		if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rules = append(rules, cfg.RuleFiles...)
		for _, job := range cfg.ScrapeConfigs {
			jobName, _ := job["job_name"].(string)
			if seen[jobName] {
				continue
			}
			seen[jobName] = true
			jobs = append(jobs, job)
		}
	}
	out := map[string]any{
		"global":         map[string]any{"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
		"scrape_configs": jobs,
	}
	if len(rules) > 0 {
		out["rule_files"] = rules
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runWithDeadline runs name with args in dir under a deadline and returns its
// standard output and standard error.
func runWithDeadline(t *testing.T, dir string, timeout time.Duration, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// writeWebConfig copies the example web-config.yml into dir with a fresh
// self-signed certificate for 127.0.0.1 under the file names it names, and
// returns the config's path and the certificate's.
func writeWebConfig(t *testing.T, dir string) (webConfig, certFile string) {
	t.Helper()
	b, err := os.ReadFile(repoFile(filepath.Join(prometheusExamples, "web-config.yml")))
	if err != nil {
		t.Fatal(err)
	}
	var wc struct {
		TLS struct {
			CertFile string `yaml:"cert_file"`
			KeyFile  string `yaml:"key_file"`
		} `yaml:"tls_server_config"`
		Users map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(b, &wc); err != nil {
		t.Fatalf("web-config.yml: %v", err)
	}
	if wc.TLS.CertFile == "" || wc.TLS.KeyFile == "" || filepath.IsAbs(wc.TLS.CertFile) || filepath.IsAbs(wc.TLS.KeyFile) {
		t.Fatalf("web-config.yml: want relative cert_file and key_file, got %q and %q", wc.TLS.CertFile, wc.TLS.KeyFile)
	}
	hash, ok := wc.Users["prometheus"]
	if !ok {
		t.Fatalf("web-config.yml: no user prometheus in %v", wc.Users)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(examplePassword)); err != nil {
		t.Fatalf("web-config.yml: the hash of user prometheus is not of %q, as its comment says: %v", examplePassword, err)
	}
	sub := t.TempDir()
	cert, key, _ := selfSignedCert(t, sub)
	for from, to := range map[string]string{cert: wc.TLS.CertFile, key: wc.TLS.KeyFile} {
		if err := os.Rename(from, filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	return writeFile(t, dir, "web-config.yml", string(b)), filepath.Join(dir, wc.TLS.CertFile)
}

// promTargets returns Prometheus' view of its targets (health, last
// error), for failure messages.
func promTargets(base string) string {
	resp, err := http.Get(base + "/api/v1/targets?state=active")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			ActiveTargets []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, at := range out.Data.ActiveTargets {
		fmt.Fprintf(&b, "\n  %s %s %s", at.ScrapeURL, at.Health, at.LastError)
	}
	return b.String()
}

// TestExamplesPromtoolCheck checks every Prometheus example with promtool,
// as shipped: a new example file is checked without editing this test.
func TestExamplesPromtoolCheck(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	files, err := filepath.Glob(filepath.Join(repoFile(prometheusExamples), "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{"static.yml", "probe.yml", "tls.yml", "sharding.yml", "web-config.yml"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s/%s missing", prometheusExamples, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if name == "web-config.yml" {
				// promtool loads the certificate, so give it one under
				// the names the example uses.
				dir := t.TempDir()
				webConfig, _ := writeWebConfig(t, dir)
				out, errOut, err := runWithDeadline(t, dir, 20*time.Second, promtool, "check", "web-config", webConfig)
				// This promtool prints its verdict on standard error.
				if err != nil || !strings.Contains(out+errOut, "SUCCESS") {
					t.Errorf("promtool check web-config: %v\n%s%s", err, out, errOut)
				}
				return
			}
			out, errOut, err := runWithDeadline(t, root, 20*time.Second, promtool, "check", "config", filepath.Join(prometheusExamples, name))
			if err != nil || !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool check config: %v\n%s%s", err, out, errOut)
			}
		})
	}
	t.Run("targets.json", func(t *testing.T) {
		groups := readTargetsJSON(t)
		if len(groups) == 0 {
			t.Fatal("no target groups")
		}
		for _, g := range groups {
			if len(g.Targets) == 0 {
				t.Errorf("group %v has no targets", g)
			}
			for _, tg := range g.Targets {
				if err := config.ValidateAddress(tg); err != nil {
					t.Errorf("target %q: %v", tg, err)
				}
			}
		}
	})
}

// sdTarget is one target of promtool check service-discovery: its labels
// before relabeling, and after (empty if relabeling dropped it).
type sdTarget struct {
	Discovered map[string]string `json:"discoveredLabels"`
	Labels     map[string]string `json:"labels"`
}

// promtoolDiscover runs promtool check service-discovery on an example job and
// returns its targets by discovered address.
func promtoolDiscover(promtool, file, job string) (map[string]sdTarget, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// File discovery answers at once, but promtool waits out --timeout.
	cmd := exec.CommandContext(ctx, promtool, "check", "service-discovery", "--timeout=3s", file, job)
	cmd.Dir = repoFile(prometheusExamples)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("promtool check service-discovery %s %s: %w\n%s", file, job, err, errOut.String())
	}
	var list []sdTarget
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("promtool check service-discovery %s %s: %w\n%s", file, job, err, out.String())
	}
	byAddr := map[string]sdTarget{}
	for _, tg := range list {
		byAddr[tg.Discovered["__address__"]] = tg
	}
	return byAddr, nil
}

// TestExamplesRelabeling checks what the examples' relabeling makes of
// every target in targets.json, with promtool's service discovery: each
// /probe job sends it to its exporter as ?target=...&module=..., with
// instance, target and module labels, and the sharding jobs keep it in
// exactly one shard, the one Prometheus' hashmod picks.
func TestExamplesRelabeling(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	groups := readTargetsJSON(t)
	probeJobs := []struct{ file, job, exporter string }{
		{"probe.yml", "tcpping", exporterA},
		{"tls.yml", "tcpping", exporterA},
		{"sharding.yml", "tcpping_shard_0", exporterA},
		{"sharding.yml", "tcpping_shard_1", exporterB},
	}
	// promtool takes its --timeout per run: run them all at once.
	found := make([]map[string]sdTarget, len(probeJobs))
	errs := make([]error, len(probeJobs))
	var wg sync.WaitGroup
	for i, pj := range probeJobs {
		wg.Go(func() { found[i], errs[i] = promtoolDiscover(promtool, pj.file, pj.job) })
	}
	wg.Wait()
	kept := map[string][]string{} // target address -> sharding jobs keeping it
	for i, pj := range probeJobs {
		t.Run(pj.file+"/"+pj.job, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			sharded := strings.HasPrefix(pj.job, "tcpping_shard_")
			for _, g := range groups {
				module := g.Labels["module"]
				if module == "" {
					module = config.DefaultModuleName
				}
				for _, addr := range g.Targets {
					tg, ok := found[i][addr]
					if !ok {
						t.Errorf("%s not discovered", addr)
						continue
					}
					if sharded {
						if len(tg.Labels) > 0 {
							kept[addr] = append(kept[addr], pj.job)
						}
						shard := strconv.FormatUint(promHashmod(addr, 2), 10)
						want := strings.HasSuffix(pj.job, "_"+shard)
						if got := len(tg.Labels) > 0; got != want {
							t.Errorf("%s (hashmod %s) kept = %v, want %v", addr, shard, got, want)
							continue
						}
						if !want {
							continue
						}
					}
					wantLabels := map[string]string{
						"__address__": pj.exporter, "__metrics_path__": "/probe",
						"__param_target": addr, "__param_module": module,
						"instance": addr, "target": addr, "module": module, "job": pj.job,
					}
					for k, v := range wantLabels {
						if tg.Labels[k] != v {
							t.Errorf("%s: label %s = %q, want %q (all: %v)", addr, k, tg.Labels[k], v, tg.Labels)
						}
					}
				}
			}
		})
	}
	t.Run("every target in exactly one shard", func(t *testing.T) {
		for _, g := range groups {
			for _, addr := range g.Targets {
				if len(kept[addr]) != 1 {
					t.Errorf("%s kept by %v, want exactly one shard", addr, kept[addr])
				}
			}
		}
	})
}

// TestShardingExample runs sharding.yml for real: two exporters, six echo
// targets, a real Prometheus. Every target must be probed by exactly one
// exporter, the one its hashmod shard names.
func TestShardingExample(t *testing.T) {
	requireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	echoPort := testenv.Port(t)
	// Three targets per shard: loopback addresses in the order hashmod
	// puts them, so that neither shard is empty.
	var shards [2][]string
	for i := 1; i < 64 && (len(shards[0]) < 3 || len(shards[1]) < 3); i++ {
		addr := fmt.Sprintf("127.0.0.%d:%d", i, echoPort)
		if s := promHashmod(addr, 2); len(shards[s]) < 3 {
			shards[s] = append(shards[s], addr)
		}
	}
	if len(shards[0]) != 3 || len(shards[1]) != 3 {
		t.Fatalf("could not pick three targets per shard: %v", shards)
	}
	// Each exporter's echo server serves three targets from both shards,
	// so that both exporters also probe each other.
	targets := []string{shards[0][0], shards[1][0], shards[0][1], shards[1][1], shards[0][2], shards[1][2]}
	sd, err := json.Marshal([]sdGroup{{Targets: targets}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "targets.json", string(sd))
	cfg := writeFile(t, dir, "tcpping.yml", "modules:\n  default:\n    interval: 100ms\n")
	webs := [2]int{testenv.Port(t), testenv.Port(t)}
	for i, web := range webs {
		args := []string{"--config.file=" + cfg, "--web.listen-address=127.0.0.1:" + strconv.Itoa(web)}
		for _, addr := range targets[3*i : 3*i+3] {
			args = append(args, "--echo.listen-address="+addr)
		}
		startBinary(t, dir, args...)
	}
	exporters := [2]string{"127.0.0.1:" + strconv.Itoa(webs[0]), "127.0.0.1:" + strconv.Itoa(webs[1])}
	base := startPrometheus(t, dir, exampleConfig(t, map[string]string{exporterA: exporters[0], exporterB: exporters[1]}, "sharding.yml"))

	type check struct {
		name, query string
		ok          func([]promResult) error
	}
	checks := []check{
		{"each target probed under the job of its shard", `count by (instance, job) (tcp_echo_rtt_seconds_count{job=~"tcpping_shard_.*"} > 0)`,
			func(res []promResult) error {
				got := map[string][]string{}
				for _, r := range res {
					got[r.Metric["instance"]] = append(got[r.Metric["instance"]], r.Metric["job"])
				}
				for s, addrs := range shards {
					for _, addr := range addrs {
						if want := []string{fmt.Sprintf("tcpping_shard_%d", s)}; !slices.Equal(got[addr], want) {
							return fmt.Errorf("%s probed by %v, want %v", addr, got[addr], want)
						}
					}
				}
				if len(got) != len(targets) {
					return fmt.Errorf("%d instances, want %d: %v", len(got), len(targets), got)
				}
				return nil
			}},
		{"each target probed by exactly one exporter", `count by (instance) (count by (instance, job) (tcp_echo_rtt_seconds_count{job=~"tcpping_shard_.*"}))`,
			func(res []promResult) error {
				if len(res) != len(targets) {
					return fmt.Errorf("%d targets, want %d", len(res), len(targets))
				}
				for _, r := range res {
					if r.Value != 1 {
						return fmt.Errorf("%s probed by %v exporters", r.Metric["instance"], r.Value)
					}
				}
				return nil
			}},
		{"each exporter runs the dynamic probers of its shard", `tcpping_exporter_probers{job="tcpping_exporter",source="dynamic"}`,
			func(res []promResult) error {
				got := map[string]float64{}
				var sum float64
				for _, r := range res {
					got[r.Metric["instance"]] = r.Value
					sum += r.Value
				}
				for s, exp := range exporters {
					if got[exp] != float64(len(shards[s])) {
						return fmt.Errorf("exporter %s (shard %d) runs %v dynamic probers, want %d", exp, s, got[exp], len(shards[s]))
					}
				}
				if sum != float64(len(targets)) {
					return fmt.Errorf("%v dynamic probers in all, want %d", sum, len(targets))
				}
				return nil
			}},
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range checks {
		for {
			res, err := promQuery(base, c.query)
			if err == nil {
				err = c.ok(res)
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s: %v; Prometheus targets: %s", c.name, c.query, err, promTargets(base))
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// TestExampleTLSScrape runs tls.yml and web-config.yml for real: the
// exporter serves TLS with basic auth from the example web config and a
// self-signed certificate, and Prometheus scrapes both jobs with the
// example's tls_config and basic_auth.
func TestExampleTLSScrape(t *testing.T) {
	requireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	webConfig, certFile := writeWebConfig(t, dir)
	web, echoPort := testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", selfConfig(echoPort))
	startBinary(t, dir, "--config.file="+cfg, "--web.config.file="+webConfig,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))

	// The files tls.yml names, relative to the Prometheus config: the CA
	// (the self-signed certificate itself) and the password.
	b, err := os.ReadFile(repoFile(filepath.Join(prometheusExamples, "tls.yml")))
	if err != nil {
		t.Fatal(err)
	}
	var tlsCfg struct {
		ScrapeConfigs []struct {
			TLS struct {
				CAFile string `yaml:"ca_file"`
			} `yaml:"tls_config"`
			BasicAuth struct {
				PasswordFile string `yaml:"password_file"`
			} `yaml:"basic_auth"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &tlsCfg); err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range tlsCfg.ScrapeConfigs {
		if sc.TLS.CAFile == "" || sc.BasicAuth.PasswordFile == "" {
			t.Fatalf("tls.yml: a job lacks ca_file or password_file: %+v", sc)
		}
		writeFile(t, dir, sc.TLS.CAFile, string(cert))
		writeFile(t, dir, sc.BasicAuth.PasswordFile, examplePassword+"\n")
	}
	sd, err := json.Marshal([]sdGroup{{Targets: []string{"127.0.0.1:" + strconv.Itoa(echoPort)}}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "targets.json", string(sd))
	base := startPrometheus(t, dir, exampleConfig(t, map[string]string{exporterA: "127.0.0.1:" + strconv.Itoa(web)}, "tls.yml"))

	deadline := time.Now().Add(30 * time.Second)
	for _, q := range []string{
		`up{job="tcpping_exporter"} == 1`,
		`up{job="tcpping"} == 1`,
		`probe_success{job="tcpping"} == 1`,
		`tcp_echo_received_total{job="tcpping_exporter",target="self"} > 0`,
	} {
		for {
			res, err := promQuery(base, q)
			if err == nil && len(res) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: got %v (%v); Prometheus targets: %s", q, res, err, promTargets(base))
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}
