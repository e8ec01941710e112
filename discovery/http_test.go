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

package discovery

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sdServer is an HTTP service discovery endpoint whose answer the test
// sets: a status, a content type and a body.
type sdServer struct {
	*httptest.Server
	mu          sync.Mutex
	status      int
	contentType string
	body        string
	requests    atomic.Int64
}

// newSDServer starts an sdServer on 127.0.0.1, answering body with 200.
func newSDServer(t *testing.T, body string) *sdServer {
	t.Helper()
	s := &sdServer{status: http.StatusOK, contentType: "application/json", body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// serve answers a request with what the test set.
func (s *sdServer) serve(w http.ResponseWriter, _ *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	status, ct, body := s.status, s.contentType, s.body
	s.mu.Unlock()
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// set changes the answer.
func (s *sdServer) set(status int, contentType, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.contentType, s.body = status, contentType, body
}

// waitRequests waits until the server has had n more requests than it had
// when the call began, so that the test knows the source refreshed.
func (s *sdServer) waitRequests(t *testing.T, n int64, timeout time.Duration) {
	t.Helper()
	want := s.requests.Load() + n
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.requests.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d requests within %s", n, timeout)
		}
		<-tick.C
	}
}

// httpEntry is a config with one entry, "web", polling url every second.
func httpEntry(url string) string {
	return fmt.Sprintf("discovery:\n  - name: web\n    http_sd_configs: [{url: %q, refresh_interval: 1s}]\n", url)
}

// httpChange is how long a change may take: the refresh interval (1 s)
// plus 10 s.
const httpChange = 11 * time.Second

func TestHTTPFailures(t *testing.T) {
	good := []string{"10.0.0.1:4000", "10.0.0.2:4000"}
	srv := newSDServer(t, jsonTargets(good))
	h := newHarness(t, Self{})
	h.apply(httpEntry(srv.URL))
	h.waitTargets(httpChange, "web", good...)
	h.waitGauge(httpChange, 0, "tcpping_exporter_discovery_failing", "discovery", "web")
	published := len(h.history())

	// Each failure keeps the last good targets; the streak is logged once.
	for _, f := range []struct {
		name              string
		status            int
		contentType, body string
	}{
		{"HTTP 500", http.StatusInternalServerError, "text/plain", "oops"},
		{"garbage JSON", http.StatusOK, "application/json", "{]garbage"},
		{"JSON of the wrong shape", http.StatusOK, "application/json", `{"targets": ["a:1"]}`},
		{"wrong content type", http.StatusOK, "text/html", jsonTargets(good)},
		{"HTTP 404", http.StatusNotFound, "application/json", "[]"},
	} {
		t.Run(f.name, func(t *testing.T) {
			srv.set(f.status, f.contentType, f.body)
			srv.waitRequests(t, 2, httpChange)
			h.waitGauge(httpChange, 1, "tcpping_exporter_discovery_failing", "discovery", "web")
			h.waitGauge(httpChange, 2, "tcpping_exporter_discovered_targets", "discovery", "web")
		})
	}
	if n := len(h.history()); n != published {
		t.Errorf("%d updates while the server failed, want none: %v", n-published, h.history()[published:])
	}
	if n := h.countLog("level=warn", "discovery source failing", "web"); n != 1 {
		t.Errorf("%d warnings for one failure streak, want 1:\n%s", n, h.logs.String())
	}
	if n := h.countLog("level=warn", "discovery source failing", "500 Internal Server Error"); n != 1 {
		t.Errorf("the warning does not name the first failure, HTTP 500:\n%s", h.logs.String())
	}
	// Prometheus' own metrics count every failed refresh.
	for _, m := range []struct {
		name   string
		labels []string
	}{
		{"prometheus_sd_refresh_failures_total", []string{"mechanism", "http", "config", "web"}},
		{"prometheus_sd_http_failures_total", nil},
	} {
		if v, ok := h.value(m.name, m.labels...); !ok || v < 10 {
			t.Errorf("%s%q = %v (exists: %v), want at least 10 (two failed refreshes of each kind)", m.name, m.labels, v, ok)
		}
	}

	// Good again: new targets, within the refresh interval plus 10 s.
	recovered := []string{"10.0.0.3:4000"}
	start := time.Now()
	srv.set(http.StatusOK, "application/json", jsonTargets(recovered))
	h.waitTargets(httpChange, "web", recovered...)
	t.Logf("recovery published %s after the server answered well again", time.Since(start).Round(time.Millisecond))
	h.waitGauge(httpChange, 0, "tcpping_exporter_discovery_failing", "discovery", "web")
	if n := h.countLog("level=info", "discovery source recovered", "web"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, h.logs.String())
	}

	// An empty list is an answer: the targets leave.
	srv.set(http.StatusOK, "application/json", "[]")
	h.waitTargets(httpChange, "web")
	h.waitGauge(httpChange, 0, "tcpping_exporter_discovered_targets", "discovery", "web")
	if v, _ := h.gauge("tcpping_exporter_discovery_failing", "discovery", "web"); v != 0 {
		t.Errorf("failing = %v after an empty answer, want 0", v)
	}
}

// TestReloadDuringOutage changes a failing source's config: the new
// source fails as the old one did, and the entry keeps the old one's last
// good targets, however long it fails; its first good answer replaces
// them.
func TestReloadDuringOutage(t *testing.T) {
	good := []string{"10.0.0.1:4000", "10.0.0.2:4000"}
	srv := newSDServer(t, jsonTargets(good))
	h := newHarness(t, Self{})
	h.apply(httpEntry(srv.URL))
	h.waitTargets(httpChange, "web", good...)
	srv.set(http.StatusInternalServerError, "text/plain", "down")
	h.waitGauge(httpChange, 1, "tcpping_exporter_discovery_failing", "discovery", "web")
	published := len(h.history())

	h.apply(fmt.Sprintf("discovery:\n  - name: web\n    http_sd_configs: [{url: %q, refresh_interval: 2s}]\n", srv.URL))
	srv.waitRequests(t, 3, httpChange) // the new source failed, more than once
	h.waitGauge(httpChange, 1, "tcpping_exporter_discovery_failing", "discovery", "web")
	for _, u := range h.history()[published:] {
		if got := addresses(u, "web"); !slices.Equal(got, good) {
			t.Errorf("targets %q after a reload during the outage, want the last good %q", got, good)
		}
	}
	if v, _ := h.gauge("tcpping_exporter_discovered_targets", "discovery", "web"); v != 2 {
		t.Errorf("discovered_targets = %v during the outage, want the last good 2", v)
	}

	recovered := []string{"10.0.0.3:4000"}
	srv.set(http.StatusOK, "application/json", jsonTargets(recovered))
	h.waitTargets(httpChange, "web", recovered...)
}

func TestHTTPServerDown(t *testing.T) {
	good := []string{"10.0.0.1:4000"}
	srv := newSDServer(t, jsonTargets(good))
	h := newHarness(t, Self{})
	h.apply(httpEntry(srv.URL))
	h.waitTargets(httpChange, "web", good...)
	srv.Close() // connections refused from now on
	h.waitGauge(httpChange, 1, "tcpping_exporter_discovery_failing", "discovery", "web")
	if got := addresses(h.history()[len(h.history())-1], "web"); !slices.Equal(got, good) {
		t.Errorf("targets %q with the server down, want the last good %q", got, good)
	}
	if n := h.countLog("level=warn", "discovery source failing", "connection refused"); n != 1 {
		t.Errorf("%d warnings naming the refused connection, want 1:\n%s", n, h.logs.String())
	}
}

// TestHTTPPasswordNotLogged gives the source's URL a password, as an
// inventory behind basic auth is often written: the lines that name the
// failing and recovered source show the URL without it, as Go's own
// errors do.
func TestHTTPPasswordNotLogged(t *testing.T) {
	const password = "s3cret-in-url"
	good := []string{"10.0.0.1:4000"}
	srv := newSDServer(t, jsonTargets(good))
	url := strings.Replace(srv.URL, "http://", "http://inventory:"+password+"@", 1)
	h := newHarness(t, Self{})
	h.apply(httpEntry(url))
	h.waitTargets(httpChange, "web", good...)
	srv.set(http.StatusInternalServerError, "text/plain", "down")
	h.waitGauge(httpChange, 1, "tcpping_exporter_discovery_failing", "discovery", "web")
	srv.set(http.StatusOK, "application/json", jsonTargets(good))
	h.waitGauge(httpChange, 0, "tcpping_exporter_discovery_failing", "discovery", "web")
	for _, msg := range []string{"discovery source failing", "discovery source recovered"} {
		if n := h.countLog(msg, "inventory:"); n != 1 {
			t.Errorf("%d lines %q naming the URL's user, want 1:\n%s", n, msg, h.logs.String())
		}
	}
	if strings.Contains(h.logs.String(), password) {
		t.Errorf("the log shows the URL's password:\n%s", h.logs.String())
	}
}
