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
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestScanFrames(t *testing.T) {
	good := frames(1, 3)
	bad := frame(9)
	bad[3] = 'X'
	tests := []struct {
		name    string
		in      []byte
		wantEnd int
		wantOK  bool
	}{
		{"empty", nil, 0, true},
		{"partial magic", good[:5], 0, true},
		{"partial frame", good[:23], 0, true},
		{"one frame", good[:24], 24, true},
		{"frames and a partial", good[:60], 48, true},
		{"three frames", good, 72, true},
		{"bad first byte", []byte("G"), 0, false},
		{"bad partial after frames", append(good[:48:48], bad[:4]...), 48, false},
		{"bad partial magic, undecided yet", append(good[:48:48], bad[:3]...), 48, true},
		{"bad frame between good ones", append(append(good[:24:24], bad...), good[24:]...), 24, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end, ok := scanFrames(tt.in)
			if end != tt.wantEnd || ok != tt.wantOK {
				t.Errorf("scanFrames = %d, %v; want %d, %v", end, ok, tt.wantEnd, tt.wantOK)
			}
		})
	}
}

func TestCountWritten(t *testing.T) {
	v1 := stream{proto: protoV1}
	offered := stream{proto: protoExt, lead: 24}                 // the offer, and no frame yet
	ext := stream{proto: protoExt, extLen: 100}                  // 100-byte frames
	offeredExt := stream{proto: protoExt, extLen: 100, lead: 24} // the offer, then 100-byte frames
	tests := []struct {
		name   string
		st     stream
		left   int   // bytes of echoes to write, ending on a frame boundary
		writes []int // the bytes each write takes
		want   []int // the frames counted after each
	}{
		{"v1, whole", v1, 48, []int{48}, []int{2}},
		{"v1, nothing written", v1, 48, []int{0}, []int{0}},
		{"v1, 23 bytes", v1, 48, []int{23}, []int{0}},
		{"v1, 24 bytes", v1, 48, []int{24}, []int{1}},
		{"v1, 30 bytes", v1, 48, []int{30}, []int{1}},
		{"v1, the rest of a frame begun earlier", v1, 18, []int{18}, []int{1}},
		{"v1, 17 of 42", v1, 42, []int{17}, []int{0}},
		{"v1, 18 of 42", v1, 42, []int{18}, []int{1}},
		{"v1, 42 of 42", v1, 42, []int{42}, []int{2}},
		{"v1, in pieces", v1, 72, []int{10, 20, 20, 22}, []int{0, 1, 2, 3}},
		{"offer alone", offered, 24, []int{24}, []int{1}},
		{"offer in pieces", offered, 24, []int{10, 13, 1}, []int{0, 0, 1}},
		{"extended, whole", ext, 300, []int{300}, []int{3}},
		{"extended, in pieces", ext, 300, []int{99, 1, 150, 50}, []int{0, 1, 2, 3}},
		{"offer and extended, whole", offeredExt, 224, []int{224}, []int{3}},
		{"offer and extended, in pieces", offeredExt, 224, []int{10, 20, 93, 1, 100}, []int{0, 1, 1, 2, 3}},
		{"offer and extended, the offer and more", offeredExt, 224, []int{124, 100}, []int{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Options{ListenAddresses: []string{"127.0.0.1:0"}}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			st, left := tt.st, tt.left
			for i, n := range tt.writes {
				s.countWritten(&st, left, n)
				left -= n
				if got := testutil.ToFloat64(s.m.frames); got != float64(tt.want[i]) {
					t.Fatalf("after writes %v: %v frames counted, want %d", tt.writes[:i+1], got, tt.want[i])
				}
			}
		})
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestNoLeaks opens and closes 1000 connections and checks that goroutines
// and file descriptors return to their level before.
func TestNoLeaks(t *testing.T) {
	const (
		conns    = 1000
		parallel = 8
	)
	s, _ := startServer(t, Options{}, nil)
	a := addr(t, s)
	baseG, baseFD := runtime.NumGoroutine(), openFDs()

	next := make(chan uint64)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for seq := range next {
				if err := echoOnce(a, seq); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range uint64(conns) {
		next <- i
	}
	close(next)
	wg.Wait()

	waitFor(t, "goroutines and fds back to their level", func() bool {
		return runtime.NumGoroutine() <= baseG+2 && openFDs() <= baseFD+2
	})
	waitConnections(t, s, 0)
	if got := testutil.ToFloat64(s.m.accepted); got != conns {
		t.Errorf("accepted = %v, want %d", got, conns)
	}
	if got := testutil.ToFloat64(s.m.frames); got != conns {
		t.Errorf("frames = %v, want %d", got, conns)
	}
}

// echoOnce dials, exchanges one frame and hangs up; it is safe to call from
// any goroutine.
func echoOnce(address string, seq uint64) error {
	c, err := net.DialTimeout("tcp", address, testTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		return err
	}
	return exchange(c, seq)
}

// openFDs counts this process's open file descriptors, or returns 0 where
// /proc is missing (the check then holds trivially).
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(entries)
}

// BenchmarkEchoFrame measures one frame's round trip through the server over
// loopback: one write, one read on each side. The client is in the server's
// process: with goroutines per connection the Go scheduler can run the
// server's goroutine on the client's thread, with no wake-up, which a real
// client never gets; the epoll engine's worker thread must be woken. For the
// latency and CPU a real client sees, run bench/floor/pinger against the
// binary, or BenchmarkEchoCPU.
func BenchmarkEchoFrame(b *testing.B) {
	s, _ := startServer(b, Options{}, nil)
	c := dial(b, addr(b, s))
	_ = c.SetDeadline(time.Now().Add(time.Hour))
	out, in := frame(1), make([]byte, 24)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(out); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEchoFramePipelined measures throughput with the client writing
// frames in batches of 64 while a second goroutine reads the echoes; one op
// is one frame.
func BenchmarkEchoFramePipelined(b *testing.B) {
	const batch = 64
	s, _ := startServer(b, Options{}, nil)
	c := dial(b, addr(b, s))
	_ = c.SetDeadline(time.Now().Add(time.Hour))
	chunk := frames(1, batch)
	b.ReportAllocs()
	b.ResetTimer()
	written := make(chan error, 1)
	go func() {
		for sent := 0; sent < b.N; sent += batch {
			if _, err := c.Write(chunk[:min(batch, b.N-sent)*24]); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	buf := make([]byte, 4096)
	for left := b.N * 24; left > 0; {
		n, err := c.Read(buf[:min(len(buf), left)])
		if err != nil {
			b.Fatal(err)
		}
		left -= n
	}
	if err := <-written; err != nil {
		b.Fatal(err)
	}
}

func BenchmarkScanFrames(b *testing.B) {
	buf := frames(1, readBufferSize/24)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if end, ok := scanFrames(buf); end != len(buf) || !ok {
			b.Fatal("bad scan")
		}
	}
}
