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
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// echoReply is a reply frame as the flow read it.
type echoReply struct {
	seq uint64
	// recv is when the flow read it; kernelNs, if not 0, when the
	// kernel received it (Unix ns).
	recv     time.Time
	kernelNs int64
	// ext: an extended reply, which carries the echo server's receive
	// time (Unix ns, by its own clock) and its turnaround, the time from
	// that receive to its send of the reply.
	ext        bool
	peerRxNs   uint64
	turnaround time.Duration
}

// times returns when probe pr left and when r arrived, both as offsets
// from the clock read of pr's send (pr.sent). The arrival is the kernel's
// receive time if it is consistent with the read (the kernel clock is the
// wall clock: if it is not between the send and the read, the wall clock
// stepped, and the monotonic reading stands); the departure is the
// kernel's transmit time if pr has one that lies between the clock read
// and the arrival, else 0 (the clock read itself).
func (r *echoReply) times(pr probe) (departure, arrival time.Duration) {
	arrival = r.recv.Sub(pr.sent)
	wall := pr.sent.UnixNano()
	if r.kernelNs != 0 {
		if k := time.Duration(r.kernelNs - wall); k > 0 && k <= arrival {
			arrival = k
		}
	}
	arrival = max(arrival, 0)
	if pr.txNs != 0 {
		if d := time.Duration(pr.txNs - wall); d >= 0 && d <= arrival {
			departure = d
		}
	}
	return departure, arrival
}

// timing holds what a prober measures of its replies beyond the RTT
// histogram and the timeout estimator: the RTT's jitter and, from extended
// replies, the echo server's turnaround and each direction's transit.
type timing struct {
	// jitter is the RTT's, RFC 3550 section 6.4.1: J += (|D| − J)/16,
	// D the difference between consecutive RTTs.
	jitter time.Duration
	// fwd and rev are the last one-way transits (prober to echo server
	// and back, turnaround excluded), each the difference of two clocks:
	// meaningful only when they are synchronized. fwdJitter and
	// revJitter are their RFC 3550 jitters, in which the clocks' offset
	// cancels. hasTransit: fwd and rev hold a transit of this connection.
	fwd, rev             time.Duration
	fwdJitter, revJitter time.Duration
	hasTransit           bool
	// turn is the turnaround histogram, made at the first extended reply:
	// a prober that never speaks the extended protocol does not pay for
	// it.
	turn *histogram
}

// jitterStep is one step of RFC 3550's jitter estimator.
func jitterStep(j, prev, cur time.Duration) time.Duration {
	d := diff(int64(cur), int64(prev))
	if d < 0 {
		d = -d
	}
	return j + (d-j)/16
}

// diff returns a − b, saturated at ±math.MaxInt64 ns rather than wrapped:
// a transit takes an echo server's receive time as its reply states it, and
// one from a clock decades off (or a server that lies) must stay absurd,
// not change sign, nor, as |−2⁶³| does not fit, make a jitter negative.
func diff(a, b int64) time.Duration {
	d := a - b
	if (a >= 0) != (b >= 0) && (d >= 0) != (a >= 0) { // wrapped
		if a >= 0 {
			return math.MaxInt64
		}
		return -math.MaxInt64
	}
	return time.Duration(max(d, -math.MaxInt64))
}

// rtt takes the RTT cur of a reply that follows one of RTT prev.
func (t *timing) rtt(prev, cur time.Duration) { t.jitter = jitterStep(t.jitter, prev, cur) }

// peer takes an extended reply to a probe that left at txNs and came back
// at rxNs (Unix ns, this host's clock). The echo server received the probe
// and sent the reply between those instants, so a turnaround longer than
// the round trip is not one: a server whose wall clock stepped between its
// receive and its send, or one that lies. It counts as the whole round
// trip, which keeps the network's share (RTT − turnaround, and forward +
// reverse) from going negative.
func (t *timing) peer(txNs, rxNs int64, r echoReply, m *config.Module) {
	turn := min(r.turnaround, time.Duration(rxNs-txNs))
	t.turnHistogram(m).observe(turn.Seconds())
	// A receive time past 2262 is as far ahead as a Duration reaches.
	peerRx := int64(min(r.peerRxNs, math.MaxInt64))
	fwd := diff(peerRx, txNs)
	rev := diff(int64(diff(rxNs, peerRx)), int64(turn))
	if t.hasTransit {
		t.fwdJitter = jitterStep(t.fwdJitter, t.fwd, fwd)
		t.revJitter = jitterStep(t.revJitter, t.rev, rev)
	}
	t.fwd, t.rev, t.hasTransit = fwd, rev, true
}

// turnHistogram returns the turnaround histogram, made on first use.
func (t *timing) turnHistogram(m *config.Module) *histogram {
	if t.turn == nil {
		t.turn = newHistogram(m.Buckets, m.NativeHistogramBucketFactor)
	}
	return t.turn
}

// connUp starts a new connection, which speaks extended frames if ext:
// its echo server may be another, with a clock of its own, so transits are
// compared within a connection only. One of 24-byte frames measures no
// transit: the one-way series go back to 0, as for a target that never
// spoke the extended protocol, rather than show the last extended
// connection's for as long as it lasts.
func (t *timing) connUp(ext bool) {
	t.hasTransit = false
	if !ext {
		t.fwd, t.rev, t.fwdJitter, t.revJitter = 0, 0, 0, 0
	}
}

// snapshot copies the timing into s; m is the prober's module, whose
// buckets an empty turnaround histogram shows.
func (t *timing) snapshot(s *Snapshot, m *config.Module) {
	s.Jitter = t.jitter
	s.ForwardDelay, s.ReverseDelay = t.fwd, t.rev
	s.ForwardJitter, s.ReverseJitter = t.fwdJitter, t.revJitter
	if t.turn != nil {
		t.turn.snapshotInto(&s.Turnaround)
		return
	}
	emptyHistogramSnapshot(&s.Turnaround, m.Buckets, m.NativeHistogramBucketFactor)
}
