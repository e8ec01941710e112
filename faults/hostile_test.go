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
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Settings of the echo server under attack.
const (
	hostileMaxConns = 100
	hostileIdle     = 2 * time.Second
)

// attack is one kind of hostile client.
type attack struct {
	name string
	// run attacks the echo server at addr from the prober namespace and
	// returns when done; it reports what it saw with t.Log.
	run func(t *testing.T, tp *topo) error
	// reasons are the rejected_total reasons whose sum the attack must
	// increase, and atLeast by how much.
	reasons []string
	atLeast float64
}

func TestHostileClients(t *testing.T) {
	requireSuite(t)
	tp := newTopo(t, "h")
	echo := startExporter(t, tp.echo, "echo", "targets: []\n",
		"--echo.listen-address=:"+echoPort,
		fmt.Sprintf("--echo.max-connections=%d", hostileMaxConns),
		"--echo.idle-timeout="+hostileIdle.String(),
		"--echo.allowed-network="+proberV4+"/32",
		"--echo.allowed-network=fd00:233::/64")
	// The well-behaved client: the real prober, 10 probes a second.
	mod := module{timeout: time.Second, maxTimeout: time.Second, reconnectAfter: 3}
	prober := startExporter(t, tp.prober, "prober",
		"modules:\n  default:\n"+mod.yaml()+"targets:\n  - name: good\n    address: "+echoV4+":"+echoPort+"\n", "--no-echo")
	s := newSampler(t, prober, map[string]int{"good": mod.maxInFlight()})
	s.waitFor(t, "10 replies", time.Time{}, 15*time.Second, func(m metrics) bool { return m.target("good").received >= 10 })
	echoBase := steadyResources(t, echo)
	rssBase := rss(t, echo.pid())
	t.Logf("echo server before the attacks: RSS %.1f MiB, %v goroutines, %v open fds", rssBase/(1<<20), echoBase.goroutines, echoBase.fds)

	attacks := []attack{
		{"garbage", garbage, []string{"bad_magic"}, 500},
		// At most max-connections are admitted (closed later as idle);
		// the rest are refused at once.
		{"connection flood", flood, []string{"limit"}, 10*hostileMaxConns - hostileMaxConns},
		// The slowloris count is checked in echo/hostile_test.go, where it
		// is exact; here the attack runs for the good client's sake.
		{"slowloris", slowloris, nil, 0},
		// A non-reader whose blocked echo finally gets through after the
		// idle timeout is closed as idle (see
		// echo/hostile_test.go TestSlowReaderIsNotIdle): count both.
		{"clients that never read", nonReaders, []string{"write_timeout", "idle"}, 10},
		{"not allowed", notAllowed, []string{"not_allowed"}, 200},
	}
	peakRSS := rssBase
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			before := echo.mustScrape(t)
			_, goodBefore := goodStats(t, s)
			// Memory of the echo server, sampled while the attack runs.
			stopRSS := make(chan struct{})
			var peak float64
			var wg sync.WaitGroup
			wg.Go(func() {
				tk := time.NewTicker(100 * time.Millisecond)
				defer tk.Stop()
				for {
					if r, err := rssOf(echo.pid()); err == nil {
						peak = max(peak, r)
					}
					select {
					case <-stopRSS:
						return
					case <-tk.C:
					}
				}
			})
			start := time.Now()
			err := a.run(t, tp)
			close(stopRSS)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			_, goodAfter := goodStats(t, s)
			after := echo.mustScrape(t)
			peakRSS = max(peakRSS, peak)

			// The good client's RTT during the attack: mean from the
			// histogram, worst as the smallest bucket bound above it.
			n := goodAfter.rttCount - goodBefore.rttCount
			mean := (goodAfter.rttSum - goodBefore.rttSum) / n
			worst := "<= 0.1ms"
			for _, le := range []float64{0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048, 0.4096, 0.8192} {
				if goodAfter.rttOver[le]-goodBefore.rttOver[le] > 0 {
					worst = fmt.Sprintf("> %gms", le*1000)
				}
			}
			t.Logf("%s for %v: good client %v replies, mean RTT %.3fms, slowest %s, timeouts +%v; echo RSS peak %.1f MiB (base %.1f MiB)",
				a.name, took.Round(time.Millisecond), n, mean*1000, worst, goodAfter.timeouts-goodBefore.timeouts, peak/(1<<20), rssBase/(1<<20))
			if n < float64(took/interval)/2 {
				t.Errorf("good client got %v replies in %v at one probe per %v", n, took, interval)
			}
			if d := goodAfter.timeouts - goodBefore.timeouts; d != 0 {
				t.Errorf("good client had %v timeouts (timeout 1s) during the attack", d)
			}
			if mean > 0.05 {
				t.Errorf("good client's mean RTT %.1fms during the attack, want under 50ms", mean*1000)
			}
			if over := goodAfter.rttOver[0.4096] - goodBefore.rttOver[0.4096]; over > 0 {
				t.Errorf("%v of the good client's RTTs above 409.6ms during the attack", over)
			}
			if peak-rssBase > 64<<20 {
				t.Errorf("echo server RSS grew by %.1f MiB under attack, want under 64 MiB", (peak-rssBase)/(1<<20))
			}
			var counts []string
			for _, r := range []string{"bad_magic", "limit", "idle", "not_allowed", "write_timeout"} {
				d := after.get("tcp_echo_server_rejected_total", "reason", r) - before.get("tcp_echo_server_rejected_total", "reason", r)
				counts = append(counts, fmt.Sprintf("%s +%v", r, d))
			}
			t.Logf("%s: rejected %v; accepted +%v", a.name, counts,
				after.get("tcp_echo_server_accepted_total")-before.get("tcp_echo_server_accepted_total"))
			var d float64
			for _, r := range a.reasons {
				d += after.get("tcp_echo_server_rejected_total", "reason", r) - before.get("tcp_echo_server_rejected_total", "reason", r)
			}
			if d < a.atLeast {
				t.Errorf("rejected_total{reason=%q} +%v, want at least +%v", a.reasons, d, a.atLeast)
			}
		})
	}
	t.Logf("echo server RSS: %.1f MiB before, %.1f MiB at the peak of all attacks", rssBase/(1<<20), peakRSS/(1<<20))
	// Every hostile connection is gone: the slowloris ones at the latest
	// when the test closed them.
	waitResources(t, echo, echoBase, 15*time.Second)
	s.stop()
	prober.stop(t)
	echo.stop(t)
}

// goodStats returns the good client's series from a fresh scrape.
func goodStats(t *testing.T, s *sampler) (time.Time, stats) {
	t.Helper()
	sm := s.waitFor(t, "a scrape", time.Now(), 5*time.Second, func(metrics) bool { return true })
	return sm.at, sm.m.target("good")
}

// dialMany opens n connections to the echo server from the prober
// namespace, from local (or the default source), with workers in parallel,
// and returns them. Refused or reset dials are not errors: a full server
// may refuse. If each is set, it gets every connection as soon as it is
// open, and the connection is closed after it instead of returned.
func dialMany(tp *topo, local netip.Addr, n, workers int, opt func(fd uintptr), each func(net.Conn)) ([]net.Conn, error) {
	var (
		mu    sync.Mutex
		conns []net.Conn
		next  atomic.Int64
		wg    sync.WaitGroup
		first error
	)
	for range workers {
		wg.Go(func() {
			err := inNS(tp.prober, func() error {
				d := net.Dialer{Timeout: 5 * time.Second}
				if local.IsValid() {
					d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
				}
				if opt != nil {
					d.Control = func(_, _ string, c syscall.RawConn) error { return c.Control(opt) }
				}
				for next.Add(1) <= int64(n) {
					c, err := d.DialContext(context.Background(), "tcp", echoV4+":"+echoPort)
					if err != nil {
						if errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ECONNRESET) {
							continue
						}
						return err
					}
					if each != nil {
						each(c)
						_ = c.Close()
						continue
					}
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
				return nil
			})
			if err != nil {
				mu.Lock()
				first = errors.Join(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return conns, first
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// waitClosed reads c until the server closes it or the deadline passes,
// and reports whether the server closed it.
func waitClosed(c net.Conn, deadline time.Time) bool {
	_ = c.SetReadDeadline(deadline)
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		return !errors.Is(err, os.ErrDeadlineExceeded)
	}
}

// countClosed waits, in parallel, for the server to close every conn.
func countClosed(conns []net.Conn, within time.Duration) int {
	deadline := time.Now().Add(within)
	var closed atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			if waitClosed(c, deadline) {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	return int(closed.Load())
}

// garbage: 500 connections, 8 at a time, that each send bytes that are
// not a frame.
func garbage(t *testing.T, tp *topo) error {
	junk := []byte("GET / HTTP/1.1\r\nHost: echo\r\n\r\n\x00\xff\x00\xff TCPPING is not at the start")
	var n, closed atomic.Int64
	_, err := dialMany(tp, netip.Addr{}, 500, 8, nil, func(c net.Conn) {
		n.Add(1)
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write(junk)
		if waitClosed(c, time.Now().Add(5*time.Second)) {
			closed.Add(1)
		}
	})
	if err != nil {
		return err
	}
	t.Logf("garbage: %d connections, %d closed by the server", n.Load(), closed.Load())
	if closed.Load() != n.Load() {
		return fmt.Errorf("%d of %d garbage connections left open", n.Load()-closed.Load(), n.Load())
	}
	return nil
}

// flood: 10 × max-connections connections held open for 3s.
func flood(t *testing.T, tp *topo) error {
	conns, err := dialMany(tp, netip.Addr{}, 10*hostileMaxConns, 8, nil, nil)
	defer closeAll(conns)
	if err != nil {
		return err
	}
	// Those over the limit are closed at once; those admitted are closed
	// for idleness after 2s.
	closedFast := countClosed(conns, time.Second)
	closed := closedFast + countClosed(conns, hostileIdle+2*time.Second)
	t.Logf("flood: %d connections, %d closed within 1s, %d after the %v idle timeout", len(conns), closedFast, closed-closedFast, hostileIdle)
	return nil
}

// slowloris: 50 connections that send a valid frame one byte per second
// for 5s, never completing one.
func slowloris(t *testing.T, tp *topo) error {
	conns, err := dialMany(tp, netip.Addr{}, 50, 4, nil, nil)
	defer closeAll(conns)
	if err != nil {
		return err
	}
	frame := []byte("TCPPING\x00")
	var closedEarly atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for i := range 5 {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := c.Write(frame[i : i+1]); err != nil {
					closedEarly.Add(1)
					return
				}
				if waitClosed(c, time.Now().Add(time.Second)) {
					closedEarly.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("slowloris: %d connections sending a byte a second for 5s; %d closed by the server (idle timeout %v)",
		len(conns), closedEarly.Load(), hostileIdle)
	return nil
}

// nonReaders: 10 connections with a small receive buffer that send frames
// as fast as they can and never read the echoes.
func nonReaders(t *testing.T, tp *topo) error {
	small := func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) }
	conns, err := dialMany(tp, netip.Addr{}, 10, 2, small, nil)
	defer closeAll(conns)
	if err != nil {
		return err
	}
	block := make([]byte, 0, 64*1024)
	for i := 0; len(block)+24 <= cap(block); i++ {
		block = append(block, "TCPPING\x00"...)
		block = append(block, make([]byte, 16)...)
	}
	var wg sync.WaitGroup
	var closed atomic.Int64
	var sent atomic.Int64
	for _, c := range conns {
		wg.Go(func() {
			// Write until the server gives up on us; at most 64 MiB or 20s.
			deadline := time.Now().Add(20 * time.Second)
			for total := 0; total < 64<<20 && time.Now().Before(deadline); {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				n, err := c.Write(block)
				total += n
				sent.Add(int64(n))
				if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
					closed.Add(1) // reset by the server
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("clients that never read: %d connections wrote %.1f MiB; %d closed by the server", len(conns), float64(sent.Load())/(1<<20), closed.Load())
	if int(closed.Load()) != len(conns) {
		return fmt.Errorf("%d of %d non-reading clients still served after 20s", len(conns)-int(closed.Load()), len(conns))
	}
	return nil
}

// notAllowed: 200 connections from an address outside
// --echo.allowed-network.
func notAllowed(t *testing.T, tp *topo) error {
	conns, err := dialMany(tp, netip.MustParseAddr(proberV4Alt), 200, 4, nil, nil)
	defer closeAll(conns)
	if err != nil {
		return err
	}
	for _, c := range conns {
		_, _ = c.Write([]byte("TCPPING\x00"))
	}
	closed := countClosed(conns, 5*time.Second)
	t.Logf("not allowed: %d connections from %s, %d closed by the server", len(conns), proberV4Alt, closed)
	if closed != len(conns) {
		return fmt.Errorf("%d of %d connections from outside the allowed networks left open", len(conns)-closed, len(conns))
	}
	return nil
}
