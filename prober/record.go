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
	p.mu.Unlock()
	p.report(Result{Kind: ResultConnectFailed, Time: now, Err: errText(err)})
	if f.failing {
		level.Debug(p.logger()).Log("msg", "connect failed", "err", err)
	} else {
		level.Warn(p.logger()).Log("msg", "connect failed", "err", err)
	}
	f.failing = true
	f.redialLater(now, p.mod.MaxReconnectBackoff.D())
}

// connected records a new connection. kerr, if set, is why its replies
// are timed in user space.
func (f *flow) connected(now time.Time, handshake time.Duration, local, remote string, kernel bool, kerr error) {
	p := f.p
	f.failing = false
	if kerr != nil {
		lvl := level.Info
		if f.userTime {
			lvl = level.Debug
		}
		f.userTime = true
		lvl(p.logger()).Log("msg", "kernel receive timestamps unavailable, using user-space time", "err", kerr)
	}
	p.mu.Lock()
	p.st.connUp(now, handshake, local, remote, kernel)
	p.mu.Unlock()
	level.Info(p.logger()).Log("msg", "connected", "remote_addr", remote,
		"duration_seconds", handshake.Seconds())
	p.report(Result{Kind: ResultConnected, Time: now, RTT: handshake, Local: local, Remote: remote})
}

// connLost records the loss of the connection and schedules a redial.
func (f *flow) connLost(now time.Time, why string) {
	p := f.p
	p.mu.Lock()
	answered := p.st.lastReplied >= p.st.connFirst
	before, lost := p.st.tally(), p.lostSeqs(now, false)
	p.st.connDown(now, why)
	p.noteHistory(now, before)
	p.mu.Unlock()
	p.reportTimeouts(now, lost)
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

// stamp records a probe sent now and encodes its frame into buf. It
// returns the send time and the probe's timeout: call it immediately
// before the write.
func (f *flow) stamp(buf []byte) (time.Time, time.Duration) {
	p := f.p
	sent := time.Now()
	p.mu.Lock()
	seq := p.st.send(sent)
	timeout := p.st.rto.timeout()
	p.mu.Unlock()
	wire.Frame{Seq: seq, UnixNano: uint64(sent.UnixNano())}.Put(buf)
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
	p.reportTimeouts(now, lost)
	if dead {
		return fmt.Sprintf("no reply to %d consecutive probes", after)
	}
	return ""
}

// account matches one complete reply frame read at recv (kernel arrival
// time kernelNs, Unix ns, or 0 if unknown). An error means the stream is
// unusable.
func (f *flow) account(frame []byte, recv time.Time, kernelNs int64) error {
	p := f.p
	r, err := wire.Decode(frame)
	if err != nil {
		return f.badMagic()
	}
	p.mu.Lock()
	before := p.st.tally()
	res := p.st.reply(r.Seq, recv, kernelNs)
	p.noteHistory(recv, before)
	timedOut, rtt := p.st.timeouts != before.timeouts, p.st.lastRTT
	p.mu.Unlock()
	p.reportReply(recv, r.Seq, res, timedOut, rtt)
	switch res {
	case replyLate:
		level.Debug(p.logger()).Log("msg", "late reply", "seq", r.Seq)
	case replyUnexpected:
		level.Debug(p.logger()).Log("msg", "unexpected reply", "seq", r.Seq)
	}
	return nil
}

// badMagic counts a reply that is not a frame; the error it returns ends
// the connection.
func (f *flow) badMagic() error {
	f.p.mu.Lock()
	f.p.st.unexpected++
	f.p.mu.Unlock()
	f.p.report(Result{Kind: ResultBadReply, Time: time.Now()})
	return fmt.Errorf("reply: %w", wire.ErrBadMagic)
}

// setStatus sets the connection state shown in snapshots.
func (f *flow) setStatus(s State) {
	f.p.mu.Lock()
	f.p.st.status = s
	f.p.mu.Unlock()
}
