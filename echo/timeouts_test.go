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
	"math"
	"os"
	"testing"
	"time"
)

// The tests in this file are those of the timeout policy: first the pure
// function on its own, then over real sockets, where each engine applies it
// (TestGoroutineEngine runs them with the goroutine engine too).

func TestTimeoutsCheck(t *testing.T) {
	const (
		idle = 10 * time.Second
		wt   = 3 * time.Second
		t0   = 7 * time.Second // when the connection's last event happened
	)
	p := timeouts{idle: idle, write: wt}
	graced := connTimes{lastFrame: t0, graced: true, graceUntil: t0 + idle + idleGrace}
	tests := []struct {
		name       string
		times      connTimes
		now        time.Duration
		wantReason reason
		wantNext   time.Duration // when the connection is kept
		wantGrace  time.Duration // graceUntil afterwards; 0: not graced
	}{
		{"just opened", openedAt(t0), t0, reasonNone, t0 + idle, 0},
		{"before the idle deadline", openedAt(t0), t0 + idle - 1, reasonNone, t0 + idle, 0},
		{"idle deadline passed: the grace read begins", openedAt(t0), t0 + idle, reasonNone, t0 + idle + idleGrace, t0 + idle + idleGrace},
		{"found idle late: the grace counts from now", openedAt(t0), t0 + time.Hour, reasonNone, t0 + time.Hour + idleGrace, t0 + time.Hour + idleGrace},
		{"in the grace", graced, t0 + idle + idleGrace - 1, reasonNone, t0 + idle + idleGrace, t0 + idle + idleGrace},
		{"grace over", graced, t0 + idle + idleGrace, reasonIdle, 0, t0 + idle + idleGrace},
		{"write under way", connTimes{writing: true, writeStart: t0}, t0 + wt - 1, reasonNone, t0 + wt, 0},
		{"write timeout", connTimes{writing: true, writeStart: t0}, t0 + wt, reasonWriteTimeout, 0, 0},
		{"a write under way past the idle deadline is not idleness", connTimes{lastFrame: t0, writing: true, writeStart: t0 + idle - 1}, t0 + idle + 1, reasonNone, t0 + idle - 1 + wt, 0},
		{"a graced connection that writes", connTimes{lastFrame: t0, graced: true, graceUntil: t0 + idle + idleGrace, writing: true, writeStart: t0 + idle + 1}, t0 + idle + idleGrace, reasonNone, t0 + idle + 1 + wt, t0 + idle + idleGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, r, next := p.check(tt.times, tt.now)
			if r != tt.wantReason {
				t.Errorf("reason = %s, want %s", r, tt.wantReason)
			}
			if r == reasonNone && next != tt.wantNext {
				t.Errorf("next check at %v, want %v", next, tt.wantNext)
			}
			grace := time.Duration(0)
			if got.graced {
				grace = got.graceUntil
			}
			if grace != tt.wantGrace {
				t.Errorf("grace until %v, want %v", grace, tt.wantGrace)
			}
			if got.lastFrame != tt.times.lastFrame || got.writing != tt.times.writing || got.writeStart != tt.times.writeStart {
				t.Errorf("check changed the connection's events: %+v, was %+v", got, tt.times)
			}
		})
	}
}

// TestTimeoutsCheckHugeTimeouts: a timeout near the largest time.Duration
// (--echo.idle-timeout=2562047h) means "never", not a deadline that
// wrapped around into the past and makes the engines check again at once,
// forever.
func TestTimeoutsCheckHugeTimeouts(t *testing.T) {
	const huge = time.Duration(math.MaxInt64)
	p := timeouts{idle: huge, write: huge}
	const t0 = 7 * time.Second
	for _, tc := range []struct {
		name  string
		times connTimes
	}{
		{"idle", openedAt(t0)},
		{"write", connTimes{lastFrame: t0, writing: true, writeStart: t0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r, next := p.check(tc.times, t0+time.Second)
			if r != reasonNone || next != huge {
				t.Errorf("check = %s, next at %v; want kept, next at %v", r, next, huge)
			}
		})
	}
}

// timeoutStep is one event of a connection's life, or a check of the policy
// (do == "check") and what it must find.
type timeoutStep struct {
	at         time.Duration
	do         string // "write", "echoed" or "check"
	wantReason reason
	wantNext   time.Duration
}

// TestTimeoutsSequence drives the policy as an engine does, through the
// events of a connection's life and the checks between them.
func TestTimeoutsSequence(t *testing.T) {
	const (
		idle = time.Second
		wt   = 5 * time.Second
		s    = time.Second
	)
	p := timeouts{idle: idle, write: wt}
	tests := []struct {
		name  string
		steps []timeoutStep
	}{
		{"silent client: idle after the grace", []timeoutStep{
			{idle, "check", reasonNone, idle + idleGrace},
			{idle + idleGrace, "check", reasonIdle, 0},
		}},
		{"active client stays open", []timeoutStep{
			{s / 2, "echoed", 0, 0},
			{idle, "check", reasonNone, s/2 + idle},
			{idle + s/4, "echoed", 0, 0},
			{s/2 + idle, "check", reasonNone, idle + s/4 + idle},
		}},
		{"a frame in the grace keeps it open", []timeoutStep{
			{idle, "check", reasonNone, idle + idleGrace},
			{idle + idleGrace/2, "echoed", 0, 0},
			{idle + idleGrace, "check", reasonNone, idle + idleGrace/2 + idle},
			{idle + idleGrace/2 + idle, "check", reasonNone, idle + idleGrace/2 + idle + idleGrace},
			{idle + idleGrace/2 + idle + idleGrace, "check", reasonIdle, 0},
		}},
		{"time blocked writing is not idleness", []timeoutStep{
			{s / 10, "write", 0, 0},
			{idle, "check", reasonNone, s/10 + wt},
			{4 * s, "echoed", 0, 0},
			{4*s + idle - 1, "check", reasonNone, 4*s + idle},
			{4*s + idle, "check", reasonNone, 4*s + idle + idleGrace},
		}},
		{"a client that does not read", []timeoutStep{
			{s, "write", 0, 0},
			{s + wt - 1, "check", reasonNone, s + wt},
			{s + wt, "check", reasonWriteTimeout, 0},
		}},
		{"each write has its own timeout", []timeoutStep{
			{s, "write", 0, 0},
			{s + wt - 1, "echoed", 0, 0},
			{s + wt, "write", 0, 0},
			{s + 2*wt - 1, "check", reasonNone, s + 2*wt},
			{s + 2*wt, "check", reasonWriteTimeout, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openedAt(0)
			for i, st := range tt.steps {
				switch st.do {
				case "write":
					c.writeBegan(st.at)
				case "echoed":
					c.echoed(st.at)
				case "check":
					var r reason
					var next time.Duration
					c, r, next = p.check(c, st.at)
					if r != st.wantReason || (r == reasonNone && next != st.wantNext) {
						t.Fatalf("step %d, check at %v = %s, next %v; want %s, next %v",
							i, st.at, r, next, st.wantReason, st.wantNext)
					}
				default:
					t.Fatalf("step %d: unknown event %q", i, st.do)
				}
			}
		})
	}
}

// TestIdleTimeout checks that a silent client is closed after the idle
// timeout and an active one is not.
func TestIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	s, _ := startServer(t, Options{IdleTimeout: idle}, nil)
	a := addr(t, s)

	t.Run("silent connection is closed", func(t *testing.T) {
		c := dial(t, a)
		start := time.Now()
		readUntilClosed(t, c)
		if d := time.Since(start); d < idle/2 {
			t.Errorf("closed after %s, before the idle timeout %s", d, idle)
		}
		waitRejected(t, s, reasonIdle, 1)
	})

	t.Run("active connection stays open", func(t *testing.T) {
		c := dial(t, a)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		end := time.Now().Add(1200 * time.Millisecond)
		for seq := uint64(0); time.Now().Before(end); seq++ {
			roundTrip(t, c, seq)
			<-tick.C
		}
		roundTrip(t, c, 1000)
		if got := rejected(s, reasonIdle); got != 1 {
			t.Errorf("rejected idle = %v, want 1", got)
		}
	})
}

// TestNonReadingClient checks that a client that never reads its echoes is
// closed after the write timeout, without the server buffering for it and
// without stalling other clients.
func TestNonReadingClient(t *testing.T) {
	heapBefore := heapInuse()
	s, _ := startServer(t, Options{WriteTimeout: 300 * time.Millisecond}, nil)
	a := addr(t, s)
	good := dial(t, a)
	flood := dial(t, a)

	floodDone := make(chan error, 1)
	go func() {
		chunk := frames(1, 4096) // 96 KiB per write
		for {
			if _, err := flood.Write(chunk); err != nil {
				floodDone <- err
				return
			}
		}
	}()

	trips := 0
	for seq := uint64(0); rejected(s, reasonWriteTimeout) == 0 || trips < 3; seq++ {
		roundTrip(t, good, seq) // fails the test after testTimeout
		trips++
		time.Sleep(10 * time.Millisecond) // pace the well-behaved client
	}
	select {
	case err := <-floodDone:
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("flooding client was never closed: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("flooding client's write did not fail")
	}
	roundTrip(t, good, 1<<20)
	if got := rejected(s, reasonWriteTimeout); got != 1 {
		t.Errorf("rejected write_timeout = %v, want 1", got)
	}
	if grew := int64(heapInuse()) - int64(heapBefore); grew > 16<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
}

// TestHugeIdleTimeoutKeepsWriteTimeout: the largest --echo.idle-timeout
// (2562047h47m16s) must not stop the write timeout from closing a client
// that does not read while another client is quiet. lastFrame + idle
// wrapped around into the past, and the epoll worker, reckoning its next
// sweep from that, slept in epoll_wait until some other event came.
func TestHugeIdleTimeoutKeepsWriteTimeout(t *testing.T) {
	s, _ := startServer(t, Options{IdleTimeout: time.Duration(math.MaxInt64), WriteTimeout: 300 * time.Millisecond}, nil)
	a := addr(t, s)
	quiet := dial(t, a)
	roundTrip(t, quiet, 1)
	flood := dial(t, a)
	go func() {
		chunk := frames(1, 4096)
		for {
			if _, err := flood.Write(chunk); err != nil {
				return
			}
		}
	}()
	waitRejected(t, s, reasonWriteTimeout, 1) // fails the test after testTimeout
	roundTrip(t, quiet, 2)
}

// TestSlowReaderIsNotIdle checks that time the server spends blocked
// writing to a client that reads slowly is not taken for the client's
// idleness: a client that keeps sending and then reads again must not be
// closed as idle. The idle timeout is shorter than the write timeout here,
// as --echo.idle-timeout below the (fixed 5s) write timeout makes it.
func TestSlowReaderIsNotIdle(t *testing.T) {
	const idle = 300 * time.Millisecond
	s, _ := startServer(t, Options{IdleTimeout: idle, WriteTimeout: 5 * time.Second}, nil)
	// A normal receive buffer: a tiny one makes loopback TCP crawl once
	// the client reads again, and the server's write would time out.
	c, err := hostileDial(addr(t, s), "", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	// Phase 1, one second: send without reading until the server is
	// blocked writing echoes we do not read and our writes block too,
	// then wait out the second. Bounded: at most 256 MiB.
	chunk := frames(1, 2048)
	blockedAt := time.Time{}
	end := time.Now().Add(time.Second)
	sent := 0
	for blockedAt.IsZero() && sent < 256<<20 && time.Now().Before(end) {
		_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := c.Write(chunk)
		sent += n
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			blockedAt = time.Now()
		case err != nil:
			t.Fatalf("phase 1 write: %v", err)
		}
	}
	if blockedAt.IsZero() {
		t.Fatal("the server never stopped reading: the test did not fill the buffers")
	}
	time.Sleep(max(time.Until(end), 2*idle))
	// Phase 2, one second: read everything, and keep sending a frame
	// every 10 ms. The client is as active as a client can be.
	readErr := make(chan error, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(testTimeout))
		_, err := io.Copy(io.Discard, c)
		readErr <- err
	}()
	// The write that hit its deadline may have stopped inside a frame:
	// finish that frame first, or the stream is misaligned and the server
	// rightly closes it for bad magic.
	if off := sent % len(chunk); off%24 != 0 {
		_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
		if _, err := c.Write(chunk[off : off+24-off%24]); err != nil {
			t.Fatalf("finishing the split frame: %v", err)
		}
	}
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		_ = c.SetWriteDeadline(time.Now().Add(testTimeout))
		if _, err := c.Write(frame(9)); err != nil {
			break // closed under us: reported below
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := rejected(s, reasonIdle); got != 0 {
		t.Errorf("rejected_total{reason=\"idle\"} = %v: a client that kept sending was closed as idle "+
			"(the read deadline passed while the server was blocked in its own write)", got)
	}
	select {
	case err := <-readErr:
		t.Errorf("server closed the connection of an active client (%v); rejected: idle %v, write_timeout %v, bad_magic %v",
			err, rejected(s, reasonIdle), rejected(s, reasonWriteTimeout), rejected(s, reasonBadMagic))
	default:
	}
}
