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
	buf      []byte
	oob      [64]byte
	iov      unix.Iovec
	msg      unix.Msghdr
	n        int
	kernelNs int64
	err      error
	readFn   func(fd uintptr) bool
	peekFn   func(fd uintptr)
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
	if err := raw.Control(func(fd uintptr) {
		// Normally already on: the dialer sets it before connect (see
		// enableRxTimestamps).
		if v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS); err == nil && v == 1 {
			return
		}
		serr = enableRxTimestamps(fd)
	}); err != nil {
		serr = err
	}
	if serr != nil {
		return r, false, fmt.Errorf("setsockopt SO_TIMESTAMPNS: %w", serr)
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

// recvmsg calls recvmsg(2) directly: unix.Recvmsg allocates the sender's
// address on every call, and this is the hot path of every reply.
func (r *rawReceiver) recvmsg(fd uintptr, flags int) {
	r.n, r.kernelNs, r.err = 0, 0, nil
	if len(r.buf) == 0 {
		return
	}
	r.iov.Base = &r.buf[0]
	r.iov.SetLen(len(r.buf))
	r.msg = unix.Msghdr{Iov: &r.iov}
	r.msg.SetIovlen(1)
	if r.kernel {
		r.msg.Control = &r.oob[0]
		r.msg.SetControllen(len(r.oob))
	}
	n, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.msg)), uintptr(flags))
	for errno == unix.EINTR {
		n, _, errno = unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.msg)), uintptr(flags))
	}
	switch {
	case errno != 0:
		r.err = errno
		return
	case n == 0:
		r.err = io.EOF
		return
	}
	r.n = int(n)
	if oobn := int(r.msg.Controllen); oobn > 0 && r.kernel {
		r.kernelNs = parseTimestampNS(r.oob[:min(oobn, len(r.oob))])
	}
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

// parseTimestampNS returns the SCM_TIMESTAMPNS time in a control message
// buffer, or 0. It reads the cmsghdr and timespec in place rather than
// through unix.ParseSocketControlMessage, which allocates.
func parseTimestampNS(oob []byte) int64 {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l-hdrLen >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdrLen]))
			return ts.Nano()
		}
		oob = oob[min(unix.CmsgSpace(l-hdrLen), len(oob)):]
	}
	return 0
}
