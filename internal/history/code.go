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
	"time"
)

// An RTT is kept as a code on a logarithmic scale: code c stands for
// 1 µs × 2^(c/128), so neighbouring codes differ by 0.54 % and rounding
// to the nearest one errs by at most 0.27 %. Twelve bits reach 71
// minutes, far beyond any timeout; shorter than 1 µs reads as 1 µs.
const (
	codeBits       = 12
	maxCode        = 1<<codeBits - 1
	codesPerOctave = 128
	codeBase       = time.Microsecond
)

// rttCode returns the code nearest to d.
func rttCode(d time.Duration) uint16 {
	if d <= codeBase {
		return 0
	}
	c := math.Round(codesPerOctave * math.Log2(float64(d)/float64(codeBase)))
	if c >= maxCode {
		return maxCode
	}
	return uint16(c)
}

// A closed slot is one 64-bit word:
//
//	bits  0–7   probes sent (0: no probe, an empty slot), see encodeCounts
//	bits  8–15  the ratio of probes lost, in 254ths
//	bits 16–27  the median's code
//	bits 28–63  six 6-bit steps: p25, p10 and min below the median, each
//	            from the one before; p75, p90 and max above it
//
// A slot whose probes came back, but none in time to be timed (late
// replies alone, see Recorder.Late), has no quantiles: its bits 16–63 are
// untimedMark, a median of code 0 with a p25 step that is not 0, which no
// timed slot has (below a median of code 0 every step is 0).
//
// A step index e stands for e codes up to 16, then for 16 codes times
// 1.1253^(e−16), up to the whole 4095-code range at e = 63. Steps are
// exact to 16 codes (9 %); a larger one errs by at most 6.3 % of
// itself, so a quantile far from its neighbour is less exact: a max ten
// times the p90 reads within 15 %, where a graph clips it anyway. Each
// step is encoded from the value the previous one decodes to, so errors
// do not add up along the chain.
const (
	maxCount     = 127 // sent counts up to this are exact
	sentMantissa = 16  // beyond, sent is (16+m)·2^(x+3), m < 16, x < 8
	lossUnits    = 254 // the loss ratio's unit is 1/254
	medianShift  = 16
	stepShift    = 28
	stepBits     = 6
	numSteps     = 1 << stepBits
	exactSteps   = 16
	untimedMark  = (numSteps - 1) << stepShift
)

// stepQuantiles returns the quantile that step field k encodes and the
// quantile it steps from: p25, p10 and min downwards from the median,
// then p75, p90 and max upwards.
func stepQuantiles(k int) (i, from int) {
	if k < 3 {
		return P25 - k, P25 - k + 1
	}
	return P75 + k - 3, P75 + k - 4
}

// slotStats is one slot's counts and, when some probe came back in time
// to be timed, the codes of its RTT quantiles.
type slotStats struct {
	sent, lost uint32
	timed      bool // q holds quantiles
	q          [NumQuantiles]uint16
}

// replies returns the number of probes that came back.
func (s *slotStats) replies() uint32 { return s.sent - s.lost }

// codec turns codes and slot words into values. Its tables are worked
// out once per Pool, so that decoding a graph's worth of slots under the
// prober's lock costs table look-ups, not logarithms.
type codec struct {
	rtt  [maxCode + 1]time.Duration
	step [numSteps]uint16
}

// newCodec returns a codec with its tables filled.
func newCodec() *codec {
	c := new(codec)
	for i := range c.rtt {
		c.rtt[i] = time.Duration(math.Round(float64(codeBase) * math.Exp2(float64(i)/codesPerOctave)))
	}
	ratio := math.Pow(maxCode/exactSteps, 1/float64(numSteps-1-exactSteps))
	for e := range c.step {
		if e <= exactSteps {
			c.step[e] = uint16(e)
		} else {
			c.step[e] = uint16(math.Round(exactSteps * math.Pow(ratio, float64(e-exactSteps))))
		}
	}
	c.step[numSteps-1] = maxCode
	return c
}

// duration returns the RTT that code stands for.
func (c *codec) duration(code uint16) time.Duration { return c.rtt[code] }

// nearestStep returns the step index whose size is nearest to d codes.
func (c *codec) nearestStep(d int) int {
	if d <= 0 {
		return 0
	}
	lo, hi := 0, numSteps-1
	for lo < hi { // the first step at least d
		mid := (lo + hi) / 2
		if int(c.step[mid]) < d {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo > 0 && d-int(c.step[lo-1]) < int(c.step[lo])-d {
		return lo - 1
	}
	return lo
}

// apply returns the code one step of index e away from code from:
// downwards for the quantiles below the median (i < P50).
func (c *codec) apply(from uint16, e, i int) uint16 {
	if i < P50 {
		return uint16(max(int(from)-int(c.step[e]), 0))
	}
	return uint16(min(int(from)+int(c.step[e]), maxCode))
}

// encode packs s into a slot word.
func (c *codec) encode(s *slotStats) uint64 {
	if s.sent == 0 {
		return 0
	}
	w := encodeCounts(s.sent, s.lost)
	switch {
	case s.replies() == 0:
		return w
	case !s.timed:
		return w | untimedMark
	}
	var dec [NumQuantiles]uint16
	dec[P50] = s.q[P50]
	w |= uint64(s.q[P50]) << medianShift
	for k := range NumQuantiles - 1 {
		i, from := stepQuantiles(k)
		d := int(s.q[i]) - int(dec[from])
		if i < P50 {
			d = -d
		}
		e := c.nearestStep(d)
		dec[i] = c.apply(dec[from], e, i)
		w |= uint64(e) << (stepShift + k*stepBits)
	}
	return w
}

// decode unpacks a slot word.
func (c *codec) decode(w uint64) slotStats {
	var s slotStats
	s.sent, s.lost = decodeCounts(w)
	if s.replies() == 0 || w&^0xffff == untimedMark {
		return s
	}
	s.timed = true
	s.q[P50] = uint16(w>>medianShift) & maxCode
	for k := range NumQuantiles - 1 {
		i, from := stepQuantiles(k)
		e := int(w>>(stepShift+k*stepBits)) & (numSteps - 1)
		s.q[i] = c.apply(s.q[from], e, i)
	}
	return s
}

// encodeCounts packs sent and lost into the word's low 16 bits: sent in
// the low byte, exact up to 127 and within 3.1 % beyond (to 31744), and
// the loss ratio in the high byte, in 254ths. Both are exact up to 127
// probes a slot (a probe every half second for a minute); beyond, lost
// reads back as that ratio of the sent count read back, to the nearest
// probe, so its ratio is within 1/254 and half a probe of the true one,
// and some loss never rounds to none, nor partial loss to all.
func encodeCounts(sent, lost uint32) uint64 {
	s := uint64(sent)
	if sent > maxCount {
		x := 0
		for x < 7 && s>>(x+3) >= 2*sentMantissa {
			x++
		}
		q := (s + 1<<(x+2)) >> (x + 3) // in units of 2^(x+3), rounded
		switch {
		case q >= 2*sentMantissa && x < 7:
			q, x = sentMantissa, x+1
		case q >= 2*sentMantissa:
			q = 2*sentMantissa - 1
		}
		s = maxCount + 1 + uint64(x)*sentMantissa + q - sentMantissa
	}
	l := (uint64(lost)*lossUnits + uint64(sent)/2) / uint64(sent)
	switch {
	case lost > 0 && l == 0:
		l = 1
	case lost < sent && l == lossUnits:
		l = lossUnits - 1
	}
	return s | l<<8
}

// decodeCounts unpacks what encodeCounts packed.
func decodeCounts(w uint64) (sent, lost uint32) {
	s, l := uint32(w&0xff), uint32(w>>8&0xff)
	if s == 0 {
		return 0, 0
	}
	if s > maxCount {
		x, m := (s-maxCount-1)/sentMantissa, (s-maxCount-1)%sentMantissa
		s = (sentMantissa + m) << (x + 3)
	}
	lost = (l*s + lossUnits/2) / lossUnits
	switch {
	case l > 0 && lost == 0:
		lost = 1
	case l < lossUnits && lost == s:
		lost = s - 1
	}
	return s, lost
}
