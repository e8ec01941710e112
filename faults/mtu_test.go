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
	"testing"
	"time"
)

// TestMTUBlackHole probes one echo server with two modules, 1400-byte
// extended frames and the 24-byte default, both with dont_fragment. Then
// nftables drops every packet longer than 1000 bytes on the path, both
// ways, and sends no ICMP error (an MTU black hole): the 1400-byte target
// loses every probe while the 24-byte one loses none.
func TestMTUBlackHole(t *testing.T) {
	requireSuite(t)
	tp := newTopo(t, "m")
	tp.nft(t, "table inet tfi {\n\tcounter big {}\n}")
	mod := func(extra string) string {
		return `    interval: 100ms
    timeout: 300ms
    adaptive: false
    max_timeout: 300ms
    reconnect_after: 3
    dial_timeout: 500ms
    reconnect_backoff: 200ms
    max_reconnect_backoff: 1s
    ip_protocol: ip4
    dont_fragment: true
` + extra
	}
	cfg := fmt.Sprintf("modules:\n  big:\n%s  small:\n%stargets:\n"+
		"  - {name: big, address: %q, module: big}\n  - {name: small, address: %q, module: small}\n",
		mod("    payload_size: 1400\n"), mod(""), echoV4+":"+echoPort, echoV4+":"+echoPort)
	startExporter(t, tp.echo, "echo", "targets: []\n", "--echo.listen-address=:"+echoPort)
	prober := startExporter(t, tp.prober, "prober", cfg, "--no-echo")
	s := newSampler(t, prober, map[string]int{"big": 4, "small": 4}) // ceil(300ms/100ms) + 1
	// Before the black hole both targets are answered, the big one with
	// extended frames (its echo server's turnarounds are counted).
	s.waitFor(t, "10 replies on each target", time.Time{}, 20*time.Second, func(m metrics) bool {
		return m.target("big").received >= 10 && m.target("small").received >= 10 &&
			m.get("tcp_echo_peer_turnaround_seconds", "target", "big") >= 10
	})

	tp.setRules(t, "ip length > 1000 counter name big drop", "ip length > 1000 counter name big drop")
	from := time.Now()
	before := s.waitFor(t, "a scrape", from, 5*time.Second, func(metrics) bool { return true })
	after := s.waitFor(t, "4 s of probes", from.Add(4*time.Second), 10*time.Second, func(metrics) bool { return true })
	big0, big1 := before.m.target("big"), after.m.target("big")
	small0, small1 := before.m.target("small"), after.m.target("small")
	t.Logf("big: %v → %v", big0, big1)
	t.Logf("small: %v → %v", small0, small1)
	if got := big1.received - big0.received; got > 1 { // one reply may have been on its way
		t.Errorf("the 1400-byte target got %v replies through the black hole", got)
	}
	if got := big1.timeouts - big0.timeouts; got < 20 {
		t.Errorf("the 1400-byte target counted %v timeouts in 4 s, want nearly 40: the black hole does not show as loss", got)
	}
	if got := small1.received - small0.received; got < 30 {
		t.Errorf("the 24-byte target got %v replies in 4 s, want nearly 40", got)
	}
	if got := small1.timeouts - small0.timeouts; got != 0 {
		t.Errorf("the 24-byte target counted %v timeouts: the black hole must not touch it", got)
	}
	if n := tp.counters(t)["big"]; n == 0 {
		t.Error("nftables dropped no packet: the 1400-byte probes did not cross the path as single packets over 1000 bytes")
	}
}
