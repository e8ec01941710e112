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
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/config"
)

// Manager owns the static probers of the loaded config. Reconcile brings
// them in line with a new config, keeping every prober whose identity is
// unchanged, so its connection and counters survive a reload.
type Manager struct {
	logger log.Logger
	ctx    context.Context

	mu     sync.RWMutex
	static map[string]*Prober // by target name
	order  []*Prober          // static probers sorted by name
}

// NewManager returns a Manager whose probers run until ctx is done or Stop
// is called.
func NewManager(ctx context.Context, logger log.Logger) *Manager {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &Manager{logger: logger, ctx: ctx, static: map[string]*Prober{}}
}

// sameIdentity reports whether a running prober can be kept for opts.
func sameIdentity(a, b Options) bool {
	return a.Name == b.Name && a.Address == b.Address && a.ModuleName == b.ModuleName &&
		maps.Equal(a.Labels, b.Labels) && a.Module.Equal(b.Module)
}

// StaticOptions returns the prober options of every target in cfg.
func StaticOptions(cfg *config.Config) []Options {
	opts := make([]Options, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		mod, _ := cfg.ModuleFor(t)
		name := t.Module
		if name == "" {
			name = config.DefaultModuleName
		}
		opts = append(opts, Options{Name: t.Name, Address: t.Address, ModuleName: name, Module: mod, Labels: t.Labels})
	}
	return opts
}

// Reconcile starts, keeps, restarts and stops static probers so that they
// match cfg. It returns how many were started, kept and stopped.
func (m *Manager) Reconcile(cfg *config.Config) (started, kept, stopped int) {
	want := StaticOptions(cfg)
	m.mu.Lock()
	next := make(map[string]*Prober, len(want))
	var toStop []*Prober
	for _, o := range want {
		if old, ok := m.static[o.Name]; ok && sameIdentity(old.opts, o) {
			next[o.Name] = old
			kept++
			continue
		}
		p := New(o, m.logger)
		p.Start(m.ctx)
		next[o.Name] = p
		started++
	}
	for name, old := range m.static {
		if next[name] != old {
			toStop = append(toStop, old)
		}
	}
	m.static = next
	m.order = slices.SortedFunc(maps.Values(next), func(a, b *Prober) int {
		return strings.Compare(a.opts.Name, b.opts.Name)
	})
	m.mu.Unlock()
	// Stop outside the lock: scrapes need not wait for connections to close.
	for _, p := range toStop {
		p.Stop()
	}
	stopped = len(toStop)
	level.Info(m.logger).Log("msg", "static probers reconciled", "started", started, "kept", kept, "stopped", stopped)
	return started, kept, stopped
}

// Static returns the static probers sorted by target name. The slice must
// not be modified.
func (m *Manager) Static() []*Prober {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.order
}

// Stop stops every prober and waits for them.
func (m *Manager) Stop() {
	m.mu.Lock()
	all := m.order
	m.static, m.order = map[string]*Prober{}, nil
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Go(p.Stop)
	}
	wg.Wait()
}
