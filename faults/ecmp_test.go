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
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// ECMP module settings: short, so the scenario runs in about a minute.
const (
	ecmpFlows     = 16 // both links get flows of each family but 2 in 65536 times
	ecmpInterval  = 100 * time.Millisecond
	ecmpTimeout   = 500 * time.Millisecond
	ecmpReconnect = 3
	ecmpDial      = 500 * time.Millisecond
	ecmpBackoff   = 200 * time.Millisecond
	ecmpMaxBack   = time.Second
)

// ecmpTarget is one target of the scenario: a family's flows and the
// link each takes.
type ecmpTarget struct {
	name, address string
	locals        []netip.AddrPort
	paths         []int
}

// onPath returns the flows whose path is link i.
func (tg *ecmpTarget) onPath(i int) []int {
	var out []int
	for k, p := range tg.paths {
		if p == i {
			out = append(out, k)
		}
	}
	return out
}

// locate reads every flow's local address and asks the kernel its path.
func (tg *ecmpTarget) locate(t *testing.T, et *ecmpTopo, e *exporter) {
	t.Helper()
	tg.locals = flowLocals(t, e, "ecmp", tg.address)
	tg.paths = make([]int, len(tg.locals))
	ports := map[uint16]bool{}
	for k, l := range tg.locals {
		if ports[l.Port()] {
			t.Errorf("%s: two flows on source port %d", tg.name, l.Port())
		}
		ports[l.Port()] = true
		tg.paths[k] = et.path(t, l)
	}
	t.Logf("%s: flows on link a %v, on link b %v", tg.name, tg.onPath(0), tg.onPath(1))
	if len(tg.onPath(0)) == 0 || len(tg.onPath(1)) == 0 {
		t.Fatalf("%s: all %d flows hashed to one link (a 2 in 65536 chance): nothing to compare", tg.name, ecmpFlows)
	}
}

func TestECMP(t *testing.T) {
	requireSuite(t)
	et := newECMPTopo(t, "m")
	echo := startExporter(t, et.echo, "echo", "targets: []\n",
		"--echo.listen-address=:"+echoPort, "--echo.idle-timeout="+shortIdle.String())
	targets := []*ecmpTarget{
		{name: "ecmp4", address: ecmpEcho[0] + ":" + echoPort},
		{name: "ecmp6", address: "[" + ecmpEcho[1] + "]:" + echoPort},
	}
	cfg := fmt.Sprintf(`modules:
  ecmp:
    interval: %s
    timeout: %s
    adaptive: false
    min_timeout: 100ms
    max_timeout: %s
    reconnect_after: %d
    dial_timeout: %s
    reconnect_backoff: %s
    max_reconnect_backoff: %s
    flows: %d
targets:
`, ecmpInterval, ecmpTimeout, ecmpTimeout, ecmpReconnect, ecmpDial, ecmpBackoff, ecmpMaxBack, ecmpFlows)
	for _, tg := range targets {
		cfg += fmt.Sprintf("  - {name: %s, address: %q, module: ecmp}\n", tg.name, tg.address)
	}
	prober := startExporter(t, et.prober, "prober", cfg, "--no-echo")
	// The sampler checks every flow of every scrape: the invariant, the
	// in-flight bound, late replies and the histogram's count.
	bound := map[string]int{}
	for _, tg := range targets {
		bound[tg.name] = int(ecmpTimeout/ecmpInterval) + 1
	}
	s := newSampler(t, prober, bound)
	start := time.Now()
	s.waitFor(t, "every flow of both targets answered", start, 20*time.Second, func(m metrics) bool {
		for _, tg := range targets {
			for k := range ecmpFlows {
				if f := m.flow(tg.name, k); f.received < 5 || f.connected != 1 {
					return false
				}
			}
		}
		return true
	})
	for _, tg := range targets {
		tg.locate(t, et, prober)
	}
	const bad = 0 // link a is the one the faults hit

	t.Run("blackhole", func(t *testing.T) {
		ecmpBlackhole(t, et, prober, s, targets, bad)
	})
	t.Run("loss", func(t *testing.T) {
		for _, tg := range targets {
			tg.locate(t, et, prober) // a flow may have moved in the blackhole
		}
		ecmpLoss(t, et, s, targets, bad)
	})
	s.stop()
	prober.stop(t)
	echo.stop(t)
}

// ecmpBlackhole drops every probe on link bad: the flows whose path it is,
// and they alone, time out, are declared dead and keep dialing from their
// port; one of them finds its port taken and moves to another, on the link
// its new port hashes to; after the heal the others reconnect from their
// port, on their path.
func ecmpBlackhole(t *testing.T, et *ecmpTopo, e *exporter, s *sampler, targets []*ecmpTarget, bad int) {
	pre := s.waitFor(t, "a scrape", time.Now(), 5*time.Second, func(metrics) bool { return true })
	et.setRules(t, et.forward(bad, "drop"), "")
	t0 := time.Now()
	within := ecmpReconnect*ecmpTimeout + time.Second
	dead := s.waitFor(t, "the flows on the blackholed link down", t0, within+sampleEvery, func(m metrics) bool {
		for _, tg := range targets {
			for _, k := range tg.onPath(bad) {
				if m.flow(tg.name, k).connected != 0 {
					return false
				}
			}
		}
		return true
	})
	t.Logf("blackhole: the flows on link a down %v after the rule", dead.at.Sub(t0).Round(time.Millisecond))

	// One flow finds its port taken: a listener on it in the prober's
	// namespace, once the flow's socket has let go of it between dials.
	// Each of its attempts then takes a port the kernel chooses, which
	// hashes to either link, until one connects: through the blackhole,
	// that is one on link b.
	mover := targets[0]
	mk := mover.onPath(bad)[0]
	oldLocal := mover.locals[mk]
	ln := takePort(t, et.prober, oldLocal)
	defer ln.Close()
	defer func() {
		// Its events name each attempt's source port and error.
		if t.Failed() {
			body, err := e.debug("ecmp", mover.address)
			t.Logf("%s debug page, port %d still taken (%v):\n%s", mover.name, oldLocal.Port(), err, body)
		}
	}()
	var newLocal netip.AddrPort
	s.waitFor(t, "the flow whose port is taken connected from another", time.Now(), 15*time.Second, func(m metrics) bool {
		newLocal = flowLocals(t, e, "ecmp", mover.address)[mk]
		return m.flow(mover.name, mk).connected == 1 && newLocal.Port() != oldLocal.Port()
	})
	newPath := et.path(t, newLocal)
	t.Logf("blackhole: %s flow %d's port %d taken: it connected from %d, which hashes to link %c",
		mover.name, mk, oldLocal.Port(), newLocal.Port(), "ab"[newPath])
	if newPath == bad {
		t.Errorf("%s flow %d connected through the blackhole from port %d, which the kernel hashes to the blackholed link",
			mover.name, mk, newLocal.Port())
	}
	want := fmt.Sprintf("source port %d unavailable, now %d: the flow may take another path", oldLocal.Port(), newLocal.Port())
	if !ecmpEvent(t, e, mover.address, mk, want) {
		t.Errorf("%s flow %d: no event %q", mover.name, mk, want)
	}
	time.Sleep(max(0, 6*time.Second-time.Since(t0)))
	end := s.waitFor(t, "a scrape", time.Now(), 5*time.Second, func(metrics) bool { return true })
	for _, tg := range targets {
		for k, p := range tg.paths {
			a, b := pre.m.flow(tg.name, k), end.m.flow(tg.name, k)
			if tg == mover && k == mk {
				continue
			}
			if p != bad {
				if b.timeouts != a.timeouts || b.dropped != a.dropped || b.connected != 1 || b.received-a.received < 40 {
					t.Errorf("%s flow %d on link b: timeouts +%v dropped +%v received +%v connected %v: it must lose nothing",
						tg.name, k, b.timeouts-a.timeouts, b.dropped-a.dropped, b.received-a.received, b.connected)
				}
				continue
			}
			if b.connected != 0 || b.dropped-a.dropped < 2 || b.timeouts-a.timeouts < 30 {
				t.Errorf("%s flow %d on link a: connected %v, dropped +%v, timeouts +%v: want it down, redialing, timing out",
					tg.name, k, b.connected, b.dropped-a.dropped, b.timeouts-a.timeouts)
			}
		}
	}
	// No flow on link b was ever down in the blackhole.
	for _, sm := range s.since(t0) {
		for _, tg := range targets {
			for _, k := range tg.onPath(1 - bad) {
				if sm.m.flow(tg.name, k).connected != 1 {
					t.Errorf("%s flow %d on link b down at %s", tg.name, k, sm.at.Format("15:04:05.000"))
				}
			}
		}
	}

	et.setRules(t, "", "")
	_ = ln.Close()
	t1 := time.Now()
	up := s.waitFor(t, "every flow up after the heal", t1, 3*ecmpMaxBack+3*time.Second, func(m metrics) bool {
		for _, tg := range targets {
			for k := range ecmpFlows {
				if m.flow(tg.name, k).connected != 1 {
					return false
				}
			}
		}
		return true
	})
	t.Logf("heal: every flow up %v after", up.at.Sub(t1).Round(time.Millisecond))
	// The flows of link a reconnected from their own port: still on
	// link a, as the kernel says.
	for _, tg := range targets {
		locals := flowLocals(t, e, "ecmp", tg.address)
		for _, k := range tg.onPath(bad) {
			if tg == mover && k == mk {
				continue
			}
			if locals[k] != tg.locals[k] {
				t.Errorf("%s flow %d reconnected from %v, want its own address %v", tg.name, k, locals[k], tg.locals[k])
			} else if p := et.path(t, locals[k]); p != bad {
				t.Errorf("%s flow %d: port %d now hashes to link %c", tg.name, k, locals[k].Port(), "ab"[p])
			}
		}
	}
	base := up.m
	s.waitFor(t, "replies on every flow after the heal", time.Now(), 5*time.Second, func(m metrics) bool {
		for _, tg := range targets {
			for k := range ecmpFlows {
				if m.flow(tg.name, k).received < base.flow(tg.name, k).received+5 {
					return false
				}
			}
		}
		return true
	})
}

// takePort listens on local, an address and port of namespace ns, as soon
// as it is free. Only that address: the flows of a target of the other
// IP version may have the same port number, and a listener on every
// address would take it from them too.
func takePort(t *testing.T, ns string, local netip.AddrPort) net.Listener {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ln net.Listener
		err := inNS(ns, func() error {
			var err error
			ln, err = net.Listen("tcp", local.String())
			return err
		})
		if err == nil {
			return ln
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v never free in %s: %v", local, ns, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ecmpEvent reports whether flow k of the target at address has an event
// with text want on its debug page.
func ecmpEvent(t *testing.T, e *exporter, address string, k int, want string) bool {
	t.Helper()
	body, err := e.debug("ecmp", address)
	if err != nil {
		t.Fatal(err)
	}
	sections := strings.Split(body, "\nProber ")
	if k >= len(sections) {
		t.Fatalf("no flow %d on the debug page:\n%s", k, body)
	}
	return strings.Contains(sections[k], "  "+want+"\n")
}

// ecmpLoss drops 20 % of the probes on link bad for 10 s: only the flows
// whose path it is show kernel retransmissions and a heavier RTT tail.
func ecmpLoss(t *testing.T, et *ecmpTopo, s *sampler, targets []*ecmpTarget, bad int) {
	pre := s.waitFor(t, "a scrape", time.Now(), 5*time.Second, func(metrics) bool { return true })
	et.setRules(t, et.forward(bad, "numgen random mod 100 < 20 drop"), "")
	time.Sleep(10 * time.Second)
	et.setRules(t, "", "")
	// Retransmissions are read from TCP_INFO at most every 5 s.
	time.Sleep(6 * time.Second)
	end := s.waitFor(t, "a scrape", time.Now(), 5*time.Second, func(metrics) bool { return true })
	// A lost probe is retransmitted when the next probe's SACK shows it
	// missing (RACK), an interval (100 ms) later, or at the tail loss
	// probe or minimum RTO, 200 ms later: its RTT is above 51.2 ms, far
	// above a clean one's.
	const tail = 0.0512 // seconds
	for _, tg := range targets {
		var lines []string
		var onBad, onGood [2]float64 // RTTs over tail, all RTTs
		for k, p := range tg.paths {
			a, b := pre.m.flow(tg.name, k), end.m.flow(tg.name, k)
			retrans, over, n := b.retransmits-a.retransmits, b.rttOver[tail]-a.rttOver[tail], b.rttCount-a.rttCount
			lines = append(lines, fmt.Sprintf("flow %d link %c: retransmits +%v, RTTs over %vs %v of %v, timeouts +%v",
				k, "ab"[p], retrans, tail, over, n, b.timeouts-a.timeouts))
			if p == bad {
				onBad[0] += over
				onBad[1] += n
				if retrans == 0 {
					t.Errorf("%s flow %d on the lossy link: no retransmissions", tg.name, k)
				}
				if over == 0 {
					t.Errorf("%s flow %d on the lossy link: no RTT above %vs", tg.name, k, tail)
				}
				continue
			}
			onGood[0] += over
			onGood[1] += n
			if retrans != 0 || b.timeouts != a.timeouts {
				t.Errorf("%s flow %d on the clean link: retransmits +%v, timeouts +%v; want none", tg.name, k, retrans, b.timeouts-a.timeouts)
			}
		}
		t.Logf("%s, 20%% loss on link a for 10s:\n  %s", tg.name, strings.Join(lines, "\n  "))
		// A loaded machine may delay a clean reply past the tail now and
		// then; the lossy link's share must be far above it.
		if bad, good := onBad[0]/onBad[1], onGood[0]/onGood[1]; bad < 0.05 || good > bad/5 {
			t.Errorf("%s: share of RTTs over %vs %.3f on the lossy link, %.3f on the clean one: want the lossy link's tail far heavier",
				tg.name, tail, bad, good)
		}
	}
}
