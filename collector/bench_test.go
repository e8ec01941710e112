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
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/config"
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
// through Merge. For each, "gather" stops after gathering; "text" and
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
					enc := expfmt.NewEncoder(&buf, f.format)
					for _, mf := range mfs {
						if err := enc.Encode(mf); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(buf.Len()), "bytes/scrape")
			})
		}
	}
}
