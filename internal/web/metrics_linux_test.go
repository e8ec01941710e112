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
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/collector"
	"github.com/tcpping/tcpping_exporter/internal/lowprio"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// niceRecorder records the nice value of the thread of each write.
type niceRecorder struct {
	*httptest.ResponseRecorder
	t     *testing.T
	nices map[int]int // nice value: bytes written at it
}

func (r *niceRecorder) Write(p []byte) (int, error) {
	r.nices[testenv.ThreadNice(r.t)] += len(p)
	return r.ResponseRecorder.Write(p)
}

// TestMetricsWrittenAtLowPriority checks that a /metrics body is made and
// written by a thread at the low priority of lowprio, in every streamed
// format, and that the handler's own thread keeps its priority.
func TestMetricsWrittenAtLowPriority(t *testing.T) {
	ps := stoppedProbers(t)
	c := collector.New(func() []*prober.Prober { return ps }, []string{"rack", "site"})
	h := newMetricsHandler(selfRegistry(), func() *collector.Collector { return c }, func() prometheus.Gatherer { return c }, nopLogger())
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := testenv.ThreadNice(t)
	for _, tt := range []struct{ accept, encoding string }{
		{prometheusAccept, ""},
		{prometheusAccept, "gzip"},
		{"application/openmetrics-text;version=1.0.0", ""},
		{string(expfmt.NewFormat(expfmt.TypeProtoDelim)), "gzip"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", tt.accept)
		if tt.encoding != "" {
			req.Header.Set("Accept-Encoding", tt.encoding)
		}
		rec := &niceRecorder{ResponseRecorder: httptest.NewRecorder(), t: t, nices: map[int]int{}}
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() < 500 {
			t.Fatalf("%s %s: status %d, %d bytes", tt.accept, tt.encoding, rec.Code, rec.Body.Len())
		}
		if n := rec.nices[lowprio.Nice]; n != rec.Body.Len() {
			t.Errorf("%s %s: %d of %d bytes written at nice %d (by nice: %v)", tt.accept, tt.encoding, n, rec.Body.Len(), lowprio.Nice, rec.nices)
		}
		if after := testenv.ThreadNice(t); after != before {
			t.Errorf("handler's thread at nice %d after the scrape, was %d", after, before)
		}
	}
}
