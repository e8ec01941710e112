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
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/offheap"
	"github.com/tcpping/tcpping_exporter/prober"
)

// benchProbers returns n probers labelled like a real fleet (one extra
// label), created and never started.
//
// Their histograms are empty: the prober package has no way to record an
// RTT without a connection, so the native histogram here is one empty span
// where a live prober has tens of buckets. The text and protobuf sizes and
// times are therefore a lower bound (see bench/README.md).
func benchProbers(n int) []*prober.Prober {
	m := config.DefaultModule()
	ps := make([]*prober.Prober, n)
	for i := range ps {
		ps[i] = prober.New(prober.Options{
			Name:       fmt.Sprintf("host-%05d", i),
			Address:    fmt.Sprintf("10.%d.%d.%d:4000", i>>16&255, i>>8&255, i&255),
			ModuleName: "default",
			Module:     m,
			Labels:     map[string]string{"site": fmt.Sprintf("site-%d", i%20)},
		}, nil)
	}
	return ps
}

// BenchmarkCollect10000 measures one /metrics scrape of 10 000 static
// targets, two ways: "registry" registers the Collector on a
// prometheus.Registry (Collect, then the Registry's validation and
// sorting), "direct" calls the Collector's own Gather, as /metrics does
// through merge. For each, "gather" stops after gathering; "text" and
// "protobuf" add the encoding of that exposition format, as promhttp does
// it, and report its size per scrape.
func BenchmarkCollect10000(b *testing.B) {
	ps := benchProbers(10000)
	c := New(func() []*prober.Prober { return ps }, []string{"site"})
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	for _, g := range []struct {
		name     string
		gatherer prometheus.Gatherer
	}{
		{"registry", reg},
		{"direct", c},
	} {
		b.Run(g.name+"/gather", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.gatherer.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, f := range []struct {
			name   string
			format expfmt.Format
		}{
			{"text", expfmt.NewFormat(expfmt.TypeTextPlain)},
			{"protobuf", expfmt.NewFormat(expfmt.TypeProtoDelim)},
		} {
			b.Run(g.name+"/"+f.name, func(b *testing.B) {
				var buf bytes.Buffer
				b.ReportAllocs()
				for b.Loop() {
					buf.Reset()
					mfs, err := g.gatherer.Gather()
					if err != nil {
						b.Fatal(err)
					}
					if err := encodeFamilies(&buf, f.format, mfs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len()), "bytes/scrape")
			})
		}
	}
}

// benchTargets returns n synthetic probers of the default module with
// populated classic and native histograms and one extra label, as a real
// fleet's are after a while (benchProbers' cannot be populated).
func benchTargets(n int) []target {
	m := config.DefaultModule()
	ts := make([]target, n)
	for i := range ts {
		counts := make([]uint64, len(m.Buckets)+1)
		var count uint64
		for j := range counts {
			counts[j] = uint64((i*7 + j*13) % 500)
			count += counts[j]
		}
		native := make([]uint64, 40)
		for j := range native {
			native[j] = uint64((i + j) % 9)
		}
		ts[i] = &fakeTarget{
			opts: prober.Options{
				Name:       fmt.Sprintf("host-%05d", i),
				Address:    fmt.Sprintf("10.%d.%d.%d:4000", i>>16&255, i>>8&255, i&255),
				ModuleName: "default",
				Labels:     map[string]string{"site": fmt.Sprintf("site-%d", i%20)},
			},
			snap: prober.Snapshot{
				Sent: 86400 + uint64(i), Received: 86390, Timeouts: 10 + uint64(i%3), Late: 2, Dropped: 1,
				Connected: true, LastRTT: 123456 * time.Nanosecond, SRTT: 118765 * time.Nanosecond,
				Timeout: 200 * time.Millisecond, ConnectDuration: 97531 * time.Nanosecond,
				Histogram: prober.HistogramSnapshot{
					Count: count, Sum: float64(count) * 0.000119, UpperBounds: m.Buckets, Counts: counts,
					Native: true, Schema: 3, ZeroThreshold: prober.NativeZeroThreshold, NativeOffset: -110, NativeCounts: native,
				},
				Started: time.Unix(1767225600, 0),
			},
		}
	}
	return ts
}

// countingWriter counts bytes and hides bytes.Buffer's extra methods from
// expfmt, as an http.ResponseWriter does.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkExposition10000 compares, for one /metrics scrape of 10 000
// static targets with populated histograms, the dto path ("expfmt": Gather,
// then expfmt's encoder, as promhttp serves it) with the streaming writer
// ("stream": writeExposition), in the text, OpenMetrics and delimited
// protobuf formats, into a plain io.Writer as the HTTP response is. The
// "stream/…-gzip-…" ones add gzip, at the level /metrics uses (BestSpeed)
// and at promhttp's (default).
func BenchmarkExposition10000(b *testing.B) {
	ts := benchTargets(10000)
	c := newCollector(func() []target { return ts }, []string{"site"})
	for _, f := range []struct {
		name   string
		format expfmt.Format
	}{
		{"text", expfmt.FmtText},
		{"openmetrics", expfmt.FmtOpenMetrics_1_0_0},
		{"protobuf", expfmt.NewFormat(expfmt.TypeProtoDelim)},
	} {
		b.Run("expfmt/"+f.name, func(b *testing.B) {
			var w countingWriter
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				mfs, err := c.Gather()
				if err != nil {
					b.Fatal(err)
				}
				if err := encodeFamilies(&w, f.format, mfs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.n), "bytes/scrape")
		})
		b.Run("stream/"+f.name, func(b *testing.B) {
			var w countingWriter
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				if err := writeExposition(&w, f.format, nil, c, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.n), "bytes/scrape")
		})
	}
	for _, g := range []struct {
		name   string
		format expfmt.Format
		level  int
	}{
		{"text-gzip-bestspeed", expfmt.FmtText, gzip.BestSpeed},
		{"text-gzip-default", expfmt.FmtText, gzip.DefaultCompression},
		{"protobuf-gzip-bestspeed", expfmt.NewFormat(expfmt.TypeProtoDelim), gzip.BestSpeed},
	} {
		b.Run("stream/"+g.name, func(b *testing.B) {
			var w countingWriter
			gz, _ := gzip.NewWriterLevel(&w, g.level)
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				gz.Reset(&w)
				if err := writeExposition(gz, g.format, nil, c, nil); err != nil {
					b.Fatal(err)
				}
				_ = gz.Close()
			}
			b.ReportMetric(float64(w.n), "bytes/scrape")
		})
	}
}

// BenchmarkLabels10000 measures what a scrape of 10 000 probers spends
// encoding their labels, which it does at every scrape rather than keep
// them (see scrape): compare with BenchmarkExposition10000/stream.
func BenchmarkLabels10000(b *testing.B) {
	ts := benchTargets(10000)
	c := newCollector(func() []target { return ts }, []string{"site"})
	for _, proto := range []bool{false, true} {
		name := "text"
		if proto {
			name = "protobuf"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var m offheap.Arena
				lbl := offheap.Make[byte](&m, len(ts)*labelsPerProber)[:0]
				for _, t := range ts {
					o := t.Options()
					if proto {
						lbl = c.appendLabelProto(&m, lbl, &o)
					} else {
						lbl = c.appendLabelText(&m, lbl, &o)
					}
				}
				m.Free()
			}
		})
	}
}
