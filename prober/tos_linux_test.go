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
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// dialedSockopt dials a listener on listen (an IPv4 or IPv6 loopback
// address) as a prober of module m does, with m's ip_protocol set to
// listen's family and the original protocol (the dial alone, no HELLO),
// and returns the socket option level/opt of the connection as the kernel
// reports it.
func dialedSockopt(t *testing.T, listen string, m config.Module, level, opt int) int {
	t.Helper()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		testenv.Unavailable(t, "no loopback address for %s: %v", listen, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	m.EchoProtocol = config.EchoProtocolV1
	m.IPProtocol = "ip4"
	if ln.Addr().(*net.TCPAddr).IP.To4() == nil {
		m.IPProtocol = "ip6"
	}
	p := New(Options{Name: "t", Address: ln.Addr().String(), ModuleName: "test", Module: m}, nil)
	r := p.dial(t.Context(), 0)
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { _ = r.conn.Close() })
	var v int
	if err := rawControl(r.conn, func(fd uintptr) error {
		var err error
		v, err = unix.GetsockoptInt(int(fd), level, opt)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTOSOnTheSocket dials as a prober does, of one flow and of several,
// and reads the connection's IPv4 TOS or IPv6 traffic class back from
// the kernel: tos, set before connect so the handshake carries it too
// (checked by hand in a capture on lo). Both loops dial the same way.
func TestTOSOnTheSocket(t *testing.T) {
	tests := []struct {
		name       string
		listen     string
		flows      int
		level, opt int
	}{
		{"ipv4", "127.0.0.1:0", 1, unix.IPPROTO_IP, unix.IP_TOS},
		{"ipv4, flows", "127.0.0.1:0", 2, unix.IPPROTO_IP, unix.IP_TOS},
		{"ipv6", "[::1]:0", 1, unix.IPPROTO_IPV6, unix.IPV6_TCLASS},
		{"ipv6, flows", "[::1]:0", 2, unix.IPPROTO_IPV6, unix.IPV6_TCLASS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModule(time.Second, time.Second, false)
			m.TOS = 184 // DSCP EF
			m.Flows = tt.flows
			if tos := dialedSockopt(t, tt.listen, m, tt.level, tt.opt); tos != m.TOS {
				t.Errorf("TOS byte %#x on the socket, want %#x", tos, m.TOS)
			}
		})
	}
}
