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
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sockfd"
)

// The epoll engine stamps extended replies with the kernel's receive
// timestamp (SO_TIMESTAMPNS, socket(7)): the time the segment that
// completed the request reached the host, before the worker was woken and
// scheduled. A connection turns it on when it negotiates (kernelRx), and
// from then on every read on it is a recvmsg(2) that returns the timestamp
// of the last segment it read. A connection that speaks the original
// protocol keeps plain read(2) calls and costs nothing more.

// rxScratch holds recvmsg's arguments, in the worker, so that building them
// allocates nothing.
type rxScratch struct {
	iov unix.Iovec
	msg unix.Msghdr
	oob [sockfd.TimestampOOBSize]byte
}

// kernelRx turns kernel receive timestamps on for c, which negotiated, and
// reports whether that worked; if not, its replies are timed by the clock
// after each read, and say so.
func (c *conn) kernelRx() bool {
	return unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil
}

// read reads from c into p, with the kernel's receive timestamp (Unix ns)
// if c reads them and the data carried one, else 0.
func (w *worker) read(c *conn, p []byte) (n int, rxNs int64, errno unix.Errno) {
	if !c.st.kernelRx {
		n, errno = rawRead(c.fd, p)
		return n, 0, errno
	}
	return w.rx.recvmsg(c.fd, p)
}

// recvmsg is recvmsg(2) on a non-blocking socket, called directly as
// rawRead calls read(2): unix.Recvmsg allocates. It returns the
// SCM_TIMESTAMPNS time, or 0 if the data carried none (segments that
// arrived before the kernel turned timestamping on host-wide, which it does
// lazily, carry none).
func (x *rxScratch) recvmsg(fd int, p []byte) (n int, rxNs int64, errno unix.Errno) {
	if len(p) == 0 {
		return 0, 0, 0
	}
	x.iov.Base = &p[0]
	x.iov.SetLen(len(p))
	x.msg = unix.Msghdr{Iov: &x.iov, Control: &x.oob[0]}
	x.msg.SetIovlen(1)
	x.msg.SetControllen(len(x.oob))
	for {
		r, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&x.msg)), 0)
		if e == unix.EINTR {
			continue
		}
		x.iov.Base = nil // hold no pointer into p
		if e != 0 {
			return int(r), 0, e
		}
		if oobn := int(x.msg.Controllen); oobn > 0 {
			rxNs = sockfd.ParseTimestampNS(x.oob[:min(oobn, len(x.oob))])
		}
		return int(r), rxNs, 0
	}
}
