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
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
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
