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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// TestProbeFirstWaitConcurrent sends 20 first requests for one new target
// at once, as the two Prometheus servers of an HA pair (and their retries)
// do. The echo server holds its first reply until all 20 have reached the
// handler, so every one of them arrives before the prober's first result:
// each must wait for it, and answer with it (probe_success 1, one reply
// received), not with the zeros of a prober that has not probed yet. One
// prober serves them all.
func TestProbeFirstWaitConcurrent(t *testing.T) {
	const n = 20
	cfg := fastConfig()
	mod := cfg.Modules["default"]
	mod.EchoProtocol = config.EchoProtocolV1
	mod.Adaptive = false
	mod.Interval = config.Duration(time.Hour) // one probe: the first result is its reply
	mod.Timeout = config.Duration(20 * time.Second)
	mod.MaxTimeout = mod.Timeout
	cfg.Modules["default"] = mod
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour}, nil)
	t.Cleanup(m.Stop)
	m.Reconcile(cfg)

	release := make(chan struct{})
	var arrived atomic.Int32
	h := probeHandler{manager: m, logger: nopLogger()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == n {
			close(release)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	addr := testenv.Serve(t, func(c net.Conn) {
		buf := make([]byte, 24)
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		select {
		case <-release:
		case <-time.After(15 * time.Second): // a bound: the test fails below
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
		testenv.Echo(c)
	})

	type answer struct {
		code int
		body string
	}
	answers := make(chan answer, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/probe?target="+addr, nil)
			req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, string(b)}
		})
	}
	wg.Wait()
	close(answers)
	zeros := 0
	for a := range answers {
		if a.code != http.StatusOK {
			t.Errorf("HTTP %d: %s", a.code, a.body)
			continue
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := parser.TextToMetricFamilies(strings.NewReader(a.body))
		if err != nil {
			t.Fatal(err)
		}
		success, _ := testenv.Value(mfs, "probe_success", nil)
		received, _ := testenv.Value(mfs, "tcp_echo_received_total", nil)
		if success != 1 || received != 1 {
			zeros++
		}
	}
	if zeros > 0 {
		t.Errorf("%d of %d concurrent first requests answered before the first result (probe_success 0 or tcp_echo_received_total 0), want every one to wait for it", zeros, n)
	}
	if _, d := m.Counts(); d != 1 {
		t.Errorf("%d dynamic probers for one target, want 1", d)
	}
}
