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
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// This file writes the pieces of the text format 0.0.4 and OpenMetrics 1.0
// exactly as expfmt (github.com/prometheus/common/expfmt, text_create.go
// and openmetrics_create.go) writes them for the same metric families.
// protofmt.go writes those of protobuf.

// Indexes of the two formats in family.header.
const (
	fmtText = iota
	fmtOpenMetrics
)

// family is one per-prober metric family as WriteExposition writes it.
type family struct {
	// name is the family's name in the text format and in Gather:
	// counters end in _total. Samples are named the same in OpenMetrics,
	// whose HELP and TYPE lines drop the _total.
	name string
	// scalar is the family's index in scalars, or -1 for the RTT
	// histogram.
	scalar int
	// header is the HELP and TYPE lines in each format.
	header [2][]byte
	// bucket, sum and count name a histogram's samples.
	bucket, sum, count string
	// pb is the name, help and type fields of the family's protobuf
	// MetricFamily message.
	pb []byte
}

// families are the per-prober families, sorted by name as a Gatherer
// sorts them. Nothing modifies them after initialisation.
var families = func() []family {
	fs := make([]family, 0, len(scalars)+1)
	for i, m := range scalars {
		typ := "gauge"
		if m.counter {
			typ = "counter"
		}
		fs = append(fs, newFamily(namespace+"_"+m.name, m.help, typ, i))
	}
	fs = append(fs, newFamily(namespace+"_"+rttName, rttHelp, "histogram", -1))
	slices.SortFunc(fs, func(a, b family) int { return strings.Compare(a.name, b.name) })
	return fs
}()

var (
	// helpEscaper escapes HELP text in the text format, quotedEscaper
	// label values in both formats and HELP text in OpenMetrics.
	helpEscaper   = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	quotedEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func newFamily(name, help, typ string, scalar int) family {
	omName, omType := name, typ
	if typ == "counter" {
		// OpenMetrics names a counter family without _total; one whose
		// samples do not end in _total cannot be a counter.
		if base, ok := strings.CutSuffix(name, "_total"); ok {
			omName = base
		} else {
			omType = "unknown"
		}
	}
	pbType := dto.MetricType_GAUGE
	switch typ {
	case "counter":
		pbType = dto.MetricType_COUNTER
	case "histogram":
		pbType = dto.MetricType_HISTOGRAM
	}
	f := family{name: name, scalar: scalar, bucket: name + "_bucket", sum: name + "_sum", count: name + "_count",
		pb: protoHeader(name, help, pbType)}
	f.header[fmtText] = []byte("# HELP " + name + " " + helpEscaper.Replace(help) + "\n# TYPE " + name + " " + typ + "\n")
	f.header[fmtOpenMetrics] = []byte("# HELP " + omName + " " + quotedEscaper.Replace(help) + "\n# TYPE " + omName + " " + omType + "\n")
	return f
}

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

// appendCount appends a histogram's bucket or sample count: a float in the
// text format (so 1e+06 from a million on), an integer in OpenMetrics.
func appendCount(b []byte, c uint64, om bool) []byte {
	if om || c < 1e6 {
		return strconv.AppendUint(b, c, 10)
	}
	return strconv.AppendFloat(b, float64(c), 'g', -1, 64)
}

// appendEscaped appends a label value escaped as both formats escape it.
// Escaping byte by byte is safe in UTF-8: no byte of a multi-byte
// character is ASCII.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// labelText returns t's labels as both formats write them, sorted by
// name, without the closing brace: `{address="…",module="…",target="…"`.
// Label names are valid legacy names (config checks the extra ones), so
// no escaping scheme changes them.
func (c *Collector) labelText(t target) []byte {
	lv := c.labelValues(t)
	n := 0
	for _, v := range lv {
		n += len(v) + 8
	}
	for _, name := range c.labelNames {
		n += len(name)
	}
	b := make([]byte, 0, n)
	for k, j := range c.sorted {
		if k == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, c.labelNames[j]...)
		b = append(b, '=', '"')
		b = appendEscaped(b, lv[j])
		b = append(b, '"')
	}
	return slices.Clip(b)
}

// leSet is the end of every bucket sample of one set of bucket bounds, up
// to the value: `,le="0.001"} `.
type leSet struct {
	bounds  []float64
	om      bool
	le      [][]byte // one per bound
	inf     []byte   // the +Inf bucket that expfmt adds
	infSeen bool     // a bound is +Inf already: expfmt adds none
}

func newLESet(bounds []float64, om bool) *leSet {
	s := &leSet{bounds: bounds, om: om, le: make([][]byte, len(bounds))}
	for i, ub := range bounds {
		s.le[i] = appendLE(nil, ub, om)
		s.infSeen = s.infSeen || math.IsInf(ub, +1)
	}
	s.inf = appendLE(nil, math.Inf(+1), om)
	return s
}

func appendLE(b []byte, ub float64, om bool) []byte {
	b = append(b, `,le="`...)
	b = appendFloat(b, ub, om)
	return append(b, `"} `...)
}

// maxLESets bounds leCache: there is one set of bounds per module and
// format.
const maxLESets = 16

// leCache finds the leSet of a prober's bucket bounds. Probers of a module
// share its bounds slice, so it goes by the slice's identity: the cache
// holds the slices it knows, so their memory cannot be reused for other
// bounds while it does.
type leCache struct {
	sets []*leSet
	next int // the set to replace when full
}

func (c *leCache) get(bounds []float64, om bool) *leSet {
	for _, s := range c.sets {
		if s.om == om && len(s.bounds) == len(bounds) && (len(bounds) == 0 || &s.bounds[0] == &bounds[0]) {
			return s
		}
	}
	s := newLESet(bounds, om)
	if len(c.sets) < maxLESets {
		c.sets = append(c.sets, s)
	} else {
		c.sets[c.next] = s
		c.next = (c.next + 1) % maxLESets
	}
	return s
}
