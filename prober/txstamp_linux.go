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
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// txFlags are the SO_TIMESTAMPING flags of a probe connection
// (Documentation/networking/timestamping.rst): a software timestamp when
// each write's last byte leaves for the device (TX_SOFTWARE, reported by
// SOFTWARE), keyed by the offset of that byte in the stream (OPT_ID, which
// on TCP counts bytes from the moment it is set), without a copy of the
// packet on the error queue (OPT_TSONLY).
const txFlags = unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_SOFTWARE |
	unix.SOF_TIMESTAMPING_OPT_ID | unix.SOF_TIMESTAMPING_OPT_TSONLY

// sofOptRxFilter is SOF_TIMESTAMPING_OPT_RX_FILTER (include/uapi/linux/
// net_tstamp.h, Linux 6.9): without it SOFTWARE also puts an
// SCM_TIMESTAMPING message on every reply read, beside the SCM_TIMESTAMPNS
// that receiver_linux.go reads. Older kernels refuse it; they are then
// asked without it, and rxScratch has room for both messages.
const sofOptRxFilter = 1 << 17

// enableTxTimestamps turns on kernel transmit timestamps for the
// connected socket fd. It must be called before the first write: the
// keys count bytes from here.
func enableTxTimestamps(fd uintptr) error {
	err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPING, txFlags|sofOptRxFilter)
	if err == unix.EINVAL {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPING, txFlags)
	}
	if err != nil {
		return fmt.Errorf("setsockopt SO_TIMESTAMPING: %w", err)
	}
	return nil
}

// txScratch is the memory of one read of a socket's error queue, reused
// read after read, as rxScratch is for replies.
type txScratch struct {
	// oob holds an entry's control messages: SCM_TIMESTAMPING (3
	// timespecs), the IP_RECVERR or IPV6_RECVERR sock_extended_err with
	// its offender address, and SCM_TIMESTAMPNS when receive
	// timestamps are on too.
	oob [256]byte
	msg unix.Msghdr
}

// read takes one entry off fd's error queue. For a transmit timestamp it
// returns the entry's key (ee_data: the offset, from when stamping was
// turned on, of the last byte of the write it stamps) and the kernel's
// software transmit time (Unix ns); for another entry, ns is 0. An empty
// queue is errWouldBlock.
func (x *txScratch) read(fd int) (key uint32, ns int64, err error) {
	x.msg = unix.Msghdr{Control: &x.oob[0]}
	x.msg.SetControllen(len(x.oob))
	flags := uintptr(unix.MSG_ERRQUEUE | unix.MSG_DONTWAIT)
	_, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&x.msg)), flags)
	for errno == unix.EINTR {
		_, _, errno = unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&x.msg)), flags)
	}
	switch errno {
	case 0:
	case unix.EAGAIN:
		return 0, 0, errWouldBlock
	default:
		return 0, 0, errno
	}
	key, ns = parseTxStamp(x.oob[:min(int(x.msg.Controllen), len(x.oob))])
	return key, ns, nil
}

// parseTxStamp returns the key and software transmit time of an error
// queue entry's control messages, or ns 0 if they are not a transmit
// timestamp. It reads the messages in place, without allocating.
func parseTxStamp(oob []byte) (key uint32, ns int64) {
	var (
		ts    int64
		found bool
	)
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(oob) {
			break
		}
		data := oob[hdrLen:l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPING &&
			len(data) >= int(unsafe.Sizeof(unix.ScmTimestamping{})):
			ts = (*unix.ScmTimestamping)(unsafe.Pointer(&data[0])).Ts[0].Nano()
		case (h.Level == unix.SOL_IP && h.Type == unix.IP_RECVERR ||
			h.Level == unix.SOL_IPV6 && h.Type == unix.IPV6_RECVERR) &&
			len(data) >= int(unsafe.Sizeof(unix.SockExtendedErr{})):
			e := (*unix.SockExtendedErr)(unsafe.Pointer(&data[0]))
			if e.Errno == uint32(unix.ENOMSG) && e.Origin == unix.SO_EE_ORIGIN_TIMESTAMPING && e.Info == unix.SCM_TSTAMP_SND {
				key, found = e.Data, true
			}
		}
		oob = oob[min(unix.CmsgSpace(l-hdrLen), len(oob)):]
	}
	if !found {
		return 0, 0
	}
	return key, ts
}

// connTx reads the error queue of the goroutine loop's connection, through
// syscall.RawConn (the descriptor stays Go's).
type connTx struct {
	raw syscall.RawConn
	x   txScratch
	// The read callback's results, and the callback itself made once: a
	// method value per read would allocate.
	key    uint32
	ns     int64
	err    error
	readFn func(fd uintptr)
}

// newConnTx returns the error queue reader of c, or nil if c has no
// socket to read.
func newConnTx(c net.Conn) *connTx {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	t := &connTx{raw: raw}
	t.readFn = t.readNow
	return t
}

func (t *connTx) read() (uint32, int64, error) {
	if err := t.raw.Control(t.readFn); err != nil {
		return 0, 0, err
	}
	return t.key, t.ns, t.err
}

func (t *connTx) readNow(fd uintptr) { t.key, t.ns, t.err = t.x.read(int(fd)) }
