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

// Package netmatch matches addresses against CIDR lists. It is the one
// address rule of --echo.allowed-network and --probe.allowed-target, so that
// the two flags cannot drift apart.
package netmatch

import "net/netip"

// Contains reports whether ip lies in one of nets. The address is matched
// without its zone: netip.Prefix.Contains is false for any zoned address,
// and a link-local peer or target comes with one (fe80::2%eth0), which would
// otherwise never match fe80::/10. An IPv4-mapped IPv6 address is matched as
// the IPv4 address it maps.
func Contains(nets []netip.Prefix, ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range nets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Prefix returns p as Contains matches it: masked, and an IPv4-mapped
// prefix (::ffff:10.0.0.0/104) in its IPv4 form, since addresses are
// matched unmapped.
func Prefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked()
}
