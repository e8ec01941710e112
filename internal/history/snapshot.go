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
	"runtime"
	"slices"
	"time"
)

// Snapshot appends to dst the slots of the window [from, to), oldest
// first, and returns the extended slice: those the Recorder holds, from
// its first probe's, or the oldest it still keeps, up to the open one.
// A slot is in the window it starts in (see Point.In), so a window of an
// hour holds 60 one-minute slots, the open one included, wherever in
// its minute it ends: the slot that began before from is not part of
// it. Slots without a probe come out as empty Points; slots before the
// first probe, older than the span or after the open one do not come
// out. The Points hold no reference to the Recorder.
func (r *Recorder) Snapshot(dst []Point, from, to time.Time) []Point {
	if r == nil || r.blk == nil || !from.Before(to) {
		return dst
	}
	p := r.p
	n := int64(p.slots)
	// The first slot that starts at or after from.
	first := max(p.index(from.Add(p.slot-1)), r.cur-n+1, r.first)
	last := min(p.index(to.Add(-1)), r.cur)
	if first > last {
		return dst
	}
	dst = slices.Grow(dst, int(last-first+1))
	start := p.start(first)
	for k := first; k <= last; k++ {
		end := start.Add(p.slot)
		dst = append(dst, Point{Start: start, End: end, Open: k == r.cur})
		var s slotStats
		if k == r.cur {
			s = r.openStats()
		} else {
			s = p.codec.decode(r.blk[ringIndex(k, n)])
		}
		p.fill(&dst[len(dst)-1], &s)
		start = end
	}
	runtime.KeepAlive(r)
	return dst
}

// fill sets pt's counts and RTTs from s.
func (p *Pool) fill(pt *Point, s *slotStats) {
	pt.Sent, pt.Lost = int(s.sent), int(s.lost)
	if s.timed {
		for i, c := range s.q {
			pt.RTT[i] = p.codec.duration(c)
		}
	}
}
