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
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestShutdownStopsProbersBeforeEchoServer checks that SIGTERM stops the
// probers before the echo server: an exporter that probes its own echo
// server does not log its connection lost, a warning, on every stop.
func TestShutdownStopsProbersBeforeEchoServer(t *testing.T) {
	for round := range 6 {
		dir := t.TempDir()
		p, web, echoPort := startSelf(t, dir)
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
		self := map[string]string{"target": "self", "address": fmt.Sprintf("127.0.0.1:%d", echoPort), "module": "default", "site": "local"}
		waitMetric(t, http.DefaultClient, url, "tcp_echo_received_total", self, 1)
		if code, _ := p.stop(t); code != 0 {
			t.Fatalf("round %d: exit code %d after SIGTERM, want 0", round, code)
		}
		out := p.stderr.String()
		i := strings.Index(out, `msg="shutting down"`)
		if i < 0 {
			t.Fatalf("round %d: no shutdown logged", round)
		}
		for _, line := range strings.Split(out[i:], "\n") {
			if strings.Contains(line, "level=warn") || strings.Contains(line, "level=error") {
				t.Fatalf("round %d: shutdown logged %q", round, line)
			}
		}
	}
}

// TestShutdownDoesNotWaitForFirstProbe sends SIGTERM while a first /probe
// waits for its new prober's first result (a HELLO its peer never
// answers): the request is answered at once, 503, and the exporter exits
// without waiting out the web server's graceful shutdown for it.
func TestShutdownDoesNotWaitForFirstProbe(t *testing.T) {
	dir := t.TempDir()
	mute := testenv.Serve(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	web, echoPort := testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", "modules:\n  default: {timeout: 20s, max_timeout: 20s, adaptive: false, ip_protocol: ip4}\n")
	p := startBinary(t, dir, "--config.file="+cfg,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcpping_exporter_config_last_reload_successful", nil, 1)

	type answer struct {
		code int
		err  error
		at   time.Time
	}
	got := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/probe?target="+mute, nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "15")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err, at: time.Now()}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- answer{code: resp.StatusCode, at: time.Now()}
	}()
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcpping_exporter_probers", map[string]string{"source": "dynamic"}, 1)
	start := time.Now()
	code, took := p.stop(t)
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	a := <-got
	if a.err != nil || a.code != http.StatusServiceUnavailable {
		t.Errorf("the waiting /probe got %d, %v; want 503", a.code, a.err)
	}
	if d := a.at.Sub(start); d > 2*time.Second {
		t.Errorf("the waiting /probe was answered %v after SIGTERM", d.Round(time.Millisecond))
	}
	if took > 2*time.Second {
		t.Errorf("exit took %v after SIGTERM", took.Round(time.Millisecond))
	}
	if out := p.stderr.String(); strings.Contains(out, "web server shutdown") {
		t.Errorf("the web server's shutdown timed out:\n%s", out)
	}
}
