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
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// nativeAccept is the Accept header of Prometheus with native histograms
// enabled (scrape_protocols starting with PrometheusProto).
const nativeAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5," +
	"application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.1"

// protoFormats are the delimited protobuf formats as expfmt.NegotiateAccept
// returns them.
var protoFormats = []struct {
	name   string
	accept string
	format expfmt.Format
}{
	{"Prometheus", nativeAccept, expfmt.FmtProtoDelim + "; escaping=underscores"},
	{"utf-8", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8",
		expfmt.FmtProtoDelim + "; escaping=allow-utf-8"},
}

// edgeTargets returns probers whose histograms and timestamps are the edge
// cases of the protobuf encoding, with the label names of
// syntheticTargets(…, true).
func edgeTargets() []target {
	bounds := syntheticModules[0].bounds
	counts := func(c ...uint64) []uint64 { return append(c, make([]uint64, len(bounds)+1-len(c))...) }
	native := prober.HistogramSnapshot{UpperBounds: bounds, Counts: counts(), Native: true, Schema: 3,
		ZeroThreshold: prober.NativeZeroThreshold}
	var hs []prober.HistogramSnapshot
	add := func(count uint64, sum float64, f func(h *prober.HistogramSnapshot)) {
		h := native
		h.Count, h.Sum = count, sum
		h.Counts = counts(count)
		f(&h)
		hs = append(hs, h)
	}
	add(0, 0, func(h *prober.HistogramSnapshot) {})                                                   // no observations
	add(0, 0, func(h *prober.HistogramSnapshot) { h.NativeCounts = []uint64{0, 0, 0} })               // emptied
	add(5, 0, func(h *prober.HistogramSnapshot) { h.ZeroCount = 5 })                                  // zero bucket only
	add(9, 1e-40, func(h *prober.HistogramSnapshot) { h.ZeroCount, h.NativeCounts = 2, []uint64{7} }) // zero bucket and one more
	add(13, 0.25, func(h *prober.HistogramSnapshot) {                                                 // gaps, leading and trailing zeros
		h.NativeOffset, h.NativeCounts = -100, []uint64{0, 0, 3, 0, 0, 0, 0, 0, 7, 0, 1, 2, 0, 0}
	})
	add(1<<40+1<<20+1, 1e9, func(h *prober.HistogramSnapshot) { // multi-byte varints, negative deltas
		h.Schema, h.NativeOffset, h.NativeCounts = -4, 1<<20, []uint64{1 << 40, 1, 0, 0, 1 << 20}
		h.Counts = counts(1<<40, 1<<20, 0, 1)
	})
	add(3, math.Inf(+1), func(h *prober.HistogramSnapshot) { // schema 8, a bucket at the largest index
		h.Schema, h.NativeOffset, h.NativeCounts = 8, math.MaxInt32-1, []uint64{1, 2}
	})
	add(4, 0.004, func(h *prober.HistogramSnapshot) { h.Native = false }) // classic only
	starts := []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 5), time.Unix(1, 0), time.Unix(0, 999999999), time.Unix(1<<40, 1)}
	ts := make([]target, 0, len(hs))
	for i, h := range hs {
		ts = append(ts, &fakeTarget{
			opts: prober.Options{Name: "edge" + hostileValues[i%len(hostileValues)], Address: "[::1]:4000", ModuleName: "edge",
				Labels: map[string]string{"rack": strings.Repeat("r", 130*i)}}, // label lengths past one varint byte
			snap: prober.Snapshot{Sent: uint64(i) << 50, Received: h.Count, LastRTT: time.Duration(i), Histogram: h,
				Started: starts[i%len(starts)]},
		})
	}
	return ts
}

// protoCollector returns a Collector over synthetic and edge-case probers.
func protoCollector() *Collector {
	ts := append(syntheticTargets(30, true), edgeTargets()...)
	return newCollector(func() []target { return ts }, []string{"rack", "site"})
}

// TestWriteExpositionProtobuf checks the protobuf writer against the dto
// path: byte for byte expfmt's encoding of merge's families, and decoded,
// the same messages. Scrapes alternate with text ones, which share the
// pooled scrapes and label cache, and the first one runs before any
// Gather has filled the cache.
func TestWriteExpositionProtobuf(t *testing.T) {
	others := selfFamilies(t)
	for _, tt := range protoFormats {
		t.Run(tt.name, func(t *testing.T) {
			if got := expfmt.NegotiateAccept(map[string][]string{"Accept": {tt.accept}}, expfmt.DefaultOpenMetricsAcceptedFormats()...); got != tt.format || !streams(got) {
				t.Fatalf("Accept %q negotiates %q (streams: %v), want %q", tt.accept, got, streams(got), tt.format)
			}
			c := protoCollector()
			var first bytes.Buffer
			if err := writeExposition(&first, tt.format, others, c, nil); err != nil {
				t.Fatal(err)
			}
			for round := range 3 {
				want, wantMFs := expfmtExposition(t, tt.format, others, c)
				got := first.Bytes()
				if round > 0 {
					if err := writeExposition(io.Discard, expfmt.FmtText, others, c, nil); err != nil {
						t.Fatal(err)
					}
					var buf bytes.Buffer
					if err := writeExposition(&buf, tt.format, others, c, nil); err != nil {
						t.Fatal(err)
					}
					got = buf.Bytes()
				}
				if !bytes.Equal(got, want) {
					t.Errorf("round %d: output differs from expfmt's at %s", round, firstDiff(got, want))
				}
				parsed := testenv.DecodeExposition(t, got, tt.format)
				if len(parsed) != len(wantMFs) {
					t.Fatalf("round %d: %d families, want %d", round, len(parsed), len(wantMFs))
				}
				for i := range parsed {
					if !proto.Equal(parsed[i], wantMFs[i]) {
						t.Errorf("round %d: family %s differs from Gather's", round, wantMFs[i].GetName())
					}
				}
			}
		})
	}
}

// TestWriteExpositionProtobufHistograms checks that the edge cases reach
// the output as Gather builds them: empty native histograms as one empty
// span, gaps inside the populated range as zero deltas within one span
// (spans), classic-only histograms without native fields.
func TestWriteExpositionProtobufHistograms(t *testing.T) {
	ts := edgeTargets()
	c := newCollector(func() []target { return ts }, []string{"rack", "site"})
	f := expfmt.NewFormat(expfmt.TypeProtoDelim)
	var buf bytes.Buffer
	keep := func(name string) bool { return name == "tcp_echo_rtt_seconds" }
	if err := writeExposition(&buf, f, nil, c, keep); err != nil {
		t.Fatal(err)
	}
	mfs := testenv.DecodeExposition(t, buf.Bytes(), f)
	if len(mfs) != 1 || len(mfs[0].GetMetric()) != len(ts) {
		t.Fatalf("%d families, want the RTT histograms of %d probers", len(mfs), len(ts))
	}
	var empty, zeroOnly, gaps, classic int
	for _, m := range mfs[0].GetMetric() {
		h := m.GetHistogram()
		sp := h.GetPositiveSpan()
		switch {
		case h.Schema == nil:
			classic++
		case len(sp) == 1 && sp[0].GetLength() == 0 && h.GetZeroCount() == 0:
			empty++
		case len(sp) == 1 && sp[0].GetLength() == 0:
			zeroOnly++
		case slices.Contains(h.GetPositiveDelta(), 0):
			gaps++
		}
		if h.Schema != nil && h.GetZeroThreshold() != prober.NativeZeroThreshold || h.GetCreatedTimestamp() == nil {
			t.Errorf("zero threshold %v, created %v", h.GetZeroThreshold(), h.GetCreatedTimestamp())
		}
	}
	if empty != 2 || zeroOnly != 1 || gaps != 2 || classic != 1 {
		t.Errorf("%d empty, %d zero-bucket-only, %d with gaps, %d classic-only histograms; want 2, 1, 2, 1", empty, zeroOnly, gaps, classic)
	}
}

// TestWriteExpositionProtobufStreams checks that protobuf goes out in
// bounded chunks, stops at a write error, filters, reports duplicates and
// allocates nothing per series once warm.
func TestWriteExpositionProtobufStreams(t *testing.T) {
	f := expfmt.NewFormat(expfmt.TypeProtoDelim)
	ts := syntheticTargets(2000, false)
	c := newCollector(func() []target { return ts }, []string{"site"})
	checkStreaming(t, c, f, 5, 2*flushAt)

	others := selfFamilies(t)
	dup := &dto.MetricFamily{Name: new("tcp_echo_rtt_seconds"), Help: new("x"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: new(1.0)}}}}
	keep := func(name string) bool {
		return name == "tcp_echo_rtt_seconds" || name == "tcp_echo_connected" || name == "go_goroutines"
	}
	var buf bytes.Buffer
	err := writeExposition(&buf, f, append(slices.Clone(others), dup), c, keep)
	if err == nil || !strings.Contains(err.Error(), "tcp_echo_rtt_seconds") {
		t.Errorf("err = %v, want the duplicate family named", err)
	}
	var names []string
	for _, mf := range testenv.DecodeExposition(t, buf.Bytes(), f) {
		names = append(names, mf.GetName())
		if strings.HasPrefix(mf.GetName(), "tcp_echo_") && len(mf.GetMetric()) != len(ts) {
			t.Errorf("%s: %d metrics, want %d", mf.GetName(), len(mf.GetMetric()), len(ts))
		}
	}
	if !slices.Equal(names, []string{"go_goroutines", "tcp_echo_connected", "tcp_echo_rtt_seconds"}) {
		t.Errorf("families %v", names)
	}
	checkWarmAllocs(t, f)
}

// TestProtoFieldNumbers checks protofmt.go's field numbers and encodings
// against the messages' descriptors, and its varints against protowire's.
func TestProtoFieldNumbers(t *testing.T) {
	fields := []struct {
		msg  proto.Message
		name protoreflect.Name
		num  protowire.Number
		kind protoreflect.Kind
	}{
		{&dto.MetricFamily{}, "name", pbFamilyName, protoreflect.StringKind},
		{&dto.MetricFamily{}, "help", pbFamilyHelp, protoreflect.StringKind},
		{&dto.MetricFamily{}, "type", pbFamilyType, protoreflect.EnumKind},
		{&dto.MetricFamily{}, "metric", pbFamilyMetric, protoreflect.MessageKind},
		{&dto.Metric{}, "label", pbMetricLabel, protoreflect.MessageKind},
		{&dto.Metric{}, "gauge", pbMetricGauge, protoreflect.MessageKind},
		{&dto.Metric{}, "counter", pbMetricCounter, protoreflect.MessageKind},
		{&dto.Metric{}, "histogram", pbMetricHistogram, protoreflect.MessageKind},
		{&dto.LabelPair{}, "name", pbLabelName, protoreflect.StringKind},
		{&dto.LabelPair{}, "value", pbLabelValue, protoreflect.StringKind},
		{&dto.Gauge{}, "value", pbValue, protoreflect.DoubleKind},
		{&dto.Counter{}, "value", pbValue, protoreflect.DoubleKind},
		{&dto.Counter{}, "created_timestamp", pbCounterCreated, protoreflect.MessageKind},
		{&dto.Histogram{}, "sample_count", pbHistCount, protoreflect.Uint64Kind},
		{&dto.Histogram{}, "sample_sum", pbHistSum, protoreflect.DoubleKind},
		{&dto.Histogram{}, "bucket", pbHistBucket, protoreflect.MessageKind},
		{&dto.Histogram{}, "schema", pbHistSchema, protoreflect.Sint32Kind},
		{&dto.Histogram{}, "zero_threshold", pbHistZeroThreshold, protoreflect.DoubleKind},
		{&dto.Histogram{}, "zero_count", pbHistZeroCount, protoreflect.Uint64Kind},
		{&dto.Histogram{}, "positive_span", pbHistPositiveSpan, protoreflect.MessageKind},
		{&dto.Histogram{}, "positive_delta", pbHistPositiveDelta, protoreflect.Sint64Kind},
		{&dto.Histogram{}, "created_timestamp", pbHistCreated, protoreflect.MessageKind},
		{&dto.Bucket{}, "cumulative_count", pbBucketCount, protoreflect.Uint64Kind},
		{&dto.Bucket{}, "upper_bound", pbBucketBound, protoreflect.DoubleKind},
		{&dto.BucketSpan{}, "offset", pbSpanOffset, protoreflect.Sint32Kind},
		{&dto.BucketSpan{}, "length", pbSpanLength, protoreflect.Uint32Kind},
		{&timestamppb.Timestamp{}, "seconds", pbSeconds, protoreflect.Int64Kind},
		{&timestamppb.Timestamp{}, "nanos", pbNanos, protoreflect.Int32Kind},
	}
	for _, f := range fields {
		md := f.msg.ProtoReflect().Descriptor()
		fd := md.Fields().ByName(f.name)
		if fd == nil || fd.Number() != f.num || fd.Kind() != f.kind || fd.IsPacked() {
			t.Errorf("%s.%s: %v, want number %d, kind %v, unpacked", md.FullName(), f.name, fd, f.num, f.kind)
		}
		if protowire.SizeTag(f.num) != 1 {
			t.Errorf("%s.%s: a tag of %d bytes, the writer assumes 1", md.FullName(), f.name, protowire.SizeTag(f.num))
		}
	}
	for _, v := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<35 - 1, 1 << 35, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		if got, want := appendVarint([]byte{9}, v), protowire.AppendVarint([]byte{9}, v); !bytes.Equal(got, want) {
			t.Errorf("appendVarint(%d) = %x, want %x", v, got, want)
		}
	}
}
