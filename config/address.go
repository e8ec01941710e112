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

package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateAddress reports why addr is not a usable target address: it must
// be host:port (an IPv6 host in brackets) with a host that is an IP address
// or a DNS name (checkHost) and a numeric port from 1 to 65535. It does not
// resolve the host. Static, discovered and /probe targets and ping apply
// the same rule.
func ValidateAddress(addr string) error {
	if addr == "" {
		return errors.New("required")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			if what, ok := strings.CutSuffix(ae.Err, " in address"); ok {
				if what == "too many colons" {
					return fmt.Errorf("%s in %q (write an IPv6 address in brackets, as [::1]:4000)", what, addr)
				}
				return fmt.Errorf("%s in %q", what, addr)
			}
		}
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	switch {
	case host == "":
		return fmt.Errorf("missing host in %q", addr)
	case !utf8.ValidString(host) || strings.ContainsFunc(host, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Errorf("invalid host %q", host)
	case port == "":
		return fmt.Errorf("missing port in %q", addr)
	}
	if err := checkHost(host, strings.HasPrefix(addr, "[")); err != nil {
		return err
	}
	p, err := strconv.ParseUint(port, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("port %s out of range 1-65535", port)
		}
		return fmt.Errorf("port %q is not a number", port)
	}
	if p < 1 || p > 65535 {
		return fmt.Errorf("port %s out of range 1-65535", port)
	}
	return nil
}

// CanonicalAddress returns addr, a host:port that ValidateAddress accepts,
// in the one spelling of its endpoint that identifies a prober: a prober
// is keyed by (module, address), and two spellings of one endpoint must
// not start two probers. Static, discovered and /probe targets are all
// keyed by it. The port becomes a plain decimal number (0080 is 80); an
// IP address takes netip's canonical form ([0:0::1] is [::1], upper-case
// hex digits lower-cased), and an IPv4-mapped IPv6 address becomes its
// IPv4 address ([::ffff:10.0.0.1]:80 is 10.0.0.1:80), because the prober
// dials it over IPv4 and --probe.allowed-target matches it as IPv4; a
// zone is kept as written. Any other host is a DNS name, which is
// case-insensitive (RFC 4343): its ASCII letters are lower-cased, and a
// trailing dot is kept (a fully qualified name is not subject to the
// resolver's search list, so it may name another host). An address that
// ValidateAddress rejects is returned unchanged.
func CanonicalAddress(addr string) string {
	if ValidateAddress(addr) != nil {
		return addr
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.ParseUint(port, 10, 16)
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.Unmap().String()
	} else {
		host = strings.ToLower(host) // ASCII only: checkHost saw to it
	}
	return net.JoinHostPort(host, strconv.FormatUint(p, 10))
}

// checkHost reports why host, not empty, is neither an IP address (only an
// IP address goes in brackets, and only IPv6 takes a zone) nor a DNS name
// (CheckDNSName), or is an address that cannot be dialed (CheckDialable).
func checkHost(host string, bracketed bool) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		return CheckDialable(ip)
	}
	why := "only an IP address goes in brackets"
	if addr, zone, ok := strings.Cut(host, "%"); ok {
		if ip, err := netip.ParseAddr(addr); err == nil {
			if ip.Is4() {
				return fmt.Errorf("host %q is neither an IP address nor a DNS name: a zone (%%%s) goes only with an IPv6 address", host, zone)
			}
			if zone == "" {
				return fmt.Errorf("host %q is neither an IP address nor a DNS name: empty zone after '%%'", host)
			}
		}
	}
	if !bracketed {
		err := CheckDNSName(host)
		if err == nil {
			return nil
		}
		why = err.Error()
	}
	return fmt.Errorf("host %q is neither an IP address nor a DNS name: %s", host, why)
}

// CheckDialable reports why a TCP connection cannot be made to or from
// ip: a multicast address or the IPv4 broadcast address is no one host,
// and the kernel refuses to connect to it (ENETUNREACH, "network is
// unreachable") or bind to it; a link-local IPv6 address (fe80::/10) is
// one on every link, so it names a host only with the interface to reach
// it by (fe80::1%eth0): without one connect(2) and bind(2) fail with
// EINVAL ("invalid argument"). Neither kernel error says why. IPv4
// link-local addresses (169.254/16) have no zone and need none: the
// routing table picks the interface.
func CheckDialable(ip netip.Addr) error {
	switch u := ip.Unmap(); {
	case u.IsMulticast():
		return fmt.Errorf("%s is a multicast address: TCP connects to one host", ip)
	case u == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%s is the broadcast address: TCP connects to one host", ip)
	case u.Is6() && u.IsLinkLocalUnicast() && u.Zone() == "":
		return fmt.Errorf("%s is a link-local IPv6 address: give its zone, the interface to reach it by (%s%%eth0)", ip, ip)
	}
	return nil
}

// CheckDNSName reports why name is not a DNS name a target can have:
// labels of 1 to 63 letters, digits, '-' and '_' (as in SRV names), none
// starting or ending with '-', 253 characters in all without the trailing
// dot of a fully qualified name. A name outside that rule has no DNS answer
// the exporter could use: Go's resolver refuses it without a query, and
// refusing it first gives the same answer, a clear one, whichever resolver
// the binary uses. For that reason too, the last label is not a number
// (decimal, or hexadecimal after 0x): inet_aton(3), and so a C resolver,
// reads such a name as an IPv4 address (127.1 is 127.0.0.1, 0127.0.0.1 is
// 87.0.0.1) where Go's resolver asks DNS for it, and RFC 1123 has no host
// name ending in one; 10.0.0.256 is a mistyped address, not a name. A name
// in another script must be written in punycode (xn--…), as DNS carries it.
func CheckDNSName(name string) error {
	name = strings.TrimSuffix(name, ".")
	if len(name) > 253 {
		return errors.New("longer than 253 characters")
	}
	for label := range strings.SplitSeq(name, ".") {
		switch {
		case label == "":
			return errors.New("empty label")
		case len(label) > 63:
			return fmt.Errorf("label %q longer than 63 characters", label)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("label %q starts or ends with '-'", label)
		}
		for _, r := range label {
			switch {
			case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
			case r >= utf8.RuneSelf:
				return errors.New("write a name in another script in punycode (xn--...)")
			default:
				return fmt.Errorf("%q is not a letter, digit, '-' or '_'", r)
			}
		}
	}
	if last := name[strings.LastIndexByte(name, '.')+1:]; isNumber(last) {
		return fmt.Errorf("its last label %q is a number, which a C resolver reads as part of an IPv4 address (RFC 1123: no host name ends in one)", last)
	}
	return nil
}

// isNumber reports whether label is a number as inet_aton(3) reads one in
// an IPv4 address: decimal (octal with a leading 0) or hexadecimal after
// 0x, the hex digits possibly none.
func isNumber(label string) bool {
	if hex, ok := strings.CutPrefix(strings.ToLower(label), "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return label != "" && strings.Trim(label, "0123456789") == ""
}
