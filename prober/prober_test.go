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
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// testModule is a fast module for tests.
func testModule(interval, timeout time.Duration, adaptive bool) config.Module {
	m := config.DefaultModule()
	m.Interval = config.Duration(interval)
	m.Timeout = config.Duration(timeout)
	m.Adaptive = adaptive
	m.MinTimeout = config.Duration(min(timeout, 10*time.Millisecond))
	m.MaxTimeout = config.Duration(max(timeout, 500*time.Millisecond))
	m.ReconnectBackoff = config.Duration(50 * time.Millisecond)
	m.MaxReconnectBackoff = config.Duration(400 * time.Millisecond)
	m.DialTimeout = config.Duration(time.Second)
	m.IPProtocol = "ip4"
	return m
}

// startProber starts a prober and checks the invariant on every snapshot
// it takes through the returned function, until the test ends.
func startProber(t *testing.T, addr string, m config.Module) (*Prober, func() Snapshot) {
	t.Helper()
	p := New(Options{Name: "t", Address: addr, ModuleName: "test", Module: m, NoSplay: true}, nil)
	p.startOn(context.Background(), testEngine(t))
	t.Cleanup(p.Stop)
	maxInFlight := m.MaxInFlight()
	snap := func() Snapshot {
		s := p.Snapshot()
		checkInvariant(t, s, maxInFlight)
		return s
	}
	// A background checker snapshots as fast as a busy scraper would.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				checkInvariant(t, p.Snapshot(), maxInFlight)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return p, snap
}

func checkInvariant(t *testing.T, s Snapshot, maxInFlight int) {
	t.Helper()
	if s.Sent != s.Received+s.Timeouts+uint64(s.InFlight) {
		t.Errorf("invariant broken: sent %d != received %d + timeouts %d + in_flight %d",
			s.Sent, s.Received, s.Timeouts, s.InFlight)
	}
	if s.InFlight > maxInFlight {
		t.Errorf("in_flight %d > bound %d", s.InFlight, maxInFlight)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestProbesMinimalEchoServer(t *testing.T) {
	srv := startServer(t, echoHandler)
	_, snap := startProber(t, srv.addr(), testModule(10*time.Millisecond, 500*time.Millisecond, true))
	waitFor(t, "20 replies", 5*time.Second, func() bool { return snap().Received >= 20 })
	s := snap()
	if !s.Connected || s.State != StateConnected {
		t.Errorf("connected = %v, state %v", s.Connected, s.State)
	}
	if s.LastRTT <= 0 || s.SRTT <= 0 || s.ConnectDuration <= 0 {
		t.Errorf("last RTT %v, SRTT %v, connect %v: want > 0", s.LastRTT, s.SRTT, s.ConnectDuration)
	}
	if s.Histogram.Count != s.Received {
		t.Errorf("histogram count %d != received %d", s.Histogram.Count, s.Received)
	}
	if s.Dropped != 0 || s.Late != 0 || s.Unexpected != 0 {
		t.Errorf("dropped %d late %d unexpected %d, want 0", s.Dropped, s.Late, s.Unexpected)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("server accepted %d connections, want exactly 1 persistent one", n)
	}
	if !s.LastProbeOK {
		t.Error("last probe not OK")
	}
}

// TestFrameBytesOnTheWire reads what the prober sends to an original
// echo server: with echo_protocol auto the HELLO, reflected, then 24-byte
// probes; with v1 the probes alone.
func TestFrameBytesOnTheWire(t *testing.T) {
	for _, proto := range []string{config.EchoProtocolAuto, config.EchoProtocolV1} {
		t.Run(proto, func(t *testing.T) {
			frames := make(chan []byte, 8)
			srv := startServer(t, func(c net.Conn) {
				for {
					f, err := readFrame(c)
					if err != nil {
						return
					}
					select {
					case frames <- f:
					default:
					}
					_, _ = c.Write(f)
				}
			})
			before := time.Now()
			m := testModule(20*time.Millisecond, 500*time.Millisecond, true)
			m.EchoProtocol = proto
			startProber(t, srv.addr(), m)
			next := func() []byte {
				select {
				case f := <-frames:
					return f
				case <-time.After(5 * time.Second):
					t.Fatal("no frame received")
					return nil
				}
			}
			if proto == config.EchoProtocolAuto {
				if f := next(); !bytes.Equal(f, testHello) {
					t.Fatalf("first frame % x, want the HELLO % x", f, testHello)
				}
			}
			var prev uint64
			for i := range 3 {
				f := next()
				if len(f) != 24 || !bytes.Equal(f[:8], testMagic) {
					t.Fatalf("frame % x: want 24 bytes starting with TCPPING\\0", f)
				}
				seq := binary.LittleEndian.Uint64(f[8:16])
				ts := int64(binary.LittleEndian.Uint64(f[16:24]))
				if i == 0 && seq != 1 || i > 0 && seq != prev+1 {
					t.Errorf("probe %d has seq %d after %d: want 1, 2, 3", i+1, seq, prev)
				}
				prev = seq
				if ts < before.UnixNano() || ts > time.Now().UnixNano() {
					t.Errorf("timestamp %d not the sender's Unix time in ns", ts)
				}
			}
		})
	}
}

func TestPipelinedReplies(t *testing.T) {
	// Replies take 3.5 intervals: about four probes are in flight at once
	// on the one connection, and all must be matched.
	srv := startServer(t, delayedEchoHandler(35*time.Millisecond))
	_, snap := startProber(t, srv.addr(), testModule(10*time.Millisecond, 300*time.Millisecond, false))
	maxSeen := 0
	waitFor(t, "30 replies", 10*time.Second, func() bool {
		s := snap()
		maxSeen = max(maxSeen, s.InFlight)
		return s.Received >= 30
	})
	s := snap()
	if s.Timeouts != 0 || s.Late != 0 {
		t.Errorf("timeouts %d late %d, want 0", s.Timeouts, s.Late)
	}
	if maxSeen < 2 {
		t.Errorf("at most %d in flight: frames were not pipelined", maxSeen)
	}
	if s.LastRTT < 35*time.Millisecond {
		t.Errorf("last RTT %v < the server's 35ms delay", s.LastRTT)
	}
}

func TestSplitAndCoalescedReplies(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		handle   func(net.Conn)
	}{
		{"byte by byte", 50 * time.Millisecond, func(c net.Conn) {
			for {
				f, err := readFrame(c)
				if err != nil {
					return
				}
				for i := range f {
					if _, err := c.Write(f[i : i+1]); err != nil {
						return
					}
					time.Sleep(100 * time.Microsecond)
				}
			}
		}},
		// The prober waits for the answer to its HELLO before its first
		// probe, which a server that holds frames until it has three
		// would never send: this one is probed with v1 frames.
		{"three frames per segment", 5 * time.Millisecond, func(c net.Conn) {
			var batch []byte
			for {
				f, err := readFrame(c)
				if err != nil {
					return
				}
				batch = append(batch, f...)
				if len(batch) == 3*24 {
					if _, err := c.Write(batch); err != nil {
						return
					}
					batch = batch[:0]
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.handle)
			m := testModule(tt.interval, time.Second, false)
			m.EchoProtocol = config.EchoProtocolV1
			_, snap := startProber(t, srv.addr(), m)
			waitFor(t, "15 replies", 10*time.Second, func() bool { return snap().Received >= 15 })
			if s := snap(); s.Unexpected != 0 || s.Dropped != 0 || s.Late != 0 {
				t.Errorf("unexpected %d dropped %d late %d, want 0", s.Unexpected, s.Dropped, s.Late)
			}
		})
	}
}

// TestContextEndStopsProbers starts probers sharing one context, ends it,
// and checks from the server's side that every connection is closed and
// from the probers' that they stopped, without Stop being called.
func TestContextEndStopsProbers(t *testing.T) {
	const n = 20
	var open atomic.Int64
	addr := testenv.Serve(t, func(c net.Conn) {
		open.Add(1)
		defer open.Add(-1)
		testenv.Echo(c)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := testModule(20*time.Millisecond, time.Second, false)
	e := testEngine(t)
	var ps []*Prober
	for i := range n {
		p := New(Options{Name: fmt.Sprint("t", i), Address: addr, ModuleName: "test", Module: m, NoSplay: true}, nil)
		p.startOn(ctx, e)
		ps = append(ps, p)
	}
	waitFor(t, "all connected and answered", 5*time.Second, func() bool {
		for _, p := range ps {
			if s := p.Snapshot(); !s.Connected || s.Received == 0 {
				return false
			}
		}
		return open.Load() == n
	})
	cancel()
	waitFor(t, "all stopped, all connections closed", 5*time.Second, func() bool {
		for _, p := range ps {
			if p.Snapshot().State != StateStopped {
				return false
			}
		}
		return open.Load() == 0
	})
	// A prober started with the ended context stops at once.
	late := New(Options{Name: "late", Address: addr, ModuleName: "test", Module: m, NoSplay: true}, nil)
	late.startOn(ctx, e)
	stopped := make(chan struct{})
	go func() { late.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("a prober started with an ended context did not stop")
	}
	if s := late.Snapshot(); s.Sent != 0 || s.State != StateStopped {
		t.Fatalf("late prober: sent %d, state %v; want 0, stopped", s.Sent, s.State)
	}
}
