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
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/tcpping/tcpping_exporter/internal/offheap"
	"github.com/tcpping/tcpping_exporter/prober"
)

// scrape is one exposition's packed copy of the static probers' snapshots:
// every value writeExposition writes, and each prober's label text (or, in
// protobuf, its encoded label pairs and created timestamp). Every prober is
// snapshotted once, before anything is written, so all families of a
// scrape agree (sent == received + timeouts + in_flight).
//
// The packed data, about 350 bytes per prober of the default module, lives
// in an arena mapped for the scrape (mostly one mapping) and unmapped at
// its end (release): a scrape leaves nothing on the Go heap but its write
// buffer, and allocates next to nothing there. Kept on the heap from one
// scrape to the next, as it was, it cost twice its size in RSS (the GC's
// heap goal is twice the live heap); allocated there at every scrape, a GC
// cycle every few scrapes. Fresh pages are not free either: mapping and
// unmapping them costs the scrape about 0.15 ms per MiB (on a 2-core VM).
//
// Labels are encoded at every scrape, not cached: for 10 000 probers that
// is under a tenth of a text scrape's time (BenchmarkLabels10000), where a
// cache kept about 100 bytes per prober on the heap, and its lookups cost
// about as much as the encoding.
type scrape struct {
	n     int
	proto bool // packed for the protobuf format
	mem   offheap.Arena
	// In mem: the counters' and gauges' values, that of prober i in the
	// family of slot k at vals[k*n+i]; the histograms' rows, likewise in
	// rows; and the other histogram data of all probers: in the text
	// formats, the cumulative classic bucket counts in cum, in protobuf,
	// packed in hist (packProto).
	vals []float64
	rows []row
	cum  []uint64
	hist []byte
	// labels holds prober i's labels at labels[ends[2i]:ends[2i+1]]:
	// in the text formats `{name="value",...` without the closing
	// brace, in protobuf the label fields of a Metric message. In
	// protobuf its created timestamp's fields follow, up to ends[2i+2].
	labels []byte
	ends   []uint32
	bounds boundTable
	wbuf   *[wbufSize]byte // the write buffer, on the heap
	buf    []byte          // the expoWriter's buffer: wbuf[:0] unless it outgrew it
	snap   prober.Snapshot // reused for every prober, slices and all
	sizes  [numKinds]int   // metricsSize of gauges and counters by kind, -1 until added up
}

// row is one prober's histogram of one family. It holds no pointers (it
// lives in the scrape's arena): its bucket bounds are an index into the
// scrape's boundTable, its other parts offsets into the scrape's arrays,
// 32-bit to keep rows small (prepare checks that they fit).
type row struct {
	bounds uint32 // the bucket bounds, in the scrape's boundTable
	// Where its cumulative counts start in cum or, in protobuf, its
	// packed data in hist, which ends at end; its Histogram message is
	// then size bytes without the created timestamp.
	off, end, size uint32
	count          uint64
	sum            float64
}

// sizeHints are the sizes in bytes per prober, rounded up, that the
// growing arrays of a scrape in one format reached at the last scrape: the
// next one makes them that big at once.
type sizeHints struct {
	labels, hist atomic.Int64
}

// First sizes per prober of a scrape's growing arrays when there is no
// hint: an array that fills up doubles.
const (
	labelsPerProber = 128 // the default labels take about 90 bytes
	cumPerProber    = 16  // the default module has 16 buckets
	histPerProber   = 160 // 16 buckets and 40 native ones take about 130 bytes
)

// keepHint records the size per prober of an array of size bytes for n
// probers, rounded up.
func keepHint(hint *atomic.Int64, size, n int) {
	if n > 0 {
		hint.Store(int64((size + n - 1) / n))
	}
}

// prepare snapshots every static prober into a scrape for the text
// formats or, if proto, for protobuf.
func (c *Collector) prepare(proto bool) *scrape {
	ts := c.list()
	n := ts.len()
	sc := &scrape{n: n, proto: proto, sizes: [...]int{-1, -1, -1}}
	m := &sc.mem
	hints := &c.hints[0]
	labelsPer, histPer := labelsPerProber, cumPerProber*8*familiesOf[histogram]
	if proto {
		hints, histPer = &c.hints[1], histPerProber*familiesOf[histogram]
	}
	if h := hints.labels.Load(); h > 0 {
		labelsPer, histPer = int(h), int(hints.hist.Load())
	}
	// One mapping for all: the arrays below, and the ends of bucket
	// samples (boundSet.le) for a few modules.
	m.Reserve(n*(scalarFamilies*8+familiesOf[histogram]*int(unsafe.Sizeof(row{}))+2*4+labelsPer+histPer) + 16<<10)
	sc.vals = offheap.Make[float64](m, n*scalarFamilies)
	sc.rows = offheap.Make[row](m, n*familiesOf[histogram])
	sc.ends = offheap.Make[uint32](m, 2*n+1)
	sc.labels = offheap.Make[byte](m, n*labelsPer)[:0]
	if proto {
		sc.hist = offheap.Make[byte](m, n*histPer)[:0]
	} else {
		sc.cum = offheap.Make[uint64](m, n*histPer/8)[:0]
	}
	s := &sc.snap
	for i := range n {
		if i%512 == 511 {
			yield()
		}
		t := ts.at(i)
		t.SnapshotInto(s)
		for k := range families {
			f := &families[k]
			if f.kind == histogram {
				sc.packHistogram(&sc.rows[f.slot*n+i], f.hist(s))
			} else {
				sc.vals[f.slot*n+i] = f.value(s)
			}
		}
		o := t.Options()
		if proto {
			sc.labels = c.appendLabelProto(m, sc.labels, &o)
			sc.ends[2*i+1] = uint32(len(sc.labels))
			sc.labels = offheap.Grow(m, sc.labels, maxTimestampSize)
			sc.labels = appendTimestamp(sc.labels, s.Started)
		} else {
			sc.labels = c.appendLabelText(m, sc.labels, &o)
			sc.ends[2*i+1] = uint32(len(sc.labels))
		}
		sc.ends[2*i+2] = uint32(len(sc.labels))
	}
	if uint64(max(len(sc.labels), len(sc.cum), len(sc.hist))) > math.MaxUint32 {
		// 4 GiB of labels: far beyond any config, but the offsets
		// would wrap.
		panic("collector: scrape too large for 32-bit offsets")
	}
	keepHint(&hints.labels, len(sc.labels), n)
	keepHint(&hints.hist, max(8*len(sc.cum), len(sc.hist)), n)
	sc.wbuf = c.getBuf()
	sc.buf = sc.wbuf[:0]
	return sc
}

// packHistogram packs h into r and the scrape's histogram data: for the
// text formats its cumulative classic bucket counts, for protobuf its
// encoded fields (packProto).
func (sc *scrape) packHistogram(r *row, h *prober.HistogramSnapshot) {
	*r = row{bounds: uint32(sc.bounds.find(h.UpperBounds)), count: h.Count, sum: h.Sum}
	if sc.proto {
		sc.packProto(r, h)
		return
	}
	r.off = uint32(len(sc.cum))
	sc.cum = offheap.Grow(&sc.mem, sc.cum, len(h.UpperBounds))
	var cum uint64
	for j := range h.UpperBounds {
		if j < len(h.Counts) {
			cum += h.Counts[j]
		}
		sc.cum = append(sc.cum, cum)
	}
}

// release frees sc's arena, after which no slice of it may be used, and
// keeps its write buffer for the next scrape.
func (c *Collector) release(sc *scrape) {
	sc.mem.Free()
	c.wbuf.giveBack(sc.wbuf)
	*sc = scrape{}
}

// wbufSize is the size of a scrape's write buffer: a flush's worth, and
// room for the prober whose series cross flushAt.
const wbufSize = flushAt + flushAt/8

// getBuf returns the kept write buffer, or a new one if a concurrent scrape
// has it.
func (c *Collector) getBuf() *[wbufSize]byte {
	if b := c.wbuf.take(); b != nil {
		return b
	}
	return new([wbufSize]byte)
}

// label returns prober i's labels.
func (sc *scrape) label(i int) []byte {
	return sc.labels[sc.ends[2*i]:sc.ends[2*i+1]]
}

// boundSet is one set of classic bucket bounds of a scrape, which the
// probers of a module share, with the end of its bucket samples in the
// text formats.
type boundSet struct {
	bounds []float64 // the module's bounds (shared, immutable)
	// In the scrape's arena once writeHistograms needs them: the end of
	// each bucket sample up to its value, `,le="0.001"} `, then that of
	// the +Inf bucket that expfmt adds, back to back; leEnd[j] is where
	// that of bound j (or +Inf for len(bounds)) ends.
	le      []byte
	leEnd   []int
	infSeen bool // a bound is +Inf already: expfmt adds no +Inf bucket
}

// boundKey identifies a bounds slice: probers of a module share their
// module's, so equal slices are the same slice, whose contents never
// change. All empty ones are one.
type boundKey struct {
	first *float64
	n     int
}

func keyOf(bounds []float64) boundKey {
	if len(bounds) == 0 {
		return boundKey{}
	}
	return boundKey{&bounds[0], len(bounds)}
}

// boundTable holds the distinct bucket bounds of a scrape, one per module
// in use: probers' rows refer to them by index.
type boundTable struct {
	sets  []boundSet
	last  int              // the set found last: probers often come by module
	index map[boundKey]int // once there are more than a few sets
}

// maxScanned is how many sets boundTable.find scans before it indexes
// them in a map.
const maxScanned = 8

// find returns the index of bounds' set, which it adds if new.
func (t *boundTable) find(bounds []float64) int {
	k := keyOf(bounds)
	if t.last < len(t.sets) && keyOf(t.sets[t.last].bounds) == k {
		return t.last
	}
	if t.index != nil {
		if i, ok := t.index[k]; ok {
			t.last = i
			return i
		}
	} else {
		for i := range t.sets {
			if keyOf(t.sets[i].bounds) == k {
				t.last = i
				return i
			}
		}
	}
	t.last = len(t.sets)
	t.sets = append(t.sets, boundSet{bounds: bounds})
	switch {
	case t.index != nil:
		t.index[k] = t.last
	case len(t.sets) > maxScanned:
		t.index = make(map[boundKey]int, 2*len(t.sets))
		for i := range t.sets {
			t.index[keyOf(t.sets[i].bounds)] = i
		}
	}
	return t.last
}
