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
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
)

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string // substring; empty means success
	}{
		{"minimal", Options{ListenAddresses: []string{":4000"}}, ""},
		{"no address", Options{}, "no listen address"},
		{"address without port", Options{ListenAddresses: []string{"localhost"}}, `"localhost"`},
		{"negative max connections", Options{ListenAddresses: []string{":0"}, MaxConnections: -1}, "max connections"},
		{"negative idle timeout", Options{ListenAddresses: []string{":0"}, IdleTimeout: -time.Second}, "idle timeout"},
		{"negative write timeout", Options{ListenAddresses: []string{":0"}, WriteTimeout: -time.Second}, "write timeout"},
		{"invalid prefix", Options{ListenAddresses: []string{":0"}, AllowedNetworks: []netip.Prefix{{}}}, "allowed network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts, nil, nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if s.opts.IdleTimeout != DefaultIdleTimeout || s.opts.WriteTimeout != DefaultWriteTimeout {
					t.Errorf("timeouts = %s, %s; want defaults", s.opts.IdleTimeout, s.opts.WriteTimeout)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestListenErrorNamesAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() })
	taken := busy.Addr().String()

	s, err := New(testOptions(t, Options{ListenAddresses: []string{"127.0.0.1:0", taken}}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	err = s.Listen()
	if err == nil || !strings.Contains(err.Error(), taken) {
		t.Fatalf("Listen error = %v, want one naming %s", err, taken)
	}
	if s.Addrs() != nil {
		t.Errorf("Addrs after failed Listen = %v, want nil", s.Addrs())
	}
}

// TestWireCompat writes frames in various chunkings and checks that exactly
// the same bytes come back, in order: what an original client sees, HELLOs
// it cannot send by accident included.
func TestWireCompat(t *testing.T) {
	two := frames(1, 2)
	tests := []struct {
		name   string
		chunks [][]byte // each chunk is one Write
		pause  time.Duration
	}{
		{"one frame", [][]byte{frame(1)}, 0},
		{"several frames in one write", [][]byte{frames(1, 10)}, 0},
		{"pipelined 50 before reading", splitEvery(frames(1, 50), 24), 0},
		{"byte by byte", splitEvery(two, 1), time.Millisecond},
		{"split inside the magic", [][]byte{two[:3], two[3:]}, 5 * time.Millisecond},
		{"frame and a half, then the rest", [][]byte{two[:36], two[36:]}, 5 * time.Millisecond},
		{"odd chunks", splitEvery(frames(1, 20), 7), 0},
		// The HELLO asks for extended frames only as a connection's first
		// frame; anywhere else it is a frame like any other.
		{"the HELLO after a frame", [][]byte{cat(frame(1), helloFrame(), frame(2))}, 0},
		{"the HELLO after a frame, in its own write", [][]byte{frame(1), helloFrame(), frame(2)}, 5 * time.Millisecond},
		{"the HELLO twice after a frame", [][]byte{cat(frame(1), helloFrame(), helloFrame())}, 0},
		{"the HELLO's sequence number first, with a real time", [][]byte{cat(frame(1)[:8], helloFrame()[8:16], frame(1)[16:]), helloFrame()}, 5 * time.Millisecond},
		{"the HELLO's time first, with a real sequence number", [][]byte{cat(frame(1)[:16], []byte("TPXHELLO")), helloFrame()}, 5 * time.Millisecond},
		{"an offer first", [][]byte{offerFrame(1), helloFrame()}, 5 * time.Millisecond},
	}
	s, _ := startServer(t, Options{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr(t, s))
			var want []byte
			for _, chunk := range tt.chunks {
				want = append(want, chunk...)
				if _, err := c.Write(chunk); err != nil {
					t.Fatalf("write: %v", err)
				}
				if tt.pause > 0 {
					time.Sleep(tt.pause) // let each chunk leave as its own segment
				}
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("read echoes: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("echoed bytes differ:\n got % x\nwant % x", got, want)
			}
		})
	}
}

func splitEvery(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

// TestEchoesCompleteFrameAtOnce checks that a frame is echoed as soon as its
// last byte arrives, and a partial frame is not.
func TestEchoesCompleteFrameAtOnce(t *testing.T) {
	s, _ := startServer(t, Options{}, nil)
	c := dial(t, addr(t, s))
	f1, f2 := frame(1), frame(2)

	if _, err := c.Write(f1[:23]); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	if n, err := c.Read(make([]byte, 24)); !isTimeout(err) {
		t.Fatalf("read after 23 bytes = %d, %v; want a timeout", n, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(testTimeout))

	if _, err := c.Write(append(f1[23:], f2[:10]...)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 24)
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, f1) {
		t.Fatalf("first echo = % x, %v; want % x", got, err, f1)
	}
	if _, err := c.Write(f2[10:]); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, f2) {
		t.Fatalf("second echo = % x, %v; want % x", got, err, f2)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestBadMagic(t *testing.T) {
	f1, f2, f3 := frame(1), frame(2), frame(3)
	bad := frame(99)
	copy(bad, "TCPPONG\x00")
	tests := []struct {
		name     string
		before   int    // good frames exchanged first
		send     []byte // then sent in one write
		mayEcho  []byte // what may come back: any whole-frame prefix of it
		notFound []byte // bytes that must never come back
	}{
		{"bad frame after good frames", 3, bad, nil, bad},
		{"good and bad in one write", 0, bytes.Join([][]byte{f1, bad}, nil), f1, bad},
		{"bad frame among pipelined", 0, bytes.Join([][]byte{f1, f2, bad, f3}, nil), bytes.Join([][]byte{f1, f2}, nil), bad},
		{"http request", 0, []byte("GET / HTTP/1.1\r\n"), nil, nil},
		{"first byte wrong", 0, []byte("X"), nil, nil},
		{"eighth byte wrong", 1, []byte("TCPPING!"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := startServer(t, Options{}, nil) // idle timeout 60s: a quick close is the magic check
			c := dial(t, addr(t, s))
			for i := range tt.before {
				roundTrip(t, c, uint64(i))
			}
			start := time.Now()
			if _, err := c.Write(tt.send); err != nil {
				t.Fatalf("write: %v", err)
			}
			got := readUntilClosed(t, c)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("closed after %s, want at once", d)
			}
			if len(got)%24 != 0 || !bytes.HasPrefix(tt.mayEcho, got) {
				t.Errorf("echoed % x, want a whole-frame prefix of % x", got, tt.mayEcho)
			}
			if tt.notFound != nil && bytes.Contains(got, tt.notFound[:8]) {
				t.Errorf("the bad frame came back")
			}
			waitRejected(t, s, reasonBadMagic, 1)
		})
	}
}

func TestMaxConnections(t *testing.T) {
	s, _ := startServer(t, Options{MaxConnections: 3}, nil)
	a := addr(t, s)
	var conns []net.Conn
	for i := range 3 {
		c := dial(t, a)
		roundTrip(t, c, uint64(i)) // the server has admitted it
		conns = append(conns, c)
	}

	fourth := dial(t, a)
	start := time.Now()
	if got := readUntilClosed(t, fourth); len(got) != 0 {
		t.Errorf("fourth connection got %d bytes", len(got))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("fourth connection closed after %s, want at once", d)
	}
	waitRejected(t, s, reasonLimit, 1)

	_ = conns[0].Close()
	waitConnections(t, s, 2)
	fifth := dial(t, a)
	roundTrip(t, fifth, 5)
	for _, c := range conns[1:] {
		roundTrip(t, c, 6)
	}
	if got := rejected(s, reasonLimit); got != 1 {
		t.Errorf("rejected limit = %v, want 1", got)
	}
}

func TestShutdown(t *testing.T) {
	base := runtime.NumGoroutine()
	s, err := New(testOptions(t, Options{ListenAddresses: []string{"127.0.0.1:0", "127.0.0.1:0"}}), log.NewNopLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()

	var conns []net.Conn
	for i, a := range append(s.Addrs(), s.Addrs()...) {
		c := dial(t, a.String())
		roundTrip(t, c, uint64(i))
		conns = append(conns, c)
	}
	partial := dial(t, s.Addrs()[0].String())
	if _, err := partial.Write(frame(1)[:5]); err != nil {
		t.Fatal(err)
	}
	conns = append(conns, partial)
	waitConnections(t, s, float64(len(conns)))

	stopped := make(chan struct{})
	go func() { s.Shutdown(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(testTimeout):
		t.Fatal("Shutdown did not return")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return")
	}
	for _, c := range conns {
		readUntilClosed(t, c)
	}
	waitFor(t, "server goroutines to exit", func() bool { return runtime.NumGoroutine() <= base })
	for r := reasonNone + 1; r < numReasons; r++ {
		if got := rejected(s, r); got != 0 {
			t.Errorf("rejected %s = %v after Shutdown, want 0", r, got)
		}
	}
	if err := s.Listen(); err == nil {
		t.Error("Listen after Shutdown succeeded")
	}
	s.Shutdown() // idempotent
}

func TestServeStopsWithContext(t *testing.T) {
	s, err := New(testOptions(t, Options{ListenAddresses: []string{"127.0.0.1:0"}}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }() // Serve listens by itself
	waitFor(t, "Serve to listen", func() bool { return s.Addrs() != nil })
	c := dial(t, addr(t, s))
	roundTrip(t, c, 1)

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return after cancel")
	}
	readUntilClosed(t, c)
}

// TestSlotFreeOnceClosed checks that a connection the server closes has
// given back its slot by the time its client sees the end of it: a client
// that reconnects at once, at MaxConnections, is served, not refused with
// reason "limit". Each round closes a connection for a bad magic, then
// dials again as soon as the first one reads EOF.
func TestSlotFreeOnceClosed(t *testing.T) {
	s, _ := startServer(t, Options{MaxConnections: 1}, nil)
	a := addr(t, s)
	const rounds = 200
	deadline := time.Now().Add(30 * time.Second)
	for i := range rounds {
		if time.Now().After(deadline) {
			t.Logf("stopped after %d rounds, at the time bound", i)
			break
		}
		waitConnections(t, s, 0) // the previous round's client closed its own
		first := dial(t, a)
		if _, err := first.Write([]byte("XXXXXXXX")); err != nil {
			t.Fatal(err)
		}
		readUntilClosed(t, first)
		second := dial(t, a)
		if err := exchange(second, uint64(i)); err != nil {
			t.Fatalf("round %d: the server had closed the only other connection, yet: %v; rejected_total{reason=\"limit\"} = %v",
				i, err, rejected(s, reasonLimit))
		}
		_ = first.Close()
		_ = second.Close()
	}
	if got := rejected(s, reasonLimit); got != 0 {
		t.Errorf("rejected_total{reason=\"limit\"} = %v, want 0", got)
	}
}
