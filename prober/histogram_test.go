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
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tcpping/tcpping_exporter/config"
)

// nativeBuckets decodes client_golang's spans and deltas into index → count.
func nativeBuckets(h *dto.Histogram) map[int]uint64 {
	out := map[int]uint64{}
	idx, count := 0, int64(0)
	d := 0
	for _, sp := range h.GetPositiveSpan() {
		idx += int(sp.GetOffset())
		for range sp.GetLength() {
			count += h.GetPositiveDelta()[d]
			d++
			if count != 0 {
				out[idx] = uint64(count)
			}
			idx++
		}
	}
	return out
}

// TestHistogramMatchesClientGolang checks classic and native buckets
// against client_golang's own histogram fed the same values, so the series
// we expose are the ones a regular Histogram would.
func TestHistogramMatchesClientGolang(t *testing.T) {
	upper := []float64{0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256}
	for _, factor := range []float64{1.1, 1.5, 2, 4} {
		ours := newHistogram(upper, factor)
		ref := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "x", Help: "x", Buckets: upper, NativeHistogramBucketFactor: factor,
			NativeHistogramMaxBucketNumber: 1000,
		})
		r := rand.New(rand.NewPCG(1, 2))
		values := []float64{0.0001, 0.0002, 0.5, 1, 0.25} // exact bounds and powers of two
		for range 5000 {
			values = append(values, 0.00005+r.ExpFloat64()*0.001)
		}
		for _, v := range values {
			ours.observe(v)
			ref.Observe(v)
		}
		var m dto.Metric
		if err := ref.Write(&m); err != nil {
			t.Fatal(err)
		}
		want := m.GetHistogram()
		var got HistogramSnapshot
		ours.snapshotInto(&got)
		if got.Count != want.GetSampleCount() || got.Schema != want.GetSchema() {
			t.Fatalf("factor %v: count %d schema %d, want %d %d", factor, got.Count, got.Schema, want.GetSampleCount(), want.GetSchema())
		}
		var cum uint64
		for i, b := range want.GetBucket() {
			cum += got.Counts[i]
			if cum != b.GetCumulativeCount() {
				t.Errorf("factor %v: le=%v cumulative %d, want %d", factor, b.GetUpperBound(), cum, b.GetCumulativeCount())
			}
		}
		wantNative := nativeBuckets(want)
		for i, c := range got.NativeCounts {
			k := got.NativeOffset + i
			if c != wantNative[k] {
				t.Errorf("factor %v: native bucket %d = %d, want %d", factor, k, c, wantNative[k])
			}
			delete(wantNative, k)
		}
		for k, c := range wantNative {
			t.Errorf("factor %v: native bucket %d = %d missing", factor, k, c)
		}
	}
}

// TestSnapshotIntoReuses checks that SnapshotInto gives what Snapshot
// gives, and that a warm snapshot, taken again into the same value,
// allocates nothing: a scrape of 10,000 probers must not allocate per
// prober, least of all under the prober's lock.
func TestSnapshotIntoReuses(t *testing.T) {
	m := config.DefaultModule()
	m.NativeHistogramBucketFactor = 1.1
	p := New(Options{Name: "t", Address: "192.0.2.1:4000", Module: m}, nil)
	for i := range 500 {
		p.st.hist.observe(float64(20+i%300) * 1e-6)
	}
	var s Snapshot
	p.SnapshotInto(&s)
	if want := p.Snapshot(); !reflect.DeepEqual(s, want) {
		t.Fatalf("SnapshotInto:\n%+v\nSnapshot:\n%+v", s, want)
	}
	if len(s.Histogram.NativeCounts) == 0 || s.Histogram.Count != 500 {
		t.Fatalf("histogram not copied: %+v", s.Histogram)
	}
	if n := testing.AllocsPerRun(100, func() { p.SnapshotInto(&s) }); n != 0 {
		t.Fatalf("warm SnapshotInto allocates %v times, want 0", n)
	}
	// The copy is a copy: observing more does not change it.
	before := s.Histogram.Counts[len(s.Histogram.Counts)-1]
	p.st.hist.observe(100)
	if s.Histogram.Counts[len(s.Histogram.Counts)-1] != before {
		t.Fatal("snapshot shares its counts with the live histogram")
	}
}
