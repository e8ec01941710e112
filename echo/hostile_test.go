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

package echo

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hostileCase is one kind of hostile client, run against a fresh server
// while a well-behaved client keeps exchanging frames with it.
type hostileCase struct {
	name string
	opts Options
	// attack runs against the server at address and returns when done.
	// It must be bounded in count and time.
	attack func(t *testing.T, address string)
	// reason must be counted exactly want times.
	reason reason
	want   float64
}

// Sizes of the attacks. The well-behaved client holds one of the slots.
const (
	hostileMaxConns = 50
	hostileFlood    = 10 * hostileMaxConns
)

func TestHostileClients(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	tests := []hostileCase{
		{
			name:   "garbage",
			opts:   Options{MaxConnections: hostileMaxConns},
			attack: hostileGarbage(2000),
			reason: reasonBadMagic, want: 2000,
		},
		{
			name: "connection flood of 10 x max-connections",
			// A long idle timeout: the admitted ones stay until closed.
			opts:   Options{MaxConnections: hostileMaxConns, IdleTimeout: time.Minute},
			attack: hostileFloodAttack,
			reason: reasonLimit, want: hostileFlood - (hostileMaxConns - 1),
		},
		{
			// A frame one byte at a time, slower than one frame per idle
			// timeout: the connection never completes a frame and must
			// not hold its slot longer than an idle one would.
			name:   "slowloris",
			opts:   Options{MaxConnections: hostileMaxConns, IdleTimeout: 500 * time.Millisecond},
			attack: hostileSlowloris(20, 250*time.Millisecond),
			reason: reasonIdle, want: 20,
		},
		{
			name:   "clients that never read",
			opts:   Options{MaxConnections: hostileMaxConns, WriteTimeout: 500 * time.Millisecond, IdleTimeout: time.Minute},
			attack: hostileNonReaders(5),
			reason: reasonWriteTimeout, want: 5,
		},
		{
			name:   "not allowed",
			opts:   Options{MaxConnections: hostileMaxConns, AllowedNetworks: loopback},
			attack: hostileFrom("127.0.0.2", 1000),
			reason: reasonNotAllowed, want: 1000,
		},
	}
	tests = append(tests, hostileExtCases()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := startServer(t, tt.opts, nil)
			a := addr(t, s)
			heapBase := heapInuse()
			good := startGoodClient(t, a)
			peak := watchHeap()

			start := time.Now()
			tt.attack(t, a)
			// The count may trail the clients' view by a moment.
			for end := time.Now().Add(5 * time.Second); rejected(s, tt.reason) < tt.want && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
			took := time.Since(start)
			rtts := good.stop(t)
			heapPeak := peak()

			if got := rejected(s, tt.reason); got != tt.want {
				t.Errorf("rejected_total{reason=%q} = %v, want %v", tt.reason, got, tt.want)
			}
			slices.Sort(rtts)
			p50, p99, worst := rtts[len(rtts)/2], rtts[len(rtts)*99/100], rtts[len(rtts)-1]
			t.Logf("%s (%v): good client %d round trips, p50 %v p99 %v max %v; heap %.1f MiB at start, peak %.1f MiB",
				tt.name, took.Round(time.Millisecond), len(rtts), p50, p99, worst, float64(heapBase)/(1<<20), float64(heapPeak)/(1<<20))
			if worst > 500*time.Millisecond {
				t.Errorf("the good client waited %v for an echo during the attack, want under 500ms", worst)
			}
			if grew := int64(heapPeak) - int64(heapBase); grew > 64<<20 {
				t.Errorf("heap grew by %.1f MiB during the attack, want under 64 MiB", float64(grew)/(1<<20))
			}
		})
	}
}

// goodClient exchanges a frame every 10 ms on one connection and records
// each round trip.
type goodClient struct {
	stopc chan struct{}
	done  chan struct{}
	err   error
	rtts  []time.Duration
}

func startGoodClient(t *testing.T, address string) *goodClient {
	t.Helper()
	c := dial(t, address)
	roundTrip(t, c, 0) // connected and admitted before the attack
	g := &goodClient{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(g.done)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for seq := uint64(1); ; seq++ {
			_ = c.SetDeadline(time.Now().Add(testTimeout))
			start := time.Now()
			if err := exchange(c, seq); err != nil {
				g.err = err
				return
			}
			g.rtts = append(g.rtts, time.Since(start))
			select {
			case <-g.stopc:
				return
			case <-tk.C:
			}
		}
	}()
	return g
}

// stop ends the exchanges and returns the round trips; it fails the test
// if the client was ever refused an echo.
func (g *goodClient) stop(t *testing.T) []time.Duration {
	t.Helper()
	close(g.stopc)
	<-g.done
	if g.err != nil {
		t.Fatalf("well-behaved client: %v", g.err)
	}
	if len(g.rtts) == 0 {
		t.Fatal("well-behaved client made no round trip")
	}
	return g.rtts
}

// watchHeap samples the heap in use every 20 ms until the returned
// function is called, which returns the peak.
func watchHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// hostileDial connects to address from local (127.0.0.1 if empty). With
// smallBuffer the client's receive buffer is made small, so that a client
// that does not read fills it, and the server's send buffer, sooner.
func hostileDial(address, local string, smallBuffer bool) (net.Conn, error) {
	d := net.Dialer{Timeout: testTimeout}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", address)
	if err == nil && smallBuffer {
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
	}
	return c, err
}

// hostileClosed reads c until the server closes it, for at most within,
// and reports whether it did.
func hostileClosed(c net.Conn, within time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, c)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// hostileParallel runs f(i) for i in [0, n) on 8 goroutines.
func hostileParallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				f(int(i))
			}
		})
	}
	wg.Wait()
}

// hostileGarbage sends n connections' worth of bytes that are not frames,
// 8 connections at a time.
func hostileGarbage(n int) func(t *testing.T, address string) {
	junk := [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		[]byte("TCPPING!" + "0123456789abcdef"),
		[]byte("TCPPIN"), // a valid prefix, then a wrong byte in a second write
	}
	return func(t *testing.T, address string) {
		hostileParallel(n, func(i int) {
			c, err := hostileDial(address, "", false)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
			j := junk[i%len(junk)]
			_, _ = c.Write(j)
			if len(j) < wireMagicLen {
				_, _ = c.Write([]byte("X"))
			}
			if !hostileClosed(c, testTimeout) {
				t.Errorf("garbage %q: connection left open", j)
			}
		})
	}
}

// wireMagicLen is the magic's length, spelled out as DESIGN.md does.
const wireMagicLen = 8

// hostileFloodAttack opens 10 × max-connections connections at once and
// checks that those over the limit are closed at once.
func hostileFloodAttack(t *testing.T, address string) {
	conns := make([]net.Conn, hostileFlood)
	hostileParallel(hostileFlood, func(i int) {
		c, err := hostileDial(address, "", false)
		if err != nil {
			t.Error(err)
			return
		}
		conns[i] = c
	})
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	var closed atomic.Int64
	hostileParallel(hostileFlood, func(i int) {
		if conns[i] != nil && hostileClosed(conns[i], 500*time.Millisecond) {
			closed.Add(1)
		}
	})
	t.Logf("flood: %d connections, %d closed by the server within 500ms", hostileFlood, closed.Load())
}

// hostileSlowloris opens n connections that each send a valid frame one
// byte per every, for at most 24 bytes, and checks how soon the server
// closes them.
func hostileSlowloris(n int, every time.Duration) func(t *testing.T, address string) {
	return func(t *testing.T, address string) {
		f := frame(7)
		var closed atomic.Int64
		var slowest atomic.Int64
		var wg sync.WaitGroup
		for range n {
			c, err := hostileDial(address, "", false)
			if err != nil {
				t.Error(err)
				continue
			}
			wg.Go(func() {
				defer c.Close()
				start := time.Now()
				for i := range 12 { // half a frame: 3 s at most
					_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
					if _, err := c.Write(f[i : i+1]); err != nil || hostileClosed(c, every) {
						closed.Add(1)
						slowest.Store(max(slowest.Load(), int64(time.Since(start))))
						return
					}
				}
			})
		}
		wg.Wait()
		t.Logf("slowloris: %d of %d connections sending a byte every %v closed by the server, the last after %v",
			closed.Load(), n, every, time.Duration(slowest.Load()).Round(time.Millisecond))
	}
}

// hostileNonReaders opens n connections with a small receive buffer that
// write frames as fast as they can and never read, until the server closes
// them (at most 64 MiB or 10 s each).
func hostileNonReaders(n int) func(t *testing.T, address string) {
	return nonReaders(n, "a client", frames(1, 2048), func(address string) (net.Conn, error) {
		return hostileDial(address, "", true)
	})
}

// nonReaders opens n connections with dial (a small receive buffer) that
// write chunk as fast as they can and never read, until the server closes
// them; who names such a client in the failure.
func nonReaders(n int, who string, chunk []byte, dial func(address string) (net.Conn, error)) func(t *testing.T, address string) {
	return func(t *testing.T, address string) {
		var wg sync.WaitGroup
		for range n {
			c, err := dial(address)
			if err != nil {
				t.Error(err)
				continue
			}
			wg.Go(func() {
				defer c.Close()
				deadline := time.Now().Add(10 * time.Second)
				for total := 0; total < 64<<20 && time.Now().Before(deadline); {
					_ = c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
					k, err := c.Write(chunk)
					total += k
					if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
						return // the server gave up on us
					}
				}
				t.Errorf("%s that never reads was still served after 10s or 64 MiB", who)
			})
		}
		wg.Wait()
	}
}

// hostileFrom opens n connections from a source outside the allowed
// networks, each sending a valid frame.
func hostileFrom(local string, n int) func(t *testing.T, address string) {
	return func(t *testing.T, address string) {
		hostileParallel(n, func(int) {
			c, err := hostileDial(address, local, false)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
			_, _ = c.Write(frame(1))
			if !hostileClosed(c, testTimeout) {
				t.Error("connection from outside the allowed networks left open")
			}
		})
	}
}
