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
	"net/netip"
	"strings"
	"testing"
)

// fakeResolver answers every lookup with the same addresses.
type fakeResolver []netip.Addr

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f, nil
}

func TestResolveFamilies(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	mapped := netip.MustParseAddr("::ffff:192.0.2.1")
	src4, src6 := netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("2001:db8::9")
	var none netip.Addr
	tests := []struct {
		name      string
		host      string
		addrs     fakeResolver
		preferred string
		fallback  bool
		src       netip.Addr
		want      netip.Addr
		wantErr   string // "" for none; else in the error, which is ErrNoAddress
	}{
		{"dual stack, ip6 preferred", "h", fakeResolver{v4, v6}, "ip6", true, none, v6, ""},
		{"dual stack, ip4 preferred", "h", fakeResolver{v6, v4}, "ip4", true, none, v4, ""},
		{"v4 only, ip6 preferred, fallback", "h", fakeResolver{v4}, "ip6", true, none, v4, ""},
		{"v4 only, ip6 preferred, no fallback", "h", fakeResolver{v4}, "ip6", false, none, netip.Addr{}, "resolve h: no IPv6 address"},
		{"v6 only, ip4 preferred, fallback", "h", fakeResolver{v6}, "ip4", true, none, v6, ""},
		{"mapped address counts as IPv4", "h", fakeResolver{mapped}, "ip4", false, none, v4, ""},
		{"literal skips the resolver", "192.0.2.1", nil, "ip6", true, none, v4, ""},
		{"literal of the wrong family, no fallback", "192.0.2.1", nil, "ip6", false, none, netip.Addr{}, "not an ip6 address"},
		{"no addresses", "h", fakeResolver{}, "ip6", true, none, netip.Addr{}, "no IPv6 address"},
		// A source address decides the family: only its own can connect.
		{"dual stack, IPv4 source, ip6 preferred", "h", fakeResolver{v6, v4}, "ip6", true, src4, v4, ""},
		{"dual stack, IPv6 source, ip4 preferred", "h", fakeResolver{v4, v6}, "ip4", true, src6, v6, ""},
		{"dual stack, mapped IPv4 source", "h", fakeResolver{v6, v4}, "ip6", true, netip.AddrFrom16(src4.As16()), v4, ""},
		{"dual stack, IPv4 source, ip4 preferred, no fallback", "h", fakeResolver{v6, v4}, "ip4", false, src4, v4, ""},
		{"v6 only, IPv4 source, fallback", "h", fakeResolver{v6}, "ip6", true, src4, netip.Addr{},
			"resolve h: no IPv4 address, the family of source_ip_address 192.0.2.9"},
		{"literal with a source of the other family", "2001:db8::1", nil, "ip6", true, src4, v6, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(context.Background(), tt.addrs, tt.host, family{tt.preferred, tt.fallback, tt.src})
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoAddress) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("resolve = %v, %v; want ErrNoAddress saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolve = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
