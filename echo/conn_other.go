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

//go:build !linux

package echo

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// engine is the goroutine per connection engine: it keeps the connections
// being served so that Shutdown can close them.
type engine struct {
	conns map[net.Conn]struct{}
}

// startEngine prepares the engine; s.mu is held. It may be called again.
func (s *Server) startEngine() error {
	if s.eng.conns == nil {
		s.eng.conns = make(map[net.Conn]struct{})
	}
	return nil
}

// stopEngine closes every connection, which ends their goroutines; s.mu is
// held and Shutdown waits for them.
func (s *Server) stopEngine() {
	for c := range s.eng.conns {
		_ = c.Close()
	}
}

// serve starts the goroutine of an admitted connection, which owns c and
// its slot from now on.
func (s *Server) serve(c net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.Close()
		s.release()
		return
	}
	s.eng.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serveConn(c)
}

// serveConn echoes frames on c until the client leaves, misbehaves or the
// server shuts down, then closes c and releases its slot. The caller has
// already added c to s.eng.conns and s.wg.
func (s *Server) serveConn(c net.Conn) {
	remote := c.RemoteAddr()
	defer func() {
		_ = c.Close()
		s.mu.Lock()
		delete(s.eng.conns, c)
		s.mu.Unlock()
		s.release()
		s.wg.Done()
	}()

	r, err := s.echo(c)
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
// finished, so a frame is never held back waiting for more data; a partial
// trailing frame (at most 23 bytes) moves to the front of the buffer for the
// next read. Bytes are checked against the magic as soon as they arrive, so
// garbage is refused from its first wrong byte, and nothing from the first
// bad frame on is ever written back.
//
// Deadlines are moved only when they are about to matter: changing one costs
// a runtime timer update, and doing that twice per frame was a measurable
// part of the server's CPU per echo. The idle deadline is exact all the
// same: when it fires, the connection is closed only if no whole frame came
// in for the whole idle timeout, else it is pushed to last frame + timeout.
//
// Idleness is counted in frames, not bytes, so a client that trickles a
// frame a byte at a time (slowloris) holds its slot no longer than a silent
// one. And it is the client's idleness, not the server's: time the server
// spends blocked writing echoes does not count, and before closing, the
// server reads once more (idleGrace), because it may itself have been what
// stalled (a stopped process) while the client's frames waited in the
// socket.
func (s *Server) echo(c net.Conn) (reason, error) {
	buf := make([]byte, readBufferSize)
	pending := 0
	idle := s.opts.IdleTimeout
	lastFrame := time.Now()
	graced := false // the idle deadline passed and the grace read is on
	if err := c.SetReadDeadline(lastFrame.Add(idle)); err != nil {
		return reasonNone, err
	}
	var w deadlineWriter
	for {
		n, rerr := c.Read(buf[pending:])
		total := pending + n
		end, ok := scanFrames(buf[:total])
		if end > 0 {
			if r, err := s.write(c, &w, buf[:end], time.Now()); err != nil {
				return r, err
			}
			// Taken after the write: time blocked in it is the server's.
			lastFrame, graced = time.Now(), false
		}
		if !ok {
			return reasonBadMagic, wire.ErrBadMagic
		}
		if rerr != nil {
			if !errors.Is(rerr, os.ErrDeadlineExceeded) {
				return reasonNone, rerr
			}
			var readDeadline time.Time
			switch {
			case time.Since(lastFrame) < idle:
				readDeadline = lastFrame.Add(idle)
			case !graced:
				graced = true
				readDeadline = time.Now().Add(idleGrace)
			default:
				return reasonIdle, errIdle
			}
			if err := c.SetReadDeadline(readDeadline); err != nil {
				return reasonNone, err
			}
		}
		pending = copy(buf, buf[end:total])
	}
}

// deadlineWriter tracks a connection's write deadline.
type deadlineWriter struct{ deadline time.Time }

// write writes frames back and counts them. A write may block for the
// write timeout, measured from now, before the connection is given up; the
// deadline is moved only when less than half of that is left.
func (s *Server) write(c net.Conn, w *deadlineWriter, frames []byte, now time.Time) (reason, error) {
	wt := s.opts.WriteTimeout
	if w.deadline.Sub(now) < wt/2 {
		w.deadline = now.Add(wt)
		if err := c.SetWriteDeadline(w.deadline); err != nil {
			return reasonNone, err
		}
	}
	for {
		n, err := c.Write(frames)
		s.countWritten(len(frames), n)
		switch {
		case err == nil:
			return reasonNone, nil
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return reasonNone, err
		case time.Since(now) < wt:
			// The deadline was set for an earlier write: give this one
			// its full timeout.
			frames = frames[n:]
			w.deadline = now.Add(wt)
			if err := c.SetWriteDeadline(w.deadline); err != nil {
				return reasonNone, err
			}
		default:
			// The client does not read its echoes: its receive buffer
			// and our send buffer are full.
			return reasonWriteTimeout, err
		}
	}
}
