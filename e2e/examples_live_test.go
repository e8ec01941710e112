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
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

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
	_, web, echoPort := startSelf(t, dir, "--web.config.file="+webConfig)

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
