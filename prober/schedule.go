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
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// schedule is the timing a prober keeps whichever loop runs it (the
// goroutine loop of run.go or the Linux epoll engine): the probe grid, the
// next dial and the reconnect backoff.
type schedule struct {
	ticking  bool
	nextTick time.Time
	redialAt time.Time
	backoff  time.Duration
	failing  bool // the last dial failed; later failures log at debug
	// userTime: a connection has fallen back to user-space time; later
	// fallbacks log at debug.
	userTime bool
	dialing  bool // a connection attempt is running
	// retransSampled is when TCP_INFO was last read.
	retransSampled time.Time
}

func (s *schedule) init(p *Prober, now time.Time) {
	s.redialAt = now
	if !p.opts.NoSplay {
		s.redialAt = p.slot(now)
	}
	s.backoff = p.mod.ReconnectBackoff.D()
}

// slotAt returns the first instant at or after t of the grid of instants
// whose Unix time is phase modulo iv. The result keeps t's monotonic clock
// reading: only the offset comes from the wall clock.
func slotAt(t time.Time, phase uint64, iv time.Duration) time.Time {
	if iv <= 0 {
		return t
	}
	n := int64(iv)
	off := (t.UnixNano()%n - int64(phase%uint64(n))) % n
	if off < 0 {
		off += n
	}
	if off == 0 {
		return t
	}
	return t.Add(time.Duration(n - off))
}

// tick moves to p's next slot at least half an interval after now: one
// interval after an on-time probe. Probes stay on the grid whenever the
// connection came up and however late the loop woke, so targets do not
// drift into bursts; if the loop fell behind (it was stalled), missed
// slots are skipped rather than sent in a burst.
func (s *schedule) tick(now time.Time, p *Prober) {
	s.nextTick = p.slot(now.Add(p.mod.Interval.D() / 2))
}

// attemptEnded starts the probe schedule when the first connection
// attempt ends, so a target is never counted as timed out merely for
// still dialing: the first probe goes at once, the next on the grid.
func (s *schedule) attemptEnded(now time.Time) {
	if !s.ticking {
		s.ticking = true
		s.nextTick = now
	}
}

// dialDue reports whether a connection attempt should start now.
func (s *schedule) dialDue(now time.Time) bool { return !s.dialing && !now.Before(s.redialAt) }

// wakeDisconnected returns when a disconnected prober must next act: its
// next probe slot or its next dial, whichever is first; zero if neither.
func (s *schedule) wakeDisconnected() time.Time {
	var w time.Time
	if s.ticking {
		w = s.nextTick
	}
	if !s.dialing && (w.IsZero() || s.redialAt.Before(w)) {
		w = s.redialAt
	}
	return w
}

// redialLater sets the next dial one backoff step from now: the step
// doubles each time, up to max_reconnect_backoff, with up to 25 % of added
// jitter so many targets behind one failure do not retry in step.
func (s *schedule) redialLater(now time.Time, maxB time.Duration) {
	d := s.backoff + time.Duration(rand.Int64N(int64(s.backoff)/4+1))
	s.redialAt = now.Add(min(d, maxB))
	s.backoff = min(2*s.backoff, maxB)
}

// dialFailed records a failed connection attempt and schedules the next.
func (p *Prober) dialFailed(s *schedule, now time.Time, err error) {
	p.mu.Lock()
	p.st.dialFailed(now, errText(err))
	p.mu.Unlock()
	if s.failing {
		level.Debug(p.logger()).Log("msg", "connect failed", "err", err)
	} else {
		level.Warn(p.logger()).Log("msg", "connect failed", "err", err)
	}
	s.failing = true
	s.redialLater(now, p.mod.MaxReconnectBackoff.D())
}

// connected records a new connection.
func (p *Prober) connected(s *schedule, now time.Time, handshake time.Duration, local, remote string, kernel bool, kerr error) {
	s.failing = false
	if kerr != nil {
		lvl := level.Info
		if s.userTime {
			lvl = level.Debug
		}
		s.userTime = true
		lvl(p.logger()).Log("msg", "kernel receive timestamps unavailable, using user-space time", "err", kerr)
	}
	p.mu.Lock()
	p.st.connUp(now, handshake, local, remote, kernel)
	p.mu.Unlock()
	level.Info(p.logger()).Log("msg", "connected", "remote_addr", remote,
		"duration_seconds", handshake.Seconds())
}

// connLost records the loss of the connection and schedules a redial.
func (p *Prober) connLost(s *schedule, now time.Time, why string) {
	p.mu.Lock()
	answered := p.st.lastReplied >= p.st.connFirst
	p.st.connDown(now, why)
	p.mu.Unlock()
	level.Warn(p.logger()).Log("msg", "connection lost", "err", why)
	if answered {
		// A connection that worked resets the backoff; one that never
		// answered keeps doubling it, so a server that accepts and
		// closes at once is not hammered.
		s.backoff = p.mod.ReconnectBackoff.D()
	}
	s.redialLater(now, p.mod.MaxReconnectBackoff.D())
}

// maxDrain bounds the reads of one drain: a peer that floods replies must
// not keep the loop from its schedule (or the engine from other probers).
const maxDrain = 64

// retransDue reports whether TCP_INFO should be read again.
func (s *schedule) retransDue(now time.Time) bool {
	return now.Sub(s.retransSampled) >= retransmitSampleEvery
}

// nextDeadline returns the earliest deadline of the probes in flight.
func (p *Prober) nextDeadline() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.nextDeadline()
}

// stamp records a probe sent now and encodes its frame into f. It returns
// the send time and the probe's timeout: call it immediately before the
// write.
func (p *Prober) stamp(f []byte) (time.Time, time.Duration) {
	sent := time.Now()
	p.mu.Lock()
	seq := p.st.send(sent)
	timeout := p.st.rto.timeout()
	p.mu.Unlock()
	wire.Frame{Seq: seq, UnixNano: uint64(sent.UnixNano())}.Put(f)
	return sent, timeout
}

// expire times out the probes past their deadline. It returns why the
// connection must now be closed, or "".
func (p *Prober) expire(now time.Time) string {
	after := p.mod.ReconnectAfter
	p.mu.Lock()
	dead := p.st.expire(now, after)
	p.mu.Unlock()
	if dead {
		return fmt.Sprintf("no reply to %d consecutive probes", after)
	}
	return ""
}

// replyBuf assembles a reply frame from reads that may split it. Each read
// asks only for the rest of the current frame, so the kernel timestamp a
// read returns belongs to the frame it completes.
type replyBuf struct {
	buf     [wire.FrameSize]byte
	pending int // bytes of a partial frame in buf
}

// room is where the next read goes.
func (r *replyBuf) room() []byte { return r.buf[r.pending:] }

// got takes n bytes read into room with kernel arrival time kernelNs (Unix
// ns, 0 if unknown): a completed frame is accounted, a wrong magic is an
// error.
func (r *replyBuf) got(p *Prober, n int, kernelNs int64) error {
	r.pending += n
	if r.pending == wire.FrameSize {
		r.pending = 0
		return p.account(r.buf[:], time.Now(), kernelNs)
	}
	if !wire.ValidPrefix(r.buf[:r.pending]) {
		return p.badMagic()
	}
	return nil
}

// account matches one complete reply frame read at recv (kernel arrival
// time kernelNs, Unix ns, or 0 if unknown). An error means the stream is
// unusable.
func (p *Prober) account(frame []byte, recv time.Time, kernelNs int64) error {
	f, err := wire.Decode(frame)
	if err != nil {
		return p.badMagic()
	}
	p.mu.Lock()
	res := p.st.reply(f.Seq, recv, kernelNs)
	p.mu.Unlock()
	switch res {
	case replyLate:
		level.Debug(p.logger()).Log("msg", "late reply", "seq", f.Seq)
	case replyUnexpected:
		level.Debug(p.logger()).Log("msg", "unexpected reply", "seq", f.Seq)
	}
	return nil
}

func (p *Prober) badMagic() error {
	p.mu.Lock()
	p.st.unexpected++
	p.mu.Unlock()
	return fmt.Errorf("reply: %w", wire.ErrBadMagic)
}

// tickDisconnected counts the probe due with no connection, if one is:
// it is sent and timed out at once.
func (p *Prober) tickDisconnected(s *schedule, now time.Time) {
	if !s.ticking || now.Before(s.nextTick) {
		return
	}
	p.mu.Lock()
	p.st.sendDisconnected(now)
	p.mu.Unlock()
	s.tick(now, p)
}

// setStatus sets the connection state shown in snapshots.
func (p *Prober) setStatus(s State) {
	p.mu.Lock()
	p.st.status = s
	p.mu.Unlock()
}
