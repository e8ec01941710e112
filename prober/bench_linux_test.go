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
	"io"
	"net"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/sockfd"
	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// BenchmarkEngineProbe measures one whole probe as the Linux engine does
// it, over a real loopback connection: the send (frame encode, write(2)),
// the peer's echo (a blocking read and write in this goroutine) and the
// receive path (recvmsg with the kernel timestamp, decode, match, RTT,
// histogram, RTO). Only the epoll wait between them is left out.
func BenchmarkEngineProbe(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{Control: socketControl(0, true, false)}
	client, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer server.Close()
	fd, err := sockfd.Detach(client)
	if err != nil {
		b.Fatal(err)
	}
	if err := ensureRxTimestamps(fd); err != nil {
		b.Fatal(err)
	}
	if err := enableTxTimestamps(uintptr(fd)); err != nil {
		b.Fatal(err)
	}
	m := testModule(time.Second, time.Second, true)
	p := New(Options{Name: "bench", Address: ln.Addr().String(), Module: m}, nil)
	t := &task{w: &worker{epfd: -1}, fd: fd, kernel: true, slot: -1, hidx: -1}
	t.init(p, time.Now())
	t.dialed(time.Now(), attempt{link: t, kernel: true, tx: true})
	echo := make([]byte, wire.FrameSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := t.probe(time.Now()); !ok {
			b.Fatal("probe failed")
		}
		if _, err := io.ReadFull(server, echo); err != nil {
			b.Fatal(err)
		}
		if _, err := server.Write(echo); err != nil {
			b.Fatal(err)
		}
		t.onReadable(time.Now())
		if t.fd < 0 {
			b.Fatal("connection closed")
		}
	}
	s := p.Snapshot()
	if s.Received != s.Sent || s.Unexpected != 0 || s.Timeouts != 0 {
		b.Fatalf("sent %d received %d timeouts %d unexpected %d", s.Sent, s.Received, s.Timeouts, s.Unexpected)
	}
	if !s.KernelTimestamps || !s.KernelTxTimestamps {
		b.Fatal("kernel timestamps off")
	}
}
