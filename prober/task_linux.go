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
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sockfd"
	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// keepQueued is the queue memory a connection keeps once its queue has
// drained: 16 of the common 24-byte frames. A queue that grew past it
// (long frames, a peer that paused) is let go, not held for the
// connection's life.
const keepQueued = 16 * wire.FrameSize

// errSendBufferFull ends a connection whose queue of unsent frames is full.
var errSendBufferFull = errors.New("send buffer full")

// task is one prober as an engine worker runs it: its flow, and the
// flow's link, a non-blocking socket in the worker's epoll set. Only the
// worker's goroutine touches it.
type task struct {
	flow
	w   *worker
	ctx context.Context

	fd     int   // -1 while disconnected
	slot   int32 // epoll slot, -1 if none
	kernel bool  // replies carry kernel receive timestamps
	// stopped: Stop was called or the context ended; the task is done
	// when no dial is left in flight.
	stopped bool
	// hidx is the index in the worker's timer heap, -1 if none; pidx,
	// in the worker's tasks.
	hidx, pidx int32
	wakeAt     time.Time
	// dialCancel cancels the dial in progress.
	dialCancel context.CancelFunc

	// q holds what the send buffer had no room for; nil until a write
	// falls short. A task stays within 512 bytes, the largest of Go's
	// allocation size classes without a per-object header
	// (TestTaskSize): every field and every 32-bit index counts.
	q *sendQueue
}

// sendQueue holds frames the send buffer had no room for, of which the
// first at bytes are written; deadline is when the rest must have left.
type sendQueue struct {
	out      []byte
	at       int
	deadline time.Time
}

// queued reports whether frames wait to be written.
func (t *task) queued() bool { return t.q != nil && len(t.q.out) > 0 }

// plan sets the time the worker must next run onTimer for t.
func (t *task) plan() {
	if t.stopped {
		t.wakeAt = time.Time{}
		return
	}
	w := t.wake()
	if t.queued() && t.q.deadline.Before(w) {
		w = t.q.deadline
	}
	t.wakeAt = w
}

// onTimer does what has fallen due: a write past its deadline, timeouts,
// the next probe, a dial.
func (t *task) onTimer(now time.Time) {
	switch {
	case t.queued() && !now.Before(t.q.deadline):
		// As the goroutine loop's write deadline reports it.
		t.closeConn(now, "write: i/o timeout")
	case t.step(now):
		t.startDial()
	}
	t.plan()
}

// onReadable reads one reply, or part of one. Level-triggered epoll
// reports the socket again at once if more is waiting: in the steady state
// this is one recvmsg per reply, with no EAGAIN read after it.
func (t *task) onReadable(now time.Time) {
	if err := t.receive(1, false); err != nil {
		t.readFailed(now, err)
	}
	t.plan()
}

// onWritable writes what was queued.
func (t *task) onWritable(now time.Time) {
	if !t.queued() || t.fd < 0 {
		return
	}
	q := t.q
	n, err := unix.Write(t.fd, q.out[q.at:])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		t.closeConn(now, opText("write", err))
		t.plan()
		return
	}
	// The written bytes are skipped, not moved: a queue of long frames
	// leaves in many writes, and moving the rest after each would copy
	// it again and again.
	if q.at += n; q.at == len(q.out) {
		q.out, q.at, q.deadline = q.out[:0], 0, time.Time{}
		if cap(q.out) > keepQueued {
			t.q = nil
		}
		t.w.modify(t, unix.EPOLLIN|unix.EPOLLRDHUP)
	}
	t.plan()
}

// recv reads with recvmsg(2); it never blocks: epoll does the waiting.
func (t *task) recv(buf []byte, _ bool) (int, int64, error) {
	n, kernelNs, err := t.w.rx.recvmsg(t.fd, buf, t.kernel, 0)
	if err == unix.EAGAIN {
		err = errWouldBlock
	}
	return n, kernelNs, err
}

// send writes the frame, or queues what the send buffer has no room for.
func (t *task) send(frame []byte, sent time.Time, timeout time.Duration) error {
	if t.queued() {
		return t.queue(frame, len(frame), sent, timeout)
	}
	n, err := unix.Write(t.fd, frame)
	for err == unix.EINTR {
		n, err = unix.Write(t.fd, frame)
	}
	switch {
	case err == unix.EAGAIN:
		n = 0
	case err != nil:
		return err
	}
	if n < len(frame) {
		return t.queue(frame[n:], len(frame), sent, timeout)
	}
	return nil
}

// queue keeps bytes the send buffer had no room for, to be written when
// the socket is writable again, within the probe timeout, as the
// goroutine loop's write waits for them. A partial frame cannot be
// dropped: it would desynchronise the stream. Every queued frame is a
// probe sent since the first was queued, less than a timeout ago (the
// write deadline closes the connection then), so the in-flight bound's
// worth of frames of the connection's length (frameLen) is room enough:
// more is a flow sending past its bound. Frames of up to 9000 bytes make
// that a bound of megabytes, held only while the peer does not read.
func (t *task) queue(b []byte, frameLen int, now time.Time, timeout time.Duration) error {
	if t.q == nil {
		t.q = new(sendQueue)
	}
	q := t.q
	if len(q.out)-q.at+len(b) > t.p.mod.MaxInFlight()*frameLen {
		return errSendBufferFull
	}
	if len(q.out) == 0 {
		q.deadline = now.Add(timeout)
		t.w.modify(t, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT)
	}
	if q.at > 0 && cap(q.out)-len(q.out) < len(b) {
		// Reuse the room the written bytes left before growing.
		q.out, q.at = q.out[:copy(q.out, q.out[q.at:])], 0
	}
	q.out = append(q.out, b...)
	return nil
}

// txStamp reads the socket's error queue with the worker's scratch memory.
func (t *task) txStamp() (uint32, int64, error) { return t.w.tx.read(t.fd) }

// onError drains the transmit timestamps that made epoll report EPOLLERR;
// the error queue is level-triggered, so left there they would wake the
// worker again at once. It reports whether it found any: if not, the
// error is the socket's own, for the next read to report.
func (t *task) onError() bool { return t.tx.on && t.drainTx() }

func (t *task) retransmits() (uint64, bool) { return fdRetransmits(t.fd) }

// release takes the socket out of the epoll set and closes it.
func (t *task) release() {
	t.w.unregister(t)
	_ = unix.Close(t.fd)
	t.fd = -1
	t.q = nil
}

// startDial connects in a transient goroutine, which hands the socket to
// the worker.
func (t *task) startDial() {
	ctx, cancel := context.WithCancel(t.ctx)
	t.dialCancel = cancel
	port := int(t.port)
	go func() {
		r := t.p.dial(ctx, port)
		cmd := command{op: opDialed, t: t, fd: -1}
		if r.err == nil {
			cmd.local, cmd.remote = r.conn.LocalAddr().String(), r.conn.RemoteAddr().String()
			cmd.fd, r.err = sockfd.Detach(r.conn)
			r.conn = nil
		}
		cmd.r = r
		t.w.post(cmd)
	}()
}

// adopt hands the end of a dial to the flow, unless the task is stopping.
func (t *task) adopt(now time.Time, cmd *command) {
	t.dialCancel()
	t.dialCancel = nil
	if t.stopped || t.ctx.Err() != nil {
		t.dialAbandoned()
		if cmd.fd >= 0 {
			_ = unix.Close(cmd.fd)
		}
		if t.stopped {
			t.finish()
		}
		t.plan()
		return
	}
	t.dialed(now, t.attach(cmd))
	t.plan()
}

// attach makes a dialed socket the task's link: registered in the epoll
// set, with kernel timestamps if the module wants them.
func (t *task) attach(cmd *command) attempt {
	a := attempt{handshake: cmd.r.handshake, local: cmd.local, remote: cmd.remote, err: cmd.r.err,
		tx: cmd.r.tx, txErr: cmd.r.txErr, proto: cmd.r.proto}
	if a.err != nil {
		return a
	}
	if err := t.w.register(t, cmd.fd); err != nil {
		_ = unix.Close(cmd.fd)
		a.err = fmt.Errorf("epoll_ctl: %w", err)
		return a
	}
	t.fd = cmd.fd
	t.kernel = false
	if t.p.mod.KernelTimestamps {
		a.kernelErr = ensureRxTimestamps(t.fd)
		t.kernel = a.kernelErr == nil
	}
	a.kernel, a.link = t.kernel, t
	return a
}

// end stops the task: the connection is closed, and the task is done when
// no dial is left in flight.
func (t *task) end() {
	if t.stopped {
		return
	}
	t.stopped = true
	t.drop()
	if t.dialing {
		t.dialCancel() // finish when the dial returns
	} else {
		t.finish()
	}
	t.plan()
}

// finish lets go of a stopped task.
func (t *task) finish() {
	t.w.forget(t)
	t.finished()
	t.p.done.Done()
}
