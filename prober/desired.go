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

import "github.com/tcpping/tcpping_exporter/config"

// desiredOptions returns the prober options of every target the Manager
// runs for cfg and the discovered targets: the static targets of cfg, in
// file order, then the discovered ones, in the order given. A discovered
// target is left out, and counted in ignored, when a static target has its
// module and address (the static one wins, as DESIGN.md says), when an
// earlier discovered target has them, when its module is not in cfg
// (discovery checks modules against the config it last applied, which a
// reload may since have replaced), or when it has an extra label named
// flow and its module several flows (the flow label tells them apart; a
// static target may not have one either, and discovery rejects such a
// target, but against the modules it last applied).
func desiredOptions(cfg *config.Config, discovered []config.Target) (opts []Options, ignored int) {
	opts = staticOptions(cfg)
	if len(discovered) == 0 {
		return opts, 0
	}
	taken := make(map[config.ProbeKey]bool, len(opts)+len(discovered))
	// The probers of one module share one copy of its settings, static
	// and discovered alike.
	shared := map[string]*config.Module{}
	for _, o := range opts {
		taken[config.NewProbeKey(o.ModuleName, o.Address)] = true
		shared[o.ModuleName] = o.shared
	}
	for _, t := range discovered {
		name := t.ModuleName()
		key := t.ProbeKey()
		mod, ok := cfg.Modules[name]
		if !ok || taken[key] || config.CheckFlowLabel(t.Labels, name, mod) != nil {
			ignored++
			continue
		}
		taken[key] = true
		if shared[name] == nil {
			shared[name] = &mod
		}
		opts = append(opts, Options{Name: t.Name, Address: t.Address, ModuleName: name, Module: mod,
			Labels: t.Labels, Discovered: true, shared: shared[name]})
	}
	return opts, ignored
}

// runKey identifies a static or discovered prober across reconciliations:
// a static target's name is unique, and so are a discovered target's
// module and address.
func runKey(name, module, address string) string {
	return name + "\x00" + module + "\x00" + address
}
