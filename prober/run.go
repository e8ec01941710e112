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
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// readIdleDeadline bounds each read on a probe connection. Liveness is
// decided by probe timeouts (reconnect_after), not by this deadline: when it
// passes, the reader simply reads again.
const readIdleDeadline = time.Minute

// retransmitSampleEvery bounds how often TCP_INFO is read: a syscall per
// probe would cost more than the probe itself at short intervals.
const retransmitSampleEvery = time.Second

type dialResult struct {
	conn      net.Conn
	handshake time.Duration
	err       error
}

type readError struct {
	gen uint64
	err error
}

// loop holds the state the run goroutine alone owns.
type loop struct {
	p        *Prober
	conn     net.Conn
	gen      uint64
	dialing  bool
	dialCh   chan dialResult
	readErr  chan readError
	readDone chan struct{}

	ticking  bool
	nextTick time.Time
	// retransSampled is when TCP_INFO was last read.
	retransSampled time.Time
	redialAt       time.Time
	backoff        time.Duration
	failing        bool // the last dial failed; later failures log at debug
	frame          [wire.FrameSize]byte
}

// run is the prober's single scheduling goroutine: it sends one probe per
// interval on a monotonic schedule, times probes out at their deadline,
// dials and redials with backoff. A reader goroutine per connection matches
// replies.
func (p *Prober) run(ctx context.Context) {
	l := &loop{
		p:        p,
		dialCh:   make(chan dialResult, 1),
		readErr:  make(chan readError, 1),
		redialAt: time.Now().Add(p.splay),
		backoff:  p.opts.Module.ReconnectBackoff.D(),
	}
	defer l.shutdown()
	level.Debug(p.logger).Log("msg", "prober starting", "splay", p.splay)

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		l.step(ctx, now)
		timer.Reset(l.wake(now).Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case r := <-l.dialCh:
			l.dialing = false
			l.dialed(ctx, r)
		case e := <-l.readErr:
			if e.gen == l.gen && l.conn != nil {
				l.closeConn(time.Now(), describeReadErr(e.err))
			}
		}
	}
}

// step does whatever is due at now: timeouts, a dial, a probe.
func (l *loop) step(ctx context.Context, now time.Time) {
	p := l.p
	m := p.opts.Module
	if l.conn != nil {
		p.mu.Lock()
		dead := p.st.expire(now, m.ReconnectAfter)
		p.mu.Unlock()
		if dead {
			l.closeConn(now, fmt.Sprintf("no reply to %d consecutive probes", m.ReconnectAfter))
		}
	}
	if l.conn == nil && !l.dialing && !now.Before(l.redialAt) {
		l.dialing = true
		p.mu.Lock()
		p.st.status = StateConnecting
		p.mu.Unlock()
		go func() { l.dialCh <- p.dial(ctx) }()
	}
	if l.ticking && !now.Before(l.nextTick) {
		l.probe()
		// Stay on the monotonic grid start + k*interval. If we fell
		// behind (process stalled), skip the missed slots rather than
		// bursting them.
		iv := m.Interval.D()
		l.nextTick = l.nextTick.Add(iv)
		if behind := now.Sub(l.nextTick); behind >= 0 {
			l.nextTick = l.nextTick.Add((behind/iv + 1) * iv)
		}
	}
}

// wake returns when step has something to do next.
func (l *loop) wake(now time.Time) time.Time {
	w := now.Add(time.Hour)
	if l.ticking && l.nextTick.Before(w) {
		w = l.nextTick
	}
	if l.conn == nil && !l.dialing && l.redialAt.Before(w) {
		w = l.redialAt
	}
	if l.conn != nil {
		l.p.mu.Lock()
		d, ok := l.p.st.nextDeadline()
		l.p.mu.Unlock()
		if ok && d.Before(w) {
			w = d
		}
	}
	return w
}

// probe sends one frame, or counts a probe due while disconnected.
func (l *loop) probe() {
	p := l.p
	if l.conn == nil {
		p.mu.Lock()
		p.st.sendDisconnected(time.Now())
		p.mu.Unlock()
		return
	}
	sent := time.Now() // taken immediately before the write
	p.mu.Lock()
	seq := p.st.send(sent)
	timeout := p.st.rto.timeout()
	p.mu.Unlock()
	if sent.Sub(l.retransSampled) >= retransmitSampleEvery {
		l.sampleRetransmits(sent)
	}
	wire.Frame{Seq: seq, UnixNano: uint64(sent.UnixNano())}.Put(l.frame[:])
	_ = l.conn.SetWriteDeadline(sent.Add(timeout))
	if _, err := l.conn.Write(l.frame[:]); err != nil {
		// A partial write would desynchronise the stream: the connection
		// is unusable either way.
		l.closeConn(time.Now(), "write: "+errText(err))
	}
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
	l.gen++
	l.conn = r.conn
	p.mu.Lock()
	p.st.connUp(now, l.gen, r.handshake, r.conn.LocalAddr().String(), r.conn.RemoteAddr().String())
	p.mu.Unlock()
	level.Info(p.logger).Log("msg", "connected", "remote_addr", r.conn.RemoteAddr(),
		"duration_seconds", r.handshake.Seconds())
	l.readDone = make(chan struct{})
	go p.read(r.conn, l.gen, l.readErr, l.readDone)
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
	<-l.readDone
	select { // the reader reports at most once; drop a stale report
	case <-l.readErr:
	default:
	}
	l.conn = nil
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

// shutdown closes the connection and waits for the reader and any dial.
func (l *loop) shutdown() {
	p := l.p
	if l.dialing {
		if r := <-l.dialCh; r.conn != nil {
			_ = r.conn.Close()
		}
	}
	if l.conn != nil {
		_ = l.conn.Close()
		<-l.readDone
	}
	p.mu.Lock()
	p.st.connected = false
	p.st.status = StateStopped
	p.mu.Unlock()
	level.Debug(p.logger).Log("msg", "prober stopped")
}

// read matches the replies on one connection until it fails.
func (p *Prober) read(conn net.Conn, gen uint64, errs chan<- readError, done chan<- struct{}) {
	defer close(done)
	var buf [16 * wire.FrameSize]byte
	have := 0
	for {
		_ = conn.SetReadDeadline(time.Now().Add(readIdleDeadline))
		n, err := conn.Read(buf[have:])
		recv := time.Now()
		have += n
		off := 0
		for ; have-off >= wire.FrameSize; off += wire.FrameSize {
			f, derr := wire.Decode(buf[off : off+wire.FrameSize])
			if derr != nil {
				p.mu.Lock()
				p.st.unexpected++
				p.mu.Unlock()
				errs <- readError{gen, fmt.Errorf("reply: %w", derr)}
				return
			}
			p.handleReply(gen, f.Seq, recv)
		}
		have = copy(buf[:], buf[off:have])
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			errs <- readError{gen, err}
			return
		}
	}
}

func (p *Prober) handleReply(gen, seq uint64, recv time.Time) {
	p.mu.Lock()
	res, _ := p.st.reply(gen, seq, recv)
	p.mu.Unlock()
	switch res {
	case replyMatched:
	case replyLate:
		level.Debug(p.logger).Log("msg", "late reply", "seq", seq)
	case replyUnexpected:
		level.Debug(p.logger).Log("msg", "unexpected reply", "seq", seq)
	}
}

func describeReadErr(err error) string {
	if errors.Is(err, net.ErrClosed) {
		return "closed"
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
