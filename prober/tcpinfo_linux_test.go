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
	"net"
	"testing"

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
