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

// Applying a config: one Prometheus discoverer per source config item,
// reused across reloads while the item is unchanged.

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/http"

	"github.com/tcpping/tcpping_exporter/config"
)

// Check reports the errors ApplyConfig would return for cfg: sources that
// Prometheus' code cannot create (an HTTP client whose TLS files cannot be
// read, for one). It starts nothing and registers nothing that stays.
func Check(cfg *config.Config) error {
	sd, err := promdiscovery.CreateAndRegisterSDMetrics(prometheus.NewRegistry())
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range cfg.Discovery {
		for _, it := range items(d) {
			if _, err := newDiscoverer(it.cfg, d.Name, sd, slog.New(slog.DiscardHandler)); err != nil {
				errs = append(errs, fmt.Errorf("discovery %q: %s: %w", d.Name, it.id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// item is one source config of an entry, named as in the file.
type item struct {
	id  string
	cfg promdiscovery.Config
}

// items returns the source configs of d, file, then DNS, then HTTP.
func items(d config.Discovery) []item {
	var out []item
	for i, c := range d.FileSDConfigs {
		out = append(out, item{fmt.Sprintf("file_sd_configs[%d]", i), c})
	}
	for i, c := range d.DNSSDConfigs {
		out = append(out, item{fmt.Sprintf("dns_sd_configs[%d]", i), c})
	}
	for i, c := range d.HTTPSDConfigs {
		out = append(out, item{fmt.Sprintf("http_sd_configs[%d]", i), c})
	}
	return out
}

// newDiscoverer creates Prometheus' discoverer for cfg.
func newDiscoverer(cfg promdiscovery.Config, entry string, sd *promdiscovery.SDMetrics, logger *slog.Logger) (promdiscovery.Discoverer, error) {
	opts := promdiscovery.DiscovererOptions{
		Logger:  logger,
		Metrics: sd.MechanismMetrics[cfg.Name()],
		SetName: entry,
	}
	if _, ok := cfg.(*http.SDConfig); ok {
		opts.HTTPClientOptions = httpSDOptions()
	}
	return cfg.NewDiscoverer(opts)
}

// ApplyConfig makes the Runner run the discovery entries of cfg. Sources
// whose config is unchanged keep running with their targets; others stop
// or start. If a source cannot be created, it returns the error and
// changes nothing. Before it returns, OnUpdate has the update for cfg if
// anything changed (an entry whose sources changed keeps its previous
// targets until they answer, or for 10 s; after that, the last good
// targets of the sources it replaced stand in until every new one has
// answered well, however long they fail or stay silent).
func (r *Runner) ApplyConfig(cfg *config.Config) error {
	r.pubMu.Lock()
	defer r.pubMu.Unlock()
	r.mu.Lock()
	err := r.apply(cfg, time.Now())
	r.mu.Unlock()
	if err != nil {
		return err
	}
	r.publish(time.Now())
	return nil
}

// apply implements ApplyConfig; r.mu is held.
func (r *Runner) apply(cfg *config.Config, now time.Time) error {
	old := make(map[string]*entry, len(r.entries))
	for _, e := range r.entries {
		old[e.cfg.Name] = e
	}
	var (
		entries []*entry
		created []*source
		reused  = map[*source]bool{}
		in      = map[*source]*entry{} // the entry of each created source
	)
	for _, d := range cfg.Discovery {
		e := &entry{cfg: d}
		prev := old[d.Name]
		if prev != nil {
			e.own, e.gateUntil = prev.own, prev.gateUntil
			// In two statements: standingIn may let go of prev.fresh.
			e.standIn = prev.standingIn()
			e.fresh = prev.fresh
		}
		renewed := false // a source of this entry is new
		for _, it := range items(d) {
			if s := prev.find(it.cfg, reused); s != nil {
				reused[s] = true
				s.id = it.id
				e.sources = append(e.sources, s)
				continue
			}
			s := newSource(d.Name, it.id, it.cfg)
			in[s] = e
			created = append(created, s)
			e.sources = append(e.sources, s)
			e.fresh = append(e.fresh, s)
			renewed = true
			e.gateUntil = now.Add(r.timing.gate)
		}
		if prev != nil && renewed {
			// The sources the reload replaced: their last good groups
			// stand in for the new ones until those refresh well.
			for _, s := range prev.sources {
				if !reused[s] {
					e.standIn = append(e.standIn, s.sortedGroups()...)
				}
			}
		}
		entries = append(entries, e)
	}
	r.moved(created, in, reused)
	if err := r.createDiscoverers(created); err != nil {
		return err
	}
	kept := make(map[string]bool, len(entries))
	for _, e := range entries {
		kept[e.cfg.Name] = true
	}
	for _, e := range r.entries {
		for _, s := range e.sources {
			if !reused[s] {
				s.removed = true
				if s.cancel != nil {
					s.cancel()
				}
			}
		}
		if !kept[e.cfg.Name] {
			r.metrics.deleteEntry(e.cfg.Name, []string{"file", "dns", "http"})
		}
	}
	r.cfg, r.entries = cfg, entries
	r.active.Store(len(entries) > 0)
	if r.runCtx != nil {
		for _, s := range created {
			r.start(s)
		}
	}
	r.markDirty(now)
	return nil
}

// createDiscoverers creates the Prometheus discoverers of sources, or
// returns why some cannot be created. A file discoverer registers itself
// with its mechanism's metrics when it is created and leaves them only
// when it runs and stops; so file discoverers are created last, once the
// others could all be created, and a failed ApplyConfig leaves nothing
// behind. r.mu is held.
func (r *Runner) createDiscoverers(sources []*source) error {
	ordered := slices.Clone(sources)
	isFile := func(s *source) int {
		if s.cfg.Name() == "file" {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(ordered, func(a, b *source) int { return cmp.Compare(isFile(a), isFile(b)) })
	var errs []error
	for _, s := range ordered {
		if len(errs) > 0 && s.cfg.Name() == "file" {
			break
		}
		// The handler reports to r.report, which takes r.mu, held here:
		// this works because the constructors of the file, DNS and HTTP
		// discoverers do not log; their Run does.
		handler := newSourceHandler(
			r.handler.WithAttrs([]slog.Attr{slog.String("component", "discovery"), slog.String("discovery", s.entry), slog.String("source", s.id)}),
			func(rec logRecord) { r.report(s, rec) })
		disc, err := newDiscoverer(s.cfg, s.entry, r.metrics.sd, slog.New(handler))
		if err != nil {
			errs = append(errs, fmt.Errorf("discovery %q: %s: %w", s.entry, s.id, err))
			continue
		}
		s.disc = disc
	}
	return errors.Join(errs...)
}

// moved finds, for each created source, a source the reload removes
// from another entry with the same config: the source moved to another
// entry, or its entry was renamed. It starts anew in its new entry (its
// metrics carry the entry's name), and the removed one's last good groups
// stand in for it until it has refreshed well, as a replaced source's do.
// Its entry need not wait for its first answer (it counts as reported),
// since its targets are known: they neither leave nor start again. in is
// the entry of each created source; r.mu is held.
func (r *Runner) moved(created []*source, in map[*source]*entry, reused map[*source]bool) {
	var removed []*source
	for _, e := range r.entries {
		for _, s := range e.sources {
			if !reused[s] {
				removed = append(removed, s)
			}
		}
	}
	for _, s := range created {
		e := in[s]
		i := slices.IndexFunc(removed, func(old *source) bool {
			// One of the entry's own is a replaced source, which stands
			// in already.
			return old != nil && old.entry != e.cfg.Name && reflect.DeepEqual(old.cfg, s.cfg)
		})
		if i < 0 {
			continue
		}
		e.standIn = append(e.standIn, removed[i].sortedGroups()...)
		s.reported = true
		removed[i] = nil
	}
}

// find returns a source of e, not in taken, whose config equals cfg.
func (e *entry) find(cfg promdiscovery.Config, taken map[*source]bool) *source {
	if e == nil {
		return nil
	}
	for _, s := range e.sources {
		if !taken[s] && reflect.DeepEqual(s.cfg, cfg) {
			return s
		}
	}
	return nil
}
