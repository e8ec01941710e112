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
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// retransmitSampleEvery bounds how often TCP_INFO is read (and it is read
// again when a connection closes): a syscall per probe would cost a
// measurable share of a probe's CPU, and retransmission counts need not be
// fresher than a scrape interval or two.
const retransmitSampleEvery = 5 * time.Second

// longAgo is a read deadline in the past, to wake a blocked read.
var longAgo = time.Unix(1, 0)

type dialResult struct {
	conn      net.Conn
	handshake time.Duration
	err       error
}

// loop is the state the prober's one goroutine owns. While connected, the
// goroutine blocks in a read whose deadline is the next thing to do (a
// probe due, a timeout expiring), so the socket's netpoller deadline is the
// prober's only timer and no second goroutine or lock hand-off sits between
// a reply's arrival and its accounting.
type loop struct {
	p       *Prober
	conn    net.Conn
	rx      receiver
	dialing bool
	dialCh  chan dialResult

	ticking  bool
	nextTick time.Time
	deadline time.Time // read deadline in force
	// writeDeadline is the write deadline in force.
	writeDeadline time.Time
	redialAt      time.Time
	backoff       time.Duration
	failing       bool // the last dial failed; later failures log at debug
	// retransSampled is when TCP_INFO was last read.
	retransSampled time.Time

	frame   [wire.FrameSize]byte
	buf     [wire.FrameSize]byte
	pending int // bytes of a partial frame in buf
}

// run sends one probe per interval on a monotonic schedule, times probes
// out at their deadline, matches replies, and dials and redials with
// backoff, until ctx is done.
func (p *Prober) run(ctx context.Context) {
	l := &loop{
		p:        p,
		dialCh:   make(chan dialResult, 1),
		redialAt: time.Now().Add(p.splay),
		backoff:  p.opts.Module.ReconnectBackoff.D(),
	}
	defer l.shutdown()
	level.Debug(p.logger).Log("msg", "prober starting", "splay", p.splay)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		if l.conn != nil {
			l.serveConn(ctx)
			continue
		}
		now := time.Now()
		l.stepDisconnected(ctx, now)
		timer.Reset(l.wakeDisconnected(now).Sub(now))
		select {
		case <-ctx.Done():
		case <-timer.C:
		case r := <-l.dialCh:
			l.dialing = false
			l.dialed(ctx, r)
		}
	}
}

// stepDisconnected counts probes due while disconnected and starts a dial
// when the backoff allows.
func (l *loop) stepDisconnected(ctx context.Context, now time.Time) {
	p := l.p
	if !l.dialing && !now.Before(l.redialAt) {
		l.dialing = true
		p.mu.Lock()
		p.st.status = StateConnecting
		p.mu.Unlock()
		go func() { l.dialCh <- p.dial(ctx) }()
	}
	if l.ticking && !now.Before(l.nextTick) {
		p.mu.Lock()
		p.st.sendDisconnected(now)
		p.mu.Unlock()
		l.advanceTick(now)
	}
}

func (l *loop) wakeDisconnected(now time.Time) time.Time {
	w := now.Add(time.Hour)
	if l.ticking && l.nextTick.Before(w) {
		w = l.nextTick
	}
	if !l.dialing && l.redialAt.Before(w) {
		w = l.redialAt
	}
	return w
}

// advanceTick moves to the next slot of the grid start + k*interval. If
// the process fell behind (it was stalled), missed slots are skipped rather
// than sent in a burst.
func (l *loop) advanceTick(now time.Time) {
	iv := l.p.opts.Module.Interval.D()
	l.nextTick = l.nextTick.Add(iv)
	if behind := now.Sub(l.nextTick); behind >= 0 {
		l.nextTick = l.nextTick.Add((behind/iv + 1) * iv)
	}
}

// serveConn runs while connected: probes, timeouts and replies.
func (l *loop) serveConn(ctx context.Context) {
	conn := l.conn
	// Cancellation wakes the blocked read.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(longAgo) })
	defer stop()
	m := l.p.opts.Module
	for l.conn != nil && ctx.Err() == nil {
		now := time.Now()
		l.p.mu.Lock()
		due, inFlight := l.p.st.nextDeadline()
		l.p.mu.Unlock()
		if inFlight && !now.Before(due) {
			if l.expireDue(now, m.ReconnectAfter) {
				return
			}
			continue
		}
		if !now.Before(l.nextTick) {
			if !l.probe() {
				return
			}
			l.advanceTick(now)
			continue
		}
		// Sleep in the read until the next probe or the next deadline.
		wake := l.nextTick
		if inFlight && due.Before(wake) {
			wake = due
		}
		if !wake.Equal(l.deadline) {
			l.deadline = wake
			_ = conn.SetReadDeadline(wake)
		}
		if ctx.Err() != nil {
			return
		}
		if err := l.receive(true); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				l.deadline = time.Time{} // the past deadline may be ours or cancellation's
				continue
			}
			l.closeConn(time.Now(), describeReadErr(err))
			return
		}
	}
}

// expireDue times out probes whose deadline has passed. Replies already
// waiting in the socket are read first: one that arrived in time must not
// be counted as a timeout because this goroutine ran late. It reports
// whether the connection was closed.
func (l *loop) expireDue(now time.Time, reconnectAfter int) bool {
	p := l.p
	if err := l.receive(false); err != nil {
		l.closeConn(now, describeReadErr(err))
		return true
	}
	p.mu.Lock()
	dead := p.st.expire(now, reconnectAfter)
	p.mu.Unlock()
	if dead {
		l.closeConn(now, fmt.Sprintf("no reply to %d consecutive probes", reconnectAfter))
		return true
	}
	return false
}

// receive reads replies. With block it waits (until the read deadline) for
// at least some bytes; without, it takes only what is already there. Each
// read ends at a frame boundary, so the kernel timestamp it returns belongs
// to the frame it completes.
func (l *loop) receive(block bool) error {
	// A drain reads at most this many times: a peer that floods us must
	// not keep the goroutine from its schedule.
	const maxDrain = 64
	for range maxDrain {
		n, kernelNs, err := l.rx.recv(l.buf[l.pending:], block)
		if n > 0 {
			l.pending += n
			if l.pending == wire.FrameSize {
				l.pending = 0
				if err := l.reply(time.Now(), kernelNs); err != nil {
					return err
				}
			} else if !wire.ValidPrefix(l.buf[:l.pending]) {
				return l.badMagic()
			}
		}
		switch {
		case err == errWouldBlock:
			return nil
		case err != nil:
			return err
		case block:
			return nil
		}
	}
	return nil
}

func (l *loop) badMagic() error {
	l.p.mu.Lock()
	l.p.st.unexpected++
	l.p.mu.Unlock()
	return fmt.Errorf("reply: %w", wire.ErrBadMagic)
}

// reply accounts one complete frame read at recv (kernel arrival time
// kernelNs, Unix ns, or 0 if unknown).
func (l *loop) reply(recv time.Time, kernelNs int64) error {
	f, err := wire.Decode(l.buf[:])
	if err != nil {
		return l.badMagic()
	}
	p := l.p
	p.mu.Lock()
	res := p.st.reply(f.Seq, recv, kernelNs)
	p.mu.Unlock()
	switch res {
	case replyLate:
		level.Debug(p.logger).Log("msg", "late reply", "seq", f.Seq)
	case replyUnexpected:
		level.Debug(p.logger).Log("msg", "unexpected reply", "seq", f.Seq)
	}
	return nil
}

// probe sends one frame. It reports false if the connection was lost.
func (l *loop) probe() bool {
	p := l.p
	sent := time.Now() // taken immediately before the write
	if sent.Sub(l.retransSampled) >= retransmitSampleEvery {
		l.sampleRetransmits(sent)
		sent = time.Now()
	}
	p.mu.Lock()
	seq := p.st.send(sent)
	timeout := p.st.rto.timeout()
	p.mu.Unlock()
	wire.Frame{Seq: seq, UnixNano: uint64(sent.UnixNano())}.Put(l.frame[:])
	// A write blocks only when the send buffer is full, which a 24-byte
	// frame per interval never fills on a live path. The deadline is moved
	// only when less than half a timeout is left: each move costs a runtime
	// timer update.
	if l.writeDeadline.Sub(sent) < timeout/2 {
		l.writeDeadline = sent.Add(timeout)
		_ = l.conn.SetWriteDeadline(l.writeDeadline)
	}
	if _, err := l.conn.Write(l.frame[:]); err != nil {
		// A partial write would desynchronise the stream: the connection
		// is unusable either way.
		l.closeConn(time.Now(), "write: "+errText(err))
		return false
	}
	if p.afterSend != nil {
		p.afterSend()
	}
	return true
}

// dialed handles the end of a connection attempt.
func (l *loop) dialed(ctx context.Context, r dialResult) {
	p := l.p
	now := time.Now()
	if !l.ticking {
		// The schedule starts when the first attempt ends, so a target
		// is never counted as timed out merely for still dialing.
		l.ticking = true
		l.nextTick = now
	}
	if r.err != nil {
		p.mu.Lock()
		p.st.dialFailed(now, errText(r.err))
		p.mu.Unlock()
		if l.failing {
			level.Debug(p.logger).Log("msg", "connect failed", "err", r.err)
		} else {
			level.Warn(p.logger).Log("msg", "connect failed", "err", r.err)
		}
		l.failing = true
		l.scheduleRedial(now)
		return
	}
	if ctx.Err() != nil {
		_ = r.conn.Close()
		return
	}
	l.failing = false
	l.conn = r.conn
	l.pending = 0
	l.deadline, l.writeDeadline = time.Time{}, time.Time{}
	rx, kernel, err := newReceiver(r.conn, p.opts.Module.KernelTimestamps)
	if err != nil {
		level.Info(p.logger).Log("msg", "kernel receive timestamps unavailable, using user-space time", "err", err)
	}
	l.rx = rx
	p.mu.Lock()
	p.st.connUp(now, r.handshake, r.conn.LocalAddr().String(), r.conn.RemoteAddr().String(), kernel)
	p.mu.Unlock()
	level.Info(p.logger).Log("msg", "connected", "remote_addr", r.conn.RemoteAddr(),
		"duration_seconds", r.handshake.Seconds())
}

// sampleRetransmits reads the connection's kernel retransmission count.
func (l *loop) sampleRetransmits(now time.Time) {
	l.retransSampled = now
	if n, ok := socketRetransmits(l.conn); ok {
		l.p.mu.Lock()
		l.p.st.setConnRetransmits(n)
		l.p.mu.Unlock()
	}
}

// closeConn drops the current connection and schedules a redial.
func (l *loop) closeConn(now time.Time, why string) {
	p := l.p
	l.sampleRetransmits(now)
	p.mu.Lock()
	answered := p.st.lastReplied >= p.st.connFirst
	p.st.connDown(now, why)
	p.mu.Unlock()
	level.Warn(p.logger).Log("msg", "connection lost", "err", why)
	_ = l.conn.Close()
	l.conn = nil
	l.rx = nil
	if answered {
		// A connection that worked resets the backoff; one that never
		// answered keeps doubling it, so a server that accepts and
		// closes at once is not hammered.
		l.backoff = l.p.opts.Module.ReconnectBackoff.D()
	}
	l.scheduleRedial(now)
}

// scheduleRedial sets the next dial one backoff step from now: the step
// doubles each time, up to max_reconnect_backoff, with up to 25 % of added
// jitter so many targets behind one failure do not retry in step.
func (l *loop) scheduleRedial(now time.Time) {
	maxB := l.p.opts.Module.MaxReconnectBackoff.D()
	d := l.backoff + time.Duration(rand.Int64N(int64(l.backoff)/4+1))
	l.redialAt = now.Add(min(d, maxB))
	l.backoff = min(2*l.backoff, maxB)
}

// shutdown closes the connection and waits for any dial in progress.
func (l *loop) shutdown() {
	p := l.p
	if l.dialing {
		if r := <-l.dialCh; r.conn != nil {
			_ = r.conn.Close()
		}
	}
	if l.conn != nil {
		_ = l.conn.Close()
	}
	p.mu.Lock()
	p.st.status = StateStopped
	p.mu.Unlock()
	level.Debug(p.logger).Log("msg", "prober stopped")
}

func describeReadErr(err error) string {
	if errors.Is(err, net.ErrClosed) {
		return "closed"
	}
	if errors.Is(err, io.EOF) {
		return "closed by peer"
	}
	return "read: " + errText(err)
}

func errText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}
