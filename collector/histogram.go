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

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tcpping/tcpping_exporter/prober"
)

func timestamp(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// histogramSlab holds what fillHistogram points into. Gather allocates one
// for all probers of a scrape; Collect one per histogram.
type histogramSlab struct {
	buckets []dto.Bucket
	ptrs    []*dto.Bucket
	cum     []uint64
	vals    []histogramValues
}

// histogramValues are the scalar fields a dto.Histogram points to.
type histogramValues struct {
	count, zeroCount   uint64
	sum, zeroThreshold float64
	schema             int32
}

func newHistogramSlab(histograms, buckets int) histogramSlab {
	return histogramSlab{
		buckets: make([]dto.Bucket, buckets),
		ptrs:    make([]*dto.Bucket, buckets),
		cum:     make([]uint64, buckets),
		vals:    make([]histogramValues, histograms),
	}
}

// fillHistogram writes s into h with both classic and native buckets. It
// takes its structs from the front of slab and returns the rest; upper
// bound pointers point into s.UpperBounds, which is immutable.
func fillHistogram(h *dto.Histogram, s *prober.HistogramSnapshot, created *timestamppb.Timestamp, slab histogramSlab) histogramSlab {
	n := len(s.UpperBounds)
	v := &slab.vals[0]
	v.count, v.sum = s.Count, s.Sum
	h.SampleCount, h.SampleSum = &v.count, &v.sum
	h.CreatedTimestamp = created
	h.Bucket = slab.ptrs[:n:n]
	var c uint64
	for i := range n {
		c += s.Counts[i]
		slab.cum[i] = c
		slab.buckets[i].CumulativeCount = &slab.cum[i]
		slab.buckets[i].UpperBound = &s.UpperBounds[i]
		h.Bucket[i] = &slab.buckets[i]
	}
	if s.Native {
		v.schema, v.zeroCount, v.zeroThreshold = s.Schema, s.ZeroCount, s.ZeroThreshold
		h.Schema, h.ZeroCount, h.ZeroThreshold = &v.schema, &v.zeroCount, &v.zeroThreshold
		h.PositiveSpan, h.PositiveDelta = spans(s.NativeOffset, s.NativeCounts)
	}
	return histogramSlab{buckets: slab.buckets[n:], ptrs: slab.ptrs[n:], cum: slab.cum[n:], vals: slab.vals[1:]}
}

// histogramMetric is a const metric carrying both classic and native
// buckets, which client_golang's const constructors cannot combine.
type histogramMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      dto.Histogram
}

// Desc returns the metric's Desc.
func (m *histogramMetric) Desc() *prometheus.Desc { return m.desc }

// Write fills out with the histogram and its labels.
func (m *histogramMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	out.Histogram = &m.h
	return nil
}

// spans encodes dense native bucket counts starting at index offset as
// spans and deltas. Empty buckets inside the range stay in one span (a
// delta of 0 costs less than a new span); leading and trailing ones are
// trimmed. With no observations a single empty span marks the histogram as
// native, as client_golang does.
func spans(offset int, counts []uint64) ([]*dto.BucketSpan, []int64) {
	lo, hi := trimZeros(counts)
	if lo == hi {
		return []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}, nil
	}
	deltas := make([]int64, 0, hi-lo)
	var prev int64
	for _, c := range counts[lo:hi] {
		deltas = append(deltas, int64(c)-prev)
		prev = int64(c)
	}
	return []*dto.BucketSpan{{Offset: proto.Int32(int32(offset + lo)), Length: proto.Uint32(uint32(hi - lo))}}, deltas
}

// trimZeros returns the range of counts between its leading and trailing
// zeros: the buckets that spans (and the protobuf writer) keep.
func trimZeros(counts []uint64) (lo, hi int) {
	lo, hi = 0, len(counts)
	for lo < hi && counts[lo] == 0 {
		lo++
	}
	for hi > lo && counts[hi-1] == 0 {
		hi--
	}
	return lo, hi
}
