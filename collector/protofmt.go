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
	"encoding/binary"
	"math"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tcpping/tcpping_exporter/internal/offheap"
	"github.com/tcpping/tcpping_exporter/prober"
)

// This file writes the delimited protobuf format (a varint length, then an
// io.prometheus.client.MetricFamily message, per family) exactly as
// expfmt's encoder marshals the families Gather builds: the fields Gather
// sets, in field number order as the Go protobuf runtime writes them,
// repeated scalars unpacked as proto2 wants them. A family's length comes
// first, so each family is written in two passes: one adds up the sizes of
// its metrics, which depend only on label and timestamp lengths, counts and
// the packed native buckets, the other writes them.

// Field numbers of metrics.proto (client_model v0.6) and timestamp.proto.
// TestProtoFieldNumbers checks them against the descriptors.
const (
	pbFamilyName   protowire.Number = 1 // MetricFamily
	pbFamilyHelp   protowire.Number = 2
	pbFamilyType   protowire.Number = 3
	pbFamilyMetric protowire.Number = 4

	pbMetricLabel     protowire.Number = 1 // Metric
	pbMetricGauge     protowire.Number = 2
	pbMetricCounter   protowire.Number = 3
	pbMetricHistogram protowire.Number = 7

	pbLabelName  protowire.Number = 1 // LabelPair
	pbLabelValue protowire.Number = 2

	pbValue          protowire.Number = 1 // Gauge and Counter
	pbCounterCreated protowire.Number = 3

	pbHistCount         protowire.Number = 1 // Histogram
	pbHistSum           protowire.Number = 2
	pbHistBucket        protowire.Number = 3
	pbHistSchema        protowire.Number = 5
	pbHistZeroThreshold protowire.Number = 6
	pbHistZeroCount     protowire.Number = 7
	pbHistPositiveSpan  protowire.Number = 12
	pbHistPositiveDelta protowire.Number = 13
	pbHistCreated       protowire.Number = 15

	pbBucketCount protowire.Number = 1 // Bucket
	pbBucketBound protowire.Number = 2

	pbSpanOffset protowire.Number = 1 // BucketSpan
	pbSpanLength protowire.Number = 2

	pbSeconds protowire.Number = 1 // google.protobuf.Timestamp
	pbNanos   protowire.Number = 2
)

// Every field number above is below 16, so every tag is one byte
// (TestProtoFieldNumbers checks it), and a length-delimited field of n
// bytes takes 1+SizeVarint(n)+n. The appenders are written to be inlined
// into the loops over probers: protowire.AppendVarint is not.

// sizeLen is the size of a length-delimited field of n bytes.
func sizeLen(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

// appendVarint appends v as a varint, as protowire.AppendVarint does.
func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return append(b, byte(num)<<3|byte(typ))
}

// appendLen appends the tag and length of a length-delimited field of n
// bytes, which the caller then appends.
func appendLen(b []byte, num protowire.Number, n int) []byte {
	return appendVarint(appendTag(b, num, protowire.BytesType), uint64(n))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	return append(appendLen(b, num, len(s)), s...)
}

func appendUvarint(b []byte, num protowire.Number, v uint64) []byte {
	return appendVarint(appendTag(b, num, protowire.VarintType), v)
}

func appendSvarint(b []byte, num protowire.Number, v int64) []byte {
	return appendVarint(appendTag(b, num, protowire.VarintType), protowire.EncodeZigZag(v))
}

func appendDouble(b []byte, num protowire.Number, v float64) []byte {
	return binary.LittleEndian.AppendUint64(appendTag(b, num, protowire.Fixed64Type), math.Float64bits(v))
}

// Sizes of the fixed parts of messages: a double field with a one-byte
// tag, and a Gauge, whose only field is its value.
const (
	doubleSize = 1 + 8
	gaugeSize  = doubleSize
)

// counterSize is the size of a Counter with a created timestamp of
// created bytes.
func counterSize(created int) int { return doubleSize + sizeLen(created) }

// protoHeader returns a family's name, help and type fields.
func protoHeader(name, help string, typ dto.MetricType) []byte {
	b := appendString(nil, pbFamilyName, name)
	b = appendString(b, pbFamilyHelp, help)
	return appendUvarint(b, pbFamilyType, uint64(typ))
}

// appendLabelProto appends the label fields of a Metric message of a
// prober of options o: one LabelPair per label, sorted by name, as
// labelPairs makes them. b grows in m.
func (c *Collector) appendLabelProto(m *offheap.Arena, b []byte, o *prober.Options) []byte {
	for k, j := range c.sorted {
		name, value := c.protoName[k], c.labelValue(o, j)
		pair := len(name) + sizeLen(len(value))
		b = offheap.Grow(m, b, sizeLen(pair))
		b = appendLen(b, pbMetricLabel, pair)
		b = append(b, name...)
		b = appendString(b, pbLabelValue, value)
	}
	return b
}

// maxTimestampSize bounds the size of appendTimestamp's fields: two tags,
// a varint of at most 10 bytes and one of at most 5 (nanoseconds < 2^30).
const maxTimestampSize = 1 + 10 + 1 + 5

// appendTimestamp appends the fields of a google.protobuf.Timestamp of t,
// as timestamppb.New makes it: proto3, so zero fields are left out.
func appendTimestamp(b []byte, t time.Time) []byte {
	if s := t.Unix(); s != 0 {
		b = appendUvarint(b, pbSeconds, uint64(s))
	}
	if ns := t.Nanosecond(); ns != 0 {
		b = appendUvarint(b, pbNanos, uint64(int64(ns)))
	}
	return b
}

// appendNative appends the native histogram fields of h as fillHistogram
// and spans set them: schema, zero threshold, zero count, then one
// positive span and its deltas.
func appendNative(b []byte, h *prober.HistogramSnapshot) []byte {
	b = appendSvarint(b, pbHistSchema, int64(h.Schema))
	b = appendDouble(b, pbHistZeroThreshold, h.ZeroThreshold)
	b = appendUvarint(b, pbHistZeroCount, h.ZeroCount)
	lo, hi := trimZeros(h.NativeCounts)
	var offset int32
	if lo < hi {
		offset = int32(h.NativeOffset + lo)
	}
	span := 1 + protowire.SizeVarint(protowire.EncodeZigZag(int64(offset))) + 1 + protowire.SizeVarint(uint64(uint32(hi-lo)))
	b = appendLen(b, pbHistPositiveSpan, span)
	b = appendSvarint(b, pbSpanOffset, int64(offset))
	b = appendUvarint(b, pbSpanLength, uint64(uint32(hi-lo)))
	var prev int64
	tag := byte(pbHistPositiveDelta)<<3 | byte(protowire.VarintType)
	for _, c := range h.NativeCounts[lo:hi] {
		// Most deltas are small: one append of two bytes.
		if z := protowire.EncodeZigZag(int64(c) - prev); z < 0x80 {
			b = append(b, tag, byte(z))
		} else {
			b = appendVarint(append(b, tag), z)
		}
		prev = int64(c)
	}
	return b
}

// maxNativeSize bounds the size of appendNative's fields for n buckets:
// schema, zero threshold, zero count and the span take at most 47 bytes,
// each delta 11.
func maxNativeSize(n int) int { return 64 + 11*n }

// packProto packs h for protobuf into r and sc.hist: the cumulative
// counts of its classic buckets as varints, then its native fields, and
// the size of its Histogram message without the created timestamp. A
// bucket message (count and bound) takes at most 20 bytes, so 2 bytes of
// tag and length and 10 for the tags and the bound besides the varint.
func (sc *scrape) packProto(r *row, h *prober.HistogramSnapshot) {
	nb := len(h.UpperBounds)
	sc.hist = offheap.Grow(&sc.mem, sc.hist, 10*nb+maxNativeSize(len(h.NativeCounts)))
	start := len(sc.hist)
	r.off = uint32(start)
	var cum uint64
	for j := range nb {
		if j < len(h.Counts) {
			cum += h.Counts[j]
		}
		sc.hist = appendVarint(sc.hist, cum)
	}
	if h.Native {
		sc.hist = appendNative(sc.hist, h)
	}
	r.end = uint32(len(sc.hist))
	r.size = uint32(1 + protowire.SizeVarint(r.count) + doubleSize + 12*nb + len(sc.hist) - start)
}

// created returns prober i's created timestamp fields.
func (sc *scrape) created(i int) []byte {
	return sc.labels[sc.ends[2*i+1]:sc.ends[2*i+2]]
}

// histSize is the size of prober i's Histogram message of row r.
func (sc *scrape) histSize(r *row, i int) int {
	return int(r.size) + sizeLen(len(sc.created(i)))
}

// metricSize is the size of prober i's Metric message in family f.
func (sc *scrape) metricSize(f *family, i int) int {
	n := len(sc.label(i))
	switch f.kind {
	case histogram:
		return n + sizeLen(sc.histSize(&sc.rows[f.slot*sc.n+i], i))
	case counter:
		return n + sizeLen(counterSize(len(sc.created(i))))
	default:
		return n + sizeLen(gaugeSize)
	}
}

// metricsSize returns the size of the metric fields of family f. Gauges
// and counters add up to the same for every family of their kind, so
// those are added up once per scrape; a histogram family's depend on its
// values.
func (sc *scrape) metricsSize(f *family) int {
	if f.kind == histogram {
		return sc.addMetricSizes(f)
	}
	if sc.sizes[f.kind] < 0 {
		sc.sizes[f.kind] = sc.addMetricSizes(f)
	}
	return sc.sizes[f.kind]
}

// addMetricSizes returns the size of the metric fields of family f.
func (sc *scrape) addMetricSizes(f *family) int {
	size := 0
	for i := range sc.n {
		size += sizeLen(sc.metricSize(f, i))
	}
	return size
}

// writeProtoFamily writes one family as a delimited MetricFamily message,
// stopping at w's first error.
func (sc *scrape) writeProtoFamily(w *expoWriter, f *family) {
	w.buf = appendVarint(w.buf, uint64(len(f.pb)+sc.metricsSize(f)))
	w.buf = append(w.buf, f.pb...)
	if f.kind == histogram {
		sc.writeProtoHistograms(w, f)
		return
	}
	isCounter := f.kind == counter
	for i, v := range sc.vals[f.slot*sc.n : (f.slot+1)*sc.n] {
		lbl := sc.label(i)
		var b []byte
		if isCounter {
			cr := sc.created(i)
			cs := counterSize(len(cr))
			b = appendLen(w.buf, pbFamilyMetric, len(lbl)+sizeLen(cs))
			b = append(b, lbl...)
			b = appendLen(b, pbMetricCounter, cs)
			b = appendDouble(b, pbValue, v)
			b = appendLen(b, pbCounterCreated, len(cr))
			for _, c := range cr { // at most 17 bytes: quicker than a copy call
				b = append(b, c)
			}
		} else {
			b = appendLen(w.buf, pbFamilyMetric, len(lbl)+sizeLen(gaugeSize))
			b = append(b, lbl...)
			b = appendLen(b, pbMetricGauge, gaugeSize)
			b = appendDouble(b, pbValue, v)
		}
		w.buf = b
		if len(w.buf) >= flushAt {
			if w.flush(); w.err != nil {
				return
			}
		}
	}
}

// writeProtoHistograms writes the Metric messages of histogram family f:
// sample count and sum, the classic buckets (no +Inf one unless a bound is
// +Inf), the native fields packed by packProto, then the created
// timestamp.
func (sc *scrape) writeProtoHistograms(w *expoWriter, f *family) {
	for i := range sc.n {
		r := &sc.rows[f.slot*sc.n+i]
		bounds := sc.bounds.sets[r.bounds].bounds
		lbl, cr := sc.label(i), sc.created(i)
		hs := sc.histSize(r, i)
		b := appendLen(w.buf, pbFamilyMetric, len(lbl)+sizeLen(hs))
		b = append(b, lbl...)
		b = appendLen(b, pbMetricHistogram, hs)
		b = appendUvarint(b, pbHistCount, r.count)
		b = appendDouble(b, pbHistSum, r.sum)
		packed := sc.hist[r.off:r.end]
		for _, ub := range bounds {
			// Copied a byte at a time: the varints are short, and a
			// copy call costs more.
			n := 1
			for packed[n-1] >= 0x80 {
				n++
			}
			b = append(b, byte(pbHistBucket)<<3|byte(protowire.BytesType), byte(1+n+doubleSize),
				byte(pbBucketCount)<<3|byte(protowire.VarintType))
			for _, c := range packed[:n] {
				b = append(b, c)
			}
			b = appendDouble(b, pbBucketBound, ub)
			packed = packed[n:]
		}
		b = append(b, packed...) // the native fields
		b = appendLen(b, pbHistCreated, len(cr))
		w.buf = append(b, cr...)
		if len(w.buf) >= flushAt {
			if w.flush(); w.err != nil {
				return
			}
		}
	}
}
