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

package testenv

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHeldEchoServer pipelines 50 frames, 2 ms apart, to a server holding
// each 30 ms ± 5 ms that drops frame 10: the others come back unchanged
// and in order, none before 25 ms, the drop is reported with the frame's
// arrival, and all are back in far less time than 50 holds one after the
// other (the server keeps reading while replies wait).
func TestHeldEchoServer(t *testing.T) {
	const (
		n      = 50
		hold   = 30 * time.Millisecond
		jitter = 5 * time.Millisecond
		drop   = 10
		gap    = 2 * time.Millisecond
	)
	dropped := make(chan time.Time, 1)
	var written atomic.Int32
	addr := HeldEchoServer(t, HeldEcho{
		Hold:    func() time.Duration { return hold - jitter + rand.N(2*jitter+1) },
		Drop:    drop,
		Dropped: func(at time.Time) { dropped <- at },
		Written: func(time.Duration) { written.Add(1) },
	})
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))

	var (
		mu   sync.Mutex
		sent [n + 1]time.Time
	)
	sentAt := func(seq int) time.Time {
		mu.Lock()
		defer mu.Unlock()
		return sent[seq]
	}
	writeErr := make(chan error, 1)
	go func() {
		tk := time.NewTicker(gap)
		defer tk.Stop()
		for seq := 1; seq <= n; seq++ {
			<-tk.C
			mu.Lock()
			sent[seq] = time.Now()
			mu.Unlock()
			if _, err := c.Write(v1Frame(uint64(seq))); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	got := make([]byte, 24)
	var first, last time.Time
	want := 1
	for range n - 1 {
		if want == drop {
			want++
		}
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("reading the echo of frame %d: %v", want, err)
		}
		at := time.Now()
		if !bytes.Equal(got, v1Frame(uint64(want))) {
			t.Fatalf("echo %x, want frame %d unchanged: %x", got, want, v1Frame(uint64(want)))
		}
		// The frame was written after sentAt(want), so before its echo.
		if rtt := at.Sub(sentAt(want)); rtt < hold-jitter {
			t.Errorf("frame %d back after %v, before its least hold %v", want, rtt, hold-jitter)
		}
		if first.IsZero() {
			first = sentAt(want)
		}
		last = at
		want++
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-dropped:
		if at.Before(sentAt(drop)) {
			t.Errorf("frame %d reported dropped at %v, before it was sent at %v", drop, at, sentAt(drop))
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("frame %d: no report of its drop", drop)
	}
	// One after the other, 49 holds would take at least 49 × 25 ms.
	if took := last.Sub(first); took >= (n-1)*(hold-jitter) {
		t.Errorf("49 echoes took %v: the server does not read while replies wait", took)
	}
	_ = c.SetReadDeadline(time.Now().Add(hold + jitter + 200*time.Millisecond))
	if _, err := c.Read(got); err == nil {
		t.Errorf("frame %d came back: %x", drop, got)
	}
	if w := written.Load(); w != n-1 {
		t.Errorf("Written reported %d echoes, want %d", w, n-1)
	}
}
