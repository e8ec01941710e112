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

package web

import (
	"fmt"
	"net"
	"net/netip"
	"path"
	"strings"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/netmatch"
)

// AllowedTargets is the --probe.allowed-target policy of /probe: the
// targets it may start probers for. /probe otherwise lets any caller make
// the exporter resolve and connect to any host:port, as blackbox_exporter
// does; with a policy, a target that matches none of its entries gets 403
// before any DNS lookup or connection. Static and discovered targets are
// not subject to it. The zero value allows everything.
type AllowedTargets struct {
	prefixes []netip.Prefix
	globs    [][]string // DNS-name patterns, split into labels, lower case
}

// ParseAllowedTargets parses --probe.allowed-target values: a CIDR
// (10.0.0.0/8, fd00::/8; a bare address is a /32 or /128) or a DNS name
// pattern whose labels may hold '*' (any characters) and '?' (one), which
// match within one label
// (*.dc1.example.net matches a.dc1.example.net, not a.b.dc1.example.net
// nor dc1.example.net).
func ParseAllowedTargets(values []string) (AllowedTargets, error) {
	var a AllowedTargets
	for _, v := range values {
		if p, err := netip.ParsePrefix(v); err == nil {
			a.prefixes = append(a.prefixes, netmatch.Prefix(p))
			continue
		}
		if ip, err := netip.ParseAddr(v); err == nil {
			a.prefixes = append(a.prefixes, netmatch.Prefix(netip.PrefixFrom(ip.WithZone(""), ip.BitLen())))
			continue
		}
		labels, err := globLabels(v)
		if err != nil {
			return AllowedTargets{}, fmt.Errorf("--probe.allowed-target %q: %w", v, err)
		}
		a.globs = append(a.globs, labels)
	}
	return a, nil
}

// globLabels checks a DNS name pattern and splits it into labels.
func globLabels(v string) ([]string, error) {
	if strings.Contains(v, "/") {
		return nil, fmt.Errorf("neither a CIDR nor a DNS name pattern")
	}
	name := strings.ToLower(strings.TrimSuffix(v, "."))
	if config.CheckDNSName(strings.NewReplacer("*", "x", "?", "x").Replace(name)) != nil {
		return nil, fmt.Errorf("neither a CIDR nor a DNS name pattern (letters, digits, '-', '_', '*' and '?' in dot-separated labels)")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if _, err := path.Match(l, ""); err != nil {
			return nil, fmt.Errorf("label %q: %w", l, err)
		}
	}
	return labels, nil
}

// Restricted reports whether a policy is in force.
func (a AllowedTargets) Restricted() bool { return len(a.prefixes)+len(a.globs) > 0 }

// Allows reports whether /probe may probe target, a host:port that
// validateTarget accepted. An IP address must lie in one of the CIDRs (its
// zone, as in [fe80::1%eth0]:4000, is not matched); a
// DNS name must match one of the name patterns (its addresses are not
// checked: allowing a name trusts its DNS).
func (a AllowedTargets) Allows(target string) bool {
	if !a.Restricted() {
		return true
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return netmatch.Contains(a.prefixes, ip)
	}
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	for _, g := range a.globs {
		if matchLabels(g, labels) {
			return true
		}
	}
	return false
}

// matchLabels matches a name's labels against a pattern's, one for one.
func matchLabels(pattern, labels []string) bool {
	if len(pattern) != len(labels) {
		return false
	}
	for i, p := range pattern {
		if ok, _ := path.Match(p, labels[i]); !ok {
			return false
		}
	}
	return true
}
