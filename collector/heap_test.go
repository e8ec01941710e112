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

package collector

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/prometheus/common/expfmt"
)

// TestScrapeHeapFootprint checks what scrapes of 10 000 probers leave on
// the Go heap and allocate there. Their packed snapshots and labels live
// off the heap for the scrape only, so what may stay is the write buffer
// that the next scrape reuses (wbufSize, 144 KiB: 15 bytes per prober
// here), and what a scrape allocates is that buffer when it has none, the
// scrape's bookkeeping and a snapshot's slices, none of it per prober.
// Before, a text and a protobuf scrape left 871 bytes per prober on the
// heap, and the first text scrape allocated 1 236.
func TestScrapeHeapFootprint(t *testing.T) {
	const n = 10_000
	ts := benchTargets(n)
	c := newCollector(func() []target { return ts }, []string{"site"})
	var ms runtime.MemStats
	// heap returns the live heap after a full collection (two, to empty
	// sync.Pools' victim caches too) and the bytes ever allocated.
	heap := func() (live, total int64) {
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc), int64(ms.TotalAlloc)
	}
	scrape := func(f expfmt.Format) int64 {
		t.Helper()
		_, before := heap()
		var w countingWriter
		if err := writeExposition(&w, f, nil, c, nil); err != nil {
			t.Fatal(err)
		}
		if w.n < n*100 {
			t.Fatalf("%s: %d bytes written for %d probers", f, w.n, n)
		}
		_, after := heap()
		return after - before
	}
	text, pb := expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeProtoDelim)

	live0, _ := heap()
	firstText := scrape(text)
	firstProto := scrape(pb)
	live1, _ := heap()
	warmText := scrape(text)
	warmProto := scrape(pb)
	retained := live1 - live0
	t.Logf("per prober: %.1f bytes retained; %.1f and %.1f allocated by the first text and protobuf scrapes, %.1f and %.1f by warm ones",
		float64(retained)/n, float64(firstText)/n, float64(firstProto)/n, float64(warmText)/n, float64(warmProto)/n)

	// The write buffer, and 16 KiB for whatever the runtime and testing
	// keep meanwhile: under 64 bytes per prober however few there are.
	const slack = 16 << 10
	if retained > wbufSize+slack {
		t.Errorf("a text and a protobuf scrape left %d bytes on the heap (%.1f per prober), want at most the %d-byte write buffer and %d",
			retained, float64(retained)/n, wbufSize, slack)
	}
	if firstText > wbufSize+slack || firstProto > slack {
		t.Errorf("the first text and protobuf scrapes allocated %d and %d bytes on the heap, want at most the write buffer and %d",
			firstText, firstProto, slack)
	}
	if warmText > n || warmProto > n {
		t.Errorf("warm text and protobuf scrapes allocated %d and %d bytes on the heap, want under 1 per prober", warmText, warmProto)
	}
}

// TestGzipScrapeKeepsItsCompressor checks that a gzip scrape, the kind
// Prometheus makes, reuses the compressor of the scrape before it across
// garbage collections: a new one is 1.2 MB of garbage each time, which at
// the exporter's GOGC of 10 brings the next collection closer.
func TestGzipScrapeKeepsItsCompressor(t *testing.T) {
	ts := syntheticTargets(20, false)
	c := newCollector(func() []target { return ts }, []string{"site"})
	h := NewHandler(HandlerOptions{Targets: func() *Collector { return c }})
	var ms runtime.MemStats
	// scrape serves one gzip scrape after two collections (which empty a
	// sync.Pool, victim cache included) and returns the bytes it
	// allocated and the body's length.
	scrape := func() (allocated uint64, body int) {
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.Header.Set("Accept-Encoding", "gzip")
		w := &countingResponse{header: http.Header{}}
		h.ServeHTTP(w, r)
		runtime.ReadMemStats(&ms)
		if got := w.header.Get("Content-Encoding"); got != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", got)
		}
		return ms.TotalAlloc - before, w.n
	}
	first, n := scrape()
	if n == 0 {
		t.Fatal("empty gzip body")
	}
	const limit = 256 << 10 // a compressor is 1.2 MB
	for i := range 3 {
		if again, _ := scrape(); again > limit {
			t.Errorf("gzip scrape %d after collections allocated %d bytes (the first %d), want under %d: a new compressor", i+2, again, first, limit)
		}
	}
}

// countingResponse is an http.ResponseWriter that counts the body's bytes
// and keeps none.
type countingResponse struct {
	countingWriter
	header http.Header
}

func (w *countingResponse) Header() http.Header { return w.header }
func (w *countingResponse) WriteHeader(int)     {}
