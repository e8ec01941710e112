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
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestDontFragmentOnTheSocket dials as a prober does and reads the
// connection's path-MTU discovery mode back from the kernel: "do" with
// dont_fragment, for IPv4 and IPv6, and left as the kernel chose without.
// On the wire the option cannot be told from Linux's default for TCP
// (IP_PMTUDISC_WANT sets DF too, and a black hole drops large segments
// either way), so TestMTUBlackHole passes without it: only the socket
// shows whether it was set.
func TestDontFragmentOnTheSocket(t *testing.T) {
	tests := []struct {
		name         string
		listen       string
		dontFragment bool
		level, opt   int
		wantDo       bool
	}{
		{"ipv4, dont_fragment", "127.0.0.1:0", true, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, true},
		{"ipv4, default", "127.0.0.1:0", false, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, false},
		{"ipv6, dont_fragment", "[::1]:0", true, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, true},
		{"ipv6, default", "[::1]:0", false, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModule(time.Second, time.Second, false)
			m.DontFragment = tt.dontFragment
			mode := dialedSockopt(t, tt.listen, m, tt.level, tt.opt)
			// IP_PMTUDISC_DO and IPV6_PMTUDISC_DO are both 2.
			if isDo := mode == unix.IP_PMTUDISC_DO; isDo != tt.wantDo {
				t.Errorf("path-MTU discovery mode %d with dont_fragment %v: want \"do\" (%d) %v",
					mode, tt.dontFragment, unix.IP_PMTUDISC_DO, tt.wantDo)
			}
		})
	}
}
