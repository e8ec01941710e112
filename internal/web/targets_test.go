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
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/discovery"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// loadedReloader returns a Reloader of file, loaded, its Manager running
// until the test ends, and the registry of the Reloader's metrics.
func loadedReloader(t *testing.T, file string) (*Reloader, *prober.Manager, *prometheus.Registry) {
	t.Helper()
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour}, nil)
	t.Cleanup(m.Stop)
	reg := prometheus.NewRegistry()
	rl := NewReloader(ConfigFile{Path: file, Explicit: true}, m, nopLogger(), reg)
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	return rl, m, reg
}

// newReloaderServer returns a Reloader of file, loaded, its Manager and
// the server of NewHandler, all running until the test ends.
func newReloaderServer(t *testing.T, file string) (*Reloader, *prober.Manager, *httptest.Server) {
	t.Helper()
	rl, m, reg := loadedReloader(t, file)
	srv := httptest.NewServer(NewHandler(Options{TelemetryPath: "/metrics", Registry: reg, Reloader: rl, Manager: m}, nopLogger()))
	t.Cleanup(srv.Close)
	return rl, m, srv
}

// newMeshReloader returns a Reloader of file with a discovery Runner wired
// as main wires it, both running until the test ends, and the server of
// NewHandler.
func newMeshReloader(t *testing.T, file string) (*Reloader, *prober.Manager, *httptest.Server) {
	t.Helper()
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour}, nil)
	t.Cleanup(m.Stop)
	reg := prometheus.NewRegistry()
	rl := NewReloader(ConfigFile{Path: file, Explicit: true}, m, nopLogger(), reg)
	r, err := discovery.New(discovery.Options{
		Registerer: reg,
		OnUpdate:   func(u discovery.Update) { rl.Discovered(u.Seq, u.Targets()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	rl.SetDiscovery(r)
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { rl.Run(ctx, nil) })
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	srv := httptest.NewServer(NewHandler(Options{TelemetryPath: "/metrics", Registry: reg, Reloader: rl, Manager: m}, nopLogger()))
	t.Cleanup(srv.Close)
	return rl, m, srv
}

// writeTargets writes a file_sd file, atomically: one group per address,
// with its labels.
func writeTargets(t *testing.T, path string, groups map[string]map[string]string) {
	t.Helper()
	var out []map[string]any
	for addr, labels := range groups {
		out = append(out, map[string]any{"targets": []string{addr}, "labels": labels})
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// scrapeSeries returns, from one scrape of /metrics, the label sets of the
// tcp_echo_sent_total series and the value of each, keyed by address.
func scrapeSeries(url string) (map[string]map[string]string, map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	labels, values := map[string]map[string]string{}, map[string]float64{}
	for _, s := range mfs["tcp_echo_sent_total"].GetMetric() {
		ls := map[string]string{}
		for _, lp := range s.GetLabel() {
			if lp.GetValue() != "" {
				ls[lp.GetName()] = lp.GetValue()
			}
		}
		if _, dup := labels[ls["address"]]; dup {
			return nil, nil, fmt.Errorf("two series for address %s", ls["address"])
		}
		labels[ls["address"]] = ls
		values[ls["address"]] = s.GetCounter().GetValue()
	}
	return labels, values, nil
}

// waitSeries waits until /metrics has exactly the addresses want, each
// with the labels want gives it (besides target, address, module), and
// returns the sent counters of that scrape.
func waitSeries(t *testing.T, url string, want map[string]map[string]string) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, values, err := scrapeSeries(url)
		ok := err == nil && len(got) == len(want)
		for addr, labels := range want {
			g := extraLabels(got[addr])
			ok = ok && g != nil && fmt.Sprint(g) == fmt.Sprint(labels)
		}
		if ok {
			return values
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has %v (%v), want %v", got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// extraLabels returns ls without target, address and module, or nil if ls is nil.
func extraLabels(ls map[string]string) map[string]string {
	if ls == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range ls {
		if k != "target" && k != "address" && k != "module" {
			out[k] = v
		}
	}
	return out
}

func TestDiscoveredTargetsReconcile(t *testing.T) {
	dir := t.TempDir()
	a, b, c := testenv.EchoServer(t), testenv.EchoServer(t), testenv.EchoServer(t)
	targets := filepath.Join(dir, "targets.json")
	writeTargets(t, targets, map[string]map[string]string{a: {"zone": "a"}, b: {"zone": "b"}, c: {"zone": "c"}})
	file := filepath.Join(dir, "tcpping.yml")
	cfg := fmt.Sprintf(`modules:
  default: {interval: 50ms, ip_protocol: ip4}
targets:
  - {name: static, address: "%s", labels: {rack: r1}}
discovery:
  - name: files
    file_sd_configs: [{files: [%s], refresh_interval: 1s}]
`, c, targets)
	writeConfig(t, file, cfg)
	rl, m, srv := newMeshReloader(t, file)
	url := srv.URL + "/metrics"

	// c is both a static and a discovered target: the static one wins.
	// The label names are the union of both kinds' labels.
	waitSeries(t, url, map[string]map[string]string{a: {"zone": "a"}, b: {"zone": "b"}, c: {"rack": "r1"}})
	if s, d, _ := m.SourceCounts(); s != 1 || d != 2 {
		t.Errorf("probers: %d static, %d discovered; want 1, 2", s, d)
	}
	kept := map[string]*prober.Prober{}
	for _, p := range m.Static() {
		kept[p.Options().Address] = p
	}

	t.Run("an unchanged target keeps its prober across a reload", func(t *testing.T) {
		if err := rl.Reload(); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Static() {
			if kept[p.Options().Address] != p {
				t.Errorf("%s: a new prober after a reload that changed nothing", p.Options().Address)
			}
		}
	})
	t.Run("a target that leaves discovery stops and its series go", func(t *testing.T) {
		writeTargets(t, targets, map[string]map[string]string{a: {"zone": "a"}, c: {"zone": "c"}})
		waitSeries(t, url, map[string]map[string]string{a: {"zone": "a"}, c: {"rack": "r1"}})
		if s := kept[b].Snapshot(); s.State != prober.StateStopped {
			t.Errorf("b is %v after leaving discovery, want stopped", s.State)
		}
		if p := m.Static(); len(p) != 2 || kept[a] != p[0] && kept[a] != p[1] {
			t.Error("a got a new prober when b left")
		}
	})
	t.Run("a reload that discovery refuses keeps the running config and targets", func(t *testing.T) {
		// Prometheus' HTTP discoverer cannot be made with a CA file that
		// does not exist: ApplyConfig fails.
		bad := cfg + fmt.Sprintf("  - name: web\n    http_sd_configs: [{url: \"http://127.0.0.1:1/sd\", tls_config: {ca_file: %s}}]\n",
			filepath.Join(dir, "missing-ca.pem"))
		writeConfig(t, file, bad)
		err := rl.Reload()
		if err == nil || !strings.Contains(err.Error(), `discovery "web"`) || !strings.Contains(err.Error(), "http_sd_configs[0]") {
			t.Fatalf("reload = %v, want an error naming the entry and source", err)
		}
		if got := rl.current.Load(); len(got.Discovery) != 1 {
			t.Errorf("running config has %d discovery entries after a failed reload, want 1", len(got.Discovery))
		}
		writeTargets(t, targets, map[string]map[string]string{a: {"zone": "a2"}, c: {"zone": "c"}})
		waitSeries(t, url, map[string]map[string]string{a: {"zone": "a2"}, c: {"rack": "r1"}})
	})
	t.Run("without the static target, discovery probes its address", func(t *testing.T) {
		writeConfig(t, file, strings.Replace(cfg, `  - {name: static, address: "`+c+`", labels: {rack: r1}}`, "", 1))
		if err := rl.Reload(); err != nil {
			t.Fatal(err)
		}
		waitSeries(t, url, map[string]map[string]string{a: {"zone": "a2"}, c: {"zone": "c"}})
		if s, d, _ := m.SourceCounts(); s != 0 || d != 2 {
			t.Errorf("probers: %d static, %d discovered; want 0, 2", s, d)
		}
	})
}

// TestLabelUnionChurnUnderScrapes changes the discovered targets and their
// label names many times while scrapes run concurrently: every scrape
// must show every target with all its labels, never a series twice, and
// counters of a target that stays must never go back.
func TestLabelUnionChurnUnderScrapes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	writeConfig(t, file, "modules:\n  default: {interval: 20ms, ip_protocol: ip4}\ntargets:\n  - {name: static, address: \"127.0.0.1:1\", labels: {rack: r1}}\n")
	rl, m, srv := newReloaderServer(t, file)

	// Round i discovers targets i..i+9 on port 2 of 127.0.0.x; target j
	// carries label l<j%7>=v<j>, so the union of label names changes
	// from round to round.
	round := func(i int) []config.Target {
		var ts []config.Target
		for j := i; j < i+10; j++ {
			addr := fmt.Sprintf("127.0.0.%d:2", 1+j%250)
			ts = append(ts, config.Target{Name: addr, Address: addr, Module: "default",
				Labels: map[string]string{fmt.Sprintf("l%d", j%7): fmt.Sprintf("v%d", j)}})
		}
		return ts
	}
	wantLabels := func(ls map[string]string) error {
		addr := ls["address"]
		if addr == "127.0.0.1:1" {
			if ls["rack"] != "r1" || len(ls) != 4 {
				return fmt.Errorf("static target: %v", ls)
			}
			return nil
		}
		var j int
		if _, err := fmt.Sscanf(addr, "127.0.0.%d:2", &j); err != nil {
			return fmt.Errorf("unexpected address %q", addr)
		}
		// j here is 1+j'%250; label l<j'%7> has a value v<j'> with j' ≡ j-1.
		for k, v := range ls {
			if strings.HasPrefix(k, "l") && strings.HasPrefix(v, "v") {
				var jj int
				if _, err := fmt.Sscanf(v, "v%d", &jj); err != nil || 1+jj%250 != j || k != fmt.Sprintf("l%d", jj%7) {
					return fmt.Errorf("address %s has label %s=%s", addr, k, v)
				}
				if len(ls) != 4 {
					return fmt.Errorf("address %s: labels %v", addr, ls)
				}
				return nil
			}
		}
		return fmt.Errorf("address %s lacks its label: %v", addr, ls)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	scrapes, errs := 0, []string{}
	for range 6 {
		wg.Go(func() {
			last := map[string]float64{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, values, err := scrapeSeries(srv.URL + "/metrics")
				mu.Lock()
				scrapes++
				if err != nil {
					errs = append(errs, err.Error())
				}
				for _, ls := range got {
					if err := wantLabels(ls); err != nil {
						errs = append(errs, err.Error())
					}
				}
				if v, ok := values["127.0.0.1:1"]; ok && v < last["127.0.0.1:1"] {
					errs = append(errs, fmt.Sprintf("the static target's sent counter went back from %v to %v", last["127.0.0.1:1"], v))
				}
				mu.Unlock()
				last = values
			}
		})
	}
	var seq uint64
	for i := range 300 {
		seq++
		rl.Discovered(seq, round(i%40))
		if i%50 == 25 {
			if err := rl.Reload(); err != nil {
				t.Error(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	rl.Discovered(seq, round(0)) // an update no newer than the last is ignored
	var addrs []string
	for _, p := range m.Static() {
		addrs = append(addrs, p.Options().Address)
	}
	if want := round(299 % 40); len(addrs) != 11 || !slices.Contains(addrs, want[0].Address) || !slices.Contains(addrs, want[9].Address) {
		t.Errorf("probers at the end: %v, want the static target and those of the last update", addrs)
	}
	if len(errs) > 0 {
		t.Errorf("%d problems in %d scrapes; first ones:\n%s", len(errs), scrapes, strings.Join(errs[:min(len(errs), 10)], "\n"))
	}
	t.Logf("%d scrapes during 300 discovery updates and 6 reloads", scrapes)
	if scrapes < 50 {
		t.Errorf("only %d scrapes ran during the churn", scrapes)
	}
}

// TestDiscoveredTargetOfSeveralFlows checks that a discovered target whose
// module has flows above 1 runs them all, with the flow label.
func TestDiscoveredTargetOfSeveralFlows(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	writeConfig(t, file, "modules:\n  multi: {interval: 50ms, ip_protocol: ip4, flows: 3}\n")
	rl, m, srv := newReloaderServer(t, file)
	addr := testenv.EchoServer(t)
	rl.Discovered(1, []config.Target{{Name: addr, Address: addr, Module: "multi", Labels: map[string]string{"zone": "a"}}})
	if s, d, _ := m.SourceCounts(); s != 0 || d != 1 {
		t.Errorf("%d static, %d discovered targets; want 0 and 1", s, d)
	}
	_, body := testenv.Get(t, srv.URL+"/metrics", nil)
	for flow := range 3 {
		want := fmt.Sprintf(`tcp_echo_sent_total{address=%q,flow="%d",module="multi",target=%q,zone="a"}`, addr, flow, addr)
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
}
