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
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/offheap"
)

// reservoirSize is the number of RTTs a Recorder keeps of its open slot
// to work out the slot's quantiles: all of them at a probe a second and
// one-minute slots, a uniform sample of them at higher rates.
const reservoirSize = 64

// reservoirWords is the number of 64-bit words the reservoir's 16-bit
// codes take.
const reservoirWords = reservoirSize / 4

// MaxSpan is the longest history a Pool keeps, the most --web.history
// takes: a week. A Recorder's block grows with the span, 8 bytes a slot
// (79 KiB for a week of one-minute slots, for each target and flow, taken
// at its first probe), and the graphs' time axis, ticked at most once a
// day, is drawn for about a week. Older RTTs are Prometheus' to keep.
const MaxSpan = 7 * 24 * time.Hour

// Pool hands out Recorders that share its settings and its memory. A
// process needs one, made from --web.history; a nil Pool, or one whose
// span is 0, hands out nil Recorders, which record nothing and keep no
// memory. A Pool is safe for concurrent use.
type Pool struct {
	slot  time.Duration
	slots int // per Recorder, the open one included
	codec *codec

	mu   sync.Mutex
	mem  *offheap.Arena // where blocks come from
	free [][]uint64     // blocks of Recorders that are garbage
}

// NewPool returns a Pool whose Recorders keep span of history, in slots
// of length slot (the landing page uses time.Minute). It panics if slot
// is not positive. A span of 0 (or less) disables history; span is at
// most MaxSpan.
//
// Each Recorder then takes 8 bytes per slot (span/slot of them, the open
// one included) and 128 bytes of reservoir once it has recorded something.
func NewPool(span, slot time.Duration) *Pool {
	if slot <= 0 {
		panic(fmt.Sprintf("history: slot length %v, want > 0", slot))
	}
	p := &Pool{slot: slot}
	if span <= 0 {
		return p
	}
	// A window of the whole span holds span/slot slots, the open one
	// included (a slot is in the window it starts in: Point.In).
	p.slots = int((span + slot - 1) / slot)
	p.codec = newCodec()
	p.mem = new(offheap.Arena)
	// The Pool is garbage only once every Recorder is and has given its
	// block back (their cleanups refer to the Pool): the arena can go.
	runtime.AddCleanup(p, (*offheap.Arena).Free, p.mem)
	return p
}

// Slot returns the length of a slot, 0 for a nil Pool.
func (p *Pool) Slot() time.Duration {
	if p == nil {
		return 0
	}
	return p.slot
}

// Span returns how far back a Recorder's history reaches: whole slots,
// at least the span NewPool was given; 0 if history is disabled.
func (p *Pool) Span() time.Duration {
	if p == nil || p.slots == 0 {
		return 0
	}
	return time.Duration(p.slots) * p.slot
}

// NewRecorder returns a Recorder that keeps its history in p, or nil if
// p is nil or its span is 0. The Recorder takes its memory at its first
// probe, and gives it back to p when it is garbage.
func (p *Pool) NewRecorder() *Recorder {
	if p == nil || p.slots == 0 {
		return nil
	}
	return &Recorder{p: p}
}

// get returns a zeroed block: the slot ring, then the reservoir.
func (p *Pool) get() []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		clear(b)
		return b
	}
	return offheap.Make[uint64](p.mem, p.slots+reservoirWords)
}

// put takes back the block of a Recorder that is garbage.
func (p *Pool) put(b []uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, b)
}

// index returns the index of the slot t falls in: slots are aligned on
// multiples of the slot length in Unix time, so that every target's
// slots, and the graphs' windows, line up.
func (p *Pool) index(t time.Time) int64 {
	ns, d := t.UnixNano(), int64(p.slot)
	k := ns / d
	if ns%d < 0 {
		k--
	}
	return k
}

// start returns the start of slot k.
func (p *Pool) start(k int64) time.Time { return time.Unix(0, k*int64(p.slot)).UTC() }
