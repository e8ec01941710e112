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
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// ErrNoAddress is returned when a host has no address of a usable family.
var ErrNoAddress = errors.New("no address of a usable family")

// dialResult is the end of a dial: the connection and its handshake time,
// or why there is none.
type dialResult struct {
	conn      net.Conn
	handshake time.Duration
	// tx reports whether the kernel stamps the connection's writes;
	// txErr says why not when the module wanted it.
	tx    bool
	txErr error
	proto connProto
	err   error
}

// dial resolves the target per ip_protocol and connects to it from
// source_ip_address with the module's TOS, within dial_timeout. port is
// the source port of a flow's last connection, to dial from again, or 0
// (see sourceport.go).
func (p *Prober) dial(ctx context.Context, port int) dialResult {
	m := p.mod
	ctx, cancel := context.WithTimeout(ctx, m.DialTimeout.D())
	defer cancel()

	host, dport, err := net.SplitHostPort(p.opts.Address)
	if err != nil {
		return dialResult{err: fmt.Errorf("address %q: %w", p.opts.Address, err)}
	}
	var src netip.Addr
	if m.SourceIPAddress != "" {
		if src, err = netip.ParseAddr(m.SourceIPAddress); err != nil {
			return dialResult{err: fmt.Errorf("source_ip_address: %w", err)}
		}
	}
	ip, err := resolve(ctx, net.DefaultResolver, host, family{m.IPProtocol, m.IPProtocolFallback, src})
	if err != nil {
		return dialResult{err: err}
	}
	network := "tcp4"
	if !ip.Is4() {
		network = "tcp6"
	}
	d := net.Dialer{Control: socketControl(m.TOS, m.KernelTimestamps, m.DontFragment)}
	if src.IsValid() {
		if src.Unmap().Is4() != ip.Is4() {
			return dialResult{err: fmt.Errorf("source %s and target %s differ in address family", src, ip)}
		}
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice(), Zone: src.Zone()}
	}
	start := time.Now()
	addr := net.JoinHostPort(ip.String(), dport)
	conn, err := dialFrom(ctx, d, network, addr, m.Flows > 1, port)
	handshake := time.Since(start)
	if err != nil {
		if _, perr := netip.ParseAddr(host); perr != nil {
			// A name: say which of its addresses ip_protocol chose.
			err = &addrError{addr: addr, err: err}
		}
		return dialResult{err: err}
	}
	r := dialResult{conn: conn, handshake: handshake}
	if m.TxTimestamps {
		// Before the first write: the stamps' keys count bytes from here.
		r.txErr = rawControl(conn, enableTxTimestamps)
		r.tx = r.txErr == nil
	}
	if m.EchoProtocol != config.EchoProtocolV1 {
		if r.proto, err = negotiate(ctx, conn, p.timeout()); err != nil {
			_ = conn.Close()
			return dialResult{err: err}
		}
	}
	return r
}

// addrError is a failed connection to addr, an address the target's DNS
// name resolved to: errText keeps addr, which the target does not name.
type addrError struct {
	addr string
	err  error
}

func (e *addrError) Error() string { return e.addr + ": " + errText(e.err) }
func (e *addrError) Unwrap() error { return e.err }

// timeout returns the probe timeout in force.
func (p *Prober) timeout() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.rto.timeout()
}

// rawControl runs set on c's socket and returns its error.
func rawControl(c net.Conn, set func(fd uintptr) error) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return fmt.Errorf("%T has no socket", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = set(fd) }); err != nil {
		return err
	}
	return serr
}

// lookuper is the part of *net.Resolver that resolve needs.
type lookuper interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// family is what decides the address family of a connection: ip_protocol,
// ip_protocol_fallback and source_ip_address (invalid if none).
type family struct {
	preferred string // "ip4" or "ip6"
	fallback  bool
	src       netip.Addr
}

// familyName names the family of ip4 (IPv4) or not (IPv6) in errors.
func familyName(ip4 bool) string {
	if ip4 {
		return "IPv4"
	}
	return "IPv6"
}

// resolve picks one address for host: the first of the preferred family
// (ip4 or ip6), else, if fallback is allowed, the first of the other, as
// blackbox_exporter's ip_protocol and ip_protocol_fallback do. With a
// source address only the source's family can connect, so a name's
// address is the first of that family, whatever the preference (config
// refuses a preference that contradicts the source with no fallback). An
// IP address is used as it is: the preference applies to it only with no
// fallback, and the dial refuses a source of the other family.
func resolve(ctx context.Context, r lookuper, host string, f family) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if !f.fallback && ip.Is4() != (f.preferred == "ip4") {
			return netip.Addr{}, fmt.Errorf("%s is not an %s address and ip_protocol_fallback is off: %w", ip, f.preferred, ErrNoAddress)
		}
		return ip, nil
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	want4, fallback := f.preferred == "ip4", f.fallback
	if f.src.IsValid() {
		want4, fallback = f.src.Unmap().Is4(), false
	}
	var other netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() == want4 {
			return a, nil
		}
		if !other.IsValid() {
			other = a
		}
	}
	if fallback && other.IsValid() {
		return other, nil
	}
	if f.src.IsValid() {
		return netip.Addr{}, fmt.Errorf("resolve %s: no %s address, the family of source_ip_address %s: %w", host, familyName(want4), f.src, ErrNoAddress)
	}
	return netip.Addr{}, fmt.Errorf("resolve %s: no %s address: %w", host, familyName(want4), ErrNoAddress)
}

// socketControl returns a net.Dialer Control function that sets the IP TOS
// (IPv4) or traffic class (IPv6) byte and, with dontFragment, path-MTU
// discovery "do" before connect, so the handshake carries them too, and
// turns on kernel receive timestamps early (a failure there only means
// user-space time: newReceiver reports it).
func socketControl(tos int, kernelTS, dontFragment bool) func(network, address string, c syscall.RawConn) error {
	if tos == 0 && !kernelTS && !dontFragment {
		return nil
	}
	return func(network, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			if kernelTS {
				_ = enableRxTimestamps(fd)
			}
			if tos != 0 {
				if err := setTOS(fd, network == "tcp6", tos); err != nil {
					serr = fmt.Errorf("set tos %d: %w", tos, err)
					return
				}
			}
			if dontFragment {
				if err := setDontFragment(fd, network == "tcp6"); err != nil {
					serr = fmt.Errorf("dont_fragment: %w", err)
				}
			}
		}); err != nil {
			return err
		}
		return serr
	}
}
