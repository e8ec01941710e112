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

package netmatch

import (
	"net/netip"
	"testing"
)

func TestContains(t *testing.T) {
	nets := []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("fe80::/10"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	tests := []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"10.0.0.1", false},
		{"::1", false},
		{"fe80::2", true},
		{"fe80::2%eth0", true},
		{"2001:db8::1%7", true},
		{"fd00::1%eth0", false},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := Contains(nets, netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("Contains(%v, %s) = %v, want %v", nets, tt.ip, got, tt.want)
			}
		})
	}
	if Contains(nil, netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty list contains nothing")
	}
}
