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

package web

// What the probers of /metrics run for: the static targets of the loaded
// config plus the targets discovery found. Both change on their own (a
// reload; a discovery update), and each change reconciles the Manager to
// both and makes the collector's label names fit the union of their labels.

import (
	"maps"
	"slices"
	"sync"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/collector"
	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/prober"
)

// Discovery is what the Reloader needs of discovery's Runner: it applies
// every config the Reloader loads, before the Reloader adopts it; an error
// fails the reload.
type Discovery interface {
	ApplyConfig(cfg *config.Config) error
}

// targetState is the Reloader's record of what the probers run for. Its
// mutex serialises reconciliation: reloads and discovery updates come
// from different goroutines.
type targetState struct {
	mu sync.Mutex
	// cfg is the adopted config; nil before the first reload.
	cfg *config.Config
	// discovered is the latest discovery update's targets, seq its
	// sequence number.
	discovered []config.Target
	seq        uint64
	// holding is set while a reload applies its config to discovery: an
	// update that comes meanwhile is kept for the reconciliation that
	// ends the reload, against the config it was computed for.
	holding bool
}

// SetDiscovery makes the Reloader apply each config it loads to d, and
// reconcile discovered targets (Discovered) with the static ones. Call it
// before the first Reload.
func (r *Reloader) SetDiscovery(d Discovery) { r.discovery = d }

// Discovered takes the targets of a discovery update (seq its Seq): the
// probers of /metrics become the static targets plus these, a static
// target winning over a discovered one with its module and address. An
// update older than one already taken is ignored. main hands it every
// update of the discovery Runner.
func (r *Reloader) Discovered(seq uint64, targets []config.Target) {
	ts := &r.state
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if seq <= ts.seq {
		return
	}
	ts.seq, ts.discovered = seq, targets
	if ts.holding || ts.cfg == nil {
		return
	}
	r.reconcile()
}

// adopt applies cfg to discovery, and if it accepts cfg, makes cfg the
// config the probers run for and reconciles them; ts.mu is not held.
func (r *Reloader) adopt(cfg *config.Config) error {
	ts := &r.state
	var err error
	if r.discovery != nil {
		ts.mu.Lock()
		ts.holding = true
		ts.mu.Unlock()
		// ApplyConfig hands its update to Discovered before it returns.
		err = r.discovery.ApplyConfig(cfg)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.holding = false
	if err == nil {
		ts.cfg = cfg
		r.current.Store(cfg)
	}
	if ts.cfg != nil {
		r.reconcile() // also when discovery refused cfg: updates may have come meanwhile
	}
	return err
}

// reconcile brings the Manager in line with the adopted config and the
// latest discovered targets, then makes the live collector one over the
// probers that now run, with the union of their label names. The
// collector holds that list, not the Manager's live one: a scrape sees
// the probers and the label names of one moment, never a prober with a
// label its collector lacks. ts.mu is held.
func (r *Reloader) reconcile() {
	ts := &r.state
	res := r.manager.ReconcileTargets(ts.cfg, ts.discovered)
	probers := r.manager.Static()
	r.targets.Store(collector.New(func() []*prober.Prober { return probers }, labelNames(ts.cfg, ts.discovered)))
	if res.Ignored > 0 {
		level.Debug(r.logger).Log("msg", "discovered targets left out: a static target has their module and address, or their module is gone", "targets", res.Ignored)
	}
}

// labelNames returns the extra label names of cfg's static targets and of
// the discovered targets, each once, sorted, with the flow label if a
// target's module has flows above 1 (as cfg.LabelNames has it).
func labelNames(cfg *config.Config, discovered []config.Target) []string {
	if len(discovered) == 0 {
		return cfg.LabelNames()
	}
	set := map[string]bool{}
	for _, n := range cfg.LabelNames() {
		set[n] = true
	}
	for _, t := range discovered {
		for n := range t.Labels {
			set[n] = true
		}
		if m, ok := cfg.Modules[t.ModuleName()]; ok && m.Flows > 1 {
			set[config.FlowLabel] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
