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
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
)

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// MaxDynamic caps the number of dynamic probers.
	MaxDynamic int
	// IdleTimeout stops a dynamic prober not requested for this long.
	IdleTimeout time.Duration
	// Loop is how the probers run; the zero value is LoopEngine.
	Loop Loop
	// History gives each prober a Recorder of its replies and losses
	// (--web.history); nil keeps none.
	History *history.Pool
	// DebugOff says debug messages are filtered out of the logger: the
	// probers then skip building the ones they would log per reply (late,
	// unexpected), each a logger context of garbage.
	DebugOff bool
}

// Loop is a way of running probers. Both loops drive the same probe core
// and measure the same things; they differ in how they wait and do I/O.
type Loop int

const (
	// LoopEngine runs probers on an epoll engine that the Manager starts
	// and stops: a few worker goroutines, each serving many non-blocking
	// sockets from one epoll set. It is the default. The engine is Linux
	// only: elsewhere, or if it cannot start (the Manager logs why),
	// probers run LoopGoroutine.
	LoopEngine Loop = iota
	// LoopGoroutine runs each prober in a goroutine of its own, blocked
	// in reads through Go's netpoller: the portable loop.
	LoopGoroutine
)

// String returns the loop's name: engine or goroutine.
func (l Loop) String() string {
	switch l {
	case LoopEngine:
		return "engine"
	case LoopGoroutine:
		return "goroutine"
	default:
		return fmt.Sprintf("Loop(%d)", int(l))
	}
}

// Manager owns every prober: the static ones of the loaded config and the
// dynamic ones started on request. Reconcile brings the static probers in
// line with a new config, keeping every prober whose identity is unchanged,
// so its connection and counters survive a reload. It also owns the loop
// they run on (ManagerOptions.Loop): the engine it starts in NewManager
// runs until Stop.
type Manager struct {
	opts   ManagerOptions
	logger log.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	// engine runs the probers; nil when they run the goroutine loop.
	engine *engine

	mu    sync.RWMutex
	order []*Prober                   // probers of static and discovered targets, sorted by name, then flow
	byKey map[config.ProbeKey]*Prober // the targets of order by module and address: their first flow
	// discovered counts the targets of order that discovery found.
	discovered int
	dynamic    map[config.ProbeKey]*dynamicProber
	// modules are the modules of the latest reconcile, nil before the
	// first: what a new dynamic prober runs (Get), and the only ones.
	modules  map[string]config.Module
	stopping bool
}

// NewManager returns a Manager whose probers run until ctx is done or Stop
// is called.
func NewManager(ctx context.Context, opts ManagerOptions, logger log.Logger) *Manager {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	ctx, cancel := context.WithCancel(ctx)
	m := &Manager{
		opts: opts, logger: logger, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		byKey: map[config.ProbeKey]*Prober{}, dynamic: map[config.ProbeKey]*dynamicProber{},
	}
	m.engine = newLoopEngine(opts.Loop, logger)
	go m.sweep()
	return m
}

// newLoopEngine returns the engine for loop, or nil if probers are to run
// the goroutine loop.
func newLoopEngine(loop Loop, logger log.Logger) *engine {
	if loop != LoopEngine || !engineSupported {
		return nil
	}
	e, err := newEngine()
	if err != nil {
		level.Warn(logger).Log("msg", "epoll engine unavailable, probing from a goroutine",
			"component", "prober", "err", err)
		return nil
	}
	return e
}

// sameIdentity reports whether a running prober can be kept for opts:
// where its target is listed (the config or discovery) is not part of it.
func sameIdentity(a, b Options) bool {
	return a.Name == b.Name && a.Address == b.Address && a.ModuleName == b.ModuleName &&
		maps.Equal(a.Labels, b.Labels) && a.Module.Equal(b.Module)
}

// staticOptions returns the prober options of every target in cfg.
func staticOptions(cfg *config.Config) []Options {
	opts := make([]Options, 0, len(cfg.Targets))
	shared := map[string]*config.Module{}
	for _, t := range cfg.Targets {
		mod, _ := cfg.ModuleFor(t)
		name := t.ModuleName()
		if shared[name] == nil {
			shared[name] = &mod
		}
		opts = append(opts, Options{Name: t.Name, Address: t.Address, ModuleName: name, Module: mod, Labels: t.Labels, shared: shared[name]})
	}
	return opts
}

// ReconcileResult counts what a Reconcile did, in targets (a target of
// several flows counts once).
type ReconcileResult struct {
	Started, Kept, Stopped, DynamicStopped int
	// Ignored counts the discovered targets left out (see
	// desiredOptions): a static target has their module and address,
	// their module does not exist, or they clash with the flow label.
	Ignored int
}

// Reconcile brings the probers in line with cfg's static targets and no
// discovered target: ReconcileTargets(cfg, nil).
func (m *Manager) Reconcile(cfg *config.Config) ReconcileResult {
	return m.ReconcileTargets(cfg, nil)
}

// ReconcileTargets starts, keeps, restarts and stops probers so that they
// match the static targets of cfg plus the discovered targets (see
// desiredOptions: a static target wins over a discovered one with its
// module and address), and stops dynamic probers whose module changed or
// vanished. A prober whose identity (name, address, module and its
// settings, labels) is unchanged keeps running, with its connection and
// counters, also when its target moved between the config's targets and
// discovery.
func (m *Manager) ReconcileTargets(cfg *config.Config, discovered []config.Target) ReconcileResult {
	var res ReconcileResult
	want, ignored := desiredOptions(cfg, discovered)
	res.Ignored = ignored
	m.mu.Lock()
	if m.stopping {
		m.mu.Unlock()
		return res
	}
	running := make(map[string]*Prober, len(m.order))
	for _, p := range m.order {
		if p.opts.Flow == 0 {
			running[runKey(p.opts.Name, p.opts.ModuleName, p.opts.Address)] = p
		}
	}
	next := make([]*Prober, 0, len(want))
	m.modules = maps.Clone(cfg.Modules)
	m.discovered = 0
	for _, o := range want {
		k := runKey(o.Name, o.ModuleName, o.Address)
		p, ok := running[k]
		if ok && sameIdentity(p.Options(), o) {
			delete(running, k)
			res.Kept++
			// A target moved between the config and discovery keeps
			// its connections and counters; only its source changes.
			for _, f := range p.Flows() {
				f.discovered.Store(o.Discovered)
			}
		} else {
			// A target whose identity changed, flows included, restarts
			// with all its flows.
			p = m.startTarget(o)
			res.Started++
		}
		next = append(next, p)
		if o.Discovered {
			m.discovered++
		}
	}
	toStop := slices.Collect(maps.Values(running)) // removed or changed
	res.Stopped = len(toStop)
	m.byKey = make(map[config.ProbeKey]*Prober, len(next))
	for _, p := range next {
		m.byKey[config.NewProbeKey(p.opts.ModuleName, p.opts.Address)] = p
	}
	// A dynamic prober keeps running only while its module is unchanged
	// and its (module, address) is not a static or discovered target:
	// /probe would answer from that one, leaving the dynamic one probing
	// unseen until it idled out.
	for k, d := range m.dynamic {
		mod, ok := cfg.Modules[d.p.opts.ModuleName]
		_, static := m.byKey[k]
		if !ok || !mod.Equal(*d.p.mod) || static {
			toStop = append(toStop, d.p)
			delete(m.dynamic, k)
			res.DynamicStopped++
		}
	}
	slices.SortStableFunc(next, func(a, b *Prober) int { return strings.Compare(a.opts.Name, b.opts.Name) })
	m.order = flowsOf(next)
	m.mu.Unlock()
	// Stop outside the lock: scrapes need not wait for connections to close.
	stopAll(flowsOf(toStop))
	level.Info(m.logger).Log("msg", "probers reconciled", "started", res.Started, "kept", res.Kept,
		"stopped", res.Stopped, "dynamic_stopped", res.DynamicStopped)
	return res
}

// startTarget makes and starts the probers of every flow of the target of
// o and returns its first flow.
func (m *Manager) startTarget(o Options) *Prober {
	o.debugOff = m.opts.DebugOff
	ps := newTarget(o, m.logger)
	for _, p := range ps {
		p.hist = m.opts.History.NewRecorder() // a history per flow
		p.startOn(m.ctx, m.engine)
	}
	return ps[0]
}

// Static returns the probers of the static and the discovered targets
// (those /metrics shows), sorted by target name, and a target's flows by
// flow. The slice must not be modified.
func (m *Manager) Static() []*Prober {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.order
}

// Counts returns the number of static and dynamic targets: a target of
// several flows counts once.
func (m *Manager) Counts() (static, dynamic int) {
	static, _, dynamic = m.SourceCounts()
	return static, dynamic
}

// SourceCounts returns the number of static targets, of discovered
// targets and of dynamic /probe targets: a target of several flows counts
// once.
func (m *Manager) SourceCounts() (static, discovered, dynamic int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, p := range m.order {
		if p.opts.Flow == 0 {
			static++
		}
	}
	return static - m.discovered, m.discovered, len(m.dynamic)
}

// Stop stops every prober and the engine they ran on, and waits for them.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopping = true
	all := slices.Clone(m.order)
	for _, d := range m.dynamic {
		all = append(all, d.p.Flows()...)
	}
	m.byKey, m.order, m.dynamic, m.discovered = map[config.ProbeKey]*Prober{}, nil, map[config.ProbeKey]*dynamicProber{}, 0
	m.mu.Unlock()
	m.cancel()
	<-m.done
	stopAll(all)
	if m.engine != nil {
		m.engine.stop()
	}
}

func stopAll(ps []*Prober) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(p.Stop)
	}
	wg.Wait()
}
