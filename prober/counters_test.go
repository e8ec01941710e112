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
	"testing"
)

// TestCountersPastUint32 checks that counts stay exact when one passes
// 2^32-1, through a histogram's growth and halving of its native buckets,
// and that the snapshot shows them.
func TestCountersPastUint32(t *testing.T) {
	a := makeCounters(3)
	a.add(1, math.MaxUint32)
	a.add(2, 7)
	if a.wide {
		t.Fatal("widened before any count passed 2^32-1")
	}
	a.add(1, 1)
	if !a.wide || a.len() != 3 {
		t.Fatalf("wide %v len %d after a count passed 2^32-1", a.wide, a.len())
	}
	if got := a.appendTo(nil); got[0] != 0 || got[1] != 1<<32 || got[2] != 7 {
		t.Fatalf("counts %v", got)
	}
	g := a.grown(5, 2)
	if got := g.appendTo(nil); len(got) != 5 || got[3] != 1<<32 || got[4] != 7 || got[0]+got[1]+got[2] != 0 {
		t.Fatalf("grown %v", got)
	}

	// A histogram whose busiest bucket passes 2^32-1, then spreads far
	// enough to halve its resolution.
	h := newHistogram([]float64{0.001, 0.01}, 1.1)
	h.observe(0.002)
	k := h.offset
	h.native1.add(0, math.MaxUint32-1) // as if 2^32-1 RTTs had landed there
	h.counts.add(1, math.MaxUint32-1)
	h.observe(0.002)
	h.observe(0.0021)
	schema := h.schema
	h.observe(1e5) // 25 doublings: too far for 160 buckets at schema 3
	if h.schema >= schema {
		t.Fatalf("schema %d after a spread past %d buckets, was %d", h.schema, nativeMaxBucketCount, schema)
	}
	var s HistogramSnapshot
	h.snapshotInto(&s)
	if s.Counts[1] != 1<<32+1 {
		t.Fatalf("classic bucket (1ms, 10ms] = %d, want %d", s.Counts[1], uint64(1<<32+1))
	}
	var sum uint64
	for _, c := range s.NativeCounts {
		sum += c
	}
	if want := uint64(1<<32 + 2); sum != want {
		t.Fatalf("native counts sum to %d, want %d", sum, want)
	}
	// 0.002 and 0.0021 lie in one bucket at the lower resolution or in
	// neighbours: the 2^32 RTTs of bucket k are in bucket (k+1)>>1.
	if c := s.NativeCounts[((k+1)>>1)-s.NativeOffset]; c < 1<<32 {
		t.Fatalf("bucket of the busiest RTTs holds %d", c)
	}
}
