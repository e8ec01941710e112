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

import "math"

// counters is an array of event counts that takes 4 bytes a count until
// one of them would pass 2^32-1, and 8 from then on: a prober's histograms
// hold tens of buckets each, times thousands of targets, and few buckets
// of few probers ever count past 4 billion (at one probe a millisecond,
// after 50 days). Counts are exact either way. The zero value is empty.
type counters struct {
	// c holds the counts: one word each, or, when wide, two (low word
	// first).
	c    []uint32
	wide bool
}

// makeCounters returns n counts of zero.
func makeCounters(n int) counters { return counters{c: make([]uint32, n)} }

// len returns the number of counts.
func (a *counters) len() int {
	if a.wide {
		return len(a.c) / 2
	}
	return len(a.c)
}

// get returns count i.
func (a *counters) get(i int) uint64 {
	if a.wide {
		return uint64(a.c[2*i]) | uint64(a.c[2*i+1])<<32
	}
	return uint64(a.c[i])
}

// add adds n to count i.
func (a *counters) add(i int, n uint64) {
	if !a.wide {
		if v := uint64(a.c[i]) + n; v <= math.MaxUint32 {
			a.c[i] = uint32(v)
			return
		}
		a.widen()
	}
	v := a.get(i) + n
	a.c[2*i], a.c[2*i+1] = uint32(v), uint32(v>>32)
}

// widen makes every count 8 bytes.
func (a *counters) widen() {
	w := make([]uint32, 2*len(a.c))
	for i, v := range a.c {
		w[2*i] = v
	}
	a.c, a.wide = w, true
}

// grown returns a copy of a with n counts, a's own at index at onwards,
// zeros elsewhere; the copy is as wide as a.
func (a *counters) grown(n, at int) counters {
	g := counters{wide: a.wide}
	if a.wide {
		g.c = make([]uint32, 2*n)
		copy(g.c[2*at:], a.c)
		return g
	}
	g.c = make([]uint32, n)
	copy(g.c[at:], a.c)
	return g
}

// appendTo appends the counts to dst.
func (a *counters) appendTo(dst []uint64) []uint64 {
	if !a.wide {
		for _, v := range a.c {
			dst = append(dst, uint64(v))
		}
		return dst
	}
	for i := 0; i < len(a.c); i += 2 {
		dst = append(dst, uint64(a.c[i])|uint64(a.c[i+1])<<32)
	}
	return dst
}
