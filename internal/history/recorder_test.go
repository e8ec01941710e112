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

package history

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// t0 is a slot boundary, where the tests' histories start.
var t0 = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)

// newTestRecorder returns a Recorder of the default 3 h of one-minute
// slots, and its Pool.
func newTestRecorder(t testing.TB) (*Pool, *Recorder) {
	t.Helper()
	p := NewPool(3*time.Hour, time.Minute)
	return p, p.NewRecorder()
}

// ms returns x milliseconds.
func ms(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }

// linearQuantile is Hyndman and Fan's definition 7 over sorted v.
func linearQuantile(v []time.Duration, level float64) time.Duration {
	h := float64(len(v)-1) * level
	i := int(h)
	if i == len(v)-1 {
		return v[i]
	}
	return v[i] + time.Duration((h-float64(i))*float64(v[i+1]-v[i]))
}

// codesApart returns how many codes a and b are apart.
func codesApart(a, b time.Duration) float64 {
	return math.Abs(codesPerOctave * math.Log2(float64(a)/float64(b)))
}

func TestQuantilesOfKnownDistributions(t *testing.T) {
	for _, tt := range []struct {
		name string
		rtts func() []time.Duration
		// sampled: more replies than the reservoir holds; the inner
		// quantiles are then estimates, within 20 % of the range.
		sampled bool
	}{
		{"tight jitter around 10 ms", func() []time.Duration {
			return series(60, func(i int) time.Duration { return ms(10) + time.Duration(i)*10*time.Microsecond })
		}, false},
		{"uniform 1 to 60 ms", func() []time.Duration {
			return series(60, func(i int) time.Duration { return ms(float64(i + 1)) })
		}, false},
		{"retransmissions: 54 at 1 ms, 6 at 200 ms", func() []time.Duration {
			return series(60, func(i int) time.Duration {
				if i < 6 {
					return ms(200)
				}
				return ms(1)
			})
		}, false},
		{"one reply", func() []time.Duration { return []time.Duration{ms(42)} }, false},
		{"loopback, 23 µs", func() []time.Duration {
			return series(60, func(int) time.Duration { return 23 * time.Microsecond })
		}, false},
		{"600 ascending replies, sampled", func() []time.Duration {
			return series(600, func(i int) time.Duration { return ms(float64(i + 1)) })
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, r := newTestRecorder(t)
			rtts := tt.rtts()
			if !tt.sampled {
				rand.New(rand.NewPCG(7, 7)).Shuffle(len(rtts), func(i, j int) { rtts[i], rtts[j] = rtts[j], rtts[i] })
			}
			for i, rtt := range rtts {
				r.Reply(t0.Add(time.Duration(i)*time.Minute/time.Duration(len(rtts))), rtt)
			}
			r.Lost(t0.Add(time.Minute)) // closes the slot
			pts := r.Snapshot(nil, t0, t0.Add(time.Minute))
			if len(pts) != 1 || codesApart(time.Duration(pts[0].Sent), time.Duration(len(rtts))) > 6 || pts[0].Lost != 0 || pts[0].Open {
				t.Fatalf("snapshot %+v, want one closed slot of %d replies", pts, len(rtts))
			}
			got := pts[0].RTT
			sorted := slices.Clone(rtts)
			slices.Sort(sorted)
			var want [NumQuantiles]time.Duration
			for i := range want {
				want[i] = linearQuantile(sorted, QuantileLevel(i))
			}
			checkQuantiles(t, got, want, tt.sampled)
		})
	}
}

// checkQuantiles checks got against want within what the encoding
// promises: a code for rounding each RTT and one for the interpolated
// quantile; beyond 16 codes from the neighbour it steps from, 6.3 % of
// the distance more.
func checkQuantiles(t *testing.T, got, want [NumQuantiles]time.Duration, sampled bool) {
	t.Helper()
	for i := range want {
		tol := 1.0
		if i != P50 {
			if d := codesApart(want[i], want[neighbour(i)]); d > exactSteps-2 {
				tol += 0.063*d + 2
			}
		}
		if sampled && i != Min && i != Max {
			if d := got[i] - want[i]; d.Abs() > (want[Max]-want[Min])/5 {
				t.Errorf("quantile %v is %v, want %v within a fifth of the range", QuantileLevel(i), got[i], want[i])
			}
			continue
		}
		if d := codesApart(got[i], want[i]); d > tol {
			t.Errorf("quantile %v is %v, want %v: %.1f codes off, want at most %.1f", QuantileLevel(i), got[i], want[i], d, tol)
		}
	}
}

// neighbour returns the quantile that quantile i is stepped from.
func neighbour(i int) int {
	for k := range NumQuantiles - 1 {
		if j, from := stepQuantiles(k); j == i {
			return from
		}
	}
	return i
}

// series returns f(0) … f(n−1).
func series(n int, f func(int) time.Duration) []time.Duration {
	v := make([]time.Duration, n)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

func TestLossAndGaps(t *testing.T) {
	_, r := newTestRecorder(t)
	at := func(slot, i int) time.Time {
		return t0.Add(time.Duration(slot)*time.Minute + time.Duration(i)*time.Second)
	}
	for i := range 60 { // slot 0: every probe back
		r.Reply(at(0, i), ms(5))
	}
	for i := range 60 { // slot 1: 20 % loss
		if i%5 == 0 {
			r.Lost(at(1, i))
		} else {
			r.Reply(at(1, i), ms(5))
		}
	}
	for i := range 60 { // slot 2: disconnected, every probe lost
		r.Lost(at(2, i))
	}
	// slots 3 and 4: nothing at all (the prober was not running)
	r.Reply(at(5, 0), ms(7)) // slot 5: open

	pts := r.Snapshot(nil, t0, t0.Add(time.Hour))
	if len(pts) != 6 {
		t.Fatalf("%d points, want 6 (slots 0 to the open slot 5)", len(pts))
	}
	for _, tt := range []struct {
		slot              int
		sent, lost        int
		empty, open, rtts bool
	}{
		{0, 60, 0, false, false, true},
		{1, 60, 12, false, false, true},
		{2, 60, 60, false, false, false},
		{3, 0, 0, true, false, false},
		{4, 0, 0, true, false, false},
		{5, 1, 0, false, true, true},
	} {
		p := pts[tt.slot]
		if !p.Start.Equal(at(tt.slot, 0)) || !p.End.Equal(at(tt.slot+1, 0)) || p.Start.Location() != time.UTC {
			t.Errorf("slot %d spans %v to %v, want %v to %v in UTC", tt.slot, p.Start, p.End, at(tt.slot, 0), at(tt.slot+1, 0))
		}
		if p.Sent != tt.sent || p.Lost != tt.lost || p.Empty() != tt.empty || p.Open != tt.open || (p.RTT[P50] != 0) != tt.rtts {
			t.Errorf("slot %d: %+v, want %d sent, %d lost, empty %v, open %v, RTTs %v",
				tt.slot, p, tt.sent, tt.lost, tt.empty, tt.open, tt.rtts)
		}
	}
	if got := pts[1].LossRatio(); got != 0.2 {
		t.Errorf("slot 1 loss ratio %v, want 0.2", got)
	}
	if got := pts[2].Received(); got != 0 {
		t.Errorf("slot 2 received %d, want 0", got)
	}
	if d := codesApart(pts[5].RTT[P50], ms(7)); d > 0.5 {
		t.Errorf("open slot's median %v, want 7ms", pts[5].RTT[P50])
	}
}

func TestRingWrapsAround(t *testing.T) {
	p, r := newTestRecorder(t)
	const total = 400 // more than the ring's 180 slots
	for k := range total {
		r.Reply(t0.Add(time.Duration(k)*time.Minute), ms(float64(k+1)))
	}
	pts := r.Snapshot(nil, t0, t0.Add(total*time.Minute))
	if want := int(p.Span() / time.Minute); len(pts) != want {
		t.Fatalf("%d points, want the ring's %d", len(pts), want)
	}
	for i, pt := range pts {
		k := total - len(pts) + i
		if !pt.Start.Equal(t0.Add(time.Duration(k)*time.Minute)) || pt.Sent != 1 {
			t.Fatalf("point %d: %+v, want slot %d with one probe", i, pt, k)
		}
		if d := codesApart(pt.RTT[P50], ms(float64(k+1))); d > 0.5 {
			t.Fatalf("slot %d median %v, want %v", k, pt.RTT[P50], ms(float64(k+1)))
		}
	}
}

func TestJumpBeyondTheSpanForgets(t *testing.T) {
	_, r := newTestRecorder(t)
	for k := range 10 {
		r.Reply(t0.Add(time.Duration(k)*time.Minute), ms(3))
	}
	later := t0.Add(5 * time.Hour)
	r.Reply(later, ms(4))
	pts := r.Snapshot(nil, later.Add(-3*time.Hour), later.Add(time.Minute))
	if len(pts) != 180 {
		t.Fatalf("%d points, want 180", len(pts))
	}
	for _, pt := range pts[:179] {
		if !pt.Empty() {
			t.Fatalf("slot at %v: %+v, want empty: the history before the jump is older than the span", pt.Start, pt)
		}
	}
	if last := pts[179]; !last.Open || last.Sent != 1 {
		t.Errorf("last point %+v, want the open slot with one probe", last)
	}
	// A gap shorter than the span keeps what came before.
	r.Reply(later.Add(90*time.Minute), ms(5))
	pts = r.Snapshot(pts[:0], later, later.Add(91*time.Minute))
	if len(pts) != 91 || pts[0].Sent != 1 || !pts[45].Empty() || pts[90].Sent != 1 {
		t.Errorf("after a 90-minute gap: %d points, first %+v, middle %+v", len(pts), pts[0], pts[45])
	}
}

func TestClockSteppingBackCountsInTheOpenSlot(t *testing.T) {
	_, r := newTestRecorder(t)
	r.Reply(t0.Add(5*time.Minute), ms(2))
	r.Lost(t0.Add(time.Minute))
	r.Reply(t0.Add(-time.Hour), ms(2))
	pts := r.Snapshot(nil, t0.Add(-2*time.Hour), t0.Add(6*time.Minute))
	if len(pts) != 1 || !pts[0].Start.Equal(t0.Add(5*time.Minute)) || pts[0].Sent != 3 || pts[0].Lost != 1 {
		t.Errorf("snapshot %+v, want slot 5 alone, with 3 probes, 1 lost", pts)
	}
}

func TestSnapshotWindow(t *testing.T) {
	_, r := newTestRecorder(t)
	for k := range 10 {
		r.Reply(t0.Add(time.Duration(k)*time.Minute), ms(1))
	}
	for _, tt := range []struct {
		name     string
		from, to time.Duration // from t0
		first    int           // slot of the first point
		n        int
	}{
		{"whole slots", 2 * time.Minute, 5 * time.Minute, 2, 3},
		// A slot is in the window it starts in: not 2, which began before it.
		{"partial slots at both ends", 2*time.Minute + 30*time.Second, 4*time.Minute + time.Second, 3, 2},
		{"before the first probe", -time.Hour, 2 * time.Minute, 0, 2},
		{"past the open slot", 8 * time.Minute, time.Hour, 8, 2},
		{"inside one slot", 3*time.Minute + time.Second, 3*time.Minute + 2*time.Second, 0, 0},
		{"the open slot, part of it", 9*time.Minute + time.Second, 9*time.Minute + 2*time.Second, 0, 0},
		{"an hour, part of the open slot", 9*time.Minute + 30*time.Second - time.Hour, 9*time.Minute + 30*time.Second, 0, 10},
		{"empty window", 3 * time.Minute, 3 * time.Minute, 0, 0},
		{"reversed window", 4 * time.Minute, 3 * time.Minute, 0, 0},
		{"older than the span", -5 * time.Hour, -4 * time.Hour, 0, 0},
		{"not begun yet", time.Hour, 2 * time.Hour, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pts := r.Snapshot(nil, t0.Add(tt.from), t0.Add(tt.to))
			if len(pts) != tt.n {
				t.Fatalf("%d points, want %d", len(pts), tt.n)
			}
			if tt.n > 0 && !pts[0].Start.Equal(t0.Add(time.Duration(tt.first)*time.Minute)) {
				t.Errorf("first point starts at %v, want slot %d", pts[0].Start, tt.first)
			}
		})
	}
	keep := make([]Point, 1, 20)
	keep[0].Sent = 99
	if got := r.Snapshot(keep, t0, t0.Add(2*time.Minute)); len(got) != 3 || got[0].Sent != 99 {
		t.Errorf("Snapshot did not append to dst: %+v", got)
	}
}

func TestDisabledHistoryKeepsNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		pool *Pool
	}{
		{"span 0", NewPool(0, time.Minute)},
		{"nil pool", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pool.Span() != 0 {
				t.Errorf("span %v, want 0", tt.pool.Span())
			}
			r := tt.pool.NewRecorder()
			if r != nil {
				t.Fatalf("recorder %p, want nil", r)
			}
			allocs := testing.AllocsPerRun(100, func() {
				r.Reply(t0, ms(1))
				r.Lost(t0)
				r.Late(t0)
			})
			if allocs != 0 {
				t.Errorf("recording allocates %v times, want none", allocs)
			}
			if pts := r.Snapshot(nil, t0.Add(-time.Hour), t0.Add(time.Hour)); len(pts) != 0 {
				t.Errorf("snapshot %+v, want none", pts)
			}
		})
	}
}

func TestSpan(t *testing.T) {
	for _, tt := range []struct {
		span, slot, want time.Duration
	}{
		{3 * time.Hour, time.Minute, 3 * time.Hour},
		{90 * time.Second, time.Minute, 2 * time.Minute},
		{time.Hour, 5 * time.Minute, time.Hour},
		{time.Second, time.Minute, time.Minute},
	} {
		if got := NewPool(tt.span, tt.slot).Span(); got != tt.want {
			t.Errorf("NewPool(%v, %v).Span() = %v, want %v", tt.span, tt.slot, got, tt.want)
		}
	}
}

func TestRecordingAllocatesNothing(t *testing.T) {
	_, r := newTestRecorder(t)
	now := t0
	for ; now.Before(t0.Add(3 * time.Hour)); now = now.Add(time.Second) {
		r.Reply(now, ms(1))
	}
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(7 * time.Second) // crosses slot boundaries
		r.Reply(now, ms(1))
		r.Lost(now)
		r.Late(now)
	})
	if allocs != 0 {
		t.Errorf("Reply, Lost and Late allocate %v times, want none", allocs)
	}
	dst := make([]Point, 0, 200)
	allocs = testing.AllocsPerRun(100, func() { dst = r.Snapshot(dst[:0], now.Add(-3*time.Hour), now) })
	if allocs != 0 || len(dst) != 180 {
		t.Errorf("Snapshot into a large enough slice allocates %v times for %d points, want none for 180", allocs, len(dst))
	}
}

// BenchmarkReply is the cost a prober pays per reply, under its lock:
// one reply a second, so a slot closes every 60.
func BenchmarkReply(b *testing.B) {
	_, r := newTestRecorder(b)
	b.ReportAllocs()
	for i := range b.N {
		r.Reply(t0.Add(time.Duration(i)*time.Second), time.Millisecond+time.Duration(i%977)*time.Microsecond)
	}
}

// BenchmarkSnapshot3h is the cost of copying out a 3 h graph's worth of
// slots, under the prober's lock.
func BenchmarkSnapshot3h(b *testing.B) {
	_, r := newTestRecorder(b)
	end := t0.Add(4 * time.Hour)
	for at := t0; at.Before(end); at = at.Add(time.Second) {
		r.Reply(at, ms(3))
	}
	dst := make([]Point, 0, 200)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Snapshot(dst[:0], end.Add(-3*time.Hour), end)
	}
}
