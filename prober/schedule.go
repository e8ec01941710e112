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
	"hash/fnv"
	"math/rand/v2"
	"os"
	"time"
)

// schedule is a flow's timing, whichever loop runs it: the probe grid, the
// next dial and the reconnect backoff. Its methods are pure: they take the
// time and neither lock nor log.
type schedule struct {
	ticking  bool
	dialing  bool // a connection attempt is running
	nextTick time.Time
	redialAt time.Time
	backoff  time.Duration
	// retransSampled is when TCP_INFO was last read.
	retransSampled time.Time
	// ticks counts the probe slots passed, for Options.MaxProbes.
	ticks uint64
}

// never is a probe slot that does not come: after the last of
// Options.MaxProbes. A duration, not a zero time, so that every loop
// waits for it as for any other slot.
const never = 100 * 365 * 24 * time.Hour

func (s *schedule) init(p *Prober, now time.Time) {
	s.redialAt = now
	if !p.opts.NoSplay {
		s.redialAt = p.slot(now)
	}
	s.backoff = p.mod.ReconnectBackoff.D()
}

// hostname is this host's name, which every prober's phase includes.
var hostname, _ = os.Hostname()

// phaseOf hashes a prober's host and identity into its phase.
func phaseOf(host, name, address string) uint64 {
	h := fnv.New64a()
	for _, s := range []string{host, name, address} {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// slot returns the prober's first slot at or after t.
func (p *Prober) slot(t time.Time) time.Time { return slotAt(t, p.phase, p.mod.Interval.D()) }

// slotAt returns the first instant at or after t of the grid of instants
// whose Unix time is phase modulo iv. The result keeps t's monotonic clock
// reading: only the offset comes from the wall clock.
func slotAt(t time.Time, phase uint64, iv time.Duration) time.Time {
	if iv <= 0 {
		return t
	}
	n := int64(iv)
	off := (t.UnixNano()%n - int64(phase%uint64(n))) % n
	if off < 0 {
		off += n
	}
	if off == 0 {
		return t
	}
	return t.Add(time.Duration(n - off))
}

// tick moves to p's next slot at least half an interval after now: one
// interval after an on-time probe. Probes stay on the grid whenever the
// connection came up and however late the loop woke, so targets do not
// drift into bursts; if the loop fell behind (it was stalled), missed
// slots are skipped rather than sent in a burst. After the last probe of
// Options.MaxProbes the next slot is never.
func (s *schedule) tick(now time.Time, p *Prober) {
	if s.ticks++; s.ticks == 1 && p.opts.FromFirstProbe {
		// The grid goes through the first probe's slot. Only the
		// prober's own loop reads the phase.
		p.phase = uint64(now.UnixNano())
	}
	s.skip(now, p)
}

// skip moves to p's next slot as tick does, for a slot that a planned
// reconnect skips (refresh.go): neither sent nor counted, so not one of
// Options.MaxProbes either, which `ping -c` waits for the outcomes of.
func (s *schedule) skip(now time.Time, p *Prober) {
	if n := p.maxProbes(); n > 0 && s.ticks >= n {
		s.nextTick = now.Add(never)
		return
	}
	s.nextTick = p.slot(now.Add(p.mod.Interval.D() / 2))
}

// attemptEnded starts the probe schedule when the first connection
// attempt ends, so a target is never counted as timed out merely for
// still dialing: the first probe goes at once, the next on the grid.
func (s *schedule) attemptEnded(now time.Time) {
	if !s.ticking {
		s.ticking = true
		s.nextTick = now
	}
}

// dialDue reports whether a connection attempt should start now.
func (s *schedule) dialDue(now time.Time) bool { return !s.dialing && !now.Before(s.redialAt) }

// tickDue reports whether a probe is due with no connection to send it on.
func (s *schedule) tickDue(now time.Time) bool { return s.ticking && !now.Before(s.nextTick) }

// wakeDisconnected returns when a disconnected prober must next act: its
// next probe slot or its next dial, whichever is first; zero if neither.
func (s *schedule) wakeDisconnected() time.Time {
	var w time.Time
	if s.ticking {
		w = s.nextTick
	}
	if !s.dialing && (w.IsZero() || s.redialAt.Before(w)) {
		w = s.redialAt
	}
	return w
}

// redialLater sets the next dial one backoff step from now: the step
// doubles each time, up to max_reconnect_backoff, with up to 25 % of added
// jitter so many targets behind one failure do not retry in step.
func (s *schedule) redialLater(now time.Time, maxB time.Duration) {
	d := s.backoff + time.Duration(rand.Int64N(int64(s.backoff)/4+1))
	s.redialAt = now.Add(min(d, maxB))
	s.backoff = min(2*s.backoff, maxB)
}

// retransDue reports whether TCP_INFO should be read again.
func (s *schedule) retransDue(now time.Time) bool {
	return now.Sub(s.retransSampled) >= retransmitSampleEvery
}
