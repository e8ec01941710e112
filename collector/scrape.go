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

import "github.com/tcpping/tcpping_exporter/prober"

// scrape is one exposition's packed copy of the static probers' snapshots:
// every value WriteExposition writes, and each prober's cached label text.
// Every prober is snapshotted once, before anything is written, so all
// families of a scrape agree (sent == received + timeouts + in_flight).
// Snapshots are dropped as soon as they are packed: a scrape holds about
// 300 bytes per prober, which its Collector reuses for the next one.
type scrape struct {
	n      int
	labels [][]byte        // label text of prober i
	vals   []float64       // scalars[k] of prober i at k*n+i
	hists  []histRow       // RTT histogram of prober i
	cum    []uint64        // cumulative classic bucket counts of all probers
	les    leCache         // kept across scrapes
	buf    []byte          // the expoWriter's buffer
	snap   prober.Snapshot // reused for every prober, slices and all
}

// histRow is one prober's RTT histogram: its classic buckets only, since
// neither text format carries native ones.
type histRow struct {
	bounds []float64 // the module's bucket bounds (immutable)
	off    int       // where the prober's cumulative counts start in cum
	count  uint64
	sum    float64
}

// resize returns s with length n, reusing its array if it is big enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// prepare snapshots every static prober into a scrape.
func (c *Collector) prepare() *scrape {
	ts := c.targets()
	sc, _ := c.scrapes.Get().(*scrape)
	if sc == nil {
		sc = &scrape{buf: make([]byte, 0, flushAt+flushAt/8)}
	}
	n := len(ts)
	sc.n = n
	sc.labels = resize(sc.labels, n)
	sc.vals = resize(sc.vals, n*len(scalars))
	sc.hists = resize(sc.hists, n)
	sc.cum = sc.cum[:0]
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
		sc.hists[i] = histRow{bounds: h.UpperBounds, off: len(sc.cum), count: h.Count, sum: h.Sum}
		var cum uint64
		for j := range h.UpperBounds {
			if j < len(h.Counts) {
				cum += h.Counts[j]
			}
			sc.cum = append(sc.cum, cum)
		}
	}
	c.cachedLabels(ts, func(i int, e *proberLabels) {
		if e.text == nil {
			e.text = c.labelText(ts[i])
		}
		sc.labels[i] = e.text
	})
	return sc
}

// release returns sc for reuse, without its references to probers' labels.
func (c *Collector) release(sc *scrape) {
	clear(sc.labels)
	clear(sc.hists)
	c.scrapes.Put(sc)
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
