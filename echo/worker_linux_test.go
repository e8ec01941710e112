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

// The tests in this file drive the epoll engine's worker by hand: they are
// about its internals, which the goroutine engine does not have, so they run
// in the epoll engine's run only (testWorker skips the others).

import (
	"bytes"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// testWorker returns a worker that is not running, of a server with opts,
// serving one connection: the server end of a socketpair. The test drives
// the worker by hand with ready and sweep, on a clock of its own, and talks
// through the returned client end. It skips the test when the run is not
// the epoll engine's.
func testWorker(t *testing.T, opts Options) (*worker, *conn, int) {
	t.Helper()
	epollOnly(t)
	opts.Engine = EngineEpoll
	opts.ListenAddresses = []string{"127.0.0.1:0"}
	s, err := New(opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWorker(s)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		w.closeFDs()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.exit()
		_ = unix.Close(fds[1])
	})
	s.open++ // as admit does; register counts it as served
	w.add(&conn{fd: fds[0], remote: &net.UnixAddr{Name: "test", Net: "unix"}})
	if w.register(0) || len(w.conns) != 1 {
		t.Fatal("connection not registered")
	}
	return w, w.conns[0], fds[1]
}

// epollOnly skips a test of the epoll worker's internals when the run is
// not the epoll engine's.
func epollOnly(t *testing.T) {
	t.Helper()
	if e := testEngine(t); e != EngineEpoll {
		t.Skipf("tests the epoll worker's internals; this run tests the %s engine", e)
	}
}

// fillToClient fills the server-to-client direction until the server's
// writes would block, and returns how many bytes it wrote.
func fillToClient(t *testing.T, c *conn) int {
	t.Helper()
	junk := make([]byte, 24)
	filled := 0
	for {
		n, errno := rawWrite(c.fd, junk)
		if errno == unix.EAGAIN {
			return filled
		}
		if errno != 0 {
			t.Fatalf("fill: %v", errno)
		}
		filled += n
	}
}

func clientWrite(t *testing.T, fd int, b []byte) {
	t.Helper()
	if n, err := unix.Write(fd, b); n != len(b) || err != nil {
		t.Fatalf("client write = %d, %v; want %d", n, err, len(b))
	}
}

// clientRead reads exactly n bytes the server has written.
func clientRead(t *testing.T, fd, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	for got := 0; got < n; {
		k, err := unix.Read(fd, b[got:])
		if k <= 0 {
			t.Fatalf("client read after %d of %d bytes: %d, %v", got, n, k, err)
		}
		got += k
	}
	return b
}

// clientClosed reports whether the server closed the connection: the
// client reads EOF.
func clientClosed(fd int) bool {
	n, err := unix.Read(fd, make([]byte, 1))
	return n == 0 && err == nil
}

func TestWorkerPartialFrame(t *testing.T) {
	w, c, cli := testWorker(t, Options{})
	two := frames(1, 2)
	clientWrite(t, cli, two[:36])
	w.ready(c, 0)
	if got := clientRead(t, cli, 24); !bytes.Equal(got, two[:24]) {
		t.Fatalf("echo = % x, want % x", got, two[:24])
	}
	if c.st.have != 12 {
		t.Errorf("partial frame kept = %d bytes, want 12", c.st.have)
	}
	clientWrite(t, cli, two[36:])
	w.ready(c, 0)
	if got := clientRead(t, cli, 24); !bytes.Equal(got, two[24:]) {
		t.Fatalf("second echo = % x, want % x", got, two[24:])
	}
	if got := testutil.ToFloat64(w.s.m.frames); got != 2 {
		t.Errorf("frames = %v, want 2", got)
	}
}

// TestWorkerBadMagicAfterPendingEcho checks that the frames before a bad
// one are still echoed in full when their write had to wait, and only then
// is the connection closed for bad magic.
func TestWorkerBadMagicAfterPendingEcho(t *testing.T) {
	w, c, cli := testWorker(t, Options{})
	filled := fillToClient(t, c)
	good := frames(1, 10)
	clientWrite(t, cli, append(append([]byte(nil), good...), "TCPPONG\x00"...))
	w.ready(c, 0)
	if len(c.out) != len(good) || c.st.badFrame() == nil {
		t.Fatalf("pending %d bytes, bad frame %v; want %d, bad magic", len(c.out), c.st.badFrame(), len(good))
	}
	if got := rejected(w.s, reasonBadMagic); got != 0 {
		t.Fatalf("rejected bad_magic = %v before the echoes were written", got)
	}
	clientRead(t, cli, filled)
	w.ready(c, time.Second)
	if got := clientRead(t, cli, len(good)); !bytes.Equal(got, good) {
		t.Fatalf("echo = % x, want % x", got, good)
	}
	if !clientClosed(cli) {
		t.Error("connection left open after the bad frame")
	}
	if got := rejected(w.s, reasonBadMagic); got != 1 {
		t.Errorf("rejected bad_magic = %v, want 1", got)
	}
	if got := testutil.ToFloat64(w.s.m.frames); got != 10 {
		t.Errorf("frames = %v, want 10", got)
	}
	if got := testutil.ToFloat64(w.s.m.connections); got != 0 || w.s.open != 0 {
		t.Errorf("connections = %v, open = %d after close; want 0, 0", got, w.s.open)
	}
}

// TestWorkerTimeouts drives the sweep: the write timeout of a pending
// write, the idle timeout with its grace, and that a pending write is not
// idleness.
func TestWorkerTimeouts(t *testing.T) {
	const (
		idle = 10 * time.Second
		wt   = 3 * time.Second
	)
	epollOnly(t)
	opts := Options{IdleTimeout: idle, WriteTimeout: wt}
	t.Run("write timeout", func(t *testing.T) {
		w, c, cli := testWorker(t, opts)
		fillToClient(t, c)
		clientWrite(t, cli, frames(1, 2))
		w.ready(c, time.Second)
		if len(c.out) == 0 || w.nextSweep != time.Second+wt {
			t.Fatalf("pending %d bytes, next sweep %v; want some, %v", len(c.out), w.nextSweep, time.Second+wt)
		}
		w.sweep(time.Second + wt - 1)
		if len(w.conns) != 1 {
			t.Fatal("closed before the write timeout")
		}
		w.sweep(time.Second + wt)
		if len(w.conns) != 0 || rejected(w.s, reasonWriteTimeout) != 1 {
			t.Errorf("open %d, rejected write_timeout %v; want 0, 1", len(w.conns), rejected(w.s, reasonWriteTimeout))
		}
	})
	t.Run("idle after grace", func(t *testing.T) {
		w, _, cli := testWorker(t, opts)
		w.sweep(idle - 1)
		w.sweep(idle)
		if len(w.conns) != 1 || w.nextSweep != idle+idleGrace {
			t.Fatalf("after the idle timeout: %d conns, next sweep %v; want 1 (grace), %v", len(w.conns), w.nextSweep, idle+idleGrace)
		}
		w.sweep(idle + idleGrace)
		if !clientClosed(cli) || rejected(w.s, reasonIdle) != 1 {
			t.Errorf("rejected idle = %v, want 1", rejected(w.s, reasonIdle))
		}
	})
	t.Run("frame in the grace", func(t *testing.T) {
		w, c, cli := testWorker(t, opts)
		w.sweep(idle)
		clientWrite(t, cli, frame(1))
		w.ready(c, idle+idleGrace/2)
		clientRead(t, cli, 24)
		w.sweep(idle + idleGrace)
		if len(w.conns) != 1 || w.nextSweep != idle+idleGrace/2+idle {
			t.Fatalf("%d conns, next sweep %v; want 1, %v", len(w.conns), w.nextSweep, idle+idleGrace/2+idle)
		}
	})
	t.Run("pending write is not idle", func(t *testing.T) {
		w, c, cli := testWorker(t, Options{IdleTimeout: time.Second, WriteTimeout: time.Hour})
		filled := fillToClient(t, c)
		clientWrite(t, cli, frame(1))
		w.ready(c, 0)
		w.sweep(time.Minute)
		if len(w.conns) != 1 {
			t.Fatal("closed as idle while its write was pending")
		}
		clientRead(t, cli, filled)
		w.ready(c, time.Minute) // the write ends: idleness counts from here
		w.sweep(time.Minute + time.Second - 1)
		if len(w.conns) != 1 || c.times.graced {
			t.Fatal("idle time counted from before the write ended")
		}
	})
	t.Run("idle deadline after a write that waited", func(t *testing.T) {
		// An idle timeout shorter than the write timeout: once the write
		// ends, the sweep must come by the idle deadline, not the write
		// timeout's.
		w, c, cli := testWorker(t, Options{IdleTimeout: time.Second, WriteTimeout: time.Hour})
		filled := fillToClient(t, c)
		clientWrite(t, cli, frame(1))
		w.ready(c, 0)
		w.sweep(30 * time.Second)
		clientRead(t, cli, filled)
		w.ready(c, time.Minute) // the write ends
		if w.nextSweep > time.Minute+time.Second {
			t.Fatalf("next sweep at %v, after the idle deadline %v", w.nextSweep, time.Minute+time.Second)
		}
	})
}

// TestReadsPerEventBounded checks that one readiness event reads at most
// maxReads buffers from a connection, so a client that keeps its socket
// full cannot keep the worker from the others: the rest waits for the next
// event, and nothing is lost.
func TestReadsPerEventBounded(t *testing.T) {
	w, c, cli := testWorker(t, Options{})
	perRead := readBufferSize / wire.FrameSize
	total := (maxReads + 2) * perRead
	sent := frames(1, total)
	clientWrite(t, cli, sent)
	w.ready(c, 0)
	if got, want := testutil.ToFloat64(w.s.m.frames), float64(maxReads*perRead); got != want {
		t.Fatalf("one event echoed %v frames, want %v (maxReads full buffers)", got, want)
	}
	w.ready(c, 0)
	if got := testutil.ToFloat64(w.s.m.frames); got != float64(total) {
		t.Fatalf("two events echoed %v frames, want all %d", got, total)
	}
	if got := clientRead(t, cli, len(sent)); !bytes.Equal(got, sent) {
		t.Fatal("the echoes differ from the frames sent")
	}
}

// TestWorkerLongFrames checks what a connection that speaks long extended
// frames holds: a bigBuf only while a partial frame is too long for its own
// room, and an echo buffer longer than readBufferSize only while a write of
// long replies waits.
func TestWorkerLongFrames(t *testing.T) {
	w, c, cli := testWorker(t, Options{})
	clientWrite(t, cli, helloFrame())
	w.ready(c, 0)
	clientRead(t, cli, 24)
	if c.st.proto != protoExt {
		t.Fatal("the HELLO did not negotiate")
	}
	req := extRequest(9000, 1, 1)
	clientWrite(t, cli, req[:5000])
	w.ready(c, 0)
	if c.st.big == nil || c.st.have != 5000 {
		t.Fatalf("5000 bytes of a 9000-byte frame: %d kept, bigBuf held %v; want 5000, true", c.st.have, c.st.big != nil)
	}
	clientWrite(t, cli, req[5000:])
	w.ready(c, 0)
	if c.st.big != nil || c.st.have != 0 {
		t.Fatalf("after the whole frame: %d kept, bigBuf held %v; want 0, false", c.st.have, c.st.big != nil)
	}
	if got := clientRead(t, cli, 9000); !bytes.Equal(got[24:], req[24:]) || got[6] != 2 {
		t.Fatal("the reply is not the request's")
	}

	filled := fillToClient(t, c)
	clientWrite(t, cli, cat(extRequest(9000, 2, 2), extRequest(9000, 3, 3)))
	for range 4 {
		w.ready(c, time.Second)
	}
	if len(c.out) == 0 || cap(c.out) <= readBufferSize {
		t.Fatalf("pending %d bytes in a buffer of %d; want a write of long replies waiting", len(c.out), cap(c.out))
	}
	clientRead(t, cli, filled)
	for range 4 {
		w.ready(c, 2*time.Second)
	}
	if got := clientRead(t, cli, 18000); got[9000+6] != 2 || !bytes.Equal(got[9000+24:], extRequest(9000, 3, 3)[24:]) {
		t.Fatal("the replies after the wait are not the requests'")
	}
	if cap(c.out) != 0 || c.st.big != nil {
		t.Errorf("after the wait: %d pending in an echo buffer of %d, bigBuf held %v; want no buffer, false", len(c.out), cap(c.out), c.st.big != nil)
	}
	if got := testutil.ToFloat64(w.s.m.frames); got != 4 {
		t.Errorf("frames = %v, want 4 (the offer and three replies)", got)
	}
}

// TestConnSize checks that the extended protocol costs a connection
// nothing: the epoll engine's conn still fits the 144-byte allocation
// class it had before (the sizes are the runtime's classes).
func TestConnSize(t *testing.T) {
	epollOnly(t)
	got := unsafe.Sizeof(conn{})
	t.Logf("conn is %d bytes", got)
	if got > 144 {
		t.Errorf("conn is %d bytes, want at most 144", got)
	}
}
