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
	"errors"
	"net"
	"os"
	"time"
)

// goroutineEngine serves each connection from a goroutine of its own, with
// blocking reads and writes under deadlines and one fixed read buffer per
// connection (and a bigBuf borrowed while a long extended frame arrives).
// It times extended requests by the clock after each read. It runs on every platform, and is the only engine where epoll
// is missing. It keeps the connections being served, under the server's
// mutex, so that Shutdown can close them.
type goroutineEngine struct {
	s     *Server
	conns map[net.Conn]struct{}
}

func newGoroutineEngine(s *Server) *goroutineEngine {
	return &goroutineEngine{s: s, conns: make(map[net.Conn]struct{})}
}

// start has nothing to start: connections bring their goroutines.
func (e *goroutineEngine) start() error { return nil }

// stop closes every connection, which ends their goroutines; s.mu is held
// and Shutdown waits for them.
func (e *goroutineEngine) stop() {
	for c := range e.conns {
		_ = c.Close()
	}
}

// serve starts the goroutine of an admitted connection, which owns c and
// its slot from now on.
func (e *goroutineEngine) serve(c net.Conn) {
	s := e.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.unserved(c.RemoteAddr(), nil) // before Close: see Server.release
		_ = c.Close()
		return
	}
	e.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.served(c.RemoteAddr())
	go e.serveConn(c)
}

// serveConn echoes frames on c until the client leaves, misbehaves or the
// server shuts down, then closes c and releases its slot. The caller has
// already added c to e.conns and s.wg.
func (e *goroutineEngine) serveConn(c net.Conn) {
	s := e.s
	remote := c.RemoteAddr()
	defer func() {
		s.mu.Lock()
		delete(e.conns, c)
		s.mu.Unlock()
		s.release() // before Close: see Server.release
		_ = c.Close()
		s.wg.Done()
	}()

	r, err := e.echo(c)
	if s.closing() {
		// Shutdown closed c under us: whatever the read or write saw is
		// not the client's doing.
		r, err = reasonNone, nil
	}
	// Count before the deferred Close, so a client that sees EOF also sees
	// the counter already incremented.
	s.m.reject(r)
	s.logClosed(r, remote, err)
}

// echo is the read-check-write loop. It returns why the connection ended and
// the error that ended it (nil or io.EOF when the client closed cleanly).
//
// Each read is followed at once by one write of every complete frame it
// finished (the echoes stream.scan makes of them), so a frame is never held
// back waiting for more data; a partial trailing frame is kept for the next
// read. Bytes are checked as soon as they arrive, so garbage is refused
// from its first wrong byte, and nothing from the first bad frame on is
// ever written back.
//
// The timeout policy (timeouts) is applied when a deadline passes, and a
// deadline is moved only then, or when it is about to matter: changing one
// costs a runtime timer update, and doing that twice per frame was a
// measurable part of the server's CPU per echo. A read deadline that passed
// while the server was blocked writing makes the next read fail at once, and
// the policy then sets the next one from the last echo.
func (e *goroutineEngine) echo(c net.Conn) (reason, error) {
	small := make([]byte, readBufferSize)
	var st stream
	defer st.release(&e.s.bigBufs)
	cl := newConnClock()
	t := openedAt(0)
	if r, err := e.nextReadDeadline(c, cl, &t, 0); err != nil {
		return r, err
	}
	var w deadlineWriter
	for {
		buf, have := st.readBuf(small)
		n, rerr := c.Read(buf[have:])
		total := have + n
		end, ok := st.scan(buf[:total], 0, noKernelRx{})
		if end > 0 {
			if r, err := e.write(c, cl, &t, &w, &st, buf[:end]); err != nil {
				return r, err
			}
		}
		if !ok {
			return reasonBadMagic, st.badFrame()
		}
		st.keep(buf[end:total], &e.s.bigBufs)
		if rerr != nil {
			if !errors.Is(rerr, os.ErrDeadlineExceeded) {
				return reasonNone, rerr
			}
			if r, err := e.nextReadDeadline(c, cl, &t, cl.now()); err != nil {
				return r, err
			}
		}
	}
}

// nextReadDeadline applies the timeout policy to c at now, with no write
// under way: it returns the reason and its cause if the policy closes c,
// else sets the read deadline to the policy's next check.
func (e *goroutineEngine) nextReadDeadline(c net.Conn, cl connClock, t *connTimes, now time.Duration) (reason, error) {
	var (
		r    reason
		next time.Duration
	)
	*t, r, next = e.s.timeouts.check(*t, now)
	if r != reasonNone {
		return r, timeoutCause(r)
	}
	return reasonNone, c.SetReadDeadline(cl.at(next))
}

// connClock is the clock of one connection served by a goroutine: a
// monotonic duration since the connection began to be served, as the timeout
// policy takes it.
type connClock struct{ epoch time.Time }

func newConnClock() connClock { return connClock{epoch: time.Now()} }

// now reads the clock.
func (cl connClock) now() time.Duration { return time.Since(cl.epoch) }

// at is the wall time at d on the clock, for a deadline.
func (cl connClock) at(d time.Duration) time.Time { return cl.epoch.Add(d) }

// deadlineWriter tracks a connection's write deadline, on its clock.
type deadlineWriter struct{ deadline time.Duration }

// write stamps the replies among frames (stream.stamp), writes them back
// and counts them. The write may block until the
// timeout policy gives the connection up; the deadline is moved only when
// less than half of the write timeout is left.
func (e *goroutineEngine) write(c net.Conn, cl connClock, t *connTimes, w *deadlineWriter, st *stream, frames []byte) (reason, error) {
	now := cl.now()
	t.writeBegan(now)
	if w.deadline-now < e.s.timeouts.write/2 {
		_, _, next := e.s.timeouts.check(*t, now)
		if err := w.set(c, cl, next); err != nil {
			return reasonNone, err
		}
	}
	st.stamp(frames)
	for {
		n, err := c.Write(frames)
		e.s.countWritten(st, len(frames), n)
		if err == nil {
			// Taken after the write: time blocked in it is the server's.
			t.echoed(cl.now())
			return reasonNone, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return reasonNone, err
		}
		var (
			r    reason
			next time.Duration
		)
		*t, r, next = e.s.timeouts.check(*t, cl.now())
		if r != reasonNone {
			// The client does not read its echoes: its receive buffer
			// and our send buffer are full.
			return r, timeoutCause(r)
		}
		// The deadline was set for an earlier write: give this one its
		// full timeout.
		frames = frames[n:]
		if err := w.set(c, cl, next); err != nil {
			return reasonNone, err
		}
	}
}

// set sets c's write deadline to d on the connection's clock.
func (w *deadlineWriter) set(c net.Conn, cl connClock, d time.Duration) error {
	w.deadline = d
	return c.SetWriteDeadline(cl.at(d))
}
