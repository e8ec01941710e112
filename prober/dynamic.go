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
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/config"
)

// Dynamic probers are those /probe starts for a module and address that no
// static or discovered target has: the Manager starts one at its first
// request (Get), keeps it while requests come, and stops it once it has
// gone unrequested for ManagerOptions.IdleTimeout (sweep).

// ErrTooManyTargets is returned when a new dynamic prober would exceed the
// configured cap.
var ErrTooManyTargets = errors.New("too many dynamic targets")

// TooManyTargetsError is the ErrTooManyTargets of a Get: Max is the cap it
// met, 0 when no dynamic prober may run at all.
type TooManyTargetsError struct{ Max int }

func (e *TooManyTargetsError) Error() string { return ErrTooManyTargets.Error() }
func (e *TooManyTargetsError) Unwrap() error { return ErrTooManyTargets }

// ErrUnknownModule is returned by Get for a module that the config of the
// latest reconcile does not have (or before the first reconcile).
var ErrUnknownModule = errors.New("unknown module")

type dynamicProber struct {
	p        *Prober      // the target's first flow
	lastUsed atomic.Int64 // Unix nanoseconds of the last request
}

// Dynamic returns all dynamic probers, sorted by module and address, and a
// target's flows by flow.
func (m *Manager) Dynamic() []*Prober {
	m.mu.RLock()
	out := make([]*Prober, 0, len(m.dynamic))
	for _, d := range m.dynamic {
		out = append(out, d.p)
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Prober) int { // their addresses are canonical (Get)
		ka := config.ProbeKey{Module: a.opts.ModuleName, Address: a.opts.Address}
		return ka.Compare(config.ProbeKey{Module: b.opts.ModuleName, Address: b.opts.Address})
	})
	return flowsOf(out)
}

// lookup returns the running prober for key, static first, and marks a
// dynamic one as used at now. The caller holds m.mu.
func (m *Manager) lookup(key config.ProbeKey, now int64) *Prober {
	if p, ok := m.byKey[key]; ok {
		return p
	}
	if d, ok := m.dynamic[key]; ok {
		d.lastUsed.Store(now)
		return d.p
	}
	return nil
}

// Get returns the prober for (module, address): a static or discovered one
// if there is one, else a dynamic one, which it starts if there is none
// yet. Probers are keyed by the address in its canonical spelling
// (config.CanonicalAddress), and a new dynamic prober is named and dials
// by it, whichever spelling its first request had. created reports a new
// prober. Every call marks a dynamic prober as used. For a target of
// several flows it is the first flow's prober; Flows returns them all.
//
// A new prober runs the module of that name of the latest reconcile, the
// only modules the Manager knows: Get fails with ErrUnknownModule if that
// has none of the name (a reload removed it, or no config has been
// reconciled yet), and with ErrTooManyTargets at the cap. A caller's own
// copy of its config may be older than the latest reconcile; a prober
// must not run settings a reload replaced.
func (m *Manager) Get(moduleName, address string) (p *Prober, created bool, err error) {
	key := config.NewProbeKey(moduleName, address)
	address = key.Address // a new prober is named and dials by it
	now := time.Now().UnixNano()
	m.mu.RLock()
	p = m.lookup(key, now)
	m.mu.RUnlock()
	if p != nil {
		return p, false, nil
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	// Look again: another request may have started it meanwhile.
	if p := m.lookup(key, now); p != nil {
		return p, false, nil
	}
	if m.stopping {
		return nil, false, context.Canceled
	}
	mod, ok := m.modules[moduleName]
	if !ok {
		return nil, false, fmt.Errorf("%w %q", ErrUnknownModule, moduleName)
	}
	if len(m.dynamic) >= m.opts.MaxDynamic {
		return nil, false, &TooManyTargetsError{Max: m.opts.MaxDynamic}
	}
	p = m.startTarget(Options{Name: address, Address: address, ModuleName: moduleName, Module: mod, Dynamic: true, NoSplay: true})
	d := &dynamicProber{p: p}
	d.lastUsed.Store(now)
	m.dynamic[key] = d
	level.Info(m.logger).Log("msg", "dynamic prober started", "address", address, "module", moduleName)
	return p, true, nil
}

// sweep stops dynamic probers idle for longer than IdleTimeout. It looks
// every tenth of the timeout (at most every second), so a prober stops
// within 10 % + 1 s of expiring.
func (m *Manager) sweep() {
	defer close(m.done)
	if m.opts.IdleTimeout <= 0 {
		<-m.ctx.Done()
		return
	}
	period := min(m.opts.IdleTimeout/10, time.Second)
	period = max(period, time.Millisecond)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case now := <-t.C:
			m.expire(now)
		}
	}
}

func (m *Manager) expire(now time.Time) {
	cutoff := now.Add(-m.opts.IdleTimeout).UnixNano()
	var idle []*Prober
	m.mu.Lock()
	for k, d := range m.dynamic {
		if d.lastUsed.Load() < cutoff {
			idle = append(idle, d.p)
			delete(m.dynamic, k)
		}
	}
	m.mu.Unlock()
	for _, p := range idle {
		level.Info(m.logger).Log("msg", "dynamic prober idle, stopped", "address", p.opts.Address, "module", p.opts.ModuleName)
	}
	stopAll(flowsOf(idle))
}
