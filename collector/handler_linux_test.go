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
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/internal/lowprio"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// niceWriter records the nice value of the thread of each write to the
// response.
type niceWriter struct {
	http.ResponseWriter
	t     *testing.T
	nices map[int]int // nice value: bytes written at it
	n     int
}

func (w *niceWriter) Write(p []byte) (int, error) {
	w.nices[testenv.ThreadNice(w.t)] += len(p)
	w.n += len(p)
	return w.ResponseWriter.Write(p)
}

// TestHandlerWritesAtLowPriority checks, over HTTP, that a /metrics body
// is made and written by a thread at the low priority of lowprio, in every
// streamed format with and without gzip, and that the thread serving the
// request keeps its priority.
func TestHandlerWritesAtLowPriority(t *testing.T) {
	ps := stoppedProbers(t)
	c := New(func() []*prober.Prober { return ps }, []string{"rack", "site"})
	h := NewHandler(HandlerOptions{Registry: selfRegistry(), Targets: func() *Collector { return c }})
	type scrape struct {
		before, after int
		w             *niceWriter
	}
	scrapes := make(chan scrape, 1)
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		s := scrape{before: testenv.ThreadNice(t), w: &niceWriter{ResponseWriter: w, t: t, nices: map[int]int{}}}
		h.ServeHTTP(s.w, r)
		s.after = testenv.ThreadNice(t)
		scrapes <- s
	}))
	for _, tt := range []struct{ accept, encoding string }{
		{prometheusAccept, ""},
		{prometheusAccept, "gzip"},
		{"application/openmetrics-text;version=1.0.0", ""},
		{string(expfmt.NewFormat(expfmt.TypeProtoDelim)), ""},
		{string(expfmt.NewFormat(expfmt.TypeProtoDelim)), "gzip"},
	} {
		r := get(t, url+"/metrics", acceptHeader(tt.accept, tt.encoding))
		var s scrape
		select {
		case s = <-scrapes:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: the handler did not return", tt.accept, tt.encoding)
		}
		if r.status != http.StatusOK || len(r.body) < 500 || s.w.n != r.raw {
			t.Fatalf("%s %s: HTTP %d, %d bytes received of %d written", tt.accept, tt.encoding, r.status, r.raw, s.w.n)
		}
		if n := s.w.nices[lowprio.Nice]; n != s.w.n {
			t.Errorf("%s %s: %d of %d bytes written at nice %d (by nice: %v)", tt.accept, tt.encoding, n, s.w.n, lowprio.Nice, s.w.nices)
		}
		if s.after != s.before || s.before == lowprio.Nice {
			t.Errorf("%s %s: the request's thread at nice %d, then %d after the scrape", tt.accept, tt.encoding, s.before, s.after)
		}
	}
}
