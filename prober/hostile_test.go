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
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// The hostile servers below speak DESIGN.md's byte layout by hand, wrongly
// on purpose. Each runs one handler per connection until the test ends.

// hostileRead reads one 24-byte frame from the prober.
func hostileRead(c net.Conn) ([]byte, bool) {
	f := make([]byte, 24)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadFull(c, f)
	return f, err == nil
}

// hostileReflect reflects every frame after passing it through change;
// change returns the bytes to write back.
func hostileReflect(change func(f []byte) []byte) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, _ <-chan struct{}) {
		for {
			f, ok := hostileRead(c)
			if !ok {
				return
			}
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(change(f)); err != nil {
				return
			}
		}
	}
}

func hostileSeq(f []byte) uint64 { return binary.LittleEndian.Uint64(f[8:16]) }

func hostileSetSeq(f []byte, seq uint64) []byte {
	binary.LittleEndian.PutUint64(f[8:16], seq)
	return f
}

// hostileModule probes every 20 ms with a fixed 200 ms timeout, declares a
// connection dead after 3 timeouts and redials within 20–200 ms. It sends
// 24-byte frames only: these servers would fail the HELLO as they fail
// probes, and the prober would never get to probe them.
func hostileModule() config.Module {
	m := config.DefaultModule()
	m.Interval = config.Duration(20 * time.Millisecond)
	m.Timeout = config.Duration(200 * time.Millisecond)
	m.Adaptive = false
	m.MinTimeout = config.Duration(10 * time.Millisecond)
	m.MaxTimeout = config.Duration(200 * time.Millisecond)
	m.ReconnectAfter = 3
	m.ReconnectBackoff = config.Duration(20 * time.Millisecond)
	m.MaxReconnectBackoff = config.Duration(200 * time.Millisecond)
	m.DialTimeout = config.Duration(time.Second)
	m.IPProtocol = "ip4"
	m.EchoProtocol = config.EchoProtocolV1
	return m
}

// hostileProbe runs a prober against address, checking the invariant and
// the in-flight bound on a snapshot every millisecond, and returns a
// function that takes a checked snapshot and one that stops the prober,
// which the test must call (it fails the test if Stop takes over 2s).
func hostileProbe(t *testing.T, address string, m config.Module) (snap func() Snapshot, stop func()) {
	t.Helper()
	return hostileProbeHooked(t, address, m, nil)
}

// hostileProbeHooked is hostileProbe with test hooks in the prober's send.
func hostileProbeHooked(t *testing.T, address string, m config.Module, hooks *sendHooks) (snap func() Snapshot, stop func()) {
	t.Helper()
	p := New(Options{Name: "hostile", Address: address, ModuleName: "hostile", Module: m, NoSplay: true}, nil)
	p.more().hooks = hooks
	p.startOn(context.Background(), testEngine(t))
	bound := m.MaxInFlight()
	check := func(s Snapshot) Snapshot {
		if s.Sent != s.Received+s.Timeouts+uint64(s.InFlight) {
			t.Errorf("invariant broken: sent %d != received %d + timeouts %d + in_flight %d", s.Sent, s.Received, s.Timeouts, s.InFlight)
		}
		if s.InFlight > bound {
			t.Errorf("in_flight %d above the bound %d", s.InFlight, bound)
		}
		if s.Late > s.Timeouts {
			t.Errorf("late %d > timeouts %d", s.Late, s.Timeouts)
		}
		if s.Histogram.Count != s.Received {
			t.Errorf("histogram count %d != received %d", s.Histogram.Count, s.Received)
		}
		return s
	}
	done := make(chan struct{})
	checker := make(chan struct{})
	go func() {
		defer close(checker)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				check(p.Snapshot())
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			<-checker
			stopped := make(chan struct{})
			go func() { p.Stop(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(2 * time.Second):
				t.Errorf("Stop did not return within 2s")
				<-stopped
			}
		})
	}
	t.Cleanup(stop)
	return func() Snapshot { return check(p.Snapshot()) }, stop
}

// hostileWait polls until cond holds on a snapshot, for at most 10 s.
func hostileWait(t *testing.T, what string, snap func() Snapshot, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := snap()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s; sent %d received %d timeouts %d late %d unexpected %d dropped %d connected %v",
				what, s.Sent, s.Received, s.Timeouts, s.Late, s.Unexpected, s.Dropped, s.Connected)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHostileServers(t *testing.T) {
	tests := []struct {
		name   string
		handle func(net.Conn, <-chan struct{})
		// until is what the prober must reach; check what must hold then.
		until func(Snapshot) bool
		check func(t *testing.T, s Snapshot, srv *testServer)
	}{
		{
			name:   "wrong magic",
			handle: hostileReflect(func(f []byte) []byte { copy(f, "TCPPONG\x00"); return f }),
			until:  func(s Snapshot) bool { return s.Dropped >= 3 },
			check: func(t *testing.T, s Snapshot, srv *testServer) {
				if s.Received != 0 || s.Unexpected < 3 {
					t.Errorf("received %d unexpected %d: a reply with a wrong magic must count as unexpected, never as received", s.Received, s.Unexpected)
				}
				if srv.accepted.Load() < 3 {
					t.Errorf("%d connections: the prober must drop the connection and redial", srv.accepted.Load())
				}
			},
		},
		{
			name:   "wrong sequence numbers",
			handle: hostileReflect(func(f []byte) []byte { return hostileSetSeq(f, hostileSeq(f)+1<<40) }),
			until:  func(s Snapshot) bool { return s.Dropped >= 2 && s.Unexpected >= 6 },
			check: func(t *testing.T, s Snapshot, _ *testServer) {
				if s.Received != 0 || s.Late != 0 {
					t.Errorf("received %d late %d: replies for numbers never sent must match nothing", s.Received, s.Late)
				}
				if s.Timeouts < 6 {
					t.Errorf("timeouts %d: the probes they did not answer must time out", s.Timeouts)
				}
			},
		},
		{
			name:   "earlier sequence numbers",
			handle: hostileReflect(func(f []byte) []byte { return hostileSetSeq(f, hostileSeq(f)-1) }),
			until:  func(s Snapshot) bool { return s.Sent >= 50 },
			check: func(t *testing.T, s Snapshot, _ *testServer) {
				// Each reply names the probe before the one it answers.
				// That is indistinguishable from in-order replies one
				// interval late, and must show as exactly that: the first
				// reply matches nothing, and every RTT includes the
				// interval (20 ms) instead of the loopback's microseconds.
				if s.Unexpected != 1 {
					t.Errorf("unexpected %d, want 1 (the reply naming the probe before the first)", s.Unexpected)
				}
				if s.LastRTT < 10*time.Millisecond {
					t.Errorf("last RTT %v: a reply naming an earlier probe must be measured from that probe", s.LastRTT)
				}
			},
		},
		{
			name: "duplicate frames",
			handle: hostileReflect(func(f []byte) []byte {
				return append(append([]byte{}, f...), f...)
			}),
			until: func(s Snapshot) bool { return s.Received >= 50 },
			check: func(t *testing.T, s Snapshot, _ *testServer) {
				if s.Timeouts != 0 || s.Late != 0 || s.Dropped != 0 {
					t.Errorf("timeouts %d late %d dropped %d: every probe was answered in time", s.Timeouts, s.Late, s.Dropped)
				}
				if s.Unexpected+1 < s.Received || s.Unexpected > s.Received {
					t.Errorf("unexpected %d for received %d: every duplicate must be counted once", s.Unexpected, s.Received)
				}
			},
		},
		{
			name: "frame split byte by byte",
			handle: func(c net.Conn, _ <-chan struct{}) {
				for {
					f, ok := hostileRead(c)
					if !ok {
						return
					}
					for i := range f {
						if _, err := c.Write(f[i : i+1]); err != nil {
							return
						}
						time.Sleep(time.Millisecond)
					}
				}
			},
			until: func(s Snapshot) bool { return s.Received >= 5 },
			check: func(t *testing.T, s Snapshot, _ *testServer) {
				if s.Unexpected != 0 || s.Dropped != 0 {
					t.Errorf("unexpected %d dropped %d: a frame in 24 segments is still one frame", s.Unexpected, s.Dropped)
				}
				// The reply is complete only with its last byte, 23 sleeps
				// after the first: the RTT must include them.
				if s.LastRTT < 20*time.Millisecond {
					t.Errorf("last RTT %v: taken before the frame was complete (23 x 1ms apart)", s.LastRTT)
				}
			},
		},
		{
			name: "half a frame, then silence",
			handle: func(c net.Conn, stop <-chan struct{}) {
				if f, ok := hostileRead(c); ok {
					_, _ = c.Write(f[:12])
				}
				_, _ = io.Copy(io.Discard, c)
			},
			until: func(s Snapshot) bool { return s.Dropped >= 2 },
			check: func(t *testing.T, s Snapshot, _ *testServer) {
				if s.Received != 0 || s.Timeouts < 6 {
					t.Errorf("received %d timeouts %d: half a frame answers nothing", s.Received, s.Timeouts)
				}
			},
		},
		{
			name: "tampered timestamps",
			handle: hostileReflect(func(f []byte) []byte {
				binary.LittleEndian.PutUint64(f[16:24], 1) // 1970
				return f
			}),
			until: func(s Snapshot) bool { return s.Received >= 20 },
			check: func(t *testing.T, s Snapshot, _ *testServer) {
				if s.LastRTT <= 0 || s.LastRTT > 100*time.Millisecond || s.Timeouts != 0 {
					t.Errorf("last RTT %v timeouts %d: the RTT must come from the prober's own clock, not the echoed time", s.LastRTT, s.Timeouts)
				}
			},
		},
		{
			name: "garbage, then close",
			handle: func(c net.Conn, _ <-chan struct{}) {
				if _, ok := hostileRead(c); ok {
					_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
				}
			},
			until: func(s Snapshot) bool { return s.Dropped >= 3 },
			check: func(t *testing.T, s Snapshot, _ *testServer) {
				if s.Received != 0 || s.Unexpected == 0 {
					t.Errorf("received %d unexpected %d", s.Received, s.Unexpected)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServerStop(t, tt.handle)
			snap, stop := hostileProbe(t, srv.addr(), hostileModule())
			s := hostileWait(t, tt.name, snap, tt.until)
			tt.check(t, s, srv)
			stop()
			t.Logf("sent %d received %d timeouts %d late %d unexpected %d dropped %d; last RTT %v; %d connections",
				s.Sent, s.Received, s.Timeouts, s.Late, s.Unexpected, s.Dropped, s.LastRTT, srv.accepted.Load())
		})
	}
}

// TestFloodingServer checks that a server that pours unsolicited frames at
// the prober as fast as it can, and answers nothing, neither stops the
// prober's schedule (a probe per interval, each timed out at its deadline)
// nor keeps Stop from returning.
func TestFloodingServer(t *testing.T) {
	const floodFor = 3 * time.Second
	var written atomic.Int64
	srv := startServerStop(t, func(c net.Conn, stop <-chan struct{}) {
		// Unsolicited frames, 2048 per write, numbered far above anything
		// the prober sends: all of them unexpected.
		block := make([]byte, 0, 2048*24)
		for i := range 2048 {
			var f [24]byte
			copy(f[:], "TCPPING\x00")
			binary.LittleEndian.PutUint64(f[8:], 1<<50+uint64(i))
			block = append(block, f[:]...)
		}
		go func() { _, _ = io.Copy(io.Discard, c) }()
		end := time.Now().Add(floodFor)
		for time.Now().Before(end) && written.Load() < 4<<30 {
			select {
			case <-stop:
				return
			default:
			}
			_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			n, err := c.Write(block)
			written.Add(int64(n))
			if err != nil && !isTimeoutErr(err) {
				return
			}
		}
	})
	m := hostileModule()
	m.ReconnectAfter = 0 // keep the flooded connection: the flood is the test
	snap, stop := hostileProbe(t, srv.addr(), m)
	first, mid, span := midFlood(t, snap, floodFor)

	stopStart := time.Now()
	stop() // while the flood still runs
	stopTook := time.Since(stopStart)

	due := float64(span / m.Interval.D())
	t.Logf("flood of %.0f MiB: in %v the prober sent %d probes (%.0f due), timed out %d, counted %d unexpected; Stop took %v",
		float64(written.Load())/(1<<20), span.Round(time.Millisecond), mid.Sent-first.Sent, due, mid.Timeouts-first.Timeouts,
		mid.Unexpected, stopTook.Round(time.Millisecond))
	if got := float64(mid.Sent - first.Sent); got < due/2 {
		t.Errorf("%v probes sent in %v under a flood, want about %v: the flood stalled the schedule", got, span, due)
	}
	if mid.Received != 0 {
		t.Errorf("received %d from a server that answers nothing", mid.Received)
	}
	if stopTook > time.Second {
		t.Errorf("Stop took %v under a flood", stopTook)
	}
}

func isTimeoutErr(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// midFlood waits for the prober of snap to connect to a flooding server,
// then half the flood's length, floodFor: it returns the snapshots at both
// ends and the time between them.
func midFlood(t *testing.T, snap func() Snapshot, floodFor time.Duration) (first, mid Snapshot, span time.Duration) {
	t.Helper()
	first = hostileWait(t, "connected", snap, func(s Snapshot) bool { return s.Connected })
	start := time.Now()
	time.Sleep(floodFor / 2)
	mid = snap()
	return first, mid, time.Since(start)
}
