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
	"sync"
	"time"
)

// longAgo is a deadline in the past, to wake a blocked read or write.
var longAgo = time.Unix(1, 0)

// loop is the goroutine loop, the portable way to run a flow: one
// goroutine per prober. While connected, the goroutine blocks in a read
// whose deadline is the flow's next wake-up (a probe due, a timeout
// expiring), so the socket's netpoller deadline is the prober's only timer
// and no second goroutine or lock hand-off sits between a reply's arrival
// and its accounting.
type loop struct {
	flow
	dialCh chan dialResult
}

// run drives p's flow until ctx is done: one probe per interval on the
// prober's slots, timeouts at their deadline, replies as they come, dials
// and redials with backoff.
func (p *Prober) run(ctx context.Context) {
	l := &loop{dialCh: make(chan dialResult, 1)}
	l.init(p, time.Now())
	defer l.shutdown()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		if l.link != nil {
			l.serveConn(ctx)
			continue
		}
		now := time.Now()
		if l.step(now) {
			port := int(l.port)
			go func() { l.dialCh <- p.dial(ctx, port) }()
		}
		wake := l.wake()
		if limit := now.Add(time.Hour); wake.IsZero() || wake.After(limit) {
			wake = limit
		}
		timer.Reset(wake.Sub(now))
		select {
		case <-ctx.Done():
		case <-timer.C:
		case r := <-l.dialCh:
			l.adopt(ctx, r)
		}
	}
}

// adopt hands the end of a dial to the flow, unless the prober is
// stopping.
func (l *loop) adopt(ctx context.Context, r dialResult) {
	if ctx.Err() != nil {
		l.dialAbandoned()
		if r.conn != nil {
			_ = r.conn.Close()
		}
		return
	}
	now := time.Now()
	if r.err != nil {
		l.dialed(now, attempt{err: r.err})
		return
	}
	rx, kernel, kerr := newReceiver(r.conn, l.p.mod.KernelTimestamps)
	c := &connLink{conn: r.conn, rx: rx}
	if r.tx {
		c.tx = newConnTx(r.conn)
	}
	l.dialed(now, attempt{
		link: c, handshake: r.handshake,
		local: r.conn.LocalAddr().String(), remote: r.conn.RemoteAddr().String(),
		kernel: kernel, kernelErr: kerr, tx: c.tx != nil, txErr: r.txErr, proto: r.proto,
	})
}

// serveConn runs while connected: probes, timeouts and replies.
func (l *loop) serveConn(ctx context.Context) {
	c := l.link.(*connLink)
	// Cancellation wakes the blocked read or write.
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()
	for l.link != nil && ctx.Err() == nil {
		l.stepConnected(time.Now())
		if l.link == nil {
			return
		}
		// Sleep in the read until the next probe or the next deadline.
		if wake := l.wake(); !wake.Equal(c.readDeadline) {
			c.readDeadline = wake
			_ = c.conn.SetReadDeadline(wake)
		}
		if ctx.Err() != nil {
			return
		}
		if err := l.receive(1, true); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.readDeadline = time.Time{} // the past deadline may be ours or cancellation's
				continue
			}
			if c.tx != nil && notPollable(err) {
				err = l.serveErrQueue(c, err)
			}
			if err != nil {
				l.readFailed(time.Now(), err)
				return
			}
		}
	}
}

// shutdown closes the connection and waits for any dial in progress.
func (l *loop) shutdown() {
	if l.dialing {
		if r := <-l.dialCh; r.conn != nil {
			_ = r.conn.Close()
		}
		l.dialAbandoned()
	}
	l.drop()
	l.finished()
}

// connLink is the goroutine loop's link: a net.Conn, read through a
// receiver (recvmsg with kernel timestamps on Linux), written with a
// deadline.
type connLink struct {
	conn net.Conn
	rx   receiver
	tx   *connTx // nil unless the kernel stamps the connection's writes
	// readDeadline and writeDeadline are the deadlines in force.
	readDeadline, writeDeadline time.Time
	// got counts the bytes read. idle counts the wake-ups in a row that
	// served nothing while the netpoller refused reads, and woke says the
	// last wait there ended with the socket ready (loop_errqueue.go).
	got  uint64
	idle int
	woke bool

	// mu guards what cancellation touches besides the connection's
	// deadlines: the waiter of a connection whose reads the netpoller
	// refuses, and whether the loop is stopping.
	mu       sync.Mutex
	ew       *errWait
	stopping bool
}

func (c *connLink) recv(buf []byte, block bool) (int, int64, error) {
	n, kernelNs, err := c.rx.recv(buf, block)
	c.got += uint64(max(n, 0))
	return n, kernelNs, err
}

// interrupt wakes the loop from its read, its write, or its wait on the
// error queue, when the prober stops. A write blocks while a peer that
// does not read keeps the send buffer full, until the write deadline, a
// timeout away: Stop must not wait for it. It marks the link stopping
// before it moves the deadlines, so that a send that moves the write
// deadline after them sees the mark (send).
func (c *connLink) interrupt() {
	c.mu.Lock()
	c.stopping = true
	if c.ew != nil {
		c.ew.wake()
	}
	c.mu.Unlock()
	_ = c.conn.SetReadDeadline(longAgo)
	_ = c.conn.SetWriteDeadline(longAgo)
}

// isStopping reports whether the prober is stopping.
func (c *connLink) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// send writes the frame. A write blocks only when the send buffer is full,
// which a 24-byte frame per interval never fills on a live path. The
// deadline is moved only when less than half a timeout is left: each move
// costs a runtime timer update. A write that interrupt ended returns
// errStopping.
func (c *connLink) send(frame []byte, sent time.Time, timeout time.Duration) error {
	if c.writeDeadline.Sub(sent) < timeout/2 {
		c.writeDeadline = sent.Add(timeout)
		_ = c.conn.SetWriteDeadline(c.writeDeadline)
		if c.isStopping() {
			// interrupt's past deadline came first: put it back.
			_ = c.conn.SetWriteDeadline(longAgo)
		}
	}
	_, err := c.conn.Write(frame)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.isStopping() {
		return errStopping
	}
	return err
}

func (c *connLink) txStamp() (uint32, int64, error) {
	if c.tx == nil {
		return 0, 0, errWouldBlock
	}
	return c.tx.read()
}

func (c *connLink) retransmits() (uint64, bool) { return socketRetransmits(c.conn) }

func (c *connLink) release() {
	_ = c.conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ew != nil {
		c.ew.close()
		c.ew = nil
	}
}
