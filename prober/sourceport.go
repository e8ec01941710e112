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
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-kit/log/level"
)

// Source ports of flows. Routers that spread traffic over equal-cost paths
// hash the 5-tuple, so a flow's source port is its path: a flow that took
// a new port at each reconnection would leave a bad path as soon as that
// path broke its connection, and the bad path would vanish from view. A
// flow of a target of several flows therefore keeps its source port
// across reconnections:
//
//   - Its first connection binds port 0 before connecting: bind(2) gives
//     it a port that no other socket uses, not even one in TIME_WAIT,
//     unlike the port connect(2) picks, which it may share with
//     connections to other peers. Bound, the port is kept from other
//     sockets' connect(2) as long as the flow's socket lives.
//   - It binds the source address too, the one the kernel would choose
//     (or source_ip_address): Linux routes an IPv6 connection's handshake
//     with an unspecified source, and routes it again with the real one
//     after a retransmission timeout, so a flow bound to the port alone
//     would change path at its first timeout.
//   - Its socket has SO_REUSEADDR, and SO_LINGER 0 so that closing it
//     resets the connection and frees the 4-tuple at once, rather than
//     leave it held in FIN_WAIT (on a dead path a FIN is retransmitted for
//     minutes) or TIME_WAIT. On Linux it has SO_TXREHASH off, so that a
//     retransmission timeout does not give an IPv6 connection a new flow
//     label, which routers that hash the flow label would take for a new
//     flow.
//   - Its later connections bind that port again. If the port cannot be
//     had (another socket took it in the meantime, or listens on it, or
//     the 4-tuple is in use), that attempt binds port 0 instead, and the
//     first such attempt that connects gives the flow its new port, kept
//     from then on: the flow may then be on another path, which it logs
//     and records in its events. Until one connects, every attempt tries
//     the old port first.
//
// A flow's port is its own, so a host holds at most targets × flows ports
// of its ephemeral range for them. A target of one flow dials as it always
// did: connect(2) picks its port at each connection.

// keepPort remembers the source port of a flow's new connection, from
// local (host:port), for its next dial. It logs a change of port.
func (f *flow) keepPort(now time.Time, local string) {
	p := f.p
	if p.mod.Flows <= 1 {
		return
	}
	ap, err := netip.ParseAddrPort(local)
	if err != nil || ap.Port() == 0 {
		return
	}
	port := ap.Port()
	if f.port != 0 && port != f.port {
		text := "source port " + strconv.Itoa(int(f.port)) + " unavailable, now " + strconv.Itoa(int(port)) + ": the flow may take another path"
		p.mu.Lock()
		p.st.event(now, text)
		p.mu.Unlock()
		level.Info(p.logger()).Log("msg", "source port changed, the flow may take another path",
			"old_port", f.port, "port", port)
	}
	f.port = port
}

// dialFrom connects d to address (network tcp4 or tcp6). For a flow of a
// target of several flows (flow) it binds the source address and source
// port port, or port 0 if port is 0 or cannot be bound or connected from,
// on a socket with the options of a flow's; any other failure, a timeout
// or a refusal, is the dial's: the path or the server is down, and the
// flow keeps its port to try again.
func dialFrom(ctx context.Context, d net.Dialer, network, address string, flow bool, port int) (net.Conn, error) {
	if !flow {
		return d.DialContext(ctx, network, address)
	}
	d.Control = flowSocketControl(d.Control)
	la := &net.TCPAddr{Port: port}
	if src, ok := d.LocalAddr.(*net.TCPAddr); ok && src != nil {
		la.IP, la.Zone = src.IP, src.Zone
	} else if src, err := sourceAddr(ctx, network, address); err == nil {
		la.IP, la.Zone = src.IP, src.Zone
	}
	d.LocalAddr = la
	c, err := d.DialContext(ctx, network, address)
	if err != nil && port != 0 && portTaken(err) {
		la.Port = 0
		c, err = d.DialContext(ctx, network, address)
	}
	return c, err
}

// sourceAddr returns the source address the kernel chooses for address,
// by connecting a UDP socket to it, which sends nothing.
func sourceAddr(ctx context.Context, network, address string) (*net.UDPAddr, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp"+strings.TrimPrefix(network, "tcp"), address)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	src, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return nil, errors.New("no UDP local address")
	}
	return src, nil
}

// portTaken reports whether a dial failed for want of its source port:
// bind failed, or the 4-tuple is in use.
func portTaken(err error) bool {
	var se *os.SyscallError
	if errors.As(err, &se) && se.Syscall == "bind" {
		return true
	}
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL)
}

// flowSocketControl returns a net.Dialer Control function that runs inner
// (if any), then sets the options of a flow's socket: SO_REUSEADDR,
// SO_LINGER 0 and, on Linux, SO_TXREHASH off (see above).
func flowSocketControl(inner func(network, address string, c syscall.RawConn) error) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		if inner != nil {
			if err := inner(network, address, c); err != nil {
				return err
			}
		}
		var serr error
		if err := c.Control(func(fd uintptr) { serr = setFlowSockopts(fd) }); err != nil {
			return err
		}
		return serr
	}
}
