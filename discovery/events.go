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

package discovery

// What the discoverers send and log, as it reaches the Runner.

import (
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/prometheus/discovery/targetgroup"
)

// receive applies an update from the discoverer of s.
func (r *Runner) receive(s *source, tgs []*targetgroup.Group) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.removed {
		return
	}
	now := time.Now()
	r.metrics.manager.ReceivedUpdates.Inc()
	r.logTransitions(s, s.update(tgs, now))
	r.markDirty(now)
}

// report applies an error that the discoverer of s logged.
func (r *Runner) report(s *source, rec logRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.removed {
		return
	}
	now := time.Now()
	t, other := s.report(rec, now)
	if other {
		lvl := level.Debug
		if !s.warned[rec.msg] {
			s.warned[rec.msg] = true
			lvl = level.Warn
		}
		lvl(r.logger).Log("msg", "discovery source reports a problem", "discovery", s.entry, "source", s.id, "problem", rec.msg, "err", rec.attrs["err"])
		return
	}
	if t != nil {
		r.logTransitions(s, []transition{*t})
		r.markDirty(now)
	}
}

// stopped records that the discoverer of s returned on its own.
func (r *Runner) stopped(s *source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.removed {
		return
	}
	if t := s.stopped(time.Now()); t != nil {
		level.Error(r.logger).Log("msg", "discovery source stopped; its last good targets stand in", "discovery", s.entry, "source", s.id)
		r.markDirty(time.Now())
	}
}

// logTransitions logs the failures and recoveries of s: once per streak.
func (r *Runner) logTransitions(s *source, ts []transition) {
	for _, t := range ts {
		what := s.id
		if t.key != "" {
			what += " " + t.key
		}
		if t.recovered {
			level.Info(r.logger).Log("msg", "discovery source recovered", "discovery", s.entry, "source", what, "duration_seconds", t.duration.Seconds())
		} else {
			level.Warn(r.logger).Log("msg", "discovery source failing; its last good targets stand in", "discovery", s.entry, "source", what, "err", t.err)
		}
	}
}
