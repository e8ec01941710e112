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
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestScrapersThatNeverRead checks that clients that ask for /metrics and
// never read the answer cannot keep Prometheus from scraping: as many as
// the scrapes served at once, each holding one while the server's writes
// to it block, are disconnected once they take nothing for the write
// stall timeout, and scrapes are answered again.
func TestScrapersThatNeverRead(t *testing.T) {
	const stall = 5 * time.Second
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	writeConfig(t, file, "targets: []\n")
	rl, m, reg := loadedReloader(t, file)
	// An answer of about 8 MB, more than the socket buffers of a client
	// that does not read hold, gathered once.
	big := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "big", Help: "Padding."}, []string{"l"})
	pad := strings.Repeat("x", 400)
	for i := range 20000 {
		big.WithLabelValues(pad + strconv.Itoa(i)).Set(1)
	}
	bigReg := prometheus.NewRegistry()
	bigReg.MustRegister(big)
	fams, err := bigReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	gatherers := prometheus.Gatherers{reg, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return fams, nil })}
	srv := httptest.NewServer(NewHandler(Options{
		TelemetryPath: "/metrics", Registry: gatherers, Reloader: rl, Manager: m, WriteStallTimeout: stall,
	}, nopLogger()))
	t.Cleanup(srv.Close)
	address := srv.Listener.Addr().String()

	for range maxScrapes {
		c, err := net.DialTimeout("tcp", address, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// Its answer has begun: it holds a slot. It reads nothing more.
		status := make([]byte, len("HTTP/1.1 200"))
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.ReadFull(c, status); err != nil || string(status) != "HTTP/1.1 200" {
			t.Fatalf("a client that will not read: answer %q, %v; want a 200", status, err)
		}
	}

	client := &http.Client{Timeout: 20 * time.Second}
	get := func() (status string, ok bool) {
		resp, err := client.Get(srv.URL + "/metrics")
		if err != nil {
			return err.Error(), false
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		return resp.Status + ", " + strconv.FormatInt(n, 10) + " bytes", resp.StatusCode == http.StatusOK && err == nil && n > 6<<20
	}
	// First the stalled scrapes hold every slot: scrapes get 503.
	waitScrape(t, "a scrape answered 503 while they hold every slot", func() bool {
		status, _ := get()
		return strings.HasPrefix(status, "503")
	})
	// They are disconnected within the stall timeout of their last
	// write, and a scrape is answered whole again.
	waitScrape(t, "a scrape answered whole once they are disconnected", func() bool {
		_, ok := get()
		return ok
	})
}

// waitScrape polls cond every 10 ms until it holds, for at most 30 s (a
// loaded machine).
func waitScrape(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("with %d clients that never read /metrics: %s: not within 30s", maxScrapes, what)
		}
	}
}

// TestStallTimeoutKeepsKeptAliveConnections checks that the write deadline
// a response leaves on its connection does not cut the response to a
// later request on it, one that waits before it writes included.
func TestStallTimeoutKeepsKeptAliveConnections(t *testing.T) {
	const stall = 300 * time.Millisecond
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	writeConfig(t, file, "targets: []\n")
	rl, m, reg := loadedReloader(t, file)
	srv := httptest.NewServer(NewHandler(Options{
		TelemetryPath: "/metrics", Registry: reg, Reloader: rl, Manager: m, WriteStallTimeout: stall,
	}, nopLogger()))
	t.Cleanup(srv.Close)
	c, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	br := bufio.NewReader(c)
	for i, path := range []string{"/-/healthy", "/-/healthy", "/probe?target=" + stallingServer(t), "/-/healthy"} {
		if i > 0 {
			time.Sleep(2 * stall) // the last response's deadline passes
		}
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatalf("request %d (%s): %v", i, path, err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d (%s) on a kept-alive connection: %v", i, path, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("request %d (%s): %s, %v", i, path, resp.Status, err)
		}
	}
}
