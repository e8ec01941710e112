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
	"math"
	"strings"
	"syscall"
	"testing"
	"time"
)

// module is the part of a module's settings the link scenarios vary. The
// rest is fixed and short, so the whole suite runs in minutes.
type module struct {
	timeout        time.Duration
	adaptive       bool
	maxTimeout     time.Duration
	reconnectAfter int
}

// Fixed settings of every link scenario.
const (
	interval            = 100 * time.Millisecond
	dialTimeout         = 500 * time.Millisecond
	reconnectBackoff    = 200 * time.Millisecond
	maxReconnectBackoff = 2 * time.Second
)

func (m module) yaml() string {
	return fmt.Sprintf(`    interval: %s
    timeout: %s
    adaptive: %v
    min_timeout: 100ms
    max_timeout: %s
    reconnect_after: %d
    dial_timeout: %s
    reconnect_backoff: %s
    max_reconnect_backoff: %s
    ip_protocol: ip4
`, interval, m.timeout, m.adaptive, m.maxTimeout, m.reconnectAfter, dialTimeout, reconnectBackoff, maxReconnectBackoff)
}

// maxInFlight is DESIGN.md's bound: ceil(T/interval) + 1, T the fixed
// timeout or max_timeout when adaptive.
func (m module) maxInFlight() int {
	T := m.timeout
	if m.adaptive {
		T = m.maxTimeout
	}
	return int(math.Ceil(float64(T)/float64(interval))) + 1
}

// link is one scenario's processes: an echo server in the echo namespace
// and a prober in the prober namespace with the target "link" (and maybe
// more) on it.
type link struct {
	tp              *topo
	mod             module
	names           []string // the prober's targets
	echo, prober    *exporter
	s               *sampler
	echoBase, pBase resources
}

const linkTarget = "link"

// shortIdle is the echo server's idle timeout where a scenario leaves
// connections the prober gave up on behind (a blackhole eats the FIN): the
// server must drop them before its goroutines are back to their level.
const shortIdle = 3 * time.Second

// startLink starts both processes, the echo server with the given idle
// timeout, waits until the prober has 10 replies and records both
// processes' goroutines and open files as the baseline. The prober has the
// target "link" and, with more > 0, that many more on the same address.
func startLink(t *testing.T, tp *topo, mod module, echoIdle time.Duration, more int) *link {
	t.Helper()
	tp.setRules(t, "", "")
	l := &link{tp: tp, mod: mod, names: []string{linkTarget}}
	for i := range more {
		l.names = append(l.names, fmt.Sprintf("%s-%d", linkTarget, i+2))
	}
	l.echo = startExporter(t, tp.echo, "echo", "targets: []\n",
		"--echo.listen-address=:"+echoPort, "--echo.idle-timeout="+echoIdle.String())
	cfg := "modules:\n  default:\n" + mod.yaml() + "targets:\n"
	bound := map[string]int{}
	for _, name := range l.names {
		cfg += "  - name: " + name + "\n    address: " + echoV4 + ":" + echoPort + "\n"
		bound[name] = mod.maxInFlight()
	}
	l.prober = startExporter(t, tp.prober, "prober", cfg, "--no-echo")
	l.s = newSampler(t, l.prober, bound)
	l.s.waitFor(t, "10 replies", time.Time{}, 15*time.Second, func(m metrics) bool {
		return m.target(linkTarget).received >= 10
	})
	l.pBase = steadyResources(t, l.prober)
	l.echoBase = steadyResources(t, l.echo)
	return l
}

// now returns the link target's series from a fresh sample.
func (l *link) now(t *testing.T) (time.Time, stats) {
	t.Helper()
	sm := l.s.waitFor(t, "a scrape", time.Now(), 5*time.Second, func(metrics) bool { return true })
	return sm.at, sm.m.target(linkTarget)
}

// finish checks that both processes are back to their starting goroutines
// and open files, then stops them with SIGTERM.
func (l *link) finish(t *testing.T) {
	t.Helper()
	waitResources(t, l.prober, l.pBase, 10*time.Second)
	waitResources(t, l.echo, l.echoBase, 10*time.Second)
	l.s.stop()
	l.prober.stop(t)
	l.echo.stop(t)
}

func TestLinkFaults(t *testing.T) {
	requireSuite(t)
	tp := newTopo(t, "l")

	t.Run("clean link", func(t *testing.T) {
		l := startLink(t, tp, module{timeout: time.Second, maxTimeout: time.Second, reconnectAfter: 3}, shortIdle, 0)
		_, a := l.now(t)
		time.Sleep(5 * time.Second)
		_, b := l.now(t)
		if b.timeouts != 0 || b.dropped != 0 || b.late != 0 || b.unexpected != 0 || b.connected != 1 {
			t.Errorf("clean link: %v; want no timeouts, drops, late or unexpected replies, connected", b)
		}
		if got := b.received - a.received; got < 40 {
			t.Errorf("%v replies in 5s at a 100ms interval, want at least 40", got)
		}
		t.Logf("clean link: %v; last RTT %.0fµs; retransmits %v", b, b.lastRTT*1e6, b.retransmits)
		l.finish(t)
		// Nothing went wrong, so nothing may be logged as an error: an
		// operator alerting on error lines must not be paged by a scrape.
		for _, e := range []*exporter{l.prober, l.echo} {
			if errs := errorLines(e.out.String()); len(errs) > 0 {
				t.Errorf("%s logged %d error lines on a clean link, first:\n%s", e.name, len(errs), errs[0])
			}
		}
	})

	for _, pct := range []int{10, 20} {
		t.Run(fmt.Sprintf("%d%% random loss", pct), func(t *testing.T) {
			l := startLink(t, tp, module{timeout: time.Second, maxTimeout: time.Second, reconnectAfter: 3}, shortIdle, 0)
			_, a := l.now(t)
			// Loss both ways: the prober's frames and ACKs in, the echoes out.
			rule := "numgen random mod 100 < %d drop"
			tp.setRules(t, "tcp dport "+echoPort+" "+fmt.Sprintf(rule, pct), "tcp sport "+echoPort+" "+fmt.Sprintf(rule, pct))
			time.Sleep(12 * time.Second)
			tp.setRules(t, "", "")
			_, b := l.now(t)
			sent, recv := b.sent-a.sent, b.received-a.received
			retrans := b.retransmits - a.retransmits
			tail := b.rttOver[0.1024] - a.rttOver[0.1024]
			t.Logf("%d%% loss for 12s: sent %v received %v (%.0f%%) timeouts %v late %v dropped %v; retransmits %v; RTTs over 102.4ms %v, over 204.8ms %v",
				pct, sent, recv, 100*recv/sent, b.timeouts-a.timeouts, b.late-a.late, b.dropped-a.dropped,
				retrans, tail, b.rttOver[0.2048]-a.rttOver[0.2048])
			if retrans == 0 {
				t.Error("tcp_echo_retransmits_total did not grow under random loss")
			}
			if recv < sent/2 {
				t.Errorf("only %v of %v probes answered: TCP should recover most losses within the 1s timeout", recv, sent)
			}
			if tail == 0 {
				t.Error("no RTT above 102.4ms under loss: retransmitted replies are missing from the histogram's tail")
			}
			l.s.waitFor(t, "connected after the loss", time.Now(), 5*time.Second, func(m metrics) bool {
				return m.target(linkTarget).connected == 1
			})
			l.finish(t)
		})
	}

	t.Run("blackhole and heal", func(t *testing.T) {
		mod := module{timeout: 300 * time.Millisecond, maxTimeout: time.Second, reconnectAfter: 3}
		l := startLink(t, tp, mod, shortIdle, 0)
		evs := newEventLog(l.prober, "default", echoV4+":"+echoPort)
		var t0, t1 time.Time
		t.Run("blackhole", func(t *testing.T) {
			_, pre := l.now(t)
			tp.setRules(t, "tcp dport "+echoPort+" drop", "tcp sport "+echoPort+" drop")
			t0 = time.Now()
			within := time.Duration(mod.reconnectAfter)*mod.timeout + time.Second
			dead := l.s.waitFor(t, "connected = 0", t0, within+sampleEvery, func(m metrics) bool {
				return m.target(linkTarget).connected == 0
			})
			a := dead.m.target(linkTarget)
			for time.Since(t0) < 8*time.Second {
				evs.poll(t)
				time.Sleep(time.Second)
			}
			evs.poll(t)
			endAt, b := l.now(t)
			lost := evs.find("connection lost", t0)
			if lost.IsZero() {
				t.Fatalf("no connection lost event after the blackhole; events:\n%s", evs)
			}
			t.Logf("blackhole: declared dead %v after the rule (bound %v), connected = 0 on the scrape %v after",
				lost.Sub(t0).Round(time.Millisecond), within, dead.at.Sub(t0).Round(time.Millisecond))
			if lost.Sub(t0) > within {
				t.Errorf("declared dead %v after the blackhole, want within %v", lost.Sub(t0), within)
			}
			// While disconnected every interval's probe is sent and timed out.
			span := endAt.Sub(dead.at)
			due := float64(span / interval)
			dSent, dTimeouts := b.sent-a.sent, b.timeouts-a.timeouts
			t.Logf("blackhole: in %v: sent %v timeouts %v received %v dropped +%v",
				span.Round(time.Millisecond), dSent, dTimeouts, b.received-a.received, b.dropped-a.dropped)
			if b.received != a.received {
				t.Errorf("%v replies through a blackhole", b.received-a.received)
			}
			if dTimeouts < 0.8*due-2 || dTimeouts > 1.2*due+2 {
				t.Errorf("%v timeouts in %v, want one per %v (%v)", dTimeouts, span, interval, due)
			}
			// Every failed attempt counts as dropped, plus the dead connection.
			fails := checkBackoff(t, evs, lost)
			if d := b.dropped - pre.dropped; math.Abs(d-float64(1+fails)) > 1 {
				t.Errorf("dropped +%v, want the dead connection plus %d failed attempts", d, fails)
			}
		})
		t.Run("heal", func(t *testing.T) {
			if t0.IsZero() {
				t.Skip("blackhole did not run")
			}
			tp.setRules(t, "", "")
			t1 = time.Now()
			within := maxReconnectBackoff + time.Second
			up := l.s.waitFor(t, "connected = 1", t1, within+sampleEvery, func(m metrics) bool {
				return m.target(linkTarget).connected == 1
			})
			evs.poll(t)
			connected := evs.find("connected from", t1)
			t.Logf("heal: reconnected %v after the rule went (bound %v), connected = 1 on the scrape %v after",
				connected.Sub(t1).Round(time.Millisecond), within, up.at.Sub(t1).Round(time.Millisecond))
			if connected.IsZero() || connected.Sub(t1) > within {
				t.Errorf("reconnected at %v, want within %v of the heal at %v; events:\n%s", connected, within, t1, evs)
			}
			base := up.m.target(linkTarget).received
			l.s.waitFor(t, "replies after the heal", time.Now(), 5*time.Second, func(m metrics) bool {
				return m.target(linkTarget).received >= base+10
			})
		})
		l.finish(t)
	})

	t.Run("echo server SIGKILL and restart", func(t *testing.T) {
		l := startLink(t, tp, module{timeout: time.Second, maxTimeout: time.Second, reconnectAfter: 3}, shortIdle, 0)
		_, a := l.now(t)
		l.echo.kill(t)
		t0 := time.Now()
		down := l.s.waitFor(t, "connected = 0", t0, 2*time.Second, func(m metrics) bool {
			return m.target(linkTarget).connected == 0
		})
		time.Sleep(3*time.Second - time.Since(t0))
		l.echo = l.echo.restart(t)
		t1 := time.Now()
		within := maxReconnectBackoff + time.Second
		up := l.s.waitFor(t, "connected = 1", t1, within+sampleEvery, func(m metrics) bool {
			return m.target(linkTarget).connected == 1
		})
		b := up.m.target(linkTarget)
		t.Logf("SIGKILL: connected = 0 on the scrape %v after the kill; restarted 3s later, connected = 1 on the scrape %v after; dropped +%v, timeouts +%v",
			down.at.Sub(t0).Round(time.Millisecond), up.at.Sub(t1).Round(time.Millisecond), b.dropped-a.dropped, b.timeouts-a.timeouts)
		if b.dropped-a.dropped < 2 {
			t.Errorf("dropped +%v, want the lost connection and refused attempts (>= 2)", b.dropped-a.dropped)
		}
		l.s.mu.Lock()
		slowest := l.s.maxTook
		l.s.mu.Unlock()
		if slowest > 2*time.Second {
			t.Errorf("a scrape took %v: scrapes must not wait on a dead peer", slowest)
		}
		l.echoBase = steadyResources(t, l.echo) // a new process
		l.finish(t)
	})

	// reconnect_after 0 keeps the stalled connection, so its replies
	// arrive after SIGCONT and must be counted as late.
	stalled := module{timeout: 300 * time.Millisecond, adaptive: true, maxTimeout: time.Second, reconnectAfter: 0}
	t.Run("echo server SIGSTOP for 5s", func(t *testing.T) {
		sigstop(t, startLink(t, tp, stalled, time.Minute, 0))
	})
	t.Run("echo server SIGSTOP for 5s, longer than its idle timeout", func(t *testing.T) {
		// The clients sent all along; their frames waited in the stopped
		// server's sockets. The server must not close them as idle when
		// it wakes up. Whether it looks at a socket's deadline or at its
		// data first after SIGCONT is up to the Go runtime, so 20
		// connections make a wrong choice show every time.
		sigstop(t, startLink(t, tp, stalled, shortIdle, 19))
	})

	t.Run("echo server SIGSTOP with reconnect_after 3", func(t *testing.T) {
		// The stalled server's kernel still completes handshakes, so the
		// prober reconnects into the listen backlog and declares each
		// connection dead in turn; nothing may hang or leak.
		mod := module{timeout: 300 * time.Millisecond, adaptive: true, maxTimeout: time.Second, reconnectAfter: 3}
		l := startLink(t, tp, mod, time.Minute, 0)
		_, a := l.now(t)
		l.echo.signal(t, syscall.SIGSTOP)
		time.Sleep(5 * time.Second)
		_, mid := l.now(t)
		l.echo.signal(t, syscall.SIGCONT)
		t1 := time.Now()
		up := l.s.waitFor(t, "replies after SIGCONT", t1, maxReconnectBackoff+3*time.Second, func(m metrics) bool {
			s := m.target(linkTarget)
			return s.connected == 1 && s.received > mid.received
		})
		b := up.m.target(linkTarget)
		t.Logf("SIGSTOP, reconnect_after 3: while stalled timeouts +%v dropped +%v; replies again %v after SIGCONT; late %v",
			mid.timeouts-a.timeouts, mid.dropped-a.dropped, up.at.Sub(t1).Round(time.Millisecond), b.late)
		if mid.dropped-a.dropped < 1 {
			t.Error("the stalled connection was never declared dead")
		}
		l.finish(t)
	})
}

// errorLines returns the lines of a process's logfmt output at level error.
func errorLines(out string) []string {
	var errs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=error") {
			errs = append(errs, line)
		}
	}
	return errs
}

// sigstop stops the echo server for 5s and checks that every probe of the
// stall times out and every one of its replies, arriving after SIGCONT, is
// counted late, on the one connection each target kept.
func sigstop(t *testing.T, l *link) {
	_, a := l.now(t)
	before := l.echo.mustScrape(t)
	l.echo.signal(t, syscall.SIGSTOP)
	t0 := time.Now()
	time.Sleep(5 * time.Second)
	_, mid := l.now(t)
	l.echo.signal(t, syscall.SIGCONT)
	t1 := time.Now()
	if mid.timeouts-a.timeouts < 10 || mid.connected != 1 {
		t.Errorf("after 5s stalled: timeouts +%v connected %v; want timeouts and the connection kept", mid.timeouts-a.timeouts, mid.connected)
	}
	// Settled: every target has either counted all its stalled replies
	// late, or lost its connection.
	end := l.s.waitFor(t, "every stalled reply counted late", t1, 5*time.Second, func(m metrics) bool {
		for _, name := range l.names {
			s := m.target(name)
			if !(s.late > 0 && s.late == s.timeouts || s.dropped > 0) {
				return false
			}
		}
		return true
	})
	b := end.m.target(linkTarget)
	idle := l.echo.mustScrape(t).get("tcp_echo_server_rejected_total", "reason", "idle") -
		before.get("tcp_echo_server_rejected_total", "reason", "idle")
	t.Logf("SIGSTOP %v: timeouts +%v while stalled; after SIGCONT late %v, timeouts %v (%v later); %v RTTs over 0.8192s; echo server idle closes +%v",
		t1.Sub(t0).Round(time.Millisecond), mid.timeouts-a.timeouts, b.late, b.timeouts,
		end.at.Sub(t1).Round(time.Millisecond), b.rttOver[0.8192], idle)
	var dropped []string
	for _, name := range l.names {
		s := end.m.target(name)
		switch {
		case s.dropped != 0:
			dropped = append(dropped, name)
		case s.late != s.timeouts:
			t.Errorf("target %s: late %v != timeouts %v: every probe timed out in the stall is answered after it", name, s.late, s.timeouts)
		}
	}
	if len(dropped) > 0 || idle != 0 {
		t.Errorf("%d of %d connections dropped (%v), echo server idle closes +%v: the echo server took its own stall for its clients' idleness",
			len(dropped), len(l.names), dropped, idle)
	}
	l.finish(t)
}
