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

// codeRatio is the ratio between neighbouring codes' RTTs.
var codeRatio = math.Exp2(1.0 / codesPerOctave)

func TestRTTCodeRoundTrip(t *testing.T) {
	c := newCodec()
	halfCode := math.Sqrt(codeRatio) - 1 // the largest rounding error
	for _, tt := range []struct {
		name string
		in   time.Duration
		want time.Duration // 0: in, within half a code
	}{
		{"zero reads as the floor", 0, time.Microsecond},
		{"below the floor", 300 * time.Nanosecond, time.Microsecond},
		{"floor", time.Microsecond, time.Microsecond},
		{"loopback", 23 * time.Microsecond, 0},
		{"LAN", 187*time.Microsecond + 400*time.Nanosecond, 0},
		{"one millisecond", time.Millisecond, 0},
		{"WAN", 83*time.Millisecond + 310*time.Microsecond, 0},
		{"max timeout", 3 * time.Second, 0},
		{"a minute", time.Minute, 0},
		{"beyond the top clamps", 3 * time.Hour, c.duration(maxCode)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := c.duration(rttCode(tt.in))
			if tt.want != 0 {
				if got != tt.want {
					t.Errorf("%v reads back as %v, want %v", tt.in, got, tt.want)
				}
				return
			}
			if rel := math.Abs(float64(got)/float64(tt.in) - 1); rel > halfCode {
				t.Errorf("%v reads back as %v: off by %.3f %%, want at most %.3f %%", tt.in, got, 100*rel, 100*halfCode)
			}
		})
	}
}

func TestRTTCodeMonotone(t *testing.T) {
	c := newCodec()
	for i := 1; i <= maxCode; i++ {
		if c.duration(uint16(i)) <= c.duration(uint16(i-1)) {
			t.Fatalf("code %d reads %v, not above code %d's %v", i, c.duration(uint16(i)), i-1, c.duration(uint16(i-1)))
		}
	}
	if top := c.duration(maxCode); top < time.Hour {
		t.Errorf("the top code reads %v, want at least an hour", top)
	}
}

// TestStepTable checks the property the package comment promises: steps
// are exact up to 16 codes and err by at most 6.3 % of themselves beyond.
func TestStepTable(t *testing.T) {
	c := newCodec()
	for e := 1; e < numSteps; e++ {
		if c.step[e] <= c.step[e-1] {
			t.Fatalf("step %d is %d codes, not above step %d's %d", e, c.step[e], e-1, c.step[e-1])
		}
	}
	if c.step[exactSteps] != exactSteps || c.step[numSteps-1] != maxCode {
		t.Errorf("steps %d and %d are %d and %d codes, want %d and %d",
			exactSteps, numSteps-1, c.step[exactSteps], c.step[numSteps-1], exactSteps, maxCode)
	}
	for d := 0; d <= maxCode; d++ {
		got := int(c.step[c.nearestStep(d)])
		if err := abs(got - d); d <= exactSteps && err != 0 || float64(err) > 0.063*float64(d) {
			t.Fatalf("a step of %d codes encodes as %d", d, got)
		}
	}
}

// TestCountsBounds checks encodeCounts' promises over every loss of every
// sent count from 128 to 2 048, and a spread of losses up to 31 744 sent:
// sent within 3.1 %, the loss ratio within 1/254 and half a probe, some
// loss never none and partial loss never all.
func TestCountsBounds(t *testing.T) {
	fails := 0
	for s := uint32(maxCount + 1); s <= 31744 && fails < 10; s++ {
		step := uint32(1)
		if s > 2048 {
			step = s/97 + 1
		}
		for l := uint32(0); l <= s && fails < 10; l += step {
			sent, lost := decodeCounts(encodeCounts(s, l))
			want, got := float64(l)/float64(s), float64(lost)/float64(sent)
			if math.Abs(float64(sent)/float64(s)-1) > 0.031 ||
				math.Abs(got-want) > 1.0/lossUnits+0.5/float64(sent)+1e-12 ||
				(l > 0) != (lost > 0) || (l < s) != (lost < sent) {
				t.Errorf("%d lost of %d read back as %d of %d", l, s, lost, sent)
				fails++
			}
		}
	}
}

func TestCountsRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name       string
		sent, lost uint32
		exact      bool
	}{
		{"a minute at 1/s", 60, 0, true},
		{"20 % loss", 60, 12, true},
		{"all lost", 60, 60, true},
		{"largest exact", 127, 1, true},
		{"one lost in 600", 600, 1, false},
		{"all but one lost in 600", 600, 599, false},
		{"all lost in 600", 600, 600, false},
		{"16 flows at 10/s", 9600, 4800, false},
		{"top of the scale", 31744, 30000, false},
		{"beyond the scale", 1_000_000, 3, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sent, lost := decodeCounts(encodeCounts(tt.sent, tt.lost))
			if tt.exact {
				if sent != tt.sent || lost != tt.lost {
					t.Errorf("%d/%d read back as %d/%d", tt.lost, tt.sent, lost, sent)
				}
				return
			}
			if rel := math.Abs(float64(sent)/float64(tt.sent) - 1); rel > 0.031 && tt.sent <= 31744 {
				t.Errorf("%d sent read back as %d", tt.sent, sent)
			}
			want, got := float64(tt.lost)/float64(tt.sent), float64(lost)/float64(sent)
			if math.Abs(got-want) > 1.0/lossUnits || (tt.lost > 0) != (lost > 0) || (tt.lost < tt.sent) != (lost < sent) {
				t.Errorf("loss %d/%d read back as %d/%d", tt.lost, tt.sent, lost, sent)
			}
		})
	}
}

// TestSlotWordRoundTrip encodes random sorted quantiles and checks each
// decodes within the step bound of the value it was stepped from, and
// that the decoded quantiles stay in order.
func TestSlotWordRoundTrip(t *testing.T) {
	c := newCodec()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		s := slotStats{sent: 1 + rng.Uint32N(127), timed: true}
		s.lost = rng.Uint32N(s.sent)
		spread := 1 + rng.IntN(maxCode/2) // from tight to wild
		base := rng.IntN(maxCode - spread)
		for i := range s.q {
			s.q[i] = uint16(base + rng.IntN(spread+1))
		}
		slices.Sort(s.q[:])
		got := c.decode(c.encode(&s))
		if got.sent != s.sent || got.lost != s.lost || got.q[P50] != s.q[P50] {
			t.Fatalf("%+v decodes as %+v", s, got)
		}
		for k := range NumQuantiles - 1 {
			i, from := stepQuantiles(k)
			d := int(s.q[i]) - int(got.q[from])
			if i < P50 {
				d = -d
			}
			err := abs(int(got.q[i]) - int(s.q[i]))
			if d < 0 {
				// The neighbour decoded past this quantile: it can only
				// decode as the neighbour, off by less than the neighbour.
				if got.q[i] != got.q[from] || err > abs(int(got.q[from])-int(s.q[from])) {
					t.Fatalf("%+v decodes as %+v: quantile %d off by %d codes, beyond its neighbour", s, got, i, err)
				}
				continue
			}
			if d <= exactSteps && err != 0 || float64(err) > 0.063*float64(d) {
				t.Fatalf("%+v decodes as %+v: quantile %d off by %d codes, %d from its neighbour", s, got, i, err, d)
			}
		}
		if !slices.IsSorted(got.q[:]) {
			t.Fatalf("%+v decodes out of order: %+v", s, got)
		}
	}
}

func TestSlotWordEmptyAndAllLost(t *testing.T) {
	c := newCodec()
	if w := c.encode(&slotStats{}); w != 0 {
		t.Errorf("an empty slot encodes as %#x, want 0", w)
	}
	all := slotStats{sent: 60, lost: 60, q: [NumQuantiles]uint16{1, 2, 3, 4, 5, 6, 7}}
	if got := c.decode(c.encode(&all)); got.sent != 60 || got.lost != 60 || got.q != ([NumQuantiles]uint16{}) {
		t.Errorf("a slot with every probe lost decodes as %+v", got)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
