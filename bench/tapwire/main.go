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

// Command tapwire is a wire between two TAP devices: it creates them and
// copies every Ethernet frame that one sends to the other, both ways,
// until SIGINT or SIGTERM. Moved into two network namespaces, the devices
// give the hosts in them a link whose receive side behaves as a physical
// network card's: a frame written into a TAP device enters its host's
// stack as a new packet, so the kernel stamps it on arrival, before any
// capture on the device sees it, where over lo or veth TCP's own departure
// time travels with the packet and the stamp is taken later, in the IP
// layer. The copying in user space is the wire's length. See
// bench/nicwire.sh and bench/README.md, "Where the last microseconds go".
//
//	tapwire -a tpwa -b tpwb
//
// It prints "ready" on stderr once both devices exist, and on exit the
// frames copied each way.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	a := flag.String("a", "tpwa", "name of the first TAP device")
	b := flag.String("b", "tpwb", "name of the second TAP device")
	flag.Parse()
	fa, err := openTap(*a)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tapwire:", err)
		os.Exit(1)
	}
	fb, err := openTap(*b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tapwire:", err)
		os.Exit(1)
	}
	var ab, ba atomic.Uint64
	go copyFrames(fa, fb, &ab)
	go copyFrames(fb, fa, &ba)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	fmt.Fprintln(os.Stderr, "ready")
	<-sig
	fmt.Fprintf(os.Stderr, "frames %s->%s %d, %s->%s %d\n", *a, *b, ab.Load(), *b, *a, ba.Load())
}

// openTap creates the TAP device name (no packet information header) and
// returns its file descriptor, in blocking mode.
func openTap(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	var ifr [unix.IFNAMSIZ + 64]byte
	copy(ifr[:unix.IFNAMSIZ-1], name)
	*(*uint16)(unsafe.Pointer(&ifr[unix.IFNAMSIZ])) = unix.IFF_TAP | unix.IFF_NO_PI
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&ifr[0]))); errno != 0 {
		_ = unix.Close(fd)
		return -1, fmt.Errorf("TUNSETIFF %s: %w", name, errno)
	}
	return fd, nil
}

// copyFrames writes every frame read from src to dst, one write a frame.
func copyFrames(src, dst int, n *atomic.Uint64) {
	buf := make([]byte, 65536)
	for {
		k, err := unix.Read(src, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "tapwire: read:", err)
			os.Exit(1)
		}
		if _, err := unix.Write(dst, buf[:k]); err != nil && err != unix.EIO {
			fmt.Fprintln(os.Stderr, "tapwire: write:", err)
			os.Exit(1)
		}
		n.Add(1)
	}
}
