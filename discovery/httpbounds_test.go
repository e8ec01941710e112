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
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestHTTPEndlessBody serves an http_sd endpoint that, after a good
// answer, sends a body that never ends (stopping, for the test's sake,
// after 512 MiB): the exporter stops reading it at its bound, long before
// the refresh's timeout (the refresh interval, 20 s), counts the refresh
// as failed and keeps the last good targets; the next good answer
// replaces them.
func TestHTTPEndlessBody(t *testing.T) {
	good := []string{"10.0.0.1:4000", "10.0.0.2:4000"}
	var endless atomic.Bool
	var written atomic.Int64 // bytes of the endless bodies
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !endless.Load() {
			fmt.Fprint(w, jsonTargets(good))
			return
		}
		chunk := append([]byte("["), bytes.Repeat([]byte(" "), 1<<20-1)...)
		for i := 0; i < 512; i++ {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
			chunk = chunk[1:] // spaces from now on
			chunk = append(chunk, ' ')
		}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)

	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf("discovery:\n  - name: web\n    http_sd_configs: [{url: %q, refresh_interval: 8s}]\n", srv.URL))
	h.waitTargets(httpChange, "web", good...)
	endless.Store(true)
	// The next refresh, 8 s after the first, fails at the bound, before
	// the timeout (the refresh interval) would end it: the warning names
	// the bound, not a timeout.
	deadline := time.Now().Add(32 * time.Second)
	for v, _ := h.gauge("tcpping_exporter_discovery_failing", "discovery", "web"); v != 1; v, _ = h.gauge("tcpping_exporter_discovery_failing", "discovery", "web") {
		if time.Now().After(deadline) {
			t.Fatalf("discovery_failing still 0 32 s after the endless answers began; the server wrote %d MiB of them", written.Load()>>20)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if w := written.Load(); w > 2*maxHTTPSDResponse {
		t.Errorf("the server wrote %d MiB of one answer before the exporter stopped reading, want at most twice the bound, %d MiB",
			w>>20, 2*maxHTTPSDResponse>>20)
	}
	if got := addresses(h.history()[len(h.history())-1], "web"); !slices.Equal(got, good) {
		t.Errorf("targets %q after an endless answer, want the last good %q", got, good)
	}
	if n := h.countLog("level=warn", "discovery source failing", "MiB"); n != 1 {
		t.Errorf("%d warnings naming the bound, want 1:\n%s", n, h.logs.String())
	}
	endless.Store(false)
	h.waitGauge(20*time.Second, 0, "tcpping_exporter_discovery_failing", "discovery", "web")
}

// TestHTTPLargeAnswer serves 100 000 targets in a 12 MB answer, each in
// its own group with a label: under the bound, every one is found.
func TestHTTPLargeAnswer(t *testing.T) {
	const n = 100_000
	var b bytes.Buffer
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"targets": ["10.%d.%d.%d:4000"], "labels": {"rack": "rack-%06d-padding-padding-padding-padding-padding"}}`, i>>16, i>>8&255, i&255, i)
	}
	b.WriteString("]")
	if b.Len() < 10<<20 {
		t.Fatalf("answer of %d bytes, want at least 10 MiB", b.Len())
	}
	srv := newSDServer(t, b.String())
	h := newHarness(t, Self{})
	start := time.Now()
	h.apply(fmt.Sprintf("discovery:\n  - name: web\n    http_sd_configs: [{url: %q, refresh_interval: 60s}]\n", srv.URL))
	h.waitGauge(30*time.Second, n, "tcpping_exporter_discovered_targets", "discovery", "web")
	t.Logf("%d targets in %d MiB found in %s", n, b.Len()>>20, time.Since(start).Round(time.Millisecond))
	if v, _ := h.gauge("tcpping_exporter_discovery_failing", "discovery", "web"); v != 0 {
		t.Errorf("failing = %v, want 0", v)
	}
}
