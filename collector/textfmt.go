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
	"slices"
	"strconv"

	"github.com/tcpping/tcpping_exporter/internal/offheap"
	"github.com/tcpping/tcpping_exporter/prober"
)

// This file writes the pieces of the text format 0.0.4 and OpenMetrics 1.0
// exactly as expfmt (github.com/prometheus/common/expfmt, text_create.go
// and openmetrics_create.go) writes them for the same metric families.
// protofmt.go writes those of protobuf.

// Indexes of the two text formats in family.header.
const (
	fmtText = iota
	fmtOpenMetrics
)

// appendFloat appends v as expfmt writes a sample value or le label: the
// shortest representation in %g style, which OpenMetrics ends in ".0" if
// it would read as an integer.
func appendFloat(b []byte, v float64, om bool) []byte {
	// Integers below 1e6 are the common case (counters, 0/1 gauges); %g
	// writes them without an exponent, as AppendUint does, only slower.
	if v >= 0 && v < 1e6 && v == math.Trunc(v) {
		b = strconv.AppendUint(b, uint64(v), 10)
		if om {
			b = append(b, '.', '0')
		}
		return b
	}
	// Seconds of nanosecond durations (RTTs, timeouts) are the next most
	// common, and several times quicker to write exactly.
	if d, ok := nanoDecimal(v); ok {
		return appendNanoDecimal(b, d)
	}
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	n := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if om && !slices.ContainsFunc(b[n:], func(c byte) bool { return c == 'e' || c == '.' }) {
		b = append(b, '.', '0')
	}
	return b
}

// nanoDecimal returns d if v is not an integer, lies in [1e-4, 1e6) and
// is the double nearest to d×10⁻⁹, as the seconds of a duration of d
// nanoseconds are (time.Duration.Seconds of less than a second, and mostly
// of more). The shortest representation of v that strconv writes is then
// d×10⁻⁹ itself, which appendNanoDecimal writes: d×10⁻⁹ rounds to v, and
// has at most 15 significant digits (d < 10¹⁵); two decimals of at most
// 15 significant digits never round to the same double (that is what a
// double's 15-digit precision means), so no other decimal as short rounds
// to v. In [1e-4, 1e6), %g writes it without an exponent, and it has a
// decimal point, so OpenMetrics adds nothing. TestAppendFloatNanos checks
// this against strconv.
func nanoDecimal(v float64) (int64, bool) {
	if !(v >= 1e-4 && v < 1e6) {
		return 0, false
	}
	d := int64(v*1e9 + 0.5)
	return d, d%1e9 != 0 && float64(d)/1e9 == v
}

// appendNanoDecimal appends d×10⁻⁹ in decimal without trailing zeros; d is
// not a multiple of 10⁹.
func appendNanoDecimal(b []byte, d int64) []byte {
	b = strconv.AppendInt(b, d/1e9, 10)
	var frac [10]byte
	frac[0] = '.'
	f := d % 1e9
	for i := 9; i > 0; i-- {
		frac[i] = byte('0' + f%10)
		f /= 10
	}
	n := len(frac)
	for frac[n-1] == '0' {
		n--
	}
	return append(b, frac[:n]...)
}

// appendCount appends a histogram's bucket or sample count: a float in the
// text format (so 1e+06 from a million on), an integer in OpenMetrics.
func appendCount(b []byte, c uint64, om bool) []byte {
	if om || c < 1e6 {
		return strconv.AppendUint(b, c, 10)
	}
	return strconv.AppendFloat(b, float64(c), 'g', -1, 64)
}

// escapes is what appendEscaped writes for each byte that it escapes.
var escapes = [256]byte{'\\': '\\', '"': '"', '\n': 'n'}

// appendEscaped appends a label value escaped as both formats escape it.
// Escaping byte by byte is safe in UTF-8: no byte of a multi-byte
// character is ASCII. Runs without a special byte, most values, go in one
// append.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if esc := escapes[s[i]]; esc != 0 {
			b = append(b, s[start:i]...)
			b = append(b, '\\', esc)
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// appendLabelText appends the labels of a prober of options o as both
// formats write them, sorted by name, without the closing brace:
// `{address="…",module="…",target="…"`. b grows in m. Label names are
// valid legacy names (config checks the extra ones), so no escaping scheme
// changes them.
func (c *Collector) appendLabelText(m *offheap.Arena, b []byte, o *prober.Options) []byte {
	for k, j := range c.sorted {
		prefix, v := c.textPrefix[k], c.labelValue(o, j)
		b = offheap.Grow(m, b, len(prefix)+2*len(v)+1) // at worst every byte escaped
		b = append(b, prefix...)
		b = appendEscaped(b, v)
		b = append(b, '"')
	}
	return b
}

// leMax bounds the size of `,le="…"} `: the longest float appendFloat
// writes is 24 bytes.
const leMax = 40

// buildLE writes the ends of the bucket samples of every set in m that
// has none yet, for OpenMetrics if om: once per scrape, whichever
// histogram family comes first.
func (t *boundTable) buildLE(m *offheap.Arena, om bool) {
	for k := range t.sets {
		if t.sets[k].leEnd == nil {
			t.sets[k].buildLE(m, om)
		}
	}
}

// buildLE writes the ends of bs's bucket samples in m, for OpenMetrics if
// om, the text format otherwise.
func (bs *boundSet) buildLE(m *offheap.Arena, om bool) {
	bs.le = offheap.Make[byte](m, (len(bs.bounds)+1)*leMax)[:0]
	bs.leEnd = offheap.Make[int](m, len(bs.bounds)+1)
	for j, ub := range bs.bounds {
		bs.le = appendLE(bs.le, ub, om)
		bs.leEnd[j] = len(bs.le)
		bs.infSeen = bs.infSeen || math.IsInf(ub, +1)
	}
	bs.le = appendLE(bs.le, math.Inf(+1), om)
	bs.leEnd[len(bs.bounds)] = len(bs.le)
}

func appendLE(b []byte, ub float64, om bool) []byte {
	b = append(b, `,le="`...)
	b = appendFloat(b, ub, om)
	return append(b, `"} `...)
}

// writeFamily writes one family, stopping at w's first error.
func (sc *scrape) writeFamily(w *expoWriter, f *family, om bool) {
	if om {
		w.buf = append(w.buf, f.header[fmtOpenMetrics]...)
	} else {
		w.buf = append(w.buf, f.header[fmtText]...)
	}
	if f.kind == histogram {
		sc.writeHistograms(w, f, om)
		return
	}
	for i, v := range sc.vals[f.slot*sc.n : (f.slot+1)*sc.n] {
		b := append(w.buf, f.name...)
		b = append(b, sc.label(i)...)
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

// writeHistograms writes the samples of histogram family f as expfmt
// does: the buckets, +Inf last, then _sum and _count.
func (sc *scrape) writeHistograms(w *expoWriter, f *family, om bool) {
	sc.bounds.buildLE(&sc.mem, om)
	for i := range sc.n {
		r := &sc.rows[f.slot*sc.n+i]
		bs := &sc.bounds.sets[r.bounds]
		lbl := sc.label(i)
		b := w.buf
		start := 0
		for j, c := range sc.cum[r.off:][:len(bs.bounds)] {
			b = append(b, f.bucket...)
			b = append(b, lbl...)
			b = append(b, bs.le[start:bs.leEnd[j]]...)
			start = bs.leEnd[j]
			b = appendCount(b, c, om)
			b = append(b, '\n')
		}
		if !bs.infSeen {
			b = append(b, f.bucket...)
			b = append(b, lbl...)
			b = append(b, bs.le[start:]...)
			b = appendCount(b, r.count, om)
			b = append(b, '\n')
		}
		b = append(b, f.sum...)
		b = append(b, lbl...)
		b = append(b, '}', ' ')
		b = appendFloat(b, r.sum, om)
		b = append(b, '\n')
		b = append(b, f.count...)
		b = append(b, lbl...)
		b = append(b, '}', ' ')
		b = appendCount(b, r.count, om)
		w.buf = append(b, '\n')
		if len(w.buf) >= flushAt {
			if w.flush(); w.err != nil {
				return
			}
		}
	}
}
