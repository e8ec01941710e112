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

package history

import (
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"
)

// TestLateRepliesAreNotLoss records a slot of probes of which some time
// out and then some of those are answered late, beside a reference that
// gets the same replies and only the probes never answered as lost: the
// slot's loss is timeouts − late replies, its probe count is unchanged,
// and its RTT quantiles are exactly the reference's, in the open slot
// and once it is closed (a late reply has no RTT: it must neither enter
// the reservoir nor shift which sample the next reply replaces).
func TestLateRepliesAreNotLoss(t *testing.T) {
	for _, tt := range []struct {
		name   string
		probes int // in the slot (exact counts up to 127); beyond 64 RTTs the reservoir samples
	}{{"a probe a second", 60}, {"two a second, sampled", 120}} {
		t.Run(tt.name, func(t *testing.T) {
			_, r := newTestRecorder(t)
			_, ref := newTestRecorder(t)
			rng := rand.New(rand.NewPCG(3, 4))
			step := time.Minute / time.Duration(tt.probes)
			timeouts, late := 0, 0
			for i := range tt.probes {
				at := t0.Add(time.Duration(i) * step)
				switch {
				case i%6 == 1: // times out, answered late a moment later
					r.Lost(at)
					r.Late(at.Add(step / 2))
					timeouts++
					late++
				case i%6 == 4: // times out, never answered
					r.Lost(at)
					ref.Lost(at)
					timeouts++
				default:
					rtt := ms(2) + time.Duration(rng.IntN(30_000))*time.Microsecond
					r.Reply(at, rtt)
					ref.Reply(at, rtt)
				}
			}
			check := func(state string, got, want []Point) {
				t.Helper()
				if len(got) != 1 || len(want) != 1 {
					t.Fatalf("%s: %d and %d points, want one each", state, len(got), len(want))
				}
				g, w := got[0], want[0]
				if g.Sent != tt.probes || g.Lost != timeouts-late || !g.Timed() {
					t.Errorf("%s: %d sent, %d lost, timed %v; want %d sent, %d lost (%d timeouts − %d late)",
						state, g.Sent, g.Lost, g.Timed(), tt.probes, timeouts-late, timeouts, late)
				}
				if g.Sent != w.Sent+late || g.RTT != w.RTT {
					t.Errorf("%s: %d sent, quantiles %v; the reference without the late ones: %d sent, %v",
						state, g.Sent, g.RTT, w.Sent, w.RTT)
				}
			}
			check("open", r.Snapshot(nil, t0, t0.Add(time.Minute)), ref.Snapshot(nil, t0, t0.Add(time.Minute)))
			r.Reply(t0.Add(time.Minute), ms(1)) // closes the slot
			ref.Reply(t0.Add(time.Minute), ms(1))
			check("closed", r.Snapshot(nil, t0, t0.Add(time.Minute)), ref.Snapshot(nil, t0, t0.Add(time.Minute)))
		})
	}
}

// TestLateReplyAfterItsSlotClosed checks the bound of Late: a reply that
// comes after the slot of its probe's timeout has closed leaves the loss
// there, and changes nothing in the slot it comes in.
func TestLateReplyAfterItsSlotClosed(t *testing.T) {
	_, r := newTestRecorder(t)
	for i := range 59 {
		r.Reply(t0.Add(time.Duration(i)*time.Second), ms(5))
	}
	r.Lost(t0.Add(59*time.Second + 900*time.Millisecond))
	r.Late(t0.Add(time.Minute + 100*time.Millisecond)) // its answer, in the next slot
	r.Reply(t0.Add(time.Minute+time.Second), ms(5))
	pts := r.Snapshot(nil, t0, t0.Add(2*time.Minute))
	if len(pts) != 2 {
		t.Fatalf("%d points, want 2", len(pts))
	}
	if p := pts[0]; p.Sent != 60 || p.Lost != 1 {
		t.Errorf("closed slot: %d sent, %d lost; want its 60 probes and its loss, 1", p.Sent, p.Lost)
	}
	if p := pts[1]; p.Sent != 1 || p.Lost != 0 || p.Received() != 1 {
		t.Errorf("open slot: %d sent, %d lost; want the one reply only", p.Sent, p.Lost)
	}
	// A late reply with no loss to undo in the open slot is not counted
	// at all, there or anywhere.
	r.Late(t0.Add(time.Minute + 2*time.Second))
	if p := r.Snapshot(nil, t0.Add(time.Minute), t0.Add(2*time.Minute))[0]; p.Sent != 1 || p.Lost != 0 {
		t.Errorf("open slot after a late reply with nothing to undo: %d sent, %d lost; want 1 and 0", p.Sent, p.Lost)
	}
}

// TestSlotOfLateRepliesOnly checks a slot whose every probe timed out and
// was answered late: none lost, none timed, open and once closed; the
// next slot's replies are timed as usual.
func TestSlotOfLateRepliesOnly(t *testing.T) {
	_, r := newTestRecorder(t)
	for i := range 30 {
		at := t0.Add(time.Duration(i) * 2 * time.Second)
		r.Lost(at)
		r.Late(at.Add(time.Second))
	}
	check := func(state string) {
		t.Helper()
		pts := r.Snapshot(nil, t0, t0.Add(time.Minute))
		if len(pts) != 1 {
			t.Fatalf("%s: %d points, want 1", state, len(pts))
		}
		if p := pts[0]; p.Sent != 30 || p.Lost != 0 || p.Received() != 30 || p.Timed() || p.RTT != ([NumQuantiles]time.Duration{}) {
			t.Errorf("%s: %+v; want 30 probes, none lost, no RTT", state, p)
		}
	}
	check("open")
	r.Reply(t0.Add(time.Minute), ms(3))
	check("closed")
	if p := r.Snapshot(nil, t0.Add(time.Minute), t0.Add(2*time.Minute))[0]; !p.Timed() || codesApart(p.RTT[P50], ms(3)) > 0.5 {
		t.Errorf("the next slot: %+v; want its reply's 3ms", p)
	}
}

// TestLateBeforeAnyProbe checks that a late reply on a Recorder that has
// recorded nothing, or on a nil one, records nothing.
func TestLateBeforeAnyProbe(t *testing.T) {
	_, r := newTestRecorder(t)
	r.Late(t0)
	if r.blk != nil || len(r.Snapshot(nil, t0, t0.Add(time.Minute))) != 0 {
		t.Error("a late reply with no probe before it started a history")
	}
	var none *Recorder
	none.Late(t0)
}

// TestRecorderSize checks that a Recorder stays 64 bytes on the heap (the
// late count fills padding): 10 000 targets' histories are measured with
// it (TestMemoryPerTarget).
func TestRecorderSize(t *testing.T) {
	if got := unsafe.Sizeof(Recorder{}); got != 64 {
		t.Errorf("a Recorder is %d bytes, want 64", got)
	}
}
