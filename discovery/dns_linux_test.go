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

package discovery

// DNS service discovery against a real dnsmasq. Prometheus' DNS discovery
// reads /etc/resolv.conf and has no server option, and resolv.conf cannot
// name a port: so TestDNS runs this test binary again inside a network
// namespace with its own resolv.conf (testenv.RunInNetns), where
// TestDNSInNamespace starts dnsmasq on 127.0.0.1:53, the namespace's own.

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

func TestDNS(t *testing.T) {
	testenv.LookPath(t, "dnsmasq", "dnsmasq")
	testenv.RunInNetns(t, "d", "TestDNSInNamespace")
}

func TestDNSInNamespace(t *testing.T) {
	if testenv.InNetns() == "" {
		t.Skip("TestDNS runs this inside its network namespace")
	}
	testenv.CheckResolvConf(t)
	stub := newStubDNS(t)
	d := startDnsmasq(t, stub.addr)

	t.Run("Prometheus' provider", func(t *testing.T) { testDNSProvider(t, d, stub) })
	t.Run("A records follow the hosts file", func(t *testing.T) { testDNSRecordChange(t, d) })
	t.Run("SRV records", func(t *testing.T) { testDNSSRV(t) })
	t.Run("NXDOMAIN is an answer", func(t *testing.T) { testDNSNXDomain(t, d) })
	t.Run("server down keeps the last good targets", func(t *testing.T) { testDNSDown(t, d) })
	t.Run("server not answering keeps the last good targets", func(t *testing.T) { testDNSTimeout(t, d) })
	t.Run("SERVFAIL, REFUSED and timeouts keep a name's last good targets", func(t *testing.T) { testDNSUpstreamFailures(t, d, stub) })
}

// dnsChange is how long a change may take: the refresh interval (1 s) plus
// 10 s.
const dnsChange = 11 * time.Second

// dnsEntry is a config with one entry, "dns", looking up names (type A,
// port 4000, every second).
func dnsEntry(names ...string) string {
	return fmt.Sprintf("discovery:\n  - name: dns\n    dns_sd_configs: [{names: [%s], type: A, port: 4000, refresh_interval: 1s}]\n",
		strings.Join(names, ", "))
}

// testDNSProvider checks what Prometheus' DNS discoverer sends on each
// answer: a group per name that got an answer, none for one that failed.
func testDNSProvider(t *testing.T, d *testenv.Dnsmasq, stub *stubDNS) {
	d.SetHosts(t, "10.0.0.1 a.mesh.test", "10.0.0.2 gone.mesh.test")
	stub.set(stubGood, "10.0.5.1")
	raw := runRaw(t, dnsEntry("a.mesh.test", "gone.mesh.test", "x.stub.test"))
	// The discoverer sends an update every second; the one after a change
	// shows it.
	want := func(what string, groups map[string]int) {
		t.Helper()
		deadline := time.Now().Add(dnsChange)
		var last []*targetgroup.Group
		for time.Now().Before(deadline) {
			u := raw.next(time.Until(deadline))
			if u != nil && fmt.Sprint(groupTargets(u)) == fmt.Sprint(groups) {
				return
			}
			if u != nil {
				last = u
			}
		}
		t.Errorf("%s: no update %v within %s; last %v", what, groups, dnsChange, groupTargets(last))
	}
	want("all answer", map[string]int{"a.mesh.test": 1, "gone.mesh.test": 1, "x.stub.test": 1})
	d.SetHosts(t, "10.0.0.1 a.mesh.test")
	want("NXDOMAIN sends an empty group", map[string]int{"a.mesh.test": 1, "gone.mesh.test": 0, "x.stub.test": 1})
	stub.set(stubServfail)
	want("SERVFAIL leaves the name out", map[string]int{"a.mesh.test": 1, "gone.mesh.test": 0})
	if _, ok := raw.errWith(`"x.stub.test"`, dnsChange); !ok {
		t.Error("no error record naming the name that failed")
	}
	stub.set(stubDrop)
	want("a timeout leaves the name out", map[string]int{"a.mesh.test": 1, "gone.mesh.test": 0})
	d.Signal(t, syscall.SIGSTOP)
	want("a server that does not answer leaves every name out", map[string]int{})
	d.Signal(t, syscall.SIGCONT)
	stub.set(stubGood, "10.0.5.1")
}

// testDNSRecordChange checks that a changed record set is published within
// the refresh interval plus 10 s.
func testDNSRecordChange(t *testing.T, d *testenv.Dnsmasq) {
	d.SetHosts(t, "10.0.0.1 mesh.test", "10.0.0.2 mesh.test")
	h := newHarness(t, Self{})
	h.apply(dnsEntry("mesh.test"))
	h.waitTargets(dnsChange, "dns", "10.0.0.1:4000", "10.0.0.2:4000")
	for _, set := range [][]string{
		{"10.0.0.2", "10.0.0.3"},
		{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"},
		{"10.0.0.5"},
	} {
		var lines, want []string
		for _, a := range set {
			lines = append(lines, a+" mesh.test")
			want = append(want, a+":4000")
		}
		d.SetHosts(t, lines...)
		h.waitTargets(dnsChange, "dns", want...)
	}
	if n := h.countLog("discovery source failing"); n != 0 {
		t.Errorf("%d failure lines while the server answered:\n%s", n, h.logs.String())
	}
}

// testDNSSRV checks SRV records: each gives its target and port.
func testDNSSRV(t *testing.T) {
	h := newHarness(t, Self{})
	h.apply("discovery:\n  - name: dns\n    dns_sd_configs: [{names: [_echo._tcp.mesh.test], refresh_interval: 1s}]\n")
	u := h.waitTargets(dnsChange, "dns", "node1.mesh.test:4000", "node2.mesh.test:4001")
	for _, tg := range entryTargetsOf(u, "dns") {
		if tg.Name != tg.Address {
			t.Errorf("target %+v: name %q, want the address", tg, tg.Name)
		}
	}
}

// testDNSNXDomain checks that a name that no longer exists empties its
// targets: NXDOMAIN is an answer, not a failure.
func testDNSNXDomain(t *testing.T, d *testenv.Dnsmasq) {
	d.SetHosts(t, "10.0.0.1 gone.mesh.test", "10.0.0.2 gone.mesh.test")
	h := newHarness(t, Self{})
	h.apply(dnsEntry("gone.mesh.test"))
	h.waitTargets(dnsChange, "dns", "10.0.0.1:4000", "10.0.0.2:4000")
	d.SetHosts(t)
	h.waitTargets(dnsChange, "dns")
	h.waitGauge(dnsChange, 0, "tcpping_exporter_discovered_targets", "discovery", "dns")
	if v, _ := h.gauge("tcpping_exporter_discovery_failing", "discovery", "dns"); v != 0 {
		t.Errorf("failing = %v after NXDOMAIN, want 0", v)
	}
}

// testDNSDown kills the server: the targets stay, the failure is logged
// once; a new server with other records brings the change.
func testDNSDown(t *testing.T, d *testenv.Dnsmasq) {
	d.SetHosts(t, "10.0.0.1 mesh.test", "10.0.0.2 mesh.test")
	h := newHarness(t, Self{})
	h.apply(dnsEntry("mesh.test"))
	h.waitTargets(dnsChange, "dns", "10.0.0.1:4000", "10.0.0.2:4000")
	published := len(h.history())

	d.Stop(t)
	h.waitGauge(dnsChange, 1, "tcpping_exporter_discovery_failing", "discovery", "dns")
	// Several refreshes fail; the targets stay and one line says so.
	failing := time.NewTimer(3 * time.Second)
	<-failing.C
	if n := len(h.history()); n != published {
		t.Errorf("%d updates with the server down, want none: %v", n-published, h.history()[published:])
	}
	if n := h.countLog("level=warn", "discovery source failing", "mesh.test"); n != 1 {
		t.Errorf("%d warnings with the server down, want 1:\n%s", n, h.logs.String())
	}
	h.waitGauge(dnsChange, 2, "tcpping_exporter_discovered_targets", "discovery", "dns")

	d.SetHosts(t, "10.0.0.3 mesh.test")
	d.Start(t)
	h.waitTargets(dnsChange, "dns", "10.0.0.3:4000")
	h.waitGauge(dnsChange, 0, "tcpping_exporter_discovery_failing", "discovery", "dns")
	if n := h.countLog("level=info", "discovery source recovered", "mesh.test"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, h.logs.String())
	}
}

// testDNSTimeout stops the server, which then receives queries but answers
// none: every lookup times out.
func testDNSTimeout(t *testing.T, d *testenv.Dnsmasq) {
	d.SetHosts(t, "10.0.0.1 mesh.test")
	h := newHarness(t, Self{})
	h.apply(dnsEntry("mesh.test"))
	h.waitTargets(dnsChange, "dns", "10.0.0.1:4000")
	published := len(h.history())
	d.Signal(t, syscall.SIGSTOP)
	h.waitGauge(dnsChange, 1, "tcpping_exporter_discovery_failing", "discovery", "dns")
	if n := h.countLog("level=warn", "discovery source failing", "timeout"); n != 1 {
		t.Errorf("%d warnings naming the timeout, want 1:\n%s", n, h.logs.String())
	}
	d.Signal(t, syscall.SIGCONT)
	h.waitGauge(dnsChange, 0, "tcpping_exporter_discovery_failing", "discovery", "dns")
	if n := len(h.history()); n != published {
		t.Errorf("%d updates across the timeouts, want none (the records did not change)", n-published)
	}
}

// testDNSUpstreamFailures makes one of two names fail in each way while
// the other keeps answering, and changing.
func testDNSUpstreamFailures(t *testing.T, d *testenv.Dnsmasq, stub *stubDNS) {
	d.SetHosts(t, "10.0.0.1 mesh.test")
	stub.set(stubGood, "10.0.5.1", "10.0.5.2")
	h := newHarness(t, Self{})
	h.apply(dnsEntry("mesh.test", "x.stub.test"))
	h.waitTargets(dnsChange, "dns", "10.0.0.1:4000", "10.0.5.1:4000", "10.0.5.2:4000")
	for i, mode := range []stubMode{stubServfail, stubRefused, stubDrop} {
		t.Run(mode.String(), func(t *testing.T) {
			stub.set(mode)
			// What dnsmasq answers for the name, as Prometheus sees it.
			want := map[stubMode]string{stubServfail: "SERVFAIL", stubRefused: "REFUSED", stubDrop: "timeout"}[mode]
			if got := d.Lookup(t, "x.stub.test"); got != want {
				t.Fatalf("dnsmasq answers %s for x.stub.test, want %s", got, want)
			}
			h.waitGauge(dnsChange, 1, "tcpping_exporter_discovery_failing", "discovery", "dns")
			// The other name still answers, and its change shows.
			other := fmt.Sprintf("10.0.0.%d", i+2)
			d.SetHosts(t, other+" mesh.test")
			h.waitTargets(dnsChange, "dns", other+":4000", "10.0.5.1:4000", "10.0.5.2:4000")
		})
	}
	if n := h.countLog("level=warn", "discovery source failing", "x.stub.test"); n != 1 {
		t.Errorf("%d warnings for one streak of failures of three kinds, want 1:\n%s", n, h.logs.String())
	}
	stub.set(stubGood, "10.0.5.3")
	h.waitTargets(dnsChange, "dns", "10.0.0.4:4000", "10.0.5.3:4000")
	h.waitGauge(dnsChange, 0, "tcpping_exporter_discovery_failing", "discovery", "dns")
}
