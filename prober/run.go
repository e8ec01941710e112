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

// loop is the state the prober's one goroutine owns. While connected, the
// goroutine blocks in a read whose deadline is the next thing to do (a
// probe due, a timeout expiring), so the socket's netpoller deadline is the
// prober's only timer and no second goroutine or lock hand-off sits between
// a reply's arrival and its accounting.
type loop struct {
	p      *Prober
	conn   net.Conn
	rx     receiver
	dialCh chan dialResult

	schedule
	deadline time.Time // read deadline in force
	// writeDeadline is the write deadline in force.
	writeDeadline time.Time

	frame [wire.FrameSize]byte
	reply replyBuf
}

// run sends one probe per interval on a monotonic schedule, times probes
// out at their deadline, matches replies, and dials and redials with
// backoff, until ctx is done.
func (p *Prober) run(ctx context.Context) {
	l := &loop{p: p, dialCh: make(chan dialResult, 1)}
	l.init(p, time.Now())
	defer l.shutdown()
	level.Debug(p.logger()).Log("msg", "prober starting", "first_dial", l.redialAt)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		if l.conn != nil {
			l.serveConn(ctx)
			continue
		}
		now := time.Now()
		l.stepDisconnected(ctx, now)
		wake := l.wakeDisconnected()
		if limit := now.Add(time.Hour); wake.IsZero() || wake.After(limit) {
			wake = limit
		}
		timer.Reset(wake.Sub(now))
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
	if l.dialDue(now) {
		l.dialing = true
		p.setStatus(StateConnecting)
		go func() { l.dialCh <- p.dial(ctx) }()
	}
	p.tickDisconnected(&l.schedule, now)
}

// serveConn runs while connected: probes, timeouts and replies.
func (l *loop) serveConn(ctx context.Context) {
	conn := l.conn
	// Cancellation wakes the blocked read.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(longAgo) })
	defer stop()
	for l.conn != nil && ctx.Err() == nil {
		now := time.Now()
		due, inFlight := l.p.nextDeadline()
		if inFlight && !now.Before(due) {
			if l.expireDue(now) {
				return
			}
			continue
		}
		if !now.Before(l.nextTick) {
			if !l.probe(now) {
				return
			}
			l.tick(now, l.p)
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
func (l *loop) expireDue(now time.Time) bool {
	if err := l.receive(false); err != nil {
		l.closeConn(now, describeReadErr(err))
		return true
	}
	if why := l.p.expire(now); why != "" {
		l.closeConn(now, why)
		return true
	}
	return false
}

// receive reads replies. With block it waits (until the read deadline) for
// at least some bytes; without, it takes only what is already there. Each
// read ends at a frame boundary, so the kernel timestamp it returns belongs
// to the frame it completes.
func (l *loop) receive(block bool) error {
	for range maxDrain {
		n, kernelNs, err := l.rx.recv(l.reply.room(), block)
		if n > 0 {
			if err := l.reply.got(l.p, n, kernelNs); err != nil {
				return err
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

// probe sends one frame. It reports false if the connection was lost.
func (l *loop) probe(now time.Time) bool {
	if l.retransDue(now) {
		l.sampleRetransmits(now)
	}
	sent, timeout := l.p.stamp(l.frame[:])
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
	if l.p.afterSend != nil {
		l.p.afterSend()
	}
	return true
}

// dialed handles the end of a connection attempt.
func (l *loop) dialed(ctx context.Context, r dialResult) {
	p := l.p
	now := time.Now()
	l.attemptEnded(now)
	if r.err != nil {
		p.dialFailed(&l.schedule, now, r.err)
		return
	}
	if ctx.Err() != nil {
		_ = r.conn.Close()
		return
	}
	l.conn = r.conn
	l.reply = replyBuf{}
	l.deadline, l.writeDeadline = time.Time{}, time.Time{}
	rx, kernel, err := newReceiver(r.conn, p.mod.KernelTimestamps)
	l.rx = rx
	p.connected(&l.schedule, now, r.handshake, r.conn.LocalAddr().String(), r.conn.RemoteAddr().String(), kernel, err)
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
	l.sampleRetransmits(now)
	l.p.connLost(&l.schedule, now, why)
	_ = l.conn.Close()
	l.conn = nil
	l.rx = nil
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
	p.setStatus(StateStopped)
	level.Debug(p.logger()).Log("msg", "prober stopped")
}
