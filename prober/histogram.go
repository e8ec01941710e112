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

package prober

import (
	"math"
	"sort"
)

// Native histogram parameters, as in client_golang: the schema range of the
// exposition format and a bucket cap that keeps a prober's memory bounded
// whatever RTTs it sees.
const (
	nativeSchemaMax      = 8
	nativeSchemaMin      = -4
	nativeMaxBucketCount = 160
)

// NativeZeroThreshold is the width of every native histogram's zero bucket:
// client_golang's default, 2^-128. Observations at or below it count in
// ZeroCount. Snapshots carry it in HistogramSnapshot.ZeroThreshold, which is
// what the exposition writes.
const NativeZeroThreshold = 2.938735877055719e-39

// HistogramSnapshot is a copy of a prober's RTT histogram.
type HistogramSnapshot struct {
	// Count and Sum are the number and sum (seconds) of observations.
	Count uint64
	Sum   float64
	// UpperBounds are the classic bucket bounds (shared and immutable);
	// Counts has len(UpperBounds)+1 non-cumulative counts, the last one
	// for +Inf.
	UpperBounds []float64
	Counts      []uint64
	// Native reports whether native buckets are kept. Bucket i of
	// NativeCounts has index NativeOffset+i in the exponential schema
	// Schema: it counts values in (base^(k-1), base^k] with
	// base = 2^(2^-Schema).
	Native        bool
	Schema        int32
	ZeroThreshold float64
	ZeroCount     uint64
	NativeOffset  int
	NativeCounts  []uint64
}

// histogram accumulates RTTs. It is not safe for concurrent use: the prober
// guards it with its mutex. Its counts are counters: 4 bytes each until a
// count passes 2^32-1.
type histogram struct {
	upper  []float64
	counts counters
	count  uint64
	sum    float64

	native    bool
	schema    int32
	zeroCount uint64
	offset    int
	native1   counters
}

// pickSchema returns the highest-resolution schema whose growth factor
// 2^(2^-schema) does not exceed factor, as client_golang does.
func pickSchema(factor float64) int32 {
	floor := math.Floor(math.Log2(math.Log2(factor)))
	switch {
	case floor <= -nativeSchemaMax:
		return nativeSchemaMax
	case floor >= -nativeSchemaMin:
		return nativeSchemaMin
	default:
		return -int32(floor)
	}
}

// sharedBounds holds, for every positive schema s, makeBounds(s): the 2^s
// fractions in [0.5, 1) at which buckets start within one power of two,
// one copy for all histograms.
var sharedBounds = func() (b [nativeSchemaMax + 1][]float64) {
	for s := int32(1); s <= nativeSchemaMax; s++ {
		b[s] = makeBounds(s)
	}
	return b
}()

func makeBounds(schema int32) []float64 {
	n := 1 << schema
	b := make([]float64, n)
	for j := range b {
		b[j] = math.Exp2(float64(j)/float64(n) - 1)
	}
	return b
}

func newHistogram(upper []float64, factor float64) *histogram {
	h := &histogram{upper: upper, counts: makeCounters(len(upper) + 1)}
	if factor > 1 {
		h.native = true
		h.schema = pickSchema(factor)
	}
	return h
}

// nativeKey returns the index of the native bucket holding v > 0, following
// client_golang's histogram.observe so that both agree to the bit.
func (h *histogram) nativeKey(v float64) int {
	frac, exp := math.Frexp(v)
	if h.schema > 0 {
		bounds := sharedBounds[h.schema]
		return sort.SearchFloat64s(bounds, frac) + (exp-1)*len(bounds)
	}
	key := exp
	if frac == 0.5 {
		key--
	}
	offset := (1 << -h.schema) - 1
	return (key + offset) >> -h.schema
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.upper, v) // first bound >= v: le semantics
	h.counts.add(i, 1)
	h.count++
	h.sum += v
	if !h.native {
		return
	}
	if v <= NativeZeroThreshold {
		h.zeroCount++
		return
	}
	h.addNative(h.nativeKey(v))
}

func (h *histogram) addNative(k int) {
	if h.native1.len() == 0 {
		h.offset = k
		h.native1 = makeCounters(1)
		h.native1.add(0, 1)
		return
	}
	lo, hi := h.offset, h.offset+h.native1.len()-1
	if k < lo || k > hi {
		nlo, nhi := min(lo, k), max(hi, k)
		if nhi-nlo+1 > nativeMaxBucketCount && h.schema > nativeSchemaMin {
			// Too wide a spread for this resolution: halve it, as
			// client_golang does when it hits its bucket limit.
			h.halveResolution()
			h.addNative((k + 1) >> 1)
			return
		}
		h.native1, h.offset = h.native1.grown(nhi-nlo+1, lo-nlo), nlo
	}
	h.native1.add(k-h.offset, 1)
}

// halveResolution lowers the schema by one: bucket k of schema s lies
// within bucket ceil(k/2) of schema s-1.
func (h *histogram) halveResolution() {
	nlo := (h.offset + 1) >> 1
	n := h.native1.len()
	nhi := (h.offset + n) >> 1
	merged := makeCounters(nhi - nlo + 1)
	for i := range n {
		merged.add(((h.offset+i+1)>>1)-nlo, h.native1.get(i))
	}
	h.native1, h.offset = merged, nlo
	h.schema--
}

// snapshotInto copies the histogram into s, reusing s's count slices
// when they have room.
func (h *histogram) snapshotInto(s *HistogramSnapshot) {
	*s = HistogramSnapshot{
		Count:       h.count,
		Sum:         h.sum,
		UpperBounds: h.upper,
		Counts:      h.counts.appendTo(s.Counts[:0]),
		Native:      h.native,
		// Kept, emptied, for reuse.
		NativeCounts: s.NativeCounts[:0],
	}
	if h.native {
		s.Schema = h.schema
		s.ZeroThreshold = NativeZeroThreshold
		s.ZeroCount = h.zeroCount
		s.NativeOffset = h.offset
		s.NativeCounts = h.native1.appendTo(s.NativeCounts)
	}
}

// emptyHistogramSnapshot sets s to what snapshotInto gives for a new
// histogram of these buckets and native factor, reusing s's slices.
func emptyHistogramSnapshot(s *HistogramSnapshot, upper []float64, factor float64) {
	counts := s.Counts[:0]
	if n := len(upper) + 1; cap(counts) >= n {
		counts = counts[:n]
		clear(counts)
	} else {
		counts = make([]uint64, n)
	}
	*s = HistogramSnapshot{UpperBounds: upper, Counts: counts, NativeCounts: s.NativeCounts[:0]}
	if factor > 1 {
		s.Native = true
		s.Schema = pickSchema(factor)
		s.ZeroThreshold = NativeZeroThreshold
	}
}
