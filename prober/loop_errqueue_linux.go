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
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// errWait is where the goroutine loop waits on a connection whose reads
// Go's netpoller refuses (serveErrQueue): an epoll set of its own holding
// the socket, level-triggered for input (epoll adds errors and hang-ups),
// itself waited on through the netpoller as a file, so that the wait has a
// deadline, can be woken and holds no thread. A connection makes it the
// first time it needs it and closes it with the socket.
type errWait struct {
	f       *os.File
	raw     syscall.RawConn
	ev      [1]unix.EpollEvent
	readyFn func(fd uintptr) bool // made once: a method value per wait would allocate
}

func newErrWait(conn net.Conn) (*errWait, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no raw socket", conn)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP}
		cerr = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	}); err != nil {
		cerr = err
	}
	if cerr == nil {
		cerr = unix.SetNonblock(epfd, true) // so that os.NewFile polls it
	}
	if cerr != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("epoll_ctl: %w", cerr)
	}
	w := &errWait{f: os.NewFile(uintptr(epfd), "epoll")}
	w.readyFn = w.ready
	if w.raw, err = w.f.SyscallConn(); err == nil {
		err = w.f.SetReadDeadline(time.Time{}) // fails if the netpoller did not take it
	}
	if err != nil {
		_ = w.f.Close()
		return nil, fmt.Errorf("epoll set in the netpoller: %w", err)
	}
	return w, nil
}

// ready is the RawConn.Read callback: whether the socket has something for
// the loop (false waits).
func (w *errWait) ready(fd uintptr) bool {
	n, err := unix.EpollWait(int(fd), w.ev[:], 0)
	return n > 0 || err != nil && err != unix.EINTR
}

// wait returns when the socket is readable, has an error queue entry or
// hung up (woke), or at the read deadline, or when woken.
func (w *errWait) wait() (woke bool, err error) {
	err = w.raw.Read(w.readyFn)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	}
	return false, err
}

// wake ends a wait at once: the prober is stopping.
func (w *errWait) wake() { _ = w.f.SetReadDeadline(longAgo) }

func (w *errWait) close() { _ = w.f.Close() }

// waitErrQueue waits on the socket, until the read deadline, through its
// errWait (made on first use). woke reports that the socket has something
// for the loop.
func (c *connLink) waitErrQueue() (woke bool, err error) {
	c.mu.Lock()
	if c.ew == nil && !c.stopping {
		if c.ew, err = newErrWait(c.conn); err != nil {
			c.mu.Unlock()
			return false, err
		}
	}
	// Under the lock: a deadline set here cannot undo wakeRead's.
	stopping := c.stopping
	if !stopping {
		_ = c.ew.f.SetReadDeadline(c.readDeadline)
	}
	ew := c.ew
	c.mu.Unlock()
	if stopping {
		return false, nil
	}
	return ew.wait()
}
