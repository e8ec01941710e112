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
	tests := []struct {
		name      string
		host      string
		addrs     fakeResolver
		preferred string
		fallback  bool
		want      netip.Addr
		wantErr   bool
	}{
		{"dual stack, ip6 preferred", "h", fakeResolver{v4, v6}, "ip6", true, v6, false},
		{"dual stack, ip4 preferred", "h", fakeResolver{v6, v4}, "ip4", true, v4, false},
		{"v4 only, ip6 preferred, fallback", "h", fakeResolver{v4}, "ip6", true, v4, false},
		{"v4 only, ip6 preferred, no fallback", "h", fakeResolver{v4}, "ip6", false, netip.Addr{}, true},
		{"v6 only, ip4 preferred, fallback", "h", fakeResolver{v6}, "ip4", true, v6, false},
		{"mapped address counts as IPv4", "h", fakeResolver{mapped}, "ip4", false, v4, false},
		{"literal skips the resolver", "192.0.2.1", nil, "ip6", true, v4, false},
		{"literal of the wrong family, no fallback", "192.0.2.1", nil, "ip6", false, netip.Addr{}, true},
		{"no addresses", "h", fakeResolver{}, "ip6", true, netip.Addr{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(context.Background(), tt.addrs, tt.host, tt.preferred, tt.fallback)
			if tt.wantErr {
				if !errors.Is(err, ErrNoAddress) {
					t.Errorf("resolve = %v, %v; want ErrNoAddress", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolve = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
