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

package faults

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

// optTarget is one static target of the options test and what the echo
// server must see of it.
type optTarget struct {
	name, address, module string
	// wantPeer is the source address the echo server must see; invalid
	// for a target that must not connect.
	wantPeer netip.Addr
}

// Names in the prober namespace's hosts file.
const (
	dualName   = "dual.tcpping.test"
	v4OnlyName = "v4only.tcpping.test"
	v6OnlyName = "v6only.tcpping.test"
)

// tosByte is the TOS / traffic class the tos modules set: DSCP AF11 (10)
// shifted past the two ECN bits.
const tosByte = 10 << 2

func TestOptionsApplied(t *testing.T) {
	requireSuite(t)
	tp := newTopo(t, "o")
	tp.hosts(t, tp.prober, fmt.Sprintf("127.0.0.1 localhost\n%s %s\n%s %s\n%s %s\n%s %s\n",
		echoV4, dualName, echoV6, dualName, echoV4, v4OnlyName, echoV6, v6OnlyName))

	p4, p6 := netip.MustParseAddr(proberV4), netip.MustParseAddr(proberV6)
	p4alt, p6alt := netip.MustParseAddr(proberV4Alt), netip.MustParseAddr(proberV6Alt)
	targets := []optTarget{
		{"dual-prefers-ip6", dualName + ":4000", "ip6", p6},
		{"dual-prefers-ip4", dualName + ":4000", "ip4", p4},
		{"v4only-falls-back", v4OnlyName + ":4000", "ip6", p4},
		{"v4only-no-fallback", v4OnlyName + ":4000", "ip6_only", netip.Addr{}},
		{"v6only-falls-back", v6OnlyName + ":4000", "ip4", p6},
		{"source-ip4", echoV4 + ":4000", "source4", p4alt},
		{"source-ip6", "[" + echoV6 + "]:4000", "source6", p6alt},
		// A source address decides the family: of a dual-stack name's
		// addresses only the source's can connect, whatever ip_protocol
		// prefers.
		{"dual-source-ip4", dualName + ":4000", "src4_ip6", p4alt},
		{"dual-source-ip6", dualName + ":4000", "src6_ip4", p6alt},
		// Port 4001 is blackholed for IPv6 only. The preference is
		// applied at resolution (blackbox_exporter's convention), so the
		// IPv6 target stays down and says so, while IPv4 works.
		{"dual-ip6-unreachable", dualName + ":4001", "ip6", netip.Addr{}},
		{"dual-ip4-reachable", dualName + ":4001", "ip4", p4},
		{"tos-ip4", echoV4 + ":4002", "tos4", p4},
		{"tos-ip6", "[" + echoV6 + "]:4002", "tos6", p6},
	}
	modules := map[string]string{
		"ip6":      "ip_protocol: ip6",
		"ip4":      "ip_protocol: ip4",
		"ip6_only": "ip_protocol: ip6\n    ip_protocol_fallback: false",
		"source4":  "ip_protocol: ip4\n    source_ip_address: " + proberV4Alt,
		"source6":  "ip_protocol: ip6\n    source_ip_address: " + proberV6Alt,
		"src4_ip6": "ip_protocol: ip6\n    source_ip_address: " + proberV4Alt,
		"src6_ip4": "ip_protocol: ip4\n    source_ip_address: " + proberV6Alt,
		"tos4":     fmt.Sprintf("ip_protocol: ip4\n    tos: %d", tosByte),
		"tos6":     fmt.Sprintf("ip_protocol: ip6\n    tos: %d", tosByte),
	}
	var cfg strings.Builder
	cfg.WriteString("modules:\n")
	for name, extra := range modules {
		fmt.Fprintf(&cfg, "  %s:\n    interval: 100ms\n    timeout: 1s\n    adaptive: false\n    max_timeout: 1s\n"+
			"    dial_timeout: 500ms\n    reconnect_backoff: 200ms\n    max_reconnect_backoff: 2s\n    %s\n", name, extra)
	}
	cfg.WriteString("targets:\n")
	for _, tg := range targets {
		fmt.Fprintf(&cfg, "  - name: %s\n    address: %q\n    module: %s\n", tg.name, tg.address, tg.module)
	}

	tp.nft(t, `table inet tfi {
	counter tos4_all {}
	counter tos4_marked {}
	counter tos4_syn_marked {}
	counter tos6_all {}
	counter tos6_marked {}
	counter tos6_syn_marked {}
	counter plain_marked {}
	chain input {
		meta nfproto ipv6 tcp dport 4001 drop
		ip daddr `+echoV4+` tcp dport 4002 counter name tos4_all
		ip daddr `+echoV4+` tcp dport 4002 ip dscp af11 counter name tos4_marked
		ip daddr `+echoV4+` tcp dport 4002 ip dscp af11 tcp flags & (syn | ack) == syn counter name tos4_syn_marked
		ip6 daddr `+echoV6+` tcp dport 4002 counter name tos6_all
		ip6 daddr `+echoV6+` tcp dport 4002 ip6 dscp af11 counter name tos6_marked
		ip6 daddr `+echoV6+` tcp dport 4002 ip6 dscp af11 tcp flags & (syn | ack) == syn counter name tos6_syn_marked
		tcp dport 4000 ip dscp af11 counter name plain_marked
		tcp dport 4000 ip6 dscp af11 counter name plain_marked
	}
}`)
	echo := startExporter(t, tp.echo, "echo", "targets: []\n",
		"--echo.listen-address=:4000", "--echo.listen-address=:4001", "--echo.listen-address=:4002")
	prober := startExporter(t, tp.prober, "prober", cfg.String(), "--no-echo")
	bound := map[string]int{}
	for _, tg := range targets {
		bound[tg.name] = 11 // ceil(1s / 100ms) + 1
	}
	s := newSampler(t, prober, bound)
	s.waitFor(t, "every target settled", time.Now(), 20*time.Second, func(m metrics) bool {
		for _, tg := range targets {
			st := m.target(tg.name)
			if tg.wantPeer.IsValid() && st.received < 10 || !tg.wantPeer.IsValid() && st.dropped < 2 {
				return false
			}
		}
		return true
	})
	m := prober.mustScrape(t)
	localAddr := regexp.MustCompile(`(?m)^local address:\s+(\S+)$`)

	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			st := m.target(tg.name)
			if !tg.wantPeer.IsValid() {
				// Must stay down, and count every probe as sent and
				// timed out and every attempt as dropped.
				if st.connected != 0 || st.received != 0 || st.sent != st.timeouts || st.dropped < 2 {
					t.Errorf("%s: %v; want never connected, every probe timed out, attempts dropped", tg.address, st)
				}
				body, err := prober.debug(tg.module, tg.address)
				if err != nil {
					t.Fatal(err)
				}
				lastErr := "none shown"
				if m := regexp.MustCompile(`(?m)^last error:\s+(.*)$`).FindStringSubmatch(body); m != nil {
					lastErr = m[1]
				}
				t.Logf("%s with module %s: %v; last error %q", tg.address, tg.module, st, lastErr)
				return
			}
			if st.connected != 1 {
				t.Fatalf("%s: %v; want connected", tg.address, st)
			}
			body, err := prober.debug(tg.module, tg.address)
			if err != nil {
				t.Fatal(err)
			}
			lm := localAddr.FindStringSubmatch(body)
			if lm == nil {
				t.Fatalf("no local address on the debug page:\n%s", body)
			}
			local, err := netip.ParseAddrPort(lm[1])
			if err != nil {
				t.Fatal(err)
			}
			// The echo server's own view of the connection, from ss.
			_, port, _ := strings.Cut(tg.address[strings.LastIndex(tg.address, "]")+1:], ":")
			seen := false
			for _, peer := range tp.peers(t, port) {
				seen = seen || peer == netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
			}
			if !seen {
				t.Errorf("the echo server's sockets on port %s show no peer %s", port, local)
			}
			if local.Addr().Unmap() != tg.wantPeer {
				t.Errorf("connected from %s, want from %s", local, tg.wantPeer)
			}
			t.Logf("%s with module %s: connected from %s; the echo server sees that peer: %v", tg.address, tg.module, local, seen)
		})
	}

	t.Run("tos", func(t *testing.T) {
		n := tp.counters(t)
		for _, fam := range []string{"tos4", "tos6"} {
			all, marked, syn := n[fam+"_all"], n[fam+"_marked"], n[fam+"_syn_marked"]
			t.Logf("%s: %d packets to the echo port, %d with DSCP AF11 (tos %d), %d of them SYNs", fam, all, marked, tosByte, syn)
			if syn < 1 {
				t.Errorf("%s: the handshake's SYN did not carry the TOS", fam)
			}
			if marked < 10 || marked != all {
				t.Errorf("%s: %d of %d packets carried the TOS, want all of them (at least 10)", fam, marked, all)
			}
		}
		if plain := n["plain_marked"]; plain != 0 {
			t.Errorf("%d packets of targets with tos 0 carried DSCP AF11", plain)
		}
	})
	s.stop()
	prober.stop(t)
	echo.stop(t)
}
