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
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// openFDs counts this process's open descriptors (Linux), -1 elsewhere.
func openFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// noLeaks waits up to 10 s for the goroutines and open descriptors to
// come back to baseG and baseFD, what they were before the test started
// what it stopped, and fails with every goroutine's stack if they do not.
func noLeaks(t *testing.T, baseG, baseFD int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseG || openFDs() > baseFD {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("after Stop: %d goroutines (%d before), %d descriptors (%d before)\n%s",
				runtime.NumGoroutine(), baseG, openFDs(), baseFD, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// churnConfig returns round i of TestReconcileChurn: target "steady" never
// changes; target "churn" runs a module whose flows, interval,
// payload_size, echo_protocol and tx_timestamps change from round to
// round.
func churnConfig(addr string, i int) *config.Config {
	cfg := config.Default()
	steady := testModule(10*time.Millisecond, 200*time.Millisecond, true)
	cfg.Modules["default"] = steady
	churn := steady
	churn.Flows = 1 + i%3
	churn.Interval = config.Duration(time.Duration(10+i%2*5) * time.Millisecond)
	churn.PayloadSize = []int{24, 64, 100}[i%3]
	churn.EchoProtocol = []string{config.EchoProtocolAuto, config.EchoProtocolV1}[i%2]
	if churn.EchoProtocol == config.EchoProtocolV1 {
		churn.PayloadSize = 24
	}
	churn.TxTimestamps = i%4 < 2
	cfg.Modules["churn"] = churn
	cfg.Targets = []config.Target{
		{Name: "steady", Address: addr},
		{Name: "churn", Address: addr, Module: "churn"},
	}
	return cfg
}

// TestReconcileChurn reconciles 200 times while /probe-style requests
// start dynamic probers that idle out meanwhile and a scraper snapshots
// everything: the unchanged target keeps its prober and its counters never
// go back, every snapshot keeps the invariant, the counts are right, and
// once the Manager stops, its goroutines and sockets are gone.
func TestReconcileChurn(t *testing.T) {
	addr := testenv.ExtEchoServer(t, testenv.ExtEcho{})
	_, port, _ := net.SplitHostPort(addr)
	time.Sleep(10 * time.Millisecond) // the server's goroutines settle
	baseG, baseFD := runtime.NumGoroutine(), openFDs()

	opts := ManagerOptions{MaxDynamic: 4, IdleTimeout: 30 * time.Millisecond, Loop: testLoop(t)}
	m := NewManager(context.Background(), opts, nil)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			m.Stop()
		}
	})
	m.Reconcile(churnConfig(addr, 0))
	var steady *Prober
	for _, p := range m.Static() {
		if p.opts.Name == "steady" {
			steady = p
		}
	}
	waitFor(t, "steady's first reply", 10*time.Second, func() bool { return steady.Snapshot().Received > 0 })

	stop := make(chan struct{})
	var stopping atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	// Requests for dynamic probers: the echo server by other loopback
	// addresses, which idle out between rounds.
	for g := range 2 {
		wg.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				a := net.JoinHostPort(fmt.Sprintf("127.0.0.%d", 2+(k+g)%6), port)
				mod := []string{"default", "churn"}[k%2]
				p, _, err := m.Get(mod, a)
				if err != nil && !errors.Is(err, ErrTooManyTargets) && !(errors.Is(err, context.Canceled) && stopping.Load()) {
					problem("Get(%s, %s): %v", mod, a, err)
					continue
				}
				if p != nil {
					for _, f := range p.Flows() {
						s := f.Snapshot()
						if s.Sent != s.Received+s.Timeouts+uint64(s.InFlight) {
							problem("dynamic %s: invariant broken: %+v", a, s)
						}
					}
				}
				time.Sleep(time.Duration(k%5) * time.Millisecond)
			}
		})
	}
	// A scraper.
	wg.Go(func() {
		var last Snapshot
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, p := range append(m.Static(), m.Dynamic()...) {
				s := p.Snapshot()
				if s.Sent != s.Received+s.Timeouts+uint64(s.InFlight) {
					problem("%s flow %d: invariant broken: %+v", p.opts.Name, p.opts.Flow, s)
				}
				if p == steady {
					if s.Sent < last.Sent || s.Received < last.Received || s.Timeouts < last.Timeouts {
						problem("steady's counters went back: %d/%d/%d then %d/%d/%d",
							last.Sent, last.Received, last.Timeouts, s.Sent, s.Received, s.Timeouts)
					}
					last = s
				}
			}
			static, dynamic := m.Counts()
			if (static != 2 && !stopping.Load()) || dynamic > opts.MaxDynamic {
				problem("counts: %d static, %d dynamic", static, dynamic)
			}
			time.Sleep(time.Millisecond)
		}
	})
	for i := range 200 {
		res := m.Reconcile(churnConfig(addr, i+1))
		if res.Kept != 1 || res.Started != 1 || res.Stopped != 1 {
			problem("round %d: %+v, want steady kept and churn restarted", i, res)
		}
		time.Sleep(time.Duration(i%4) * time.Millisecond)
	}
	for _, p := range m.Static() {
		if p.opts.Name == "steady" && p != steady {
			t.Error("the unchanged target's prober was replaced")
		}
	}
	if s := steady.Snapshot(); s.Dropped != 0 {
		t.Errorf("the unchanged target lost its connection %d times", s.Dropped)
	}
	// Stop while requests and scrapes go on, and a reconcile after it.
	stopping.Store(true)
	m.Stop()
	stopped = true
	if res := m.Reconcile(churnConfig(addr, 0)); res != (ReconcileResult{}) {
		t.Errorf("reconcile after Stop: %+v, want nothing done", res)
	}
	close(stop)
	wg.Wait()
	if static, dynamic := m.Counts(); static != 0 || dynamic != 0 {
		t.Errorf("after Stop: %d static and %d dynamic probers", static, dynamic)
	}
	for _, p := range problems {
		t.Error(p)
	}
	// Nothing the Manager started outlives Stop: goroutines (loops,
	// dials, lookups, workers, the sweeper) and sockets.
	noLeaks(t, baseG, baseFD)
}

// TestStopDuringDialsAndHellos stops a Manager whose probers are all in
// the middle of connecting: half dial a listener whose accept queue is
// full (the handshake hangs), half wait for the answer to their HELLO
// from a peer that never answers. Stop returns long before dial_timeout
// or the HELLO's timeout, and leaves no goroutine or socket behind.
func TestStopDuringDialsAndHellos(t *testing.T) {
	// A listener never accepted, its queue filled: further SYNs are
	// dropped and their connects hang.
	lc := net.ListenConfig{}
	full, err := lc.Listen(t.Context(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	var fillers []net.Conn
	defer func() {
		for _, c := range fillers {
			c.Close()
		}
	}()
	for range 64 {
		c, err := net.DialTimeout("tcp4", full.Addr().String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		fillers = append(fillers, c)
	}
	mute := startServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }) // reads, never answers
	time.Sleep(10 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), openFDs()

	mod := testModule(10*time.Millisecond, 3*time.Second, false)
	mod.DialTimeout = config.Duration(30 * time.Second)
	cfg := config.Default()
	cfg.Modules["default"] = mod
	for i := range 8 {
		addr := mute.addr()
		if i%2 == 0 {
			addr = full.Addr().String()
		}
		cfg.Targets = append(cfg.Targets, config.Target{Name: fmt.Sprintf("t%d", i), Address: addr})
	}
	m := NewManager(context.Background(), ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour, Loop: testLoop(t)}, nil)
	m.Reconcile(cfg)
	waitFor(t, "the HELLOs sent", 5*time.Second, func() bool { return mute.accepted.Load() >= 4 })
	time.Sleep(50 * time.Millisecond)
	for _, p := range m.Static() {
		if s := p.Snapshot(); s.Results != 0 || s.Connected {
			t.Fatalf("%s: %+v, want still connecting", p.opts.Name, s)
		}
	}
	start := time.Now()
	m.Stop()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Stop took %v", took)
	}
	noLeaks(t, baseG, baseFD)
}

// TestTargetMovesBetweenSources moves one (module, address) from /probe
// to the config, to discovery, and back to /probe: at each step Get
// answers with the prober of the source in force, the one before is
// stopped, and the counts say which source runs it.
func TestTargetMovesBetweenSources(t *testing.T) {
	srv := startServer(t, echoHandler)
	m := newTestManager(t, ManagerOptions{MaxDynamic: 4, IdleTimeout: time.Hour})
	addr := srv.addr()
	static := config.Target{Name: "s", Address: addr}
	found := config.Target{Name: addr, Address: addr, Module: "default"}
	check := func(step string, wantStatic, wantDiscovered, wantDynamic int, prev *Prober) *Prober {
		t.Helper()
		p, _, err := m.Get("default", addr)
		if err != nil {
			t.Fatalf("%s: Get: %v", step, err)
		}
		if s, d, dyn := m.SourceCounts(); s != wantStatic || d != wantDiscovered || dyn != wantDynamic {
			t.Errorf("%s: counts static %d discovered %d dynamic %d, want %d %d %d", step, s, d, dyn, wantStatic, wantDiscovered, wantDynamic)
		}
		if p == prev {
			t.Errorf("%s: Get answers with the prober of the previous source", step)
		}
		if prev != nil && prev.Snapshot().State != StateStopped {
			t.Errorf("%s: the previous source's prober still runs", step)
		}
		waitFor(t, step+": a reply", 5*time.Second, func() bool { return p.Snapshot().Received > 0 })
		return p
	}
	m.Reconcile(testConfig())
	p := check("dynamic", 0, 0, 1, nil)
	p = check("static", 1, 0, 0, func() *Prober { m.Reconcile(testConfig(static)); return p }())
	p = check("discovered", 0, 1, 0, func() *Prober { m.ReconcileTargets(testConfig(), []config.Target{found}); return p }())
	p = check("static over discovered", 1, 0, 0, func() *Prober { m.ReconcileTargets(testConfig(static), []config.Target{found}); return p }())
	check("dynamic again", 0, 0, 1, func() *Prober { m.ReconcileTargets(testConfig(), nil); return p }())
}

// TestStopDuringRefreshes stops Managers whose probers re-resolve their
// DNS name every millisecond and replace their connection every few: each
// Stop falls amid lookups, planned reconnects and their dials, returns at
// once, and leaves no goroutine behind.
func TestStopDuringRefreshes(t *testing.T) {
	srv := startServer(t, echoHandler)
	_, port, _ := net.SplitHostPort(srv.addr())
	time.Sleep(10 * time.Millisecond)
	baseG := runtime.NumGoroutine()
	for round := range 30 {
		mod := testModule(2*time.Millisecond, 200*time.Millisecond, true)
		mod.ResolveInterval = config.Duration(time.Millisecond)
		mod.ReconnectInterval = config.Duration(time.Duration(5+round%7) * time.Millisecond)
		cfg := config.Default()
		cfg.Modules["default"] = mod
		for i := range 5 {
			cfg.Targets = append(cfg.Targets, config.Target{Name: fmt.Sprint("t", i), Address: "localhost:" + port})
		}
		m := NewManager(context.Background(), ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour, Loop: testLoop(t)}, nil)
		m.Reconcile(cfg)
		time.Sleep(time.Duration(round%10) * 3 * time.Millisecond)
		for _, p := range m.Static() {
			if s := p.Snapshot(); s.Sent != s.Received+s.Timeouts+uint64(s.InFlight) {
				t.Errorf("round %d: invariant broken: %+v", round, s)
			}
		}
		start := time.Now()
		m.Stop()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("round %d: Stop took %v", round, d)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseG {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after Stop: %d goroutines (%d before)\n%s", runtime.NumGoroutine(), baseG, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
