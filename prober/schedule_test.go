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
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

func TestSlotAt(t *testing.T) {
	const iv = 100 * time.Millisecond
	base := time.Now()
	for _, phase := range []uint64{0, 1, 12_345_678, 99_999_999, 1 << 63, ^uint64(0)} {
		want := int64(phase % uint64(iv))
		for _, d := range []time.Duration{0, 1, 37 * time.Millisecond, iv - 1, iv, 5*iv + 3} {
			from := base.Add(d)
			got := slotAt(from, phase, iv)
			if gap := got.Sub(from); gap < 0 || gap >= iv {
				t.Errorf("phase %d from +%v: slot %v later, want within [0, %v)", phase, d, gap, iv)
			}
			if off := got.UnixNano() % int64(iv); off != want {
				t.Errorf("phase %d from +%v: slot at %d ns into the interval, want %d", phase, d, off, want)
			}
			if again := slotAt(got, phase, iv); !again.Equal(got) {
				t.Errorf("phase %d: a slot's slot moved by %v", phase, again.Sub(got))
			}
		}
	}
}

// TestPhaseOf checks what a prober's slot is hashed from: the same host
// and target always give the same phase, and two hosts probing the same
// targets get different ones, so a fleet of exporters probing one echo
// server does not send in lockstep.
func TestPhaseOf(t *testing.T) {
	const iv = uint64(time.Second)
	same := 0
	for i := range 1000 {
		name, addr := fmt.Sprintf("t%d", i), fmt.Sprintf("10.0.%d.%d:4000", i/256, i%256)
		a, b := phaseOf("host-a", name, addr), phaseOf("host-b", name, addr)
		if again := phaseOf("host-a", name, addr); again != a {
			t.Fatalf("%s: phase %d, then %d", name, a, again)
		}
		if a%iv == b%iv {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of 1000 targets share their slot on two hosts", same)
	}
	if phaseOf("a", "bc", "d") == phaseOf("ab", "c", "d") {
		t.Error("host and name run together: (a, bc) and (ab, c) hash alike")
	}
}

func TestTickStaysOnTheGrid(t *testing.T) {
	const iv = time.Second
	p := New(Options{Name: "t", Address: "127.0.0.1:1", Module: testModule(iv, time.Second, false)}, nil)
	p.phase = 250_000_000
	var s schedule
	slot := p.slot(time.Now())
	for _, tt := range []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"on time", slot, slot.Add(iv)},
		{"woken late", slot.Add(3 * time.Millisecond), slot.Add(iv)},
		{"first probe just before a slot", slot.Add(-time.Millisecond), slot.Add(iv)},
		{"first probe just after a slot", slot.Add(time.Millisecond), slot.Add(iv)},
		{"stalled for 3.7 intervals", slot.Add(37 * iv / 10), slot.Add(5 * iv)},
	} {
		s.tick(tt.now, p)
		if !s.nextTick.Equal(tt.want) {
			t.Errorf("%s: next probe %v after the slot, want %v", tt.name, s.nextTick.Sub(slot), tt.want.Sub(slot))
		}
	}
}

// TestProbesKeepTheirSlots starts probers whose connections come up
// together, and drops each connection after a few probes: after the first
// probe of each connection, which goes at once, every probe leaves in the
// prober's own slot of the interval, as the send time in its frame shows.
//
// A probe may leave late when the machine is busy (a loaded CI runner
// woke the loop 69 ms late once), so the tolerance is a third of the
// interval: a prober that timed its probes from its connection instead
// would put each connection's probes at a random offset from its slot,
// and 8 connections all within a third of the interval of theirs is a
// chance of (1/3)^8.
func TestProbesKeepTheirSlots(t *testing.T) {
	const (
		iv     = 300 * time.Millisecond
		frames = 4 // per connection
		tol    = iv / 3
	)
	m := testModule(iv, 200*time.Millisecond, false)
	m.ReconnectBackoff = config.Duration(20 * time.Millisecond)
	type conn struct{ ts []int64 } // the send times of its frames
	var mu sync.Mutex
	got := make([][]*conn, 4) // by prober
	probers := make([]*Prober, len(got))
	for i := range probers {
		srv := startServer(t, func(c net.Conn) {
			k := &conn{}
			mu.Lock()
			got[i] = append(got[i], k)
			mu.Unlock()
			for n := 0; n < frames; {
				f, err := readFrame(c)
				if err != nil {
					return
				}
				if bytes.Equal(f, testHello) { // not a probe
					if _, err := c.Write(f); err != nil {
						return
					}
					continue
				}
				n++
				mu.Lock()
				k.ts = append(k.ts, int64(binary.LittleEndian.Uint64(f[16:])))
				mu.Unlock()
				if _, err := c.Write(f); err != nil {
					return
				}
			}
			// Then the connection is dropped and the prober redials.
		})
		probers[i] = New(Options{Name: fmt.Sprint("slot", i), Address: srv.addr(), ModuleName: "test", Module: m, NoSplay: true}, nil)
	}
	e := testEngine(t)
	for _, p := range probers {
		p.startOn(t.Context(), e)
		t.Cleanup(p.Stop)
	}
	waitFor(t, "two connections per prober, each probed to the end", 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, cs := range got {
			if len(cs) < 2 || len(cs[1].ts) < frames {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for i, p := range probers {
		for j, c := range got[i][:2] {
			for k, ts := range c.ts[1:] {
				if !onSlot(ts, p.phase, iv, tol) {
					t.Errorf("prober %d, connection %d: probe %d at %v into the interval, want %v (+%v)",
						i, j+1, k+2, time.Duration(ts%int64(iv)), time.Duration(p.phase%uint64(iv)), tol)
				}
			}
		}
	}
}

// onSlot reports whether Unix time ts is at most tol after a slot of the
// grid of phase and iv.
func onSlot(ts int64, phase uint64, iv, tol time.Duration) bool {
	off := (ts - int64(phase%uint64(iv))) % int64(iv) // ts, Unix time now, is the larger
	return time.Duration(off) <= tol
}

// TestRedialBackoff checks the reconnect schedule step by step: each dial
// after a failure waits the backoff, which starts at reconnect_backoff
// and doubles, with up to 25 % jitter added, and neither the step nor the
// wait ever exceeds max_reconnect_backoff.
func TestRedialBackoff(t *testing.T) {
	const (
		first = 20 * time.Millisecond
		maxB  = 160 * time.Millisecond
	)
	s := schedule{backoff: first}
	now := time.Unix(1_000_000, 0)
	want := first
	for i := range 10 {
		s.redialLater(now, maxB)
		wait := s.redialAt.Sub(now)
		if lo, hi := want, min(want+want/4, maxB); wait < lo || wait > hi {
			t.Errorf("attempt %d: redial after %v, want within [%v, %v] (backoff %v, max_reconnect_backoff %v)",
				i+1, wait, lo, hi, want, maxB)
		}
		want = min(2*want, maxB)
		if s.backoff != want {
			t.Errorf("attempt %d: next backoff %v, want %v", i+1, s.backoff, want)
		}
		now = s.redialAt
	}
}
