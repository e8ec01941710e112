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

package sockfd

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Detach returns a non-blocking duplicate of c's socket and closes c, so
// that Go's netpoller forgets the socket (closing c removes it from the
// runtime's epoll set) while the duplicate keeps the connection open.
func Detach(c net.Conn) (int, error) {
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("detach %T: not a socket", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("detach: %w", err)
	}
	fd, dupErr := -1, error(nil)
	err = rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err == nil {
		err = dupErr
	}
	if err != nil {
		return -1, fmt.Errorf("detach: dup: %w", err)
	}
	// The flag is shared with the original, which Go made non-blocking;
	// set it anyway rather than rely on that.
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return -1, fmt.Errorf("detach: %w", err)
	}
	return fd, nil
}

// NewEpoll returns an epoll set and a non-blocking eventfd in it, whose
// events carry wakeData in their Fd field.
func NewEpoll(wakeData int32) (epfd, evfd int, err error) {
	epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1, -1, fmt.Errorf("epoll_create1: %w", err)
	}
	evfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(epfd)
		return -1, -1, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeData}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(evfd)
		return -1, -1, fmt.Errorf("epoll_ctl: %w", err)
	}
	return epfd, evfd, nil
}

// Wake makes the eventfd evfd readable, waking its epoll set's owner.
func Wake(evfd int) {
	one := uint64(1)
	_, _ = unix.Write(evfd, (*[8]byte)(unsafe.Pointer(&one))[:])
}

// Drain resets the eventfd evfd.
func Drain(evfd int) {
	var buf [8]byte
	_, _ = unix.Read(evfd, buf[:])
}
