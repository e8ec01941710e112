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

package prober

import (
	"net"
	"testing"
	"time"
)

// BenchmarkReceivePath measures the prober's receive path per reply: the
// read (recvmsg with the kernel timestamp on Linux), the frame decode and
// the accounting (match, RTT, histogram, RTO), over a real loopback
// connection. The echo side writes each reply just before it is read.
func BenchmarkReceivePath(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer server.Close()

	m := testModule(time.Second, time.Second, true)
	p := New(Options{Name: "bench", Address: ln.Addr().String(), Module: m}, nil)
	rx, _, err := newReceiver(client, true)
	if err != nil {
		b.Fatal(err)
	}
	var f flow
	f.init(p, time.Now())
	f.dialed(time.Now(), attempt{link: &connLink{conn: client, rx: rx}, kernel: true})
	b.ReportAllocs()
	for b.Loop() {
		f.stamp()
		if _, err := server.Write(f.out()); err != nil {
			b.Fatal(err)
		}
		if err := f.receive(1, true); err != nil {
			b.Fatal(err)
		}
	}
	if s := p.Snapshot(); s.Received != s.Sent || s.Unexpected != 0 {
		b.Fatalf("sent %d received %d unexpected %d", s.Sent, s.Received, s.Unexpected)
	}
}

// BenchmarkSnapshot measures one scrape's copy of a prober's state.
func BenchmarkSnapshot(b *testing.B) {
	p := New(Options{Name: "bench", Address: "192.0.2.1:4000", Module: testModule(time.Second, time.Second, true)}, nil)
	for i := range 1000 {
		p.st.hist.observe(float64(50+i%100) * 1e-6)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Snapshot()
	}
}
