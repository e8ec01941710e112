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
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

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

// reference is what /metrics served before it streamed the text formats:
// promhttp over the registry and the Collector's Gather.
func reference(reg prometheus.Gatherer, c *Collector) http.Handler {
	return promhttp.HandlerFor(merge(func() prometheus.Gatherer { return reg }, func() prometheus.Gatherer { return c }),
		promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, EnableOpenMetrics: true})
}

// serve runs h on a 127.0.0.1 HTTP server until the test ends and returns
// its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// response is what get received.
type response struct {
	status int
	header http.Header
	body   []byte // decompressed if gzip
	raw    int    // the body's length on the wire
}

// get requests url with header, exactly: the client neither adds
// Accept-Encoding nor decompresses (get does, for gzip).
func get(t *testing.T, url string, header http.Header) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := fetch(ctx, url, header)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fetch is get for any goroutine, under ctx.
func fetch(ctx context.Context, url string, header http.Header) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{}, err
	}
	if header != nil {
		req.Header = header.Clone()
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: body, raw: len(body)}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return response{}, fmt.Errorf("%s: %w", url, err)
		}
		if r.body, err = io.ReadAll(zr); err != nil {
			return response{}, fmt.Errorf("%s: %w", url, err)
		}
	}
	return r, nil
}

// acceptHeader returns a request header of accept and encoding, each left
// out if empty.
func acceptHeader(accept, encoding string) http.Header {
	h := http.Header{}
	if accept != "" {
		h.Set("Accept", accept)
	}
	if encoding != "" {
		h.Set("Accept-Encoding", encoding)
	}
	return h
}

// TestHandlerMatchesPromhttp checks /metrics against what promhttp served
// before the text formats were streamed: the same status, body, format,
// encoding and Vary for every Accept, Accept-Encoding and name[] filter,
// streamed or served by promhttp.
func TestHandlerMatchesPromhttp(t *testing.T) {
	ps := stoppedProbers(t)
	c := New(func() []*prober.Prober { return ps }, []string{"rack", "site"})
	reg := selfRegistry()
	got := serve(t, NewHandler(HandlerOptions{Registry: reg, Targets: func() *Collector { return c }, MaxRequestsInFlight: 10}))
	want := serve(t, reference(reg, c))

	const filter = "?name[]=tcp_echo_rtt_seconds&name[]=tcp_echo_server_frames_total&name[]=tcp_echo_sent_total"
	tests := []struct {
		name, query, accept, encoding string
	}{
		{"no Accept", "", "", ""},
		{"text", "", "text/plain;version=0.0.4", ""},
		{"text gzip", "", "text/plain", "gzip"},
		{"Prometheus", "", prometheusAccept, "gzip"},
		{"OpenMetrics identity", "", "application/openmetrics-text;version=1.0.0", "gzip;q=0, identity"},
		{"OpenMetrics 0.0.1", "", "application/openmetrics-text;version=0.0.1", "identity;q=0.5, gzip"},
		{"UTF-8 names", "", "text/plain;version=0.0.4;escaping=allow-utf-8", ""},
		{"name filter", filter, prometheusAccept, ""},
		{"protobuf", "", protobufAccept, "gzip"},
		{"protobuf identity", "", protobufAccept, ""},
		{"Prometheus native histograms", "", prometheusNativeAccept, "gzip"},
		{"protobuf UTF-8 names", "", protobufAccept + ";escaping=allow-utf-8", "gzip"},
		{"protobuf name filter", filter, protobufAccept, ""},
		{"protobuf text", "", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", ""},
		{"protobuf text gzip", "", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", "gzip"},
		{"protobuf compact text name filter", filter,
			"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := acceptHeader(tt.accept, tt.encoding)
			g, w := get(t, got+"/metrics"+tt.query, header), get(t, want+"/metrics"+tt.query, header)
			if g.status != http.StatusOK || w.status != http.StatusOK {
				t.Fatalf("HTTP %d, promhttp %d: %s", g.status, w.status, g.body)
			}
			for _, k := range []string{"Content-Type", "Content-Encoding"} {
				if g.header.Get(k) != w.header.Get(k) {
					t.Errorf("%s %q, want %q", k, g.header.Get(k), w.header.Get(k))
				}
			}
			if !slices.Equal(g.header.Values("Vary"), w.header.Values("Vary")) {
				t.Errorf("Vary %q, want %q", g.header.Values("Vary"), w.header.Values("Vary"))
			}
			if !bytes.Equal(g.body, w.body) {
				t.Errorf("body differs from promhttp's at %s", firstDiff(g.body, w.body))
			}
			if f := expfmt.Format(g.header.Get("Content-Type")); f.FormatType() == expfmt.TypeProtoDelim {
				checkProtobuf(t, g.body, w.body, f)
			}
			if len(g.body) < 500 {
				t.Errorf("body of %d bytes: %q", len(g.body), g.body)
			}
		})
	}

	t.Run("protobuf carries native histograms", func(t *testing.T) {
		format := expfmt.NewFormat(expfmt.TypeProtoDelim)
		r := get(t, got+"/metrics", http.Header{"Accept": {string(format)}})
		native := 0
		for _, mf := range testenv.DecodeExposition(t, r.body, format) {
			if mf.GetName() != "tcp_echo_rtt_seconds" {
				continue
			}
			for _, m := range mf.GetMetric() {
				h := m.GetHistogram()
				if len(h.GetPositiveSpan()) > 0 && len(h.GetBucket()) > 0 && h.GetZeroThreshold() == prober.NativeZeroThreshold {
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

// TestHandlerNameFilter checks that name[] keeps exactly the families it
// names, of the targets and of the registry, in every streamed format.
func TestHandlerNameFilter(t *testing.T) {
	ts := syntheticTargets(4, false)
	c := newCollector(func() []target { return ts }, []string{"site"})
	url := serve(t, NewHandler(HandlerOptions{Registry: selfRegistry(), Targets: func() *Collector { return c }}))
	want := []string{"tcp_echo_connected", "tcp_echo_rtt_seconds", "tcpping_exporter_probers"}
	query := "/metrics?name[]=tcp_echo_rtt_seconds&name[]=tcpping_exporter_probers&name[]=no_such_family&name[]=tcp_echo_connected"
	for _, f := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0, expfmt.NewFormat(expfmt.TypeProtoDelim)} {
		r := get(t, url+query, acceptHeader(string(f), "gzip"))
		var names []string
		for _, mf := range testenv.DecodeExposition(t, r.body, f) {
			names = append(names, mf.GetName())
			if strings.HasPrefix(mf.GetName(), "tcp_echo_") && len(mf.GetMetric()) != len(ts) {
				t.Errorf("%s: %s has %d series, want %d", f, mf.GetName(), len(mf.GetMetric()), len(ts))
			}
		}
		slices.Sort(names) // the text format's parser returns them in no order
		if !slices.Equal(names, want) {
			t.Errorf("%s: families %v, want %v", f, names, want)
		}
	}
}

// TestHandlerWithoutTargets serves the self-metrics before the first
// config is loaded, in every format.
func TestHandlerWithoutTargets(t *testing.T) {
	url := serve(t, NewHandler(HandlerOptions{Registry: selfRegistry(), Targets: func() *Collector { return nil }}))
	for _, accept := range []string{"", prometheusAccept, protobufAccept,
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"} {
		r := get(t, url+"/metrics", http.Header{"Accept": {accept}})
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte("tcpping_exporter_probers")) ||
			bytes.Contains(r.body, []byte("tcp_echo_sent_total")) {
			t.Errorf("Accept %q: HTTP %d, want the self-metrics alone in %q", accept, r.status, r.body)
		}
	}
}

// blockingGatherer gathers its registry once release is closed, reporting
// each Gather on entered first.
type blockingGatherer struct {
	reg              prometheus.Gatherer
	entered, release chan struct{}
}

func (g blockingGatherer) Gather() ([]*dto.MetricFamily, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.reg.Gather()
}

// TestHandlerLimitsConcurrentScrapes holds MaxRequestsInFlight scrapes in
// their Gather and checks that one more, in a streamed format or in one
// promhttp serves, is answered 503 exactly as promhttp answers it at the
// same limit, and that a scrape after they end is served.
func TestHandlerLimitsConcurrentScrapes(t *testing.T) {
	const limit = 3
	handlers := []struct {
		name string
		new  func(g prometheus.Gatherer) http.Handler
	}{
		{"handler", func(g prometheus.Gatherer) http.Handler {
			return NewHandler(HandlerOptions{Registry: g, MaxRequestsInFlight: limit})
		}},
		{"promhttp", func(g prometheus.Gatherer) http.Handler {
			return promhttp.HandlerFor(g, promhttp.HandlerOpts{MaxRequestsInFlight: limit})
		}},
	}
	rejected := map[string][]response{}
	for _, hh := range handlers {
		g := blockingGatherer{reg: selfRegistry(), entered: make(chan struct{}, 100), release: make(chan struct{})}
		url := serve(t, hh.new(g))
		release := sync.OnceFunc(func() { close(g.release) })
		t.Cleanup(release) // before the server's Close, which waits for the scrapes
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		type result struct {
			status int
			err    error
		}
		done := make(chan result, limit)
		for range limit {
			go func() {
				r, err := fetch(ctx, url+"/metrics", nil)
				done <- result{r.status, err}
			}()
		}
		for range limit {
			select {
			case <-g.entered:
			case <-ctx.Done():
				t.Fatalf("%s: fewer than %d scrapes reached Gather", hh.name, limit)
			}
		}
		for _, accept := range []string{prometheusAccept, protobufAccept,
			"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"} {
			// A scrape past the limit that is not rejected waits in
			// Gather: give up on it before long.
			over, cancelOver := context.WithTimeout(ctx, 2*time.Second)
			r, err := fetch(over, url+"/metrics", acceptHeader(accept, "gzip"))
			cancelOver()
			if err != nil {
				t.Fatalf("%s: a scrape past the limit: %v", hh.name, err)
			}
			rejected[hh.name] = append(rejected[hh.name], r)
		}
		release()
		for range limit {
			if r := <-done; r.err != nil || r.status != http.StatusOK {
				t.Errorf("%s: a scrape within the limit got HTTP %d (%v)", hh.name, r.status, r.err)
			}
		}
		if r := get(t, url+"/metrics", nil); r.status != http.StatusOK {
			t.Errorf("%s: HTTP %d after the scrapes in flight ended", hh.name, r.status)
		}
	}
	for i, r := range rejected["handler"] {
		w := rejected["promhttp"][i]
		if r.status != http.StatusServiceUnavailable || r.status != w.status || !bytes.Equal(r.body, w.body) ||
			r.header.Get("Content-Type") != w.header.Get("Content-Type") {
			t.Errorf("over the limit: HTTP %d %q (%s), want as promhttp: HTTP %d %q (%s)",
				r.status, r.body, r.header.Get("Content-Type"), w.status, w.body, w.header.Get("Content-Type"))
		}
	}
	if len(rejected["promhttp"]) > 0 && !strings.Contains(string(rejected["promhttp"][0].body), "(3)") {
		t.Errorf("promhttp's answer %q does not name the limit", rejected["promhttp"][0].body)
	}
}

// failingCollector is a self-metric whose Collect fails.
type failingCollector struct{ desc *prometheus.Desc }

func (c failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(c.desc, errors.New("sensor unreachable"))
}

// TestHandlerContinuesOnGatherError checks that a failing self-metric is
// logged and the rest served, as promhttp.ContinueOnError does, in a
// streamed format and in one promhttp serves.
func TestHandlerContinuesOnGatherError(t *testing.T) {
	reg := selfRegistry()
	reg.MustRegister(failingCollector{prometheus.NewDesc("tcpping_exporter_sensor", "A sensor.", nil, nil)})
	ts := syntheticTargets(5, false)
	c := newCollector(func() []target { return ts }, []string{"site"})
	var logs testenv.Buffer
	got := serve(t, NewHandler(HandlerOptions{Registry: reg, Targets: func() *Collector { return c }, Logger: log.NewLogfmtLogger(&logs)}))
	want := serve(t, reference(reg, c))
	for _, accept := range []string{prometheusAccept, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"} {
		g, w := get(t, got+"/metrics", acceptHeader(accept, "")), get(t, want+"/metrics", acceptHeader(accept, ""))
		if g.status != http.StatusOK || !bytes.Equal(g.body, w.body) || !bytes.Contains(g.body, []byte("tcp_echo_sent_total")) {
			t.Errorf("Accept %q: HTTP %d, body differs from promhttp's at %s", accept, g.status, firstDiff(g.body, w.body))
		}
	}
	if n := strings.Count(logs.String(), "sensor unreachable"); n != 2 || !strings.Contains(logs.String(), "level=error") {
		t.Errorf("%d logged errors naming the failure, want 2 at level error:\n%s", n, logs.String())
	}
}
