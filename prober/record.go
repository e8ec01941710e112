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
	"errors"
	"fmt"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// The flow records what happens into its prober's state here, and only
// here: each method takes the prober's lock for the update alone, and logs
// what an operator should see outside it.

// dialFailed records a failed connection attempt and schedules the next.
func (f *flow) dialFailed(now time.Time, err error) {
	p := f.p
	p.mu.Lock()
	p.st.dialFailed(now, errText(err))
	last := p.st.seq
	p.mu.Unlock()
	if errors.Is(err, wire.ErrBadMagic) {
		// The peer answered the HELLO with something else than a frame.
		p.report(Result{Kind: ResultBadReply, Time: now, Seq: last})
	}
	p.report(Result{Kind: ResultConnectFailed, Time: now, Err: errText(err)})
	if f.failing {
		level.Debug(p.logger()).Log("msg", "connect failed", "err", err)
	} else {
		level.Warn(p.logger()).Log("msg", "connect failed", "err", err)
	}
	f.failing = true
	f.redialLater(now, p.mod.MaxReconnectBackoff.D())
}

// connected records the new connection of attempt a, and says once per
// target, at info level, when its probes or replies are timed in user
// space where the module wanted the kernel's timestamps.
func (f *flow) connected(now time.Time, a attempt) {
	p := f.p
	f.failing = false
	if a.kernelErr != nil {
		f.userTime = logFallback(p, f.userTime, "kernel receive timestamps unavailable, using user-space time", a.kernelErr)
	}
	if a.txErr != nil {
		f.userTxTime = logFallback(p, f.userTxTime, "kernel transmit timestamps unavailable, using the clock read before each write", a.txErr)
	}
	p.mu.Lock()
	p.st.connUp(now, a.handshake, a.local, a.remote, a.kernel, a.proto.ext)
	p.st.kernelTx = a.tx
	p.st.txBase, p.st.frameLen = a.proto.hello, uint32(len(f.out()))
	p.mu.Unlock()
	level.Info(p.logger()).Log("msg", "connected", "remote_addr", a.remote,
		"duration_seconds", a.handshake.Seconds())
	p.report(Result{Kind: ResultConnected, Time: now, RTT: a.handshake, Local: a.local, Remote: a.remote})
}

// logFallback logs msg with err at info level the first time (logged
// false), at debug level after, and returns true.
func logFallback(p *Prober, logged bool, msg string, err error) bool {
	lvl := level.Info
	if logged {
		lvl = level.Debug
	}
	lvl(p.logger()).Log("msg", msg, "err", err)
	return true
}

// endConn records the end of the connection with end, under the
// prober's lock: its probes in flight time out there, and are reported
// (with lostWith, the reason the connection was lost, if it was) and kept
// in the history as those that expire are.
func (p *Prober) endConn(now time.Time, lostWith string, end func(*state)) {
	p.mu.Lock()
	before, lost := p.st.tally(), p.lostSeqs(now, false)
	end(&p.st)
	p.noteHistory(now, before)
	p.mu.Unlock()
	p.reportTimeouts(now, lost, lostWith)
}

// connLost records the loss of the connection and schedules a redial.
func (f *flow) connLost(now time.Time, why string) {
	p := f.p
	var answered bool
	p.endConn(now, why, func(s *state) {
		answered = s.lastReplied >= s.connFirst
		s.connDown(now, why)
	})
	p.report(Result{Kind: ResultConnectionLost, Time: now, Err: why})
	level.Warn(p.logger()).Log("msg", "connection lost", "err", why)
	if answered {
		// A connection that worked resets the backoff; one that never
		// answered keeps doubling it, so a server that accepts and
		// closes at once is not hammered.
		f.backoff = p.mod.ReconnectBackoff.D()
	}
	f.redialLater(now, p.mod.MaxReconnectBackoff.D())
}

// reconnecting records a planned replacement of the connection (see
// refresh.go): not a loss, so not counted as dropped.
func (f *flow) reconnecting(now time.Time, why string) {
	p := f.p
	p.endConn(now, "", func(s *state) { s.connReplaced(now, why) })
	level.Debug(p.logger()).Log("msg", "reconnecting: "+why)
}

// sampleRetransmits reads the connection's kernel retransmission count.
func (f *flow) sampleRetransmits(now time.Time) {
	f.retransSampled = now
	if n, ok := f.link.retransmits(); ok {
		f.p.mu.Lock()
		f.p.st.setConnRetransmits(n)
		f.p.mu.Unlock()
	}
}

// nextDeadline returns the earliest deadline of the probes in flight.
func (f *flow) nextDeadline() (time.Time, bool) {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	return f.p.st.nextDeadline()
}

// stamp records a probe sent now and encodes its frame into f.out(). It
// returns the send time and the probe's timeout: call it immediately
// before the write.
func (f *flow) stamp() (time.Time, time.Duration) {
	p := f.p
	sent := time.Now()
	p.mu.Lock()
	seq := p.st.send(sent)
	timeout := p.st.rto.timeout()
	p.mu.Unlock()
	f.encode(seq, sent.UnixNano())
	return sent, timeout
}

// sendDisconnected records a probe that fell due with no connection: it is
// sent and timed out at once.
func (f *flow) sendDisconnected(now time.Time) {
	p := f.p
	p.mu.Lock()
	before := p.st.tally()
	p.st.sendDisconnected(now)
	p.noteHistory(now, before)
	seq := p.st.seq
	p.mu.Unlock()
	p.report(Result{Kind: ResultTimeout, Time: now, Seq: seq})
}

// expire times out the probes past their deadline. It returns why the
// connection must now be closed, or "".
func (f *flow) expire(now time.Time) string {
	p := f.p
	after := p.mod.ReconnectAfter
	p.mu.Lock()
	before, lost := p.st.tally(), p.lostSeqs(now, true)
	dead := p.st.expire(now, after)
	p.noteHistory(now, before)
	p.mu.Unlock()
	p.reportTimeouts(now, lost, "")
	if dead {
		return fmt.Sprintf("no reply to %d consecutive probes", after)
	}
	return ""
}

// account matches one complete reply frame read at recv (kernel arrival
// time kernelNs, Unix ns, or 0 if unknown): a 24-byte frame, or an
// extended frame's header. An error means the stream is unusable.
func (f *flow) account(frame []byte, recv time.Time, kernelNs int64) error {
	p := f.p
	r := echoReply{recv: recv, kernelNs: kernelNs, ext: f.ext}
	var seq32 uint32
	if f.ext {
		e, err := wire.DecodeExt(frame, wire.KindReply)
		if err != nil {
			return f.badReply(err)
		}
		seq32, r.peerRxNs, r.turnaround = e.Seq, e.UnixNano, time.Duration(e.Turnaround)
	} else {
		v1, err := wire.Decode(frame)
		if err != nil {
			return f.badReply(err)
		}
		r.seq = v1.Seq
	}
	if f.tx.waiting {
		// Its stamp may still be on the error queue: a reply can come
		// back before the loop reads it.
		f.drainTx()
	}
	p.mu.Lock()
	if f.ext {
		r.seq = p.st.seqOf(seq32)
	}
	before := p.st.tally()
	res := p.st.reply(r, p.mod)
	p.noteHistory(recv, before)
	timedOut, rtt := p.st.timeouts != before.timeouts, p.st.lastRTT
	p.mu.Unlock()
	p.reportReply(recv, r.seq, res, timedOut, rtt)
	if p.opts.debugOff {
		return nil
	}
	switch res {
	case replyLate:
		level.Debug(p.logger()).Log("msg", "late reply", "seq", r.seq)
	case replyUnexpected:
		level.Debug(p.logger()).Log("msg", "unexpected reply", "seq", r.seq)
	}
	return nil
}

// badReply counts a reply that is not a frame of the connection, for
// why (the codec's error: a bad magic, length or kind); the error it
// returns ends the connection.
func (f *flow) badReply(why error) error {
	f.p.mu.Lock()
	f.p.st.unexpected++
	last := f.p.st.seq
	f.p.mu.Unlock()
	f.p.report(Result{Kind: ResultBadReply, Time: time.Now(), Seq: last})
	return fmt.Errorf("reply: %w", why)
}

// setStatus sets the connection state shown in snapshots.
func (f *flow) setStatus(s State) {
	f.p.mu.Lock()
	f.p.st.status = s
	f.p.mu.Unlock()
}
