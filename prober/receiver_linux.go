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
	"fmt"
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sockfd"
)

// rawReceiver reads with recvmsg(2) on the socket itself, through
// syscall.RawConn so the netpoller and read deadlines keep working, and
// takes the reply's arrival time from the kernel's software receive
// timestamp (SO_TIMESTAMPNS, socket(7)): the time the packet reached the
// host, not the time this goroutine got to run.
type rawReceiver struct {
	raw    syscall.RawConn
	kernel bool

	// Results of the read callbacks, kept here so the callbacks can be
	// method values made once rather than closures allocated per read.
	rx       rxScratch
	buf      []byte
	n        int
	kernelNs int64
	err      error
	readFn   func(fd uintptr) bool
	peekFn   func(fd uintptr)
}

// rxScratch is the memory of one recvmsg(2) call, reused call after call.
type rxScratch struct {
	// oob has room for SCM_TIMESTAMPNS and, on kernels that put it on
	// replies once transmit timestamps are on (txstamp_linux.go), an
	// SCM_TIMESTAMPING after it.
	oob [128]byte
	iov unix.Iovec
	msg unix.Msghdr
}

// newReceiver returns the receiver for c. It reports whether kernel
// timestamps are in use; err says why not when they were wanted but the
// socket refused them.
func newReceiver(c net.Conn, wantKernel bool) (receiver, bool, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return connReceiver{c}, false, fmt.Errorf("%T has no raw socket", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return connReceiver{c}, false, err
	}
	r := &rawReceiver{raw: raw}
	r.readFn = r.readBlocking
	r.peekFn = r.readNow
	if !wantKernel {
		return r, false, nil
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = ensureRxTimestamps(int(fd)) }); err != nil {
		serr = err
	}
	if serr != nil {
		return r, false, serr
	}
	r.kernel = true
	return r, true, nil
}

func (r *rawReceiver) recv(buf []byte, block bool) (int, int64, error) {
	r.buf, r.n, r.kernelNs, r.err = buf, 0, 0, nil
	var err error
	if block {
		err = r.raw.Read(r.readFn)
	} else {
		err = r.raw.Control(r.peekFn)
	}
	r.buf = nil
	if err != nil {
		return 0, 0, err
	}
	return r.n, r.kernelNs, r.err
}

// readBlocking is the RawConn.Read callback: false asks the netpoller to
// wait for readability.
func (r *rawReceiver) readBlocking(fd uintptr) bool {
	r.recvmsg(fd, 0)
	return r.err != unix.EAGAIN
}

// readNow is the RawConn.Control callback of a non-blocking read.
func (r *rawReceiver) readNow(fd uintptr) {
	r.recvmsg(fd, unix.MSG_DONTWAIT)
	if r.err == unix.EAGAIN {
		r.err = errWouldBlock
	}
}

func (r *rawReceiver) recvmsg(fd uintptr, flags int) {
	r.n, r.kernelNs, r.err = r.rx.recvmsg(int(fd), r.buf, r.kernel, flags)
}

// recvmsg reads into buf with recvmsg(2), called directly: unix.Recvmsg
// allocates the sender's address on every call, and this is the hot path
// of every reply. With kernel it returns the SCM_TIMESTAMPNS arrival time
// (Unix ns), or 0 if the data carried none. n == 0 comes with an error:
// io.EOF when the peer closed.
func (x *rxScratch) recvmsg(fd int, buf []byte, kernel bool, flags int) (n int, kernelNs int64, err error) {
	if len(buf) == 0 {
		return 0, 0, nil
	}
	x.iov.Base = &buf[0]
	x.iov.SetLen(len(buf))
	x.msg = unix.Msghdr{Iov: &x.iov}
	x.msg.SetIovlen(1)
	if kernel {
		x.msg.Control = &x.oob[0]
		x.msg.SetControllen(len(x.oob))
	}
	r, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&x.msg)), uintptr(flags))
	for errno == unix.EINTR {
		r, _, errno = unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&x.msg)), uintptr(flags))
	}
	x.iov.Base = nil // hold no pointer into buf
	switch {
	case errno != 0:
		return 0, 0, errno
	case r == 0:
		return 0, 0, io.EOF
	}
	if oobn := int(x.msg.Controllen); oobn > 0 && kernel {
		kernelNs = sockfd.ParseTimestampNS(x.oob[:min(oobn, len(x.oob))])
	}
	return int(r), kernelNs, nil
}

// ensureRxTimestamps checks that SO_TIMESTAMPNS is on, and turns it on if
// not. It is normally on already: the dialer sets it before connect (see
// enableRxTimestamps).
func ensureRxTimestamps(fd int) error {
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS); err == nil && v == 1 {
		return nil
	}
	if err := enableRxTimestamps(uintptr(fd)); err != nil {
		return fmt.Errorf("setsockopt SO_TIMESTAMPNS: %w", err)
	}
	return nil
}

// enableRxTimestamps turns on SO_TIMESTAMPNS. The dialer calls it before
// connect: the kernel switches receive timestamping on for the host
// lazily (net_enable_timestamp defers it), and packets that arrive before
// it is on carry no timestamp, so recvmsg would report its own time for
// them. Enabling it during the handshake gives it time to take effect
// before the first reply.
func enableRxTimestamps(fd uintptr) error {
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
}
