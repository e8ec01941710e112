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
	"time"
)

func TestRTOEstimator(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		adaptive bool
		samples  []time.Duration
		backoffs int
		wantSRTT time.Duration
		wantRTO  time.Duration
	}{
		{"initial timeout before any sample", true, nil, 0, 0, 1000 * ms},
		// First sample R: SRTT=R, RTTVAR=R/2, RTO=R+4*R/2=3R.
		{"first sample", true, []time.Duration{200 * ms}, 0, 200 * ms, 600 * ms},
		// Second sample 100ms: RTTVAR=3/4*100+1/4*100=100, SRTT=7/8*200+1/8*100=187.5, RTO=587.5.
		{"second sample", true, []time.Duration{200 * ms, 100 * ms}, 0, 187500 * time.Microsecond, 587500 * time.Microsecond},
		// Tiny steady RTT: RTO = SRTT + max(G, 4*RTTVAR), clamped to min 100ms.
		{"clamped to min_timeout", true, []time.Duration{10 * time.Microsecond}, 0, 10 * time.Microsecond, 100 * ms},
		{"clamped to max_timeout", true, []time.Duration{2 * time.Second}, 0, 2 * time.Second, 3 * time.Second},
		{"timeout doubles", true, []time.Duration{100 * ms}, 1, 100 * ms, 600 * ms},
		{"doubling stops at max", true, []time.Duration{100 * ms}, 5, 100 * ms, 3 * time.Second},
		{"fixed timeout ignores samples", false, []time.Duration{10 * ms, 20 * ms}, 3, 11250 * time.Microsecond, 1000 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRTOEstimator(tt.adaptive, time.Second, 100*ms, 3*time.Second, 0)
			for _, s := range tt.samples {
				e.sample(s)
			}
			for range tt.backoffs {
				e.backoff()
			}
			if e.smoothed() != tt.wantSRTT || e.timeout() != tt.wantRTO {
				t.Errorf("SRTT %v RTO %v, want %v %v", e.smoothed(), e.timeout(), tt.wantSRTT, tt.wantRTO)
			}
		})
	}
}

// TestRTOBackoffRecovers checks that a backed-off timeout is not kept: the
// next RTT sample sets it from SRTT and RTTVAR again (RFC 6298 section
// 2.3), whatever the backoffs before it (section 5.5 doubles it only
// until an answer comes).
func TestRTOBackoffRecovers(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		margin   float64
		backoffs int
		wantRTO  time.Duration
	}{
		// 100 ms then 100 ms: RTTVAR = 3/4 × 50 + 1/4 × 0 = 37.5 ms,
		// SRTT = 100 ms, RTO = 100 + 4 × 37.5 = 250 ms.
		{"one backoff", 0, 1, 250 * ms},
		{"backed off to max_timeout", 0, 5, 250 * ms},
		// The margin's floor 1.5 × SRTT is below 250 ms.
		{"backed off to max_timeout, default margin", 0.5, 5, 250 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRTOEstimator(true, time.Second, 100*ms, 3*time.Second, tt.margin)
			e.sample(100 * ms)
			for range tt.backoffs {
				e.backoff()
			}
			if backedOff := e.timeout(); backedOff <= 300*ms {
				t.Fatalf("RTO %v after %d backoffs, want above the first sample's 300 ms", backedOff, tt.backoffs)
			}
			e.sample(100 * ms)
			if got := e.timeout(); got != tt.wantRTO {
				t.Errorf("RTO %v after a sample that followed %d backoffs, want %v (SRTT %v)", got, tt.backoffs, tt.wantRTO, e.smoothed())
			}
		})
	}
}

func TestRTOGranularity(t *testing.T) {
	// A perfectly steady RTT drives RTTVAR to 0; G keeps RTO above SRTT.
	e := newRTOEstimator(true, time.Second, time.Nanosecond, time.Hour, 0)
	for range 200 {
		e.sample(5 * time.Millisecond)
	}
	if got, want := e.timeout(), 5*time.Millisecond+rtoGranularity; got != want {
		t.Errorf("RTO %v, want SRTT + G = %v", got, want)
	}
}

// TestRTOMargin checks the floor rto_margin puts under the adaptive
// timeout: SRTT × (1 + margin), above RFC 6298's SRTT + max(G, 4 RTTVAR)
// when RTTVAR has decayed, below it while the RTT still varies, and within
// [min_timeout, max_timeout] like the rest.
func TestRTOMargin(t *testing.T) {
	ms := time.Millisecond
	steady := func(r time.Duration) []time.Duration {
		s := make([]time.Duration, 300)
		for i := range s {
			s[i] = r
		}
		return s
	}
	tests := []struct {
		name     string
		margin   float64
		samples  []time.Duration
		backoffs int
		want     time.Duration
	}{
		{"steady 150 ms without a margin: SRTT + G", 0, steady(150 * ms), 0, 151 * ms},
		{"steady 150 ms, default margin: 1.5 SRTT", 0.5, steady(150 * ms), 0, 225 * ms},
		{"steady 150 ms, margin 1: 2 SRTT", 1, steady(150 * ms), 0, 300 * ms},
		{"first sample: RFC 6298's 3R is above 1.5R", 0.5, []time.Duration{200 * ms}, 0, 600 * ms},
		{"steady 10 ms: the floor is below min_timeout", 0.5, steady(10 * ms), 0, 100 * ms},
		{"steady 1 s, margin 10: clamped to max_timeout", 10, steady(time.Second), 0, 3 * time.Second},
		{"backoff doubles the floor", 0.5, steady(150 * ms), 1, 450 * ms},
		{"no sample yet: the initial timeout", 0.5, nil, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRTOEstimator(true, time.Second, 100*ms, 3*time.Second, tt.margin)
			for _, s := range tt.samples {
				e.sample(s)
			}
			for range tt.backoffs {
				e.backoff()
			}
			if got := e.timeout(); got != tt.want {
				t.Errorf("RTO %v, want %v (SRTT %v)", got, tt.want, e.smoothed())
			}
		})
	}
}

func TestPickSchema(t *testing.T) {
	tests := []struct {
		factor float64
		want   int32
	}{
		{1.1, 3}, {2, 0}, {4, -1}, {1.0001, 8}, {1e6, -4}, {1.5, 1},
	}
	for _, tt := range tests {
		if got := pickSchema(tt.factor); got != tt.want {
			t.Errorf("pickSchema(%v) = %d, want %d", tt.factor, got, tt.want)
		}
		// The chosen growth factor never exceeds the requested one.
		if g := math.Exp2(math.Exp2(-float64(tt.want))); tt.want > -4 && tt.want < 8 && g > tt.factor+1e-12 {
			t.Errorf("schema %d grows by %v > %v", tt.want, g, tt.factor)
		}
	}
}

func TestHistogramNativeBucketCap(t *testing.T) {
	h := newHistogram([]float64{1}, 1.0001) // schema 8: 256 buckets per doubling
	for v := 1e-6; v < 10; v *= 1.01 {
		h.observe(v)
	}
	var s HistogramSnapshot
	h.snapshotInto(&s)
	if len(s.NativeCounts) > nativeMaxBucketCount {
		t.Errorf("%d native buckets, cap is %d", len(s.NativeCounts), nativeMaxBucketCount)
	}
	if s.Schema >= 8 {
		t.Errorf("schema %d: resolution was not reduced", s.Schema)
	}
	var n uint64
	for _, c := range s.NativeCounts {
		n += c
	}
	if n+s.ZeroCount != s.Count {
		t.Errorf("native buckets hold %d observations, count is %d", n+s.ZeroCount, s.Count)
	}
}
