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

// maxEvents is how many recent connection events a prober remembers.
const maxEvents = 8

// Event is one connection event: connected, lost, dial failed, declared dead.
type Event struct {
	Time time.Time
	Text string
}

// probe is one frame in flight.
type probe struct {
	seq uint64
	// sent is the clock read just before the frame was written; txNs,
	// if not 0, the kernel's transmit timestamp of the frame (Unix ns).
	sent     time.Time
	txNs     int64
	deadline time.Time
}

// state is everything a prober measures. The prober's mutex guards it.
// Its fields are ordered, and some narrowed, so that a Prober stays within
// 512 bytes (TestProberSize).
type state struct {
	sent, received, timeouts, late, dropped, unexpected uint64
	// retransClosed sums the retransmissions of closed connections;
	// retransConn is the current connection's count.
	retransClosed, retransConn uint64
	results                    uint64

	seq         uint64
	inflight    []probe
	connFirst   uint64 // first sequence number sent on this connection
	lastReplied uint64 // highest sequence number answered on this connection
	status      State

	lastRTT, connectDur time.Duration
	localAddr           string
	kernelTS            bool // replies are timed by the kernel
	kernelTx            bool // probes are timed by the kernel when sent
	ext                 bool // the connection speaks extended frames
	lastOK              bool
	// txBase and frameLen give each probe of the connection its transmit
	// timestamp key (txstamp.go): txBase + n·frameLen − 1 for the n-th.
	txBase, frameLen uint32
	consecutive      int32 // consecutive timeouts on this connection, saturating
	timing           timing
	// nEvents counts the events ever recorded, modulo 2^32 (a multiple
	// of maxEvents): events[nEvents%maxEvents] is the next to replace.
	nEvents uint32
	// countFrom is the low 32 bits of the first sequence number whose
	// timeout counts in consecutive: the first probe sent after the last
	// timeout that did, with the timeout backed off (probeTimedOut).
	countFrom uint32
	lastErr   string
	recent    recentWindow
	events    []Event // a ring of up to maxEvents, grown as needed

	first chan struct{} // made by the first FirstResult, closed at the first result or at stop

	rto     *rtoEstimator
	hist    *histogram
	started int64 // Unix ns
}

func (s *state) init(m *config.Module) {
	s.rto = newRTOEstimator(m.Adaptive, m.Timeout.D(), m.MinTimeout.D(), m.MaxTimeout.D(), m.RTOMargin)
	s.hist = newHistogram(m.Buckets, m.NativeHistogramBucketFactor)
	// What every connection needs, made now rather than when the first
	// one is up: a prober's long-lived allocations then sit with those of
	// the other probers started with it, not scattered among the garbage
	// of their dials, which would keep mostly empty pages in use.
	s.inflight = make([]probe, 0, 1)
	s.events = make([]Event, 0, 1)
	if m.EchoProtocol != config.EchoProtocolV1 {
		s.timing.turnHistogram(m)
	}
	s.started = time.Now().UnixNano()
	s.status = StateConnecting
}

// result counts a completed probe or a failed connection attempt and
// closes the first-result channel the first time.
func (s *state) result() {
	if s.results == 0 && s.first != nil {
		close(s.first)
	}
	s.results++
}

// stop marks the prober stopped and, if it had no result, closes the
// first-result channel: none will come now.
func (s *state) stop() {
	s.status = StateStopped
	if s.results == 0 && s.first != nil {
		close(s.first)
		s.first = nil
	}
}

func (s *state) event(now time.Time, text string) {
	if len(s.events) < maxEvents {
		s.events = append(s.events, Event{Time: now, Text: text})
	} else {
		s.events[s.nEvents%maxEvents] = Event{Time: now, Text: text}
	}
	s.nEvents++
}

// send records a probe sent on the current connection and returns its
// sequence number.
func (s *state) send(now time.Time) uint64 {
	s.seq++
	s.sent++
	s.inflight = append(s.inflight, probe{seq: s.seq, sent: now, deadline: now.Add(s.rto.timeout())})
	return s.seq
}

// sendDisconnected records a probe that fell due with no connection: it is
// sent and timed out at once.
func (s *state) sendDisconnected(now time.Time) {
	s.seq++
	s.sent++
	s.timeout(now)
}

func (s *state) timeout(now time.Time) {
	s.timeouts++
	s.result()
	s.lastOK = false
	s.recent.add(now)
}

// probeTimedOut counts probe seq, on a live connection, that got no reply
// in time: a timeout that backs the timeout off (RFC 6298 section 5.5)
// and counts towards declaring the connection dead if the probe was sent
// after the last timeout that did. Probes sent before it went out with a
// timeout not yet backed off: when a delay spike on a path holds several
// of them, they time out together, before the first reply comes back, and
// count as one, as TCP waits the doubled timeout (section 5.6) before it
// counts another retransmission. Else a connection that answers could be
// declared dead within one RTT, and its answered probes in flight lost.
func (s *state) probeTimedOut(now time.Time, seq uint64) {
	s.timeout(now)
	if int32(uint32(seq)-s.countFrom) >= 0 {
		if s.consecutive < math.MaxInt32 {
			s.consecutive++
		}
		s.countFrom = uint32(s.seq + 1)
	}
	s.rto.backoff()
}

// txStamp gives the kernel's transmit timestamp ns (Unix ns) with key to
// the probe in flight whose frame it stamps, unless that probe has one
// already (a retransmission's stamp comes later, with the same key).
func (s *state) txStamp(key uint32, ns int64) {
	for i := range s.inflight {
		pr := &s.inflight[i]
		if s.txBase+uint32(pr.seq-s.connFirst+1)*s.frameLen-1 == key {
			if pr.txNs == 0 {
				pr.txNs = ns
			}
			return
		}
	}
}

// seqOf returns the sequence number, among those sent so far, whose low
// 32 bits an extended reply carries.
func (s *state) seqOf(lo uint32) uint64 {
	seq := s.seq&^0xFFFFFFFF | uint64(lo)
	if seq > s.seq {
		seq -= 1 << 32 // wraps past 0 for a number never sent: unexpected
	}
	return seq
}

// replyResult says what a reply was.
type replyResult int

const (
	replyMatched replyResult = iota
	replyLate
	replyUnexpected
)

// reply matches a reply to its probe and, if it came in time, measures
// it (timing.go).
func (s *state) reply(r echoReply, m *config.Module) replyResult {
	for i := range s.inflight {
		pr := s.inflight[i]
		if pr.seq != r.seq {
			continue
		}
		departure, arrival := r.times(pr)
		s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
		s.lastReplied = max(s.lastReplied, r.seq)
		if pr.sent.Add(arrival).After(pr.deadline) {
			// It arrived after its deadline, though it was read before
			// the timeout was processed: a timeout and a late reply,
			// exactly as if the timeout had been counted on time.
			s.probeTimedOut(r.recv, pr.seq)
			s.lateReply()
			return replyLate
		}
		rtt := arrival - departure
		s.received++
		s.result()
		if s.received > 1 {
			s.timing.rtt(s.lastRTT, rtt)
		}
		s.lastRTT = rtt
		s.lastOK = true
		s.consecutive = 0
		s.hist.observe(rtt.Seconds())
		s.rto.sample(rtt)
		if r.ext {
			wall := pr.sent.UnixNano()
			s.timing.peer(wall+int64(departure), wall+int64(arrival), r, m)
		}
		return replyMatched
	}
	// Echo servers answer in order, so a reply for a sequence number sent
	// on this connection, above every one answered so far and no longer in
	// flight, is one whose probe already timed out. Anything else is a
	// duplicate or a number we never sent.
	if seq := r.seq; seq >= s.connFirst && seq <= s.seq && seq > s.lastReplied {
		s.lastReplied = seq
		s.lateReply()
		return replyLate
	}
	s.unexpected++
	return replyUnexpected
}

// lateReply counts a reply to a probe that timed out. The connection
// answers: its timeouts so far do not count towards declaring it dead (a
// path slower than a fixed timeout would otherwise be redialed every
// reconnect_after probes, and lose the probes of each redial).
func (s *state) lateReply() {
	s.late++
	s.consecutive = 0
}

// expire times out every probe whose deadline has passed. It reports
// whether the connection must now be declared dead.
func (s *state) expire(now time.Time, reconnectAfter int) bool {
	kept := s.inflight[:0]
	expired := false
	for _, pr := range s.inflight {
		if !pr.due(now) {
			kept = append(kept, pr)
			continue
		}
		expired = true
		s.probeTimedOut(now, pr.seq)
	}
	s.inflight = kept
	return expired && reconnectAfter > 0 && int(s.consecutive) >= reconnectAfter
}

// nextDeadline returns the earliest deadline in flight.
func (s *state) nextDeadline() (time.Time, bool) {
	var d time.Time
	for i, pr := range s.inflight {
		if i == 0 || pr.deadline.Before(d) {
			d = pr.deadline
		}
	}
	return d, len(s.inflight) > 0
}

// connUp records a new connection, which speaks extended frames if ext.
func (s *state) connUp(now time.Time, handshake time.Duration, local, remote string, kernelTS, ext bool) {
	s.kernelTS, s.ext = kernelTS, ext
	s.timing.connUp(ext)
	s.connFirst = s.seq + 1
	s.countFrom = uint32(s.connFirst)
	s.lastReplied = s.seq
	s.status = StateConnected
	s.consecutive = 0
	s.connectDur = handshake
	s.localAddr = local
	s.event(now, "connected from "+local+" to "+remote+" in "+handshake.String())
}

// setConnRetransmits records the current connection's kernel count.
func (s *state) setConnRetransmits(n uint64) { s.retransConn = max(s.retransConn, n) }

// connDown records the loss of the current connection: its probes in
// flight time out and it counts as dropped.
func (s *state) connDown(now time.Time, why string) {
	s.timeoutInFlight(now)
	s.status = StateBackoff
	s.dropped++
	s.retransClosed += s.retransConn
	s.retransConn = 0
	s.lastErr = why
	s.event(now, "connection lost: "+why)
}

// timeoutInFlight times out every probe in flight: their connection has
// ended.
func (s *state) timeoutInFlight(now time.Time) {
	for range s.inflight {
		s.timeout(now)
	}
	s.inflight = s.inflight[:0]
}

// connReplaced records the planned end of the current connection, which
// is replaced at once: not a loss, so not dropped. Its probes in flight,
// if it could not wait for them, time out.
func (s *state) connReplaced(now time.Time, why string) {
	s.timeoutInFlight(now)
	s.status = StateConnecting
	s.retransClosed += s.retransConn
	s.retransConn = 0
	s.event(now, "reconnecting: "+why)
}

// dialFailed records a failed connection attempt.
func (s *state) dialFailed(now time.Time, why string) {
	s.dropped++
	s.result()
	s.lastOK = false
	s.status = StateBackoff
	s.lastErr = why
	s.event(now, "connect failed: "+why)
}

func (s *state) snapshot(now time.Time, into *Snapshot, m *config.Module) {
	h, turn := into.Histogram, into.Turnaround
	*into = Snapshot{
		Sent:               s.sent,
		Received:           s.received,
		Timeouts:           s.timeouts,
		Late:               s.late,
		Dropped:            s.dropped,
		Retransmits:        s.retransClosed + s.retransConn,
		Unexpected:         s.unexpected,
		InFlight:           len(s.inflight),
		Connected:          s.status == StateConnected,
		State:              s.status,
		LastRTT:            s.lastRTT,
		SRTT:               s.rto.smoothed(),
		Timeout:            s.rto.timeout(),
		ConnectDuration:    s.connectDur,
		LocalAddr:          s.localAddr,
		KernelTimestamps:   s.kernelTS,
		LastProbeOK:        s.lastOK,
		Results:            s.results,
		LastError:          s.lastErr,
		RecentTimeouts:     s.recent.sum(now),
		KernelTxTimestamps: s.kernelTx,
		Extended:           s.ext,
		FrameLength:        int(s.frameLen),
		Histogram:          h,
		Turnaround:         turn,
		Started:            time.Unix(0, s.started),
	}
	s.hist.snapshotInto(&into.Histogram)
	s.timing.snapshot(into, m)
}

// recentEvents returns the remembered connection events, oldest first.
func (s *state) recentEvents() []Event {
	n := len(s.events)
	out := make([]Event, 0, n)
	start := 0 // the oldest: the next to replace once the ring is full
	if n == maxEvents {
		start = int(s.nEvents % maxEvents)
	}
	for i := range n {
		out = append(out, s.events[(start+i)%n])
	}
	return out
}
