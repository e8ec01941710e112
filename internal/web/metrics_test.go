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
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/tcpping/tcpping_exporter/collector"
	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// prometheusAccept is the Accept header of Prometheus 2.42 and later.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," +
	"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// protobufAccept asks for delimited protobuf only.
const protobufAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"

// prometheusNativeAccept is the Accept header of Prometheus scraping
// native histograms: protobuf first.
const prometheusNativeAccept = protobufAccept + ";q=0.5,application/openmetrics-text;version=1.0.0;q=0.4," +
	"application/openmetrics-text;version=0.0.1;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

// stoppedProbers runs probers of two modules, with label values that need
// escaping, against an echo server until each has replies in its
// histogram, then stops them so that their counters hold still.
func stoppedProbers(t *testing.T) []*prober.Prober {
	t.Helper()
	addr := testenv.EchoServer(t)
	fast := config.DefaultModule()
	fast.Interval = config.Duration(10 * time.Millisecond)
	fast.IPProtocol = "ip4"
	short := fast
	short.Buckets = []float64{0.001, 0.01, 1}
	short.NativeHistogramBucketFactor = 0
	var ps []*prober.Prober
	for _, o := range []prober.Options{
		{Name: "alpha", ModuleName: "default", Module: fast, Labels: map[string]string{"site": `quo"te\back` + "\nslash"}},
		{Name: "<b>beta</b>", ModuleName: "short", Module: short, Labels: map[string]string{"rack": "Zürich 東京"}},
		{Name: "gamma", ModuleName: "default", Module: fast},
	} {
		o.Address, o.NoSplay = addr, true
		p := prober.New(o, nil)
		p.Start(context.Background())
		t.Cleanup(p.Stop)
		ps = append(ps, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range ps {
		for p.Snapshot().Histogram.Count < 3 {
			if ctx.Err() != nil {
				t.Fatalf("%s: no replies", p.Options().Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, p := range ps {
		p.Stop()
	}
	return ps
}

// selfRegistry is a registry of self-metrics whose values hold still,
// with names that sort among the targets'.
func selfRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	frames := prometheus.NewCounter(prometheus.CounterOpts{Name: "tcp_echo_server_frames_total", Help: "Frames echoed."})
	frames.Add(42)
	reg.MustRegister(frames, collector.NewProberCount(func() (int, int) { return 3, 1 }))
	return reg
}

// serveMetrics returns the response of h to a GET of target with header,
// decompressed if gzip.
func serveMetrics(t *testing.T, h http.Handler, target string, header http.Header) (http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header = header
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", target, rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Header(), body
}

// TestMetricsHandlerMatchesPromhttp checks /metrics against what promhttp
// served before the text formats were streamed: the same body, format and
// encoding for every Accept and Accept-Encoding.
func TestMetricsHandlerMatchesPromhttp(t *testing.T) {
	ps := stoppedProbers(t)
	c := collector.New(func() []*prober.Prober { return ps }, []string{"rack", "site"})
	reg := selfRegistry()
	h := newMetricsHandler(reg, func() *collector.Collector { return c }, func() prometheus.Gatherer { return c }, nopLogger())
	want := promhttp.HandlerFor(collector.Merge(func() prometheus.Gatherer { return reg }, func() prometheus.Gatherer { return c }),
		promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true})

	tests := []struct {
		name, target, accept, encoding string
	}{
		{"no Accept", "/metrics", "", ""},
		{"text", "/metrics", "text/plain;version=0.0.4", ""},
		{"text gzip", "/metrics", "text/plain", "gzip"},
		{"Prometheus", "/metrics", prometheusAccept, "gzip"},
		{"OpenMetrics identity", "/metrics", "application/openmetrics-text;version=1.0.0", "gzip;q=0, identity"},
		{"UTF-8 names", "/metrics", "text/plain;version=0.0.4;escaping=allow-utf-8", ""},
		{"name filter", "/metrics?name[]=tcp_echo_rtt_seconds&name[]=tcp_echo_server_frames_total&name[]=tcp_echo_sent_total", prometheusAccept, ""},
		{"protobuf", "/metrics", protobufAccept, "gzip"},
		{"protobuf identity", "/metrics", protobufAccept, ""},
		{"Prometheus native histograms", "/metrics", prometheusNativeAccept, "gzip"},
		{"protobuf UTF-8 names", "/metrics", protobufAccept + ";escaping=allow-utf-8", "gzip"},
		{"protobuf name filter", "/metrics?name[]=tcp_echo_rtt_seconds&name[]=tcp_echo_server_frames_total&name[]=tcp_echo_sent_total", protobufAccept, ""},
		{"protobuf text", "/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.accept != "" {
				header.Set("Accept", tt.accept)
			}
			if tt.encoding != "" {
				header.Set("Accept-Encoding", tt.encoding)
			}
			gotH, got := serveMetrics(t, h, tt.target, header)
			wantH, wantBody := serveMetrics(t, want, tt.target, header)
			for _, k := range []string{"Content-Type", "Content-Encoding"} {
				if gotH.Get(k) != wantH.Get(k) {
					t.Errorf("%s %q, want %q", k, gotH.Get(k), wantH.Get(k))
				}
			}
			if !slices.Equal(gotH.Values("Vary"), wantH.Values("Vary")) {
				t.Errorf("Vary %q, want %q", gotH.Values("Vary"), wantH.Values("Vary"))
			}
			if !bytes.Equal(got, wantBody) {
				t.Errorf("body differs from promhttp's.\ngot:\n%q\nwant:\n%q", got, wantBody)
			}
			if f := expfmt.Format(gotH.Get("Content-Type")); f.FormatType() == expfmt.TypeProtoDelim {
				checkProtobuf(t, got, wantBody, f)
			}
			if len(got) < 500 {
				t.Errorf("body of %d bytes: %q", len(got), got)
			}
		})
	}

	t.Run("protobuf carries native histograms", func(t *testing.T) {
		format := expfmt.NewFormat(expfmt.TypeProtoDelim)
		_, body := serveMetrics(t, h, "/metrics", http.Header{"Accept": {string(format)}})
		native := 0
		for _, mf := range testenv.DecodeExposition(t, body, format) {
			if mf.GetName() != "tcp_echo_rtt_seconds" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if hist := m.GetHistogram(); len(hist.GetPositiveSpan()) > 0 && len(hist.GetBucket()) > 0 {
					native++
				}
			}
		}
		if native != 2 { // the short module has no native buckets
			t.Errorf("%d histograms with classic and native buckets, want 2", native)
		}
	})
}

// checkProtobuf decodes two delimited protobuf bodies and requires the
// same messages.
func checkProtobuf(t *testing.T, got, want []byte, f expfmt.Format) {
	t.Helper()
	g, w := testenv.DecodeExposition(t, got, f), testenv.DecodeExposition(t, want, f)
	if len(g) != len(w) {
		t.Fatalf("%d families, want %d", len(g), len(w))
	}
	for i := range g {
		if !proto.Equal(g[i], w[i]) {
			t.Errorf("family %s differs from promhttp's:\ngot  %v\nwant %v", w[i].GetName(), g[i], w[i])
		}
	}
}

// TestMetricsHandlerWithoutTargets serves the self-metrics before the
// first config is loaded, in every format.
func TestMetricsHandlerWithoutTargets(t *testing.T) {
	h := newMetricsHandler(selfRegistry(), func() *collector.Collector { return nil }, func() prometheus.Gatherer { return nil }, nopLogger())
	for _, accept := range []string{"", prometheusAccept, string(expfmt.NewFormat(expfmt.TypeProtoDelim))} {
		_, body := serveMetrics(t, h, "/metrics", http.Header{"Accept": {accept}})
		if !bytes.Contains(body, []byte("tcpping_exporter_probers")) {
			t.Errorf("Accept %q: no self-metrics in %q", accept, body)
		}
	}
}

// TestAcceptsGzip checks the Accept-Encoding negotiation against
// promhttp's.
func TestAcceptsGzip(t *testing.T) {
	ref := promhttp.HandlerFor(selfRegistry(), promhttp.HandlerOpts{})
	for _, ae := range []string{
		"", "gzip", "identity", "*", "gzip;q=0", "gzip, identity", "identity, gzip", "gzip;q=1, identity;q=0.5",
		"deflate, gzip", "br", "gzip;q=0.8, *;q=0.1", "*;q=0", "gzip;q=0.5, identity;q=0.7", "x-gzip",
	} {
		header := http.Header{"Accept-Encoding": {ae}}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header = header
		rec := httptest.NewRecorder()
		ref.ServeHTTP(rec, req)
		if want := rec.Header().Get("Content-Encoding") == "gzip"; acceptsGzip(header) != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v as promhttp", ae, !want, want)
		}
	}
}
