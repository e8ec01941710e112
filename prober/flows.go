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
	"time"

	"github.com/go-kit/log"
)

// A target whose module has flows N > 1 is probed over N persistent
// connections, each from its own source port, so that routers hashing the
// 5-tuple over equal-cost paths (ECMP) put them on different paths. Each
// flow is a Prober of its own: its own connection, counters, histogram,
// RFC 6298 timeout and reconnection, and so the same memory and CPU as a
// target of one flow. The Manager makes and stops a target's flows
// together (newTarget); its flows share the module's settings.

// flowPhase returns the phase of a target's flow: the target's phase,
// offset by flow × interval / flows, so that the flows' probes are spread
// evenly over the interval rather than sent back to back. Flow 0 keeps the
// target's phase, so a target of one flow probes when it always did.
func flowPhase(phase uint64, flow, flows int, iv time.Duration) uint64 {
	if flows <= 1 || iv <= 0 {
		return phase
	}
	n := uint64(iv)
	return phase%n + uint64(flow)*n/uint64(flows)
}

// newTarget returns the probers of every flow of the target of o, not
// started: one if its module has flows 1.
func newTarget(o Options, logger log.Logger) []*Prober {
	ps := make([]*Prober, max(o.Module.Flows, 1))
	for k := range ps {
		fo := o
		fo.Flow = k
		if k > 0 {
			fo.shared = ps[0].mod
		}
		ps[k] = New(fo, logger)
	}
	if len(ps) > 1 {
		for _, p := range ps {
			p.more().flows = ps
		}
	}
	return ps
}

// Flows returns the probers of every flow of p's target, in flow order, p
// among them: p alone for a target of one flow or a prober made by New.
// The slice must not be modified.
func (p *Prober) Flows() []*Prober {
	if p.x == nil || p.x.flows == nil {
		return []*Prober{p}
	}
	return p.x.flows
}

// flowsOf returns the probers of every flow of the targets of ps, which
// are each a target's first flow.
func flowsOf(ps []*Prober) []*Prober {
	out := make([]*Prober, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Flows()...)
	}
	return out
}
