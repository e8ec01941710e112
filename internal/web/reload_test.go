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
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// writeConfig writes text to the config file path.
func writeConfig(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newTestReloader returns a Reloader of file over a new Manager, its
// registry, and the server of NewHandler with the Reloader's goroutine
// running.
func newTestReloader(t *testing.T, file ConfigFile, telemetryPath string) (*Reloader, *prometheus.Registry, *httptest.Server) {
	t.Helper()
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour}, nil)
	t.Cleanup(m.Stop)
	reg := prometheus.NewRegistry()
	rl := NewReloader(file, m, nopLogger(), reg)
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rl.Run(ctx, nil); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(NewHandler(Options{TelemetryPath: telemetryPath, Registry: reg, Reloader: rl, Manager: m, HistorySpan: time.Hour}, nopLogger()))
	t.Cleanup(srv.Close)
	return rl, reg, srv
}

func TestConfigFileLoad(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yml")
	good := filepath.Join(dir, "good.yml")
	writeConfig(t, good, "targets:\n  - {name: a, address: \"127.0.0.1:4000\"}\n")

	t.Run("missing default file runs the built-in default module", func(t *testing.T) {
		cfg, found, err := ConfigFile{Path: missing}.Load()
		if err != nil || found || len(cfg.Targets) != 0 || len(cfg.Modules) != 1 {
			t.Errorf("= %+v, found %v, err %v; want the default config, not found, no error", cfg, found, err)
		}
	})
	t.Run("missing explicit file is an error", func(t *testing.T) {
		_, found, err := ConfigFile{Path: missing, Explicit: true}.Load()
		if !errors.Is(err, os.ErrNotExist) || found {
			t.Errorf("found %v, err %v; want os.ErrNotExist", found, err)
		}
	})
	t.Run("existing file", func(t *testing.T) {
		cfg, found, err := ConfigFile{Path: good}.Load()
		if err != nil || !found || len(cfg.Targets) != 1 {
			t.Errorf("= %+v, found %v, err %v; want one target", cfg, found, err)
		}
	})
}

func TestReloadEndpoint(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	writeConfig(t, file, "targets:\n  - {name: first, address: \"127.0.0.1:1\"}\n")
	_, reg, srv := newTestReloader(t, ConfigFile{Path: file, Explicit: true}, "/metrics")
	gauge := func(t *testing.T, name string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no %s", name)
		return 0
	}
	const (
		successful = "tcpping_exporter_config_last_reload_successful"
		timestamp  = "tcpping_exporter_config_last_reload_success_timestamp_seconds"
	)
	post := func(t *testing.T) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/-/reload", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return resp.StatusCode, b.String()
	}

	t.Run("GET is not allowed", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/-/reload")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
			t.Errorf("HTTP %d, Allow %q; want 405 and Allow: POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("a valid file is applied", func(t *testing.T) {
		writeConfig(t, file, "targets:\n  - {name: second, address: \"127.0.0.1:1\"}\n")
		if code, body := post(t); code != http.StatusOK || body != "config reloaded\n" {
			t.Fatalf("HTTP %d %q", code, body)
		}
		if _, body := testenv.Get(t, srv.URL+"/config", nil); !strings.Contains(body, "second") || strings.Contains(body, "first") {
			t.Errorf("/config after reload:\n%s", body)
		}
		if v := gauge(t, successful); v != 1 {
			t.Errorf("%s = %v, want 1", successful, v)
		}
	})
	t.Run("an invalid file keeps the running config", func(t *testing.T) {
		writeConfig(t, file, "targets:\n  - {name: third, address: nowhere}\n")
		code, body := post(t)
		if code != http.StatusInternalServerError || !strings.Contains(body, "failed to reload config") || !strings.Contains(body, "third") {
			t.Errorf("HTTP %d %q; want 500 naming the target", code, body)
		}
		if _, body := testenv.Get(t, srv.URL+"/config", nil); !strings.Contains(body, "second") {
			t.Errorf("/config after a failed reload:\n%s", body)
		}
		if v := gauge(t, successful); v != 0 {
			t.Errorf("%s = %v, want 0", successful, v)
		}
		if v := gauge(t, timestamp); v < float64(time.Now().Add(-time.Minute).Unix()) {
			t.Errorf("%s = %v, want the time of the last success", timestamp, v)
		}
	})
}

// TestProbeRunsTheReloadedModule checks that /probe starts a dynamic
// prober with its module's settings as the latest reload has them, and
// answers 400 for a module a reload removed: the handler holds no config
// of its own, so no request can start a prober with settings a reload
// replaced, to be reused by every later request (prober.Manager.Get takes
// the modules of the latest reconcile, and only those).
func TestProbeRunsTheReloadedModule(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour}, nil)
	t.Cleanup(m.Stop)
	rl := NewReloader(ConfigFile{Path: file, Explicit: true}, m, nopLogger(), prometheus.NewRegistry())
	reload := func(text string) {
		t.Helper()
		writeConfig(t, file, text)
		if err := rl.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	reload("modules:\n  default: {interval: 50ms, ip_protocol: ip4}\n  other: {interval: 50ms, ip_protocol: ip4}\n")
	srv := httptest.NewServer(probeHandler{manager: m, logger: nopLogger()})
	t.Cleanup(srv.Close)
	addr := testenv.EchoServer(t)

	reload("modules:\n  default: {interval: 200ms, ip_protocol: ip4}\n  other: {interval: 50ms, ip_protocol: ip4}\n")
	if code, body := testenv.Get(t, srv.URL+"/probe?target="+addr, nil); code != http.StatusOK {
		t.Fatalf("/probe: %d %s", code, body)
	}
	for _, p := range m.Dynamic() {
		if got := p.Options().Module.Interval.D(); got != 200*time.Millisecond {
			t.Errorf("dynamic prober %s runs interval %v after the reload, want the reloaded 200ms", p.Options().Address, got)
		}
	}

	reload("modules:\n  default: {interval: 200ms, ip_protocol: ip4}\n")
	code, body := testenv.Get(t, srv.URL+"/probe?module=other&target="+addr, nil)
	if code != http.StatusBadRequest || !strings.Contains(body, `unknown module "other"`) {
		t.Errorf("/probe of a module a reload removed: %d %q, want 400 naming the module", code, truncate(body))
	}
	if _, n := m.Counts(); n != 1 {
		t.Errorf("%d dynamic probers, want 1 (none for the removed module)", n)
	}
}

// TestProbeFirstWaitAcrossReload sends the first /probe of a target, which
// waits for the new prober's first result, and reloads meanwhile with a
// new module: the reload stops that prober. The request is answered from
// the prober of the reloaded module once it has its first result, not
// after the scrape timeout from a prober that no longer runs.
func TestProbeFirstWaitAcrossReload(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	// The HELLO of the first prober waits 20 s for an answer that never
	// comes; that of the reloaded module 100 ms.
	writeConfig(t, file, "modules:\n  default: {interval: 1s, timeout: 20s, max_timeout: 20s, adaptive: false, ip_protocol: ip4}\n")
	rl, _, srv := newTestReloader(t, ConfigFile{Path: file, Explicit: true}, "/metrics")
	addr := stallingServer(t)

	type answer struct {
		code    int
		body    string
		err     error
		elapsed time.Duration
	}
	got := make(chan answer, 1)
	start := time.Now()
	go func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/probe?target="+addr, nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, string(b), err, time.Since(start)}
	}()
	waitUntil := time.Now().Add(5 * time.Second)
	for _, n := rl.manager.Counts(); n != 1; _, n = rl.manager.Counts() {
		if time.Now().After(waitUntil) {
			t.Fatal("no dynamic prober started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	writeConfig(t, file, "modules:\n  default: {interval: 1s, timeout: 100ms, ip_protocol: ip4}\n")
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.code != http.StatusOK {
		t.Fatalf("/probe: %d %s", a.code, a.body)
	}
	if a.elapsed > 5*time.Second {
		t.Errorf("/probe answered after %v: it waited out the scrape timeout for a prober the reload stopped", a.elapsed.Round(time.Millisecond))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := testenv.Value(mfs, "tcp_echo_estimated_timeout_seconds", nil); v != 0.1 {
		t.Errorf("tcp_echo_estimated_timeout_seconds %v, want 0.1, the reloaded module's timeout", v)
	}
	if v, _ := testenv.Value(mfs, "tcp_echo_dropped_total", nil); v < 1 {
		t.Errorf("tcp_echo_dropped_total %v, want the failed HELLO of the reloaded module's prober counted", v)
	}
}

// TestProbeFirstWaitAcrossReloadSeveralFlows is TestProbeFirstWaitAcrossReload
// for a target of two flows, one of which has had its first result when
// the reload stops them: the first flow, or the second. The request waits
// for the flow that has none, which ends its wait as the reload stops it;
// the answer must still come from the prober of the reloaded module, never
// from the flows the reload stopped, whichever of them stopped first. Which
// connection the echo server answers, and in which order the reload's stops
// end, vary from trial to trial: several trials cover both.
func TestProbeFirstWaitAcrossReloadSeveralFlows(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	const (
		// Until the reload, the flow that gets no reply waits 20 s for
		// its first result; after it, each flow times out in 100 ms.
		slow = "modules:\n  default: {interval: 1s, flows: 2, echo_protocol: v1, timeout: 20s, max_timeout: 20s, adaptive: false, ip_protocol: ip4}\n"
		fast = "modules:\n  default: {interval: 1s, flows: 2, echo_protocol: v1, timeout: 100ms, adaptive: false, ip_protocol: ip4}\n"
	)
	writeConfig(t, file, slow)
	rl, _, srv := newTestReloader(t, ConfigFile{Path: file, Explicit: true}, "/metrics")
	reload := func(text string) {
		t.Helper()
		writeConfig(t, file, text)
		if err := rl.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	for trial := range 12 {
		reload(slow)
		// A new address each trial, so a new prober: the server answers
		// the first connection it accepts and no other.
		var accepted atomic.Int32
		addr := testenv.Serve(t, func(c net.Conn) {
			if accepted.Add(1) == 1 {
				testenv.Echo(c)
				return
			}
			_, _ = io.Copy(io.Discard, c)
		})
		got := make(chan string, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/probe?target="+addr, nil)
			req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				got <- err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			got <- strconv.Itoa(resp.StatusCode) + "\n" + string(b)
		}()
		// Until one flow has had its reply, the other its probe unanswered.
		waitUntil := time.Now().Add(5 * time.Second)
		for !oneFlowAnswered(rl.manager) {
			if time.Now().After(waitUntil) {
				t.Fatalf("trial %d: no flow of the new prober answered", trial)
			}
			time.Sleep(5 * time.Millisecond)
		}
		reload(fast)
		a := <-got
		code, body, _ := strings.Cut(a, "\n")
		if code != "200" {
			t.Fatalf("trial %d: /probe: %s %s", trial, code, body)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, flow := range []string{"0", "1"} {
			if v, _ := testenv.Value(mfs, "tcp_echo_estimated_timeout_seconds", map[string]string{"flow": flow}); v != 0.1 {
				t.Fatalf("trial %d: flow %s: tcp_echo_estimated_timeout_seconds %v, want 0.1: the answer came from the flows the reload stopped, not from the reloaded module's prober",
					trial, flow, v)
			}
		}
	}
}

// oneFlowAnswered reports whether a dynamic prober of m has a flow that
// has received a reply.
func oneFlowAnswered(m *prober.Manager) bool {
	for _, p := range m.Dynamic() {
		if p.Snapshot().Received > 0 {
			return true
		}
	}
	return false
}
