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

// From every entry's sources to the update the consumer gets: relabeling,
// exclude_self, peers, then one target per (module, address) across
// entries, the earlier entry winning.

import (
	"net"
	"reflect"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/tcpping/tcpping_exporter/config"
)

// publish computes every entry's targets, sets the metrics, and hands the
// update to OnUpdate if the targets changed; r.pubMu is held, r.mu is not.
func (r *Runner) publish(now time.Time) {
	addrs, addrErr := r.self.InterfaceAddrs()
	r.mu.Lock()
	if addrErr != nil {
		// exclude_self then finds nothing: the exporter probes itself,
		// which shows, rather than dropping targets it should probe.
		level.Warn(r.logger).Log("msg", "cannot list this host's addresses; exclude_self finds nothing", "err", addrErr)
	}
	u, changed := r.compute(now, addrs)
	r.mu.Unlock()
	if changed {
		r.onUpdate(u)
	}
}

// compute builds the update for now and reports whether it differs from
// the last one published, which it then becomes; r.mu is held.
func (r *Runner) compute(now time.Time, addrs []net.Addr) (Update, bool) {
	r.dirtyAt, r.dirtyLast = time.Time{}, time.Time{}
	self := newSelfSet(addrs, r.self.EchoPorts)
	// A prober is keyed by config.ProbeKey (module, address): a static
	// target wins over a discovered one, and an earlier entry over a
	// later one; the prober Manager decides by the same key. An entry's
	// targets, and the count of them, are what it probes.
	taken := map[config.ProbeKey]bool{}
	if r.cfg != nil {
		for _, t := range r.cfg.Targets {
			taken[t.ProbeKey()] = true
		}
	}
	entries := make([]Entry, 0, len(r.entries))
	for _, e := range r.entries {
		if !e.waiting(now) {
			e.own = r.entryTargets(e, self)
		}
		var mine []config.Target
		for _, t := range e.own {
			key := t.ProbeKey()
			if !taken[key] {
				taken[key] = true
				mine = append(mine, t)
			}
		}
		entries = append(entries, Entry{Name: e.cfg.Name, Targets: mine})
		r.metrics.targets.WithLabelValues(e.cfg.Name).Set(float64(len(mine)))
		failing := 0.0
		for _, s := range e.sources {
			if len(s.failing) > 0 {
				failing = 1
			}
		}
		r.metrics.failing.WithLabelValues(e.cfg.Name).Set(failing)
	}
	if reflect.DeepEqual(entries, r.last) {
		return Update{}, false
	}
	r.logChanges(entries)
	r.last = entries
	r.seq++
	r.metrics.manager.SentUpdates.Inc()
	for _, e := range entries {
		r.metrics.manager.LastUpdated.WithLabelValues(e.Name).SetToCurrentTime()
	}
	return Update{Seq: r.seq, Entries: entries}, true
}

// entryTargets computes what entry e probes from its sources' last good
// groups, and sets its Prometheus and rejection metrics; r.mu is held.
func (r *Runner) entryTargets(e *entry, self selfSet) []config.Target {
	var groups []*targetgroup.Group
	for _, s := range e.sources {
		groups = append(groups, s.sortedGroups()...)
	}
	// After the new sources' own: where both have a target, theirs wins.
	groups = append(groups, e.standingIn()...)
	b := buildTargets(groups, e.cfg, r.cfg.Modules)
	r.metrics.manager.DiscoveredTargets.WithLabelValues(e.cfg.Name).Set(float64(b.found))
	rejected := map[string]int{}
	first := map[string]rejection{}
	for _, rej := range b.rejected {
		if rejected[rej.reason] == 0 {
			first[rej.reason] = rej
		}
		rejected[rej.reason]++
		level.Debug(r.logger).Log("msg", "discovered target rejected", "discovery", e.cfg.Name, "reason", rej.reason, "err", rej.err, "labels", rej.labels)
	}
	for _, reason := range reasons {
		n := rejected[reason]
		r.metrics.rejected.WithLabelValues(e.cfg.Name, reason).Set(float64(n))
		if n > e.rejected[reason] {
			// Said once at Warn when more are rejected than at the last
			// publication (a source's refresh republishes the same every
			// time), with the first as an example; each at Debug.
			rej := first[reason]
			level.Warn(r.logger).Log("msg", "discovered targets rejected", "discovery", e.cfg.Name, "reason", reason,
				"count", n, "first_err", rej.err, "first_labels", rej.labels)
		}
	}
	e.rejected = rejected
	targets := b.targets
	var selves []config.Target
	if e.cfg.ExcludeSelf {
		targets, selves = excludeSelf(targets, self)
	}
	targets = selectPeers(targets, place(selves, r.self.MeshID), e.cfg.Peers)
	sortTargets(targets)
	if len(targets) == 0 {
		return nil
	}
	return targets
}

// logChanges logs, for each entry whose targets changed since the last
// update, how many it has and how many came and went.
func (r *Runner) logChanges(entries []Entry) {
	before := make(map[string][]config.Target, len(r.last))
	for _, e := range r.last {
		before[e.Name] = e.Targets
	}
	for _, e := range entries {
		old, ok := before[e.Name]
		if (ok && reflect.DeepEqual(old, e.Targets)) || (!ok && len(e.Targets) == 0) {
			continue
		}
		added, removed := countChanges(old, e.Targets)
		level.Info(r.logger).Log("msg", "discovered targets changed", "discovery", e.Name, "targets", len(e.Targets), "added", added, "removed", removed)
	}
}

// countChanges counts the targets (by module and address) only in b, and
// only in a.
func countChanges(a, b []config.Target) (added, removed int) {
	in := func(ts []config.Target) map[config.ProbeKey]bool {
		m := make(map[config.ProbeKey]bool, len(ts))
		for _, t := range ts {
			m[t.ProbeKey()] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	for k := range inb {
		if !ina[k] {
			added++
		}
	}
	for k := range ina {
		if !inb[k] {
			removed++
		}
	}
	return added, removed
}
