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

package echo

import (
	"fmt"
	"io"
	"math"
	"net"
	"time"
	"unsafe"

	"github.com/go-kit/log/level"
	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sched"
	"github.com/tcpping/tcpping_exporter/internal/sockfd"
	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// maxEvents is the most readiness events one epoll_wait returns.
const maxEvents = 256

// maxReads is the most reads one connection gets per readiness event. A
// client that keeps its socket full would otherwise keep the worker to
// itself; what is left is reported again by the next epoll_wait.
const maxReads = 8

// wakeData marks the eventfd's events: no socket has descriptor -1.
const wakeData = -1

// never is a deadline that never comes.
const never = time.Duration(math.MaxInt64)

// conn is a connection served by a worker: 136 bytes (TestConnSize) and
// its remote address. A client that does not read its echoes adds one buffer of
// readBufferSize, kept until the connection closes; a connection in the
// middle of a long extended frame borrows a bigBuf until the frame is
// complete.
type conn struct {
	fd     int
	idx    int      // index in worker.conns
	remote net.Addr // for the log

	// times are the connection's events as the timeout policy sees them,
	// on the worker's clock.
	times connTimes

	// out holds the echoes a write could not take: at most one read's
	// worth, since the server reads nothing more until they are written.
	// Meanwhile the socket is watched for EPOLLOUT instead of EPOLLIN, so
	// the client's frames wait in the kernel, as they do behind a blocking
	// write. Its storage is made at the first short write and kept; a
	// write of long extended replies gets a longer one, kept only until
	// it is done. (One slice rather than a buffer and a slice of it keeps
	// conn at 136 bytes: the rest moves to the front after each write.)
	// A bad frame may follow the echoes in out: st.badFrame says so.
	out []byte

	st stream // the protocol and the partial frame a read ended with
}

// worker serves its connections from one goroutine: it waits in
// epoll_wait (level-triggered), then for each ready socket reads what is
// there and writes every complete frame back at once, as bench/floor/echo.c
// does. Only the handoff is shared with other goroutines.
type worker struct {
	s          *Server
	epfd, evfd int
	h          handoff
	spare      []*conn // the queue taken from h, being registered

	epoch time.Time // the worker's clock counts from it
	conns []*conn   // every connection, for the sweep and for exit
	byFD  []*conn   // the same, indexed by file descriptor
	// nextSweep is when the earliest idle or write deadline may pass: a
	// frame only pushes a deadline later, so until then no connection
	// needs a look, and the hot path does no timer work at all.
	nextSweep time.Duration
	lastYield time.Duration // see sched.Yield

	events [maxEvents]unix.EpollEvent
	buf    [wire.FrameSize - 1 + readBufferSize]byte // a short partial frame + one read
	rx     rxScratch                                 // recvmsg's arguments
}

func newWorker(s *Server) (*worker, error) {
	epfd, evfd, err := sockfd.NewEpoll(wakeData)
	if err != nil {
		return nil, err
	}
	return &worker{s: s, epfd: epfd, evfd: evfd, epoch: time.Now(), nextSweep: never}, nil
}

// run is the worker's loop. It returns, having closed everything, when
// asked to stop.
func (w *worker) run() {
	defer w.s.wg.Done()
	defer w.exit()
	now := w.clock()
	for {
		n, err := unix.EpollWait(w.epfd, w.events[:], w.waitMillis(now))
		// One clock reading per wake-up: the frames of a batch all count
		// as seen when epoll_wait returned.
		now = w.clock()
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			level.Error(w.s.logger).Log("msg", "echo worker failed", "err", fmt.Errorf("epoll_wait: %w", err))
			return
		}
		for i := range n {
			fd := int(w.events[i].Fd)
			if fd == wakeData {
				if w.register(now) {
					return
				}
				continue
			}
			if fd < len(w.byFD) && w.byFD[fd] != nil {
				w.ready(w.byFD[fd], now)
			}
		}
		if now >= w.nextSweep {
			w.sweep(now)
		}
		if now-w.lastYield >= sched.YieldEvery {
			w.lastYield = now
			sched.Yield()
		}
	}
}

// clock is the worker's monotonic clock.
func (w *worker) clock() time.Duration { return time.Since(w.epoch) }

// waitMillis is the epoll_wait timeout: until the next sweep, rounded up to
// whole milliseconds, or forever without connections.
func (w *worker) waitMillis(now time.Duration) int {
	if len(w.conns) == 0 {
		return -1
	}
	d := w.nextSweep - now
	if d <= 0 {
		return 0
	}
	return int(min((d+time.Millisecond-1)/time.Millisecond, math.MaxInt32))
}

// register adds the connections handed over to the epoll set, and reports
// whether the worker was asked to stop.
func (w *worker) register(now time.Duration) (stop bool) {
	stop = w.takeQueue()
	for i, c := range w.spare {
		w.spare[i] = nil
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c.fd)}
		if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			w.s.unserved(c.remote, fmt.Errorf("epoll_ctl: %w", err))
			_ = unix.Close(c.fd)
			continue
		}
		w.s.served(c.remote)
		if c.fd >= len(w.byFD) {
			byFD := make([]*conn, max(c.fd+1, 2*len(w.byFD), 64))
			copy(byFD, w.byFD)
			w.byFD = byFD
		}
		w.byFD[c.fd] = c
		c.idx = len(w.conns)
		w.conns = append(w.conns, c)
		c.times = openedAt(now)
		w.schedule(c, now)
	}
	w.spare = w.spare[:0]
	return stop
}

// ready serves a socket epoll reported ready: it finishes the pending write
// if there is one, then reads.
func (w *worker) ready(c *conn, now time.Duration) {
	if len(c.out) > 0 && !w.flush(c, now) {
		return
	}
	w.readEcho(c, now)
}

// echoResult is what became of an echo write.
type echoResult int

const (
	echoDone    echoResult = iota // all written
	echoPending                   // the rest waits in c.out
	echoClosed                    // the connection is gone
)

// readEcho reads what the socket holds and writes every complete frame
// back at once (the echoes stream.scan makes of them), so a frame is never
// held back waiting for more data; a partial trailing frame is kept for the
// next read. Bytes are checked as soon as they arrive, and nothing from the
// first bad frame on is written back.
func (w *worker) readEcho(c *conn, now time.Duration) {
	for range maxReads {
		buf, have := c.st.readBuf(w.buf[:])
		n, rxNs, errno := w.read(c, buf[have:])
		switch {
		case errno == unix.EAGAIN:
			return
		case errno != 0:
			w.close(c, reasonNone, errno)
			return
		case n == 0:
			w.close(c, reasonNone, io.EOF)
			return
		}
		total := have + n
		end, ok := c.st.scan(buf[:total], rxNs, c)
		res := echoDone
		if end > 0 {
			if res = w.echo(c, buf[:end], now); res == echoClosed {
				return
			}
		}
		c.st.keep(buf[end:total], &w.s.bigBufs)
		if res == echoPending {
			return // flush closes c after them if a bad frame followed
		}
		if !ok {
			w.close(c, reasonBadMagic, c.st.badFrame())
			return
		}
		if n < len(buf)-have {
			return // drained; level-triggered epoll reports what comes next
		}
	}
}

// echo writes frames back. What the socket cannot take now is kept in
// c.out and the socket watched for EPOLLOUT.
func (w *worker) echo(c *conn, frames []byte, now time.Duration) echoResult {
	c.st.stamp(frames)
	n, errno := rawWrite(c.fd, frames)
	if errno != 0 && errno != unix.EAGAIN {
		w.close(c, reasonNone, errno)
		return echoClosed
	}
	n = max(n, 0)
	w.s.countWritten(&c.st, len(frames), n)
	if n == len(frames) {
		c.times.echoed(now)
		return echoDone
	}
	if cap(c.out) < len(frames)-n {
		// A read's worth of 24-byte frames fits in readBufferSize; long
		// extended frames may need more, until flush is done with it.
		c.out = make([]byte, 0, max(readBufferSize, len(frames)-n))
	}
	c.out = append(c.out[:0], frames[n:]...)
	c.times.writeBegan(now)
	if !w.watch(c, unix.EPOLLOUT) {
		return echoClosed
	}
	w.schedule(c, now)
	return echoPending
}

// flush writes what it can of c.out and reports whether all of it is
// written and the connection is reading again.
func (w *worker) flush(c *conn, now time.Duration) bool {
	n, errno := rawWrite(c.fd, c.out)
	switch {
	case errno == unix.EAGAIN:
		return false
	case errno != 0:
		w.close(c, reasonNone, errno)
		return false
	}
	w.s.countWritten(&c.st, len(c.out), n)
	c.out = c.out[:copy(c.out, c.out[n:])]
	if len(c.out) > 0 {
		return false
	}
	if cap(c.out) > readBufferSize {
		c.out = nil // kept only while needed
	}
	c.times.echoed(now)
	// The idle deadline now counts from here, and may come before the
	// sweep planned for the write timeout.
	w.schedule(c, now)
	if bad := c.st.badFrame(); bad != nil {
		w.close(c, reasonBadMagic, bad)
		return false
	}
	return w.watch(c, unix.EPOLLIN)
}

// watch sets the events epoll reports for c, closing c if it cannot.
func (w *worker) watch(c *conn, events uint32) bool {
	ev := unix.EpollEvent{Events: events, Fd: int32(c.fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		w.close(c, reasonNone, fmt.Errorf("epoll_ctl: %w", err))
		return false
	}
	return true
}

// sweep applies the timeout policy to every connection: it closes those
// past their write timeout, and those idle for the idle timeout and then
// the grace, and computes the next sweep. When the process was stopped, the
// sweep may run before the worker has read all that waited: the grace is
// for that.
func (w *worker) sweep(now time.Duration) {
	next := never
	// Backwards: close moves the last connection, already seen, into the
	// closed one's place.
	for i := len(w.conns) - 1; i >= 0; i-- {
		c := w.conns[i]
		var (
			r  reason
			at time.Duration
		)
		c.times, r, at = w.s.timeouts.check(c.times, now)
		if r == reasonNone {
			next = min(next, at)
		} else {
			w.close(c, r, timeoutCause(r))
		}
	}
	w.nextSweep = next
}

// schedule brings the next sweep forward to when the timeout policy must
// next look at c, after an event at now. A connection's first deadline, a
// write that falls short and the end of that write need it; a frame echoed
// at once only moves the idle deadline later.
func (w *worker) schedule(c *conn, now time.Duration) {
	_, _, at := w.s.timeouts.check(c.times, now)
	w.nextSweep = min(w.nextSweep, at)
}

// close counts (unless r is reasonNone), logs and closes c, which also takes
// it out of the epoll set, and releases its slot first (Server.release).
func (w *worker) close(c *conn, r reason, err error) {
	w.byFD[c.fd] = nil
	last := w.conns[len(w.conns)-1]
	w.conns[c.idx], last.idx = last, c.idx
	w.conns[len(w.conns)-1] = nil
	w.conns = w.conns[:len(w.conns)-1]
	// Count before closing, so a client that sees EOF also sees the
	// counter already incremented.
	w.s.m.reject(r)
	w.s.logClosed(r, c.remote, err)
	w.s.release()
	_ = unix.Close(c.fd)
	c.st.release(&w.s.bigBufs)
}

// rawRead is read(2) on a non-blocking socket, retried on EINTR. It is a
// raw system call, without the runtime's bookkeeping for calls that may
// block, because it does not block.
func rawRead(fd int, p []byte) (int, unix.Errno) {
	return rawIO(unix.SYS_READ, fd, p)
}

// rawWrite is write(2) on a non-blocking socket, as rawRead.
func rawWrite(fd int, p []byte) (int, unix.Errno) {
	return rawIO(unix.SYS_WRITE, fd, p)
}

// rawIO makes the read or write system call trap on fd and p, again while
// it is interrupted.
func rawIO(trap uintptr, fd int, p []byte) (int, unix.Errno) {
	for {
		r, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		if e != unix.EINTR {
			return int(r), e
		}
	}
}
