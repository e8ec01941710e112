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

//go:build linux

package prober

import (
	"context"
	"fmt"
	"time"

	"github.com/go-kit/log/level"
	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sockfd"
	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// maxQueued bounds the frames a connection holds when its send buffer is
// full: a live path never fills a send buffer with one 24-byte frame per
// interval, so a connection that does is closed soon anyway.
const maxQueued = 16 * wire.FrameSize

// econn is one prober as an engine worker runs it. Only the worker's
// goroutine touches it; the Prober's mutex guards only the measured state
// (p.st) that scrapes read.
type econn struct {
	schedule
	p   *Prober
	w   *worker
	ctx context.Context

	fd      int   // -1 while disconnected
	slot    int32 // epoll slot, -1 if none
	hidx    int   // index in the worker's timer heap, -1 if none
	pidx    int   // index in the worker's probers
	wake    time.Time
	kernel  bool // replies carry kernel receive timestamps
	stopped bool
	// dialCancel cancels the dial in progress.
	dialCancel context.CancelFunc

	reply replyBuf
	// out holds frames the send buffer had no room for; writeDeadline is
	// when they must have left.
	out           []byte
	writeDeadline time.Time
}

// plan sets the time the worker must next run onTimer for c.
func (c *econn) plan() {
	switch {
	case c.stopped:
		c.wake = time.Time{}
	case c.fd >= 0:
		w := c.nextTick
		due, inFlight := c.p.nextDeadline()
		if inFlight && due.Before(w) {
			w = due
		}
		if !c.writeDeadline.IsZero() && c.writeDeadline.Before(w) {
			w = c.writeDeadline
		}
		c.wake = w
	default:
		c.wake = c.wakeDisconnected()
	}
}

// onTimer does what has fallen due: timeouts, the next probe, a dial.
func (c *econn) onTimer(now time.Time) {
	if c.fd < 0 {
		c.stepDisconnected(now)
	} else {
		c.stepConnected(now)
	}
	c.plan()
}

func (c *econn) stepDisconnected(now time.Time) {
	if c.dialDue(now) {
		c.startDial()
	}
	c.p.tickDisconnected(&c.schedule, now)
}

func (c *econn) stepConnected(now time.Time) {
	if !c.writeDeadline.IsZero() && !now.Before(c.writeDeadline) {
		c.close(now, "write: i/o timeout")
		return
	}
	due, inFlight := c.p.nextDeadline()
	if inFlight && !now.Before(due) && c.expireDue(now) {
		return
	}
	if !now.Before(c.nextTick) {
		if !c.probe(now) {
			return
		}
		c.tick(now, c.p)
	}
}

// onReadable reads one reply, or part of one. Level-triggered epoll
// reports the socket again at once if more is waiting: in the steady state
// this is one recvmsg per reply, with no EAGAIN read after it.
func (c *econn) onReadable(now time.Time) {
	if err := c.receive(1); err != nil {
		c.close(now, describeReadErr(err))
	}
	c.plan()
}

// receive reads at most reads times, one frame or the rest of one per
// read, so the kernel timestamp of each read belongs to the frame it
// completes. It stops early when nothing is left.
func (c *econn) receive(reads int) error {
	for range reads {
		n, kernelNs, err := c.w.rx.recvmsg(c.fd, c.reply.room(), c.kernel, 0)
		if n > 0 {
			if err := c.reply.got(c.p, n, kernelNs); err != nil {
				return err
			}
			continue
		}
		switch err {
		case unix.EAGAIN:
			return nil
		case unix.EINTR:
		default:
			return err
		}
	}
	return nil
}

// expireDue times out probes whose deadline has passed. Replies already
// waiting in the socket are read first: one that arrived in time must not
// be counted as a timeout because the worker ran late. It reports whether
// the connection was closed.
func (c *econn) expireDue(now time.Time) bool {
	if err := c.receive(maxDrain); err != nil {
		c.close(now, describeReadErr(err))
		return true
	}
	if why := c.p.expire(now); why != "" {
		c.close(now, why)
		return true
	}
	return false
}

// probe sends one frame. It reports false if the connection was lost.
func (c *econn) probe(now time.Time) bool {
	if c.retransDue(now) {
		c.sampleRetransmits(now)
	}
	f := c.w.frame[:]
	sent, timeout := c.p.stamp(f)
	if len(c.out) > 0 {
		return c.queue(f, sent, timeout)
	}
	n, err := unix.Write(c.fd, f)
	for err == unix.EINTR {
		n, err = unix.Write(c.fd, f)
	}
	switch {
	case err == unix.EAGAIN:
		n = 0
	case err != nil:
		c.close(time.Now(), "write: "+err.Error())
		return false
	}
	if n < len(f) && !c.queue(f[n:], sent, timeout) {
		return false
	}
	if c.p.afterSend != nil {
		c.p.afterSend()
	}
	return true
}

// queue keeps bytes the send buffer had no room for, to be written when
// the socket is writable again, within the probe timeout. A partial frame
// cannot be dropped: it would desynchronise the stream.
func (c *econn) queue(b []byte, now time.Time, timeout time.Duration) bool {
	if len(c.out)+len(b) > maxQueued {
		c.close(now, "write: send buffer full")
		return false
	}
	if len(c.out) == 0 {
		c.writeDeadline = now.Add(timeout)
		c.w.modify(c, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT)
	}
	c.out = append(c.out, b...)
	return true
}

// onWritable writes what was queued.
func (c *econn) onWritable(now time.Time) {
	if len(c.out) == 0 || c.fd < 0 {
		return
	}
	n, err := unix.Write(c.fd, c.out)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		c.close(now, "write: "+err.Error())
		c.plan()
		return
	}
	c.out = c.out[:copy(c.out, c.out[n:])]
	if len(c.out) == 0 {
		c.writeDeadline = time.Time{}
		c.w.modify(c, unix.EPOLLIN|unix.EPOLLRDHUP)
	}
	c.plan()
}

// startDial connects in a transient goroutine, which hands the socket to
// the worker.
func (c *econn) startDial() {
	c.dialing = true
	c.p.setStatus(StateConnecting)
	ctx, cancel := context.WithCancel(c.ctx)
	c.dialCancel = cancel
	go func() {
		r := c.p.dial(ctx)
		cmd := command{op: opDialed, c: c, fd: -1}
		if r.err == nil {
			cmd.local, cmd.remote = r.conn.LocalAddr().String(), r.conn.RemoteAddr().String()
			cmd.fd, r.err = sockfd.Detach(r.conn)
			r.conn = nil
		}
		cmd.r = r
		c.w.post(cmd)
	}()
}

// dialed handles the end of a connection attempt.
func (c *econn) dialed(now time.Time, cmd *command) {
	c.dialing = false
	c.dialCancel()
	c.dialCancel = nil
	if c.stopped || c.ctx.Err() != nil {
		if cmd.fd >= 0 {
			_ = unix.Close(cmd.fd)
		}
		if c.stopped {
			c.finish()
		}
		c.plan()
		return
	}
	c.attemptEnded(now)
	r := cmd.r
	if r.err == nil {
		if err := c.w.register(c, cmd.fd); err != nil {
			_ = unix.Close(cmd.fd)
			r.err = fmt.Errorf("epoll_ctl: %w", err)
		}
	}
	if r.err != nil {
		c.p.dialFailed(&c.schedule, now, r.err)
		c.plan()
		return
	}
	c.fd = cmd.fd
	c.reply = replyBuf{}
	var kerr error
	c.kernel = false
	if c.p.mod.KernelTimestamps {
		kerr = ensureRxTimestamps(c.fd)
		c.kernel = kerr == nil
	}
	c.p.connected(&c.schedule, now, r.handshake, cmd.local, cmd.remote, c.kernel, kerr)
	c.plan()
}

// sampleRetransmits reads the connection's kernel retransmission count.
func (c *econn) sampleRetransmits(now time.Time) {
	c.retransSampled = now
	if n, ok := fdRetransmits(c.fd); ok {
		c.p.mu.Lock()
		c.p.st.setConnRetransmits(n)
		c.p.mu.Unlock()
	}
}

// close drops the connection and schedules a redial.
func (c *econn) close(now time.Time, why string) {
	c.sampleRetransmits(now)
	c.w.unregister(c)
	_ = unix.Close(c.fd)
	c.fd = -1
	c.reply = replyBuf{}
	c.out, c.writeDeadline = nil, time.Time{}
	c.p.connLost(&c.schedule, now, why)
}

// stop ends the prober: the connection is closed, and the prober is done
// when no dial is left in flight.
func (c *econn) stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	if c.fd >= 0 {
		c.w.unregister(c)
		_ = unix.Close(c.fd)
		c.fd = -1
	}
	if c.dialing {
		c.dialCancel() // finish when the dial returns
	} else {
		c.finish()
	}
	c.plan()
}

func (c *econn) finish() {
	c.w.forget(c)
	c.p.setStatus(StateStopped)
	level.Debug(c.p.logger()).Log("msg", "prober stopped")
	c.p.done.Done()
}
