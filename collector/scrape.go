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
	"time"

	"github.com/tcpping/tcpping_exporter/prober"
)

// scrape is one exposition's packed copy of the static probers' snapshots:
// every value WriteExposition writes, and each prober's cached label text.
// Every prober is snapshotted once, before anything is written, so all
// families of a scrape agree (sent == received + timeouts + in_flight).
// Snapshots are dropped as soon as they are packed: a text scrape holds
// about 300 bytes per prober, a protobuf one about 100 more for the native
// buckets, which its Collector reuses for the next scrape.
type scrape struct {
	n     int
	proto bool            // packed for the protobuf format
	vals  []float64       // scalars[k] of prober i at k*n+i
	hists []histRow       // RTT histogram of prober i
	cum   []uint64        // cumulative classic bucket counts of all probers
	les   leCache         // kept across scrapes
	buf   []byte          // the expoWriter's buffer
	snap  prober.Snapshot // reused for every prober, slices and all
	// labels is prober i's label text, or in protobuf its encoded label
	// pairs (labelProto).
	labels [][]byte
	// Protobuf only: the encoded created timestamp of prober i, the
	// snapshots' start times until the label cache has them, and the
	// native histogram fields of all probers (packProto).
	created [][]byte
	started []time.Time
	nat     []byte
	sizes   [3]int // metricsSize by family kind, -1 until added up
}

// histRow is one prober's RTT histogram: its classic buckets, and for
// protobuf where its native fields are packed.
type histRow struct {
	bounds []float64 // the module's bucket bounds (immutable)
	off    int       // where the prober's cumulative counts start in cum
	count  uint64
	sum    float64
	// Protobuf only: the native fields are nat[nat0:nat1] of the scrape,
	// and the Histogram message is size bytes without its created
	// timestamp.
	nat0, nat1, size int
}

// resize returns s with length n, reusing its array if it is big enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// prepare snapshots every static prober into a scrape for the text
// formats or, if proto, for protobuf.
func (c *Collector) prepare(proto bool) *scrape {
	ts := c.targets()
	sc := c.spare.Swap(nil)
	if sc == nil {
		sc = &scrape{buf: make([]byte, 0, flushAt+flushAt/8)}
	}
	n := len(ts)
	sc.n, sc.proto = n, proto
	sc.labels = resize(sc.labels, n)
	sc.vals = resize(sc.vals, n*len(scalars))
	sc.hists = resize(sc.hists, n)
	sc.cum = sc.cum[:0]
	sc.nat = sc.nat[:0]
	sc.sizes = [...]int{-1, -1, -1}
	if proto {
		sc.created = resize(sc.created, n)
		sc.started = resize(sc.started, n)
	}
	s := &sc.snap
	for i, t := range ts {
		if i%512 == 511 {
			yield()
		}
		t.SnapshotInto(s)
		for k := range scalars {
			sc.vals[k*n+i] = scalars[k].value(s)
		}
		h := &s.Histogram
		row := &sc.hists[i]
		*row = histRow{bounds: h.UpperBounds, off: len(sc.cum), count: h.Count, sum: h.Sum}
		var cum uint64
		for j := range h.UpperBounds {
			if j < len(h.Counts) {
				cum += h.Counts[j]
			}
			sc.cum = append(sc.cum, cum)
		}
		if proto {
			sc.packProto(row, h)
			sc.started[i] = s.Started
		}
	}
	c.cachedLabels(ts, func(i int, e *proberLabels) {
		if !proto {
			if e.text == nil {
				e.text = c.labelText(ts[i])
			}
			sc.labels[i] = e.text
			return
		}
		if e.proto == nil {
			// Gather's created timestamp is that of its first
			// snapshot too: a prober's start time never changes.
			e.proto, e.protoCreated = c.labelProto(ts[i]), appendTimestamp(nil, sc.started[i])
		}
		sc.labels[i], sc.created[i] = e.proto, e.protoCreated
	})
	return sc
}

// release returns sc for reuse, without its references to probers' labels.
func (c *Collector) release(sc *scrape) {
	clear(sc.labels)
	clear(sc.hists)
	clear(sc.created)
	clear(sc.started)
	c.spare.Store(sc)
}

// writeFamily writes one family, stopping at w's first error.
func (sc *scrape) writeFamily(w *expoWriter, f *family, om bool) {
	if om {
		w.buf = append(w.buf, f.header[fmtOpenMetrics]...)
	} else {
		w.buf = append(w.buf, f.header[fmtText]...)
	}
	if f.scalar < 0 {
		sc.writeHistograms(w, f, om)
		return
	}
	for i, v := range sc.vals[f.scalar*sc.n : (f.scalar+1)*sc.n] {
		b := append(w.buf, f.name...)
		b = append(b, sc.labels[i]...)
		b = append(b, '}', ' ')
		b = appendFloat(b, v, om)
		w.buf = append(b, '\n')
		if len(w.buf) >= flushAt {
			if w.flush(); w.err != nil {
				return
			}
		}
	}
}

// writeHistograms writes the RTT histograms' samples as expfmt does:
// the buckets, +Inf last, then _sum and _count.
func (sc *scrape) writeHistograms(w *expoWriter, f *family, om bool) {
	for i := range sc.hists[:sc.n] {
		h := &sc.hists[i]
		les := sc.les.get(h.bounds, om)
		lbl := sc.labels[i]
		b := w.buf
		for j, c := range sc.cum[h.off : h.off+len(h.bounds)] {
			b = append(b, f.bucket...)
			b = append(b, lbl...)
			b = append(b, les.le[j]...)
			b = appendCount(b, c, om)
			b = append(b, '\n')
		}
		if !les.infSeen {
			b = append(b, f.bucket...)
			b = append(b, lbl...)
			b = append(b, les.inf...)
			b = appendCount(b, h.count, om)
			b = append(b, '\n')
		}
		b = append(b, f.sum...)
		b = append(b, lbl...)
		b = append(b, '}', ' ')
		b = appendFloat(b, h.sum, om)
		b = append(b, '\n')
		b = append(b, f.count...)
		b = append(b, lbl...)
		b = append(b, '}', ' ')
		b = appendCount(b, h.count, om)
		w.buf = append(b, '\n')
		if len(w.buf) >= flushAt {
			if w.flush(); w.err != nil {
				return
			}
		}
	}
}
