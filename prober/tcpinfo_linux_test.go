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
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sockfd"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestFdRetransmits reads TCP_INFO of a fresh loopback connection: no
// retransmission yet, and no allocation per sample (10,000 connections are
// sampled every 5 s).
func TestFdRetransmits(t *testing.T) {
	c, err := net.Dial("tcp", testenv.EchoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	fd, err := sockfd.Detach(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	n, ok := fdRetransmits(fd)
	if !ok || n != 0 {
		t.Fatalf("fdRetransmits = %d, %v; want 0, true", n, ok)
	}
	if a := testing.AllocsPerRun(100, func() { fdRetransmits(fd) }); a != 0 {
		t.Errorf("fdRetransmits allocates %v times per call, want 0", a)
	}
	if _, ok := fdRetransmits(-1); ok {
		t.Error("fdRetransmits(-1) reported a count")
	}
}

// TestFdRetransmitsCountsARetransmission makes the kernel retransmit on
// loopback, without privileges: a listener whose accept queue is full
// drops a new connection's SYN, which the client sends again after the
// initial RTO (1 s, RFC 6298 section 2.1). fdRetransmits of the connecting
// socket must then count it, as TCP_INFO's tcpi_total_retrans does; a
// stub that reads nothing from the socket reports 0 here, as it does for
// the fresh connection of TestFdRetransmits.
func TestFdRetransmitsCountsARetransmission(t *testing.T) {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(ln) })
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	// Backlog 0: one connection fills the accept queue, and nothing here
	// accepts it.
	if err := unix.Listen(ln, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		t.Fatal(err)
	}
	filler, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = filler.Close() })
	time.Sleep(10 * time.Millisecond) // its ACK queued it before the next SYN comes

	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, ok := fdRetransmits(fd)
		if !ok {
			t.Fatal("fdRetransmits of a connecting socket reported no count")
		}
		if n >= 1 {
			t.Logf("%d retransmissions of the SYN to a full accept queue", n)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fdRetransmits = %d five seconds after a SYN the listener dropped, want at least its retransmission", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
