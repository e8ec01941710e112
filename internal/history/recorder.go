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

// Recorder keeps one prober's history. A nil *Recorder is valid: it
// records nothing and its snapshots are empty.
//
// A Recorder is not safe for concurrent use: its owner serialises calls,
// as the prober does under its lock, where Reply, Lost and Late cost a few
// tens of nanoseconds and Snapshot copies out a 3 h window in a few
// microseconds. Snapshots alone may run concurrently.
//
// A Recorder belongs to whoever holds the pointer, and moves by handing
// the pointer over (to the prober that replaces an unchanged one, say).
// It must not be copied: the copy would share its memory (go vet's
// copylocks check reports copies).
type Recorder struct {
	_ noCopy

	p *Pool
	// blk is nil until the first probe, then the Pool's block: a ring of
	// p.slots slot words, slot k at k mod p.slots, then the reservoir.
	blk []uint64
	// cur is the index of the open slot, whose ring word is stale until
	// the slot closes; first is that of the first probe's.
	cur, first int64
	// sent and lost count the open slot's probes; lo and hi are the codes
	// of its smallest and largest RTT; late counts its replies that have
	// no RTT (see Late), so that sent − lost − late is the number of RTTs
	// the reservoir has seen. It fills the struct's padding: a Recorder is
	// 64 bytes with it as without.
	sent, lost uint32
	lo, hi     uint16
	late       uint32
}

// Reply records a probe that came back after rtt, at time t.
func (r *Recorder) Reply(t time.Time, rtt time.Duration) {
	if r == nil {
		return
	}
	r.advance(t)
	c := rttCode(rtt)
	n := r.timed() // RTTs so far
	r.sent++
	if n == 0 {
		r.lo, r.hi = c, c
	} else {
		r.lo, r.hi = min(r.lo, c), max(r.hi, c)
	}
	// Algorithm R (Vitter): the n-th reply (from 0) replaces a uniformly
	// chosen one with probability size/(n+1), which keeps the reservoir a
	// uniform sample of the slot's replies.
	if n < reservoirSize {
		r.setSample(int(n), c)
	} else if j := mix(uint64(r.cur), uint64(n)) % uint64(n+1); j < reservoirSize {
		r.setSample(int(j), c)
	}
	runtime.KeepAlive(r)
}

// Lost records a probe that is lost, at time t: it timed out, or it was
// due while the connection was down.
func (r *Recorder) Lost(t time.Time) {
	if r == nil {
		return
	}
	r.advance(t)
	r.sent++
	r.lost++
	runtime.KeepAlive(r)
}

// Late records at time t a reply to a probe recorded lost: it came after
// its probe's timeout. In the open slot it turns one lost probe into one
// that came back, with no RTT (the prober times no reply that comes after
// its timeout: Karn's rule, and often the probe is forgotten), so a slot's loss
// counts the probes never answered, as tcp_echo_timeouts_total −
// tcp_echo_late_total does. A closed slot is never rewritten: when the
// open slot has no loss to undo, the loss the reply answers was recorded
// in a slot now closed, and stays there. That only happens to a reply
// that crosses a slot boundary: later than its timeout by up to the time
// since the slot began.
func (r *Recorder) Late(t time.Time) {
	if r == nil || r.blk == nil {
		return // nothing was recorded lost
	}
	r.advance(t)
	if r.lost > 0 {
		r.lost--
		r.late++
	}
	runtime.KeepAlive(r)
}

// timed returns the number of the open slot's replies that have an RTT.
func (r *Recorder) timed() uint32 { return r.sent - r.lost - r.late }

// advance makes the slot of t the open slot, closing the one before and
// marking those in between empty. A t before the open slot (a clock
// stepped back) counts in the open slot: history is not rewritten.
func (r *Recorder) advance(t time.Time) {
	k := r.p.index(t)
	if r.blk == nil {
		r.blk = r.p.get()
		// The block's memory is outside the heap: hand it back when r
		// is garbage. The cleanup refers to the Pool, not to r.
		runtime.AddCleanup(r, r.p.put, r.blk)
		r.cur, r.first = k, k
		return
	}
	if k <= r.cur {
		return
	}
	n := int64(r.p.slots)
	s := r.openStats()
	r.blk[ringIndex(r.cur, n)] = r.p.codec.encode(&s)
	for j := r.cur + 1; j < k && j <= r.cur+n; j++ {
		r.blk[ringIndex(j, n)] = 0
	}
	r.cur, r.sent, r.lost, r.late = k, 0, 0, 0
}

// openStats returns the open slot's counts and quantile codes.
func (r *Recorder) openStats() slotStats {
	s := slotStats{sent: r.sent, lost: r.lost}
	m := min(int(r.timed()), reservoirSize)
	if m == 0 {
		return s
	}
	s.timed = true
	var buf [reservoirSize]uint16
	for i := range m {
		buf[i] = r.sample(i)
	}
	v := buf[:m]
	slices.Sort(v)
	for i := range s.q {
		s.q[i] = r.p.codec.quantile(v, twentieths(i))
	}
	// The reservoir may have dropped the extremes; these are exact.
	s.q[Min], s.q[Max] = r.lo, r.hi
	return s
}

// quantile returns the quantile at level tw/20 of the sorted codes v,
// interpolated linearly in time between the two nearest ranks (Hyndman
// and Fan's definition 7, the default of R and NumPy), as a code.
func (c *codec) quantile(v []uint16, tw int) uint16 {
	h := (len(v) - 1) * tw
	i, rem := h/20, h%20
	if rem == 0 || v[i] == v[i+1] {
		return v[i]
	}
	a, b := c.duration(v[i]), c.duration(v[i+1])
	return rttCode(a + (b-a)*time.Duration(rem)/20)
}

// sample returns the reservoir's i-th code.
func (r *Recorder) sample(i int) uint16 {
	return uint16(r.blk[r.p.slots+i/4] >> (16 * (i % 4)))
}

// setSample sets the reservoir's i-th code.
func (r *Recorder) setSample(i int, c uint16) {
	w := &r.blk[r.p.slots+i/4]
	shift := 16 * (i % 4)
	*w = *w&^(0xffff<<shift) | uint64(c)<<shift
}

// ringIndex returns where slot k sits in a ring of n.
func ringIndex(k, n int64) int {
	i := k % n
	if i < 0 {
		i += n
	}
	return int(i)
}

// mix is SplitMix64's finaliser over a and b: a deterministic choice for
// the reservoir, so the same probes always give the same history.
func mix(a, b uint64) uint64 {
	z := a*0x9e3779b97f4a7c15 + b
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// noCopy makes go vet's copylocks check report copies of the struct that
// holds it.
type noCopy struct{}

// Lock is a no-op for go vet.
func (*noCopy) Lock() {}

// Unlock is a no-op for go vet.
func (*noCopy) Unlock() {}
