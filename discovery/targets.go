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

// From what the sources found to targets: Prometheus' relabeling, then the
// rules of DESIGN.md for __address__, __target__, __module__ and the extra
// labels.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/tcpping/tcpping_exporter/config"
)

// The labels that, after relabeling, give a target's name and module
// (__address__, model.AddressLabel, gives its address).
const (
	targetLabel = "__target__"
	moduleLabel = "__module__"
)

// Reasons a discovered target is rejected after relabeling: the values of
// the reason label of tcpping_exporter_discovery_rejected_targets.
const (
	reasonAddress = "address" // __address__ missing or not host:port
	reasonName    = "name"    // __target__ not a usable name
	reasonModule  = "module"  // __module__ names no module of the config
	reasonLabel   = "label"   // an extra label with a reserved or invalid name (flow in a module of several flows), or a value that is not UTF-8
)

// reasons lists every reason, for metrics that show each one, 0 included.
var reasons = []string{reasonAddress, reasonLabel, reasonModule, reasonName}

// rejection is a discovered target left out, and why.
type rejection struct {
	reason string
	err    error
	labels string // its labels after relabeling, for the log
}

// built is what one entry's sources yield after relabeling.
type built struct {
	// targets are the usable targets, one per (module, address), the
	// address in its canonical spelling (config.CanonicalAddress): the
	// first found wins.
	targets []config.Target
	// found counts the label sets the sources found, before relabeling.
	found int
	// rejected lists the targets left out as unusable. Targets that
	// relabeling drops are not in it: that is what the user asked for.
	rejected []rejection
}

// buildTargets relabels the groups of one entry (in the order given, each
// group's targets in order) and turns each label set that relabeling keeps
// into a target. modules are the modules that exist.
func buildTargets(groups []*targetgroup.Group, entry config.Discovery, modules map[string]config.Module) built {
	var (
		out  built
		seen = map[config.ProbeKey]bool{}
		lb   = labels.NewBuilder(labels.EmptyLabels())
	)
	for _, g := range groups {
		for _, ts := range g.Targets {
			out.found++
			lb.Reset(labels.EmptyLabels())
			for name, value := range g.Labels {
				lb.Set(string(name), string(value))
			}
			for name, value := range ts {
				lb.Set(string(name), string(value))
			}
			if !relabel.ProcessBuilder(lb, entry.RelabelConfigs...) {
				continue
			}
			t, rej := targetOf(lb, entry.Module, modules)
			if rej != nil {
				out.rejected = append(out.rejected, *rej)
				continue
			}
			key := t.ProbeKey()
			if seen[key] {
				continue
			}
			seen[key] = true
			out.targets = append(out.targets, t)
		}
	}
	return out
}

// targetOf turns one relabeled label set into a target: __address__ is its
// address, __target__ (if set) its name, else the address, __module__ (if
// set) its module, else module; the labels not starting with "__" are its
// extra labels. It returns why the target is unusable, if it is.
func targetOf(lb *labels.Builder, module string, modules map[string]config.Module) (config.Target, *rejection) {
	t := config.Target{Address: lb.Get(model.AddressLabel), Name: lb.Get(targetLabel), Module: module}
	if t.Name == "" {
		t.Name = t.Address
	}
	if m := lb.Get(moduleLabel); m != "" {
		t.Module = m
	}
	reject := func(reason string, err error) (config.Target, *rejection) {
		return config.Target{}, &rejection{reason: reason, err: err, labels: labelString(lb)}
	}
	if err := config.ValidateAddress(t.Address); err != nil {
		return reject(reasonAddress, fmt.Errorf("__address__: %w", err))
	}
	if err := config.ValidateName(t.Name); err != nil {
		return reject(reasonName, fmt.Errorf("__target__: %w", err))
	}
	mod, ok := modules[t.Module]
	if !ok {
		return reject(reasonModule, fmt.Errorf("__module__: unknown module %q", t.Module))
	}
	var err error
	lb.Range(func(l labels.Label) {
		if err != nil || strings.HasPrefix(l.Name, "__") {
			return
		}
		if e := config.ValidateLabelName(l.Name); e != nil {
			err = e
			return
		}
		if !utf8.ValidString(l.Value) {
			err = fmt.Errorf("value of %q must be valid UTF-8", l.Name)
			return
		}
		if t.Labels == nil {
			t.Labels = map[string]string{}
		}
		t.Labels[l.Name] = l.Value
	})
	if err == nil {
		err = config.CheckFlowLabel(t.Labels, t.Module, mod)
	}
	if err != nil {
		return reject(reasonLabel, fmt.Errorf("labels: %w", err))
	}
	return t, nil
}

// labelString shows the labels in lb, for logs.
func labelString(lb *labels.Builder) string {
	var parts []string
	lb.Range(func(l labels.Label) {
		parts = append(parts, fmt.Sprintf("%s=%q", l.Name, l.Value))
	})
	slices.Sort(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// sortTargets sorts targets by name, then address, then module: the order
// of an entry's published list.
func sortTargets(targets []config.Target) {
	slices.SortFunc(targets, func(a, b config.Target) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Address, b.Address), cmp.Compare(a.Module, b.Module))
	})
}
