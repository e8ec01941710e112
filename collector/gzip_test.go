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
	"testing"
)

// TestHandlerGzipNegotiation checks the Accept-Encoding negotiation, q
// values included, against promhttp's, in a streamed format and in one
// promhttp serves, and that a gzip body is smaller than it decompresses
// to.
func TestHandlerGzipNegotiation(t *testing.T) {
	reg := selfRegistry()
	ts := syntheticTargets(20, false)
	c := newCollector(func() []target { return ts }, []string{"site"})
	got := serve(t, NewHandler(HandlerOptions{Registry: reg, Targets: func() *Collector { return c }}))
	want := serve(t, reference(reg, c))
	for _, accept := range []string{prometheusAccept, "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"} {
		for _, ae := range []string{
			"", "gzip", "identity", "*", "gzip;q=0", "gzip, identity", "identity, gzip", "gzip;q=1, identity;q=0.5",
			"deflate, gzip", "br", "gzip;q=0.8, *;q=0.1", "*;q=0", "gzip;q=0.5, identity;q=0.7", "x-gzip",
			"gzip;q=0.7, identity;q=0.7", "gzip;q=2", "gzip;level=1", " GZIP ", "identity;q=0, gzip;q=0.001",
		} {
			g, w := get(t, got+"/metrics", acceptHeader(accept, ae)), get(t, want+"/metrics", acceptHeader(accept, ae))
			gz := g.header.Get("Content-Encoding") == "gzip"
			if wgz := w.header.Get("Content-Encoding") == "gzip"; gz != wgz {
				t.Errorf("Accept-Encoding %q: gzip %v, want %v as promhttp", ae, gz, wgz)
			}
			if !bytes.Equal(g.body, w.body) {
				t.Errorf("Accept-Encoding %q: body differs from promhttp's at %s", ae, firstDiff(g.body, w.body))
			}
			if gz && g.raw >= len(g.body) {
				t.Errorf("Accept-Encoding %q: %d bytes of gzip for %d", ae, g.raw, len(g.body))
			}
		}
	}
}
