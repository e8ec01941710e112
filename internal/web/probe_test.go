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
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// stallingServer accepts connections and never answers.
func stallingServer(t *testing.T) string {
	return testenv.Serve(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
}

// probeServer is an httptest server with the exporter's routes.
func probeServer(t *testing.T, cfg *config.Config, maxDynamic int) (*httptest.Server, *prober.Manager) {
	t.Helper()
	return probeServerAllowing(t, cfg, maxDynamic, AllowedTargets{})
}

// probeServerAllowing is probeServer with a --probe.allowed-target policy.
func probeServerAllowing(t *testing.T, cfg *config.Config, maxDynamic int, allowed AllowedTargets) (*httptest.Server, *prober.Manager) {
	t.Helper()
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: maxDynamic, IdleTimeout: time.Hour}, nil)
	t.Cleanup(m.Stop)
	m.Reconcile(cfg)
	h := probeHandler{manager: m, allowed: allowed, logger: nopLogger()}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, m
}

func fastConfig() *config.Config {
	cfg := config.Default()
	mod := cfg.Modules["default"]
	mod.Interval = config.Duration(50 * time.Millisecond)
	mod.IPProtocol = "ip4"
	cfg.Modules["default"] = mod
	return cfg
}

func TestProbeBadRequests(t *testing.T) {
	srv, m := probeServer(t, fastConfig(), 10)
	tests := []struct {
		name   string
		query  string
		header map[string]string
		want   string
	}{
		{"missing target", "", nil, "target parameter is missing"},
		{"empty target", "target=", nil, "target parameter is missing"},
		{"no port", "target=127.0.0.1", nil, "host:port"},
		{"port 0", "target=127.0.0.1:0", nil, "port"},
		{"port too big", "target=127.0.0.1:65536", nil, "port"},
		{"port not a number", "target=127.0.0.1:http", nil, "port"},
		{"no host", "target=:4000", nil, "missing host"},
		{"unknown module", "target=127.0.0.1:4000&module=nope", nil, `unknown module "nope"`},
		{"huge target", "target=" + strings.Repeat("a", 10000) + ":4000", nil, "longer than"},
		{"control characters", "target=" + url.QueryEscape("a\r\nb:4000"), nil, "control"},
		{"NUL", "target=" + url.QueryEscape("a\x00:4000"), nil, "control"},
		{"bad host", "target=" + url.QueryEscape("a/b:4000"), nil, "DNS name"},
		{"host not a DNS name", "target=" + url.QueryEscape("foo!bar:4000"), nil, "DNS name"},
		{"label ends with '-'", "target=echo-.example:4000", nil, "DNS name"},
		{"link-local without a zone", "target=" + url.QueryEscape("[fe80::1]:4000"), nil, "link-local IPv6 address: give its zone"},
		{"bad debug", "target=127.0.0.1:4000&debug=yes", nil, "debug"},
		{"bad timeout header", "target=127.0.0.1:4000", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "soon"}, "Timeout"},
		{"timeout header above an hour", "target=127.0.0.1:4000", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "3601"}, "3600"},
		{"zero timeout header", "target=127.0.0.1:4000", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "0"}, "3600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := testenv.Get(t, srv.URL+"/probe?"+tt.query, tt.header)
			if code != http.StatusBadRequest {
				t.Errorf("HTTP %d, want 400", code)
			}
			if !strings.Contains(body, tt.want) || strings.Count(strings.TrimSpace(body), "\n") > 0 {
				t.Errorf("body %q: want one line containing %q", body, tt.want)
			}
		})
	}
	if _, n := m.Counts(); n != 0 {
		t.Errorf("bad requests started %d probers", n)
	}
}

func TestProbeNewTarget(t *testing.T) {
	addr := testenv.EchoServer(t)
	srv, m := probeServer(t, fastConfig(), 10)
	start := time.Now()
	code, body := testenv.Get(t, srv.URL+"/probe?target="+addr, nil)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("first request took %v", time.Since(start))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := testenv.Value(mfs, "probe_success", nil); !ok || v != 1 {
		t.Errorf("probe_success = %v (present %v), want 1 after waiting for the first result", v, ok)
	}
	if v, _ := testenv.Value(mfs, "tcp_echo_received_total", nil); v < 1 {
		t.Errorf("tcp_echo_received_total = %v, want >= 1", v)
	}
	for _, mf := range mfs {
		for _, mm := range mf.GetMetric() {
			for _, lp := range mm.GetLabel() {
				switch lp.GetName() {
				case "target", "address", "module":
					t.Errorf("%s carries label %s", mf.GetName(), lp.GetName())
				}
			}
		}
	}
	if _, n := m.Counts(); n != 1 {
		t.Errorf("%d dynamic probers, want 1", n)
	}
	// The second request is answered from the same prober.
	testenv.Get(t, srv.URL+"/probe?target="+addr, nil)
	if _, n := m.Counts(); n != 1 {
		t.Errorf("%d dynamic probers after a second request, want 1", n)
	}
}

// TestProbeTakesEveryModuleTheConfigHas checks that /probe answers for a
// module of any name the config file accepts (config.ValidateName: any
// length), and refuses one that no module can have with the reason: which
// names a module may have is the config's rule alone.
func TestProbeTakesEveryModuleTheConfigHas(t *testing.T) {
	long := strings.Repeat("m", 300)
	cfg, err := config.Parse([]byte("modules:\n  " + long + ": {interval: 50ms, ip_protocol: ip4}\n"))
	if err != nil {
		t.Fatal(err)
	}
	addr := testenv.EchoServer(t)
	srv, _ := probeServer(t, cfg, 10)
	if code, body := testenv.Get(t, srv.URL+"/probe?module="+long+"&target="+addr, nil); code != http.StatusOK {
		t.Errorf("/probe of the config's module of a %d-byte name: HTTP %d %q, want 200", len(long), code, body)
	}
	code, body := testenv.Get(t, srv.URL+"/probe?module="+url.QueryEscape("a\r\nb")+"&target="+addr, nil)
	if code != http.StatusBadRequest || !strings.HasPrefix(body, `module "a\r\nb": not a module name`) || strings.Count(strings.TrimSpace(body), "\n") > 0 {
		t.Errorf("/probe of a module name with control characters: HTTP %d %q, want 400 and one line saying why", code, body)
	}
}

func TestProbeWaitIsBoundedByScrapeTimeout(t *testing.T) {
	// A server that accepts and never answers, with a 3s fixed timeout:
	// the first result comes after 3s, so the answer must come at the
	// header's 1.5s less the 0.5s offset.
	cfg := fastConfig()
	mod := cfg.Modules["default"]
	mod.Adaptive = false
	mod.Timeout = config.Duration(3 * time.Second)
	cfg.Modules["default"] = mod
	srv, _ := probeServer(t, cfg, 10)
	addr := stallingServer(t)
	start := time.Now()
	code, body := testenv.Get(t, srv.URL+"/probe?target="+addr, map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "1.5"})
	took := time.Since(start)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	if took < 900*time.Millisecond || took > 3*time.Second {
		t.Errorf("answered after %v, want about 1.5s - 0.5s = 1s", took)
	}
	if !strings.Contains(body, "probe_success 0") {
		t.Errorf("probe_success not 0 for a server that never answers:\n%s", body)
	}
}

func TestValidateTargetAcceptsWhatConfigAccepts(t *testing.T) {
	for _, target := range []string{
		"127.0.0.1:4000", "[::1]:4000", "[fe80::1%lo]:4000", "echo.example.net:4000", "echo-1.example.net.:1", "host_x:65535",
	} {
		if err := validateTarget(target); err != nil {
			t.Errorf("validateTarget(%q) = %v", target, err)
		}
		if err := config.ValidateAddress(target); err != nil {
			t.Errorf("config.ValidateAddress(%q) = %v: the two disagree", target, err)
		}
	}
}

func TestProbeWait(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 10 * time.Second},
		{"10", 9500 * time.Millisecond},
		{"0.6", 100 * time.Millisecond},
		{"0.55", 495 * time.Millisecond}, // 0.05s left after the offset: 90 %
		{"0.2", 180 * time.Millisecond},
	}
	for _, tt := range tests {
		got, err := probeWait(tt.header)
		if err != nil || got != tt.want {
			t.Errorf("probeWait(%q) = %v, %v; want %v", tt.header, got, err, tt.want)
		}
	}
}

func TestProbeCapAndConcurrency(t *testing.T) {
	addr := testenv.EchoServer(t)
	_, port, _ := net.SplitHostPort(addr)
	srv, m := probeServer(t, fastConfig(), 50)
	var wg sync.WaitGroup
	codes := make(chan int, 200)
	for i := range 200 {
		wg.Go(func() {
			target := net.JoinHostPort("127.0.0."+itoa(1+i%50), port)
			resp, err := http.Get(srv.URL + "/probe?target=" + target)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("HTTP %d, want 200", c)
		}
	}
	if _, n := m.Counts(); n != 50 {
		t.Fatalf("%d dynamic probers for 50 targets, want exactly 50", n)
	}
	code, body := testenv.Get(t, srv.URL+"/probe?target=127.0.0.200:"+port, nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "max-dynamic-targets") {
		t.Errorf("51st target: HTTP %d %q, want 503 naming the cap", code, body)
	}
}

func TestProbeDebug(t *testing.T) {
	addr := testenv.EchoServer(t)
	srv, _ := probeServer(t, fastConfig(), 10)
	code, body := testenv.Get(t, srv.URL+"/probe?debug=true&target="+addr, nil)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	for _, want := range []string{"state:", "connected", "timeout in force:", "smoothed RTT:", "last error:", "Recent connection events:", "local address:", " to " + addr,
		"send timing:", "echo protocol:     24-byte frames"} {
		if !strings.Contains(body, want) {
			t.Errorf("debug output lacks %q:\n%s", want, body)
		}
	}
}

func TestProbeExistingStaticTarget(t *testing.T) {
	addr := testenv.EchoServer(t)
	cfg := fastConfig()
	cfg.Targets = []config.Target{{Name: "s", Address: addr}}
	srv, m := probeServer(t, cfg, 10)
	code, body := testenv.Get(t, srv.URL+"/probe?target="+addr, nil)
	if code != http.StatusOK || !strings.Contains(body, "tcp_echo_sent_total") {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	if _, n := m.Counts(); n != 0 {
		t.Errorf("a static target's /probe started %d dynamic probers", n)
	}
}

// TestProbeStaticOnly runs /probe with --probe.max-dynamic-targets=0, which
// CONFIGURATION.md documents as "/probe only for static targets": a static
// target is answered, any other gets 503 with a reason that says so, not
// that the exporter "already runs" a cap of probers it runs none of.
func TestProbeStaticOnly(t *testing.T) {
	addr := testenv.EchoServer(t)
	cfg := fastConfig()
	cfg.Targets = []config.Target{{Name: "s", Address: addr}}
	srv, m := probeServer(t, cfg, 0)
	if code, body := testenv.Get(t, srv.URL+"/probe?target="+addr, nil); code != http.StatusOK {
		t.Fatalf("static target: HTTP %d: %s", code, body)
	}
	code, body := testenv.Get(t, srv.URL+"/probe?target=127.0.0.1:1", nil)
	const want = "/probe serves static targets only (--probe.max-dynamic-targets=0)"
	if code != http.StatusServiceUnavailable || !strings.Contains(body, want) {
		t.Errorf("a target not in the config: HTTP %d %q, want 503 saying %q", code, body, want)
	}
	if _, n := m.Counts(); n != 0 {
		t.Errorf("%d dynamic probers, want none", n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func nopLogger() log.Logger { return log.NewNopLogger() }

func TestProbeNegotiatesProtobufWithNativeHistogram(t *testing.T) {
	addr := testenv.EchoServer(t)
	srv, _ := probeServer(t, fastConfig(), 10)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/probe?target="+addr, nil)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "protobuf") {
		t.Fatalf("Content-Type %q, want protobuf", ct)
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.NewFormat(expfmt.TypeProtoDelim))
	found := false
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			break
		}
		if mf.GetName() != "tcp_echo_rtt_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		found = true
		if h.GetSchema() != 3 || len(h.GetBucket()) != 16 || h.GetSampleCount() == 0 || len(h.GetPositiveSpan()) == 0 {
			t.Errorf("histogram: schema %d, %d classic buckets, count %d, %d spans: want schema 3 with both bucket kinds",
				h.GetSchema(), len(h.GetBucket()), h.GetSampleCount(), len(h.GetPositiveSpan()))
		}
	}
	if !found {
		t.Error("no tcp_echo_rtt_seconds in the protobuf response")
	}

	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if ct := resp2.Header.Get("Content-Type"); !strings.Contains(ct, "openmetrics") || !strings.HasSuffix(string(body), "# EOF\n") {
		t.Errorf("OpenMetrics: Content-Type %q, body ends %q", ct, body[max(0, len(body)-20):])
	}
}
