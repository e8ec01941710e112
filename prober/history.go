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
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// The prober's history (Options.History) sees what its counters see: a
// reply for every probe counted received, a loss for every one counted
// timed out (no reply in time, due while disconnected, in flight when the
// connection was lost), and for every reply counted late that loss undone
// (history.Recorder's Late): the history's loss is timeouts − late, the
// probes never answered, within the bound Late documents. record.go takes
// the counters before a change and notes the difference after it, under
// the prober's lock, so the history and the metrics cannot disagree
// however a change counts.

// tally is the part of the counters the history follows.
type tally struct{ received, timeouts, late uint64 }

// tally returns the counters the history follows.
func (s *state) tally() tally { return tally{s.received, s.timeouts, s.late} }

// noteHistory records at now what the state counted since before: the
// timeouts as losses, then the late replies as losses undone (a reply
// read after its deadline counts both at once), and a reply with the
// last RTT. The caller holds p.mu.
func (p *Prober) noteHistory(now time.Time, before tally) {
	if p.hist == nil {
		return
	}
	for range p.st.timeouts - before.timeouts {
		p.hist.Lost(now)
	}
	for range p.st.late - before.late {
		p.hist.Late(now)
	}
	if p.st.received != before.received { // one reply at a time
		p.hist.Reply(now, p.st.lastRTT)
	}
}

// History appends to dst the prober's history over [from, to), oldest
// slot first, and returns the extended slice (see history.Recorder's
// Snapshot); nothing if the prober keeps none. The prober's lock is held
// for the copy only.
func (p *Prober) History(dst []history.Point, from, to time.Time) []history.Point {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hist.Snapshot(dst, from, to)
}
