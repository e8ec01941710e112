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

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/graph"
	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/prober"
)

// proberRow is one prober in a table of the landing or the target page: a
// target, or one flow of a target of several (Flow is its number then,
// else empty).
// Its text is plain: the templates escape it, for target names, labels
// and errors come from config files, discovery and /probe requests.
type proberRow struct {
	Name, Flow, Address, Module, Labels, Source, State, LastRTT, SRTT, Loss, LastError string
	RecentTimeouts                                                                     uint64
	TargetURL                                                                          string
	// Spark is the sparkline, SVG that the graph package escaped.
	Spark template.HTML

	// Sort keys: the smoothed RTT (0 before a reply), and the loss ratio
	// over the window, -1 without history.
	srtt time.Duration
	loss float64
}

// clock tells the time the pages and graphs of history are made at: nil
// is the wall clock. Tests that draw a known past set it, so that what
// they see does not depend on how long they took.
type clock func() time.Time

func (c clock) now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// rowBuilder makes the rows of one page, reusing its scratch space.
type rowBuilder struct {
	now    time.Time
	window time.Duration // of the loss column and the sparklines; 0 without history
	spark  bool          // draw sparklines
	snap   prober.Snapshot
	points []history.Point
	svg    bytes.Buffer
}

// newRowBuilder returns a builder of rows at now for a history of span.
func newRowBuilder(now time.Time, span time.Duration, spark bool) *rowBuilder {
	return &rowBuilder{now: now, window: min(span, sparkWindow), spark: spark}
}

// row returns p's row.
func (b *rowBuilder) row(p *prober.Prober) proberRow {
	o := p.Options()
	p.SnapshotInto(&b.snap)
	s := &b.snap
	r := proberRow{
		Name: o.Name, Address: o.Address, Module: o.ModuleName, Labels: labelsText(o.Labels), Source: sourceOf(&o),
		State: s.State.String(), LastRTT: "-", SRTT: "-", Loss: "-",
		LastError: s.LastError, RecentTimeouts: s.RecentTimeouts, loss: -1,
		TargetURL: "target?" + targetValues(&o).Encode(),
	}
	if o.Module.Flows > 1 {
		r.Flow = strconv.Itoa(o.Flow)
	}
	if s.Received > 0 {
		r.LastRTT = s.LastRTT.Round(time.Microsecond).String()
		r.SRTT = s.SRTT.Round(time.Microsecond).String()
		r.srtt = s.SRTT
	}
	if b.window > 0 {
		b.history(p, &r)
	}
	return r
}

// history fills r's loss and sparkline from p's history of the window.
func (b *rowBuilder) history(p *prober.Prober, r *proberRow) {
	from := b.now.Add(-b.window)
	b.points = p.History(b.points[:0], from, b.now)
	var sent, lost int
	for i := range b.points {
		sent += b.points[i].Sent
		lost += b.points[i].Lost
	}
	if sent > 0 {
		r.loss = float64(lost) / float64(sent)
		r.Loss = lossText(lost, sent)
	}
	if !b.spark {
		return
	}
	b.svg.Reset()
	// No title: the row names the target, the column what is drawn.
	err := graph.Sparkline(&b.svg, b.points, graph.Options{From: from, To: b.now})
	if err == nil {
		r.Spark = template.HTML(b.svg.String()) // the graph package escapes what it draws
	}
}

// lossText writes lost of sent as a percentage to a tenth, except that
// some loss never reads as none and loss short of all never reads as all
// (one probe of an hour's 3 600 is 0.03 %): "<0.1%" and ">99.9%", as the
// graphs' colours keep those apart too.
func lossText(lost, sent int) string {
	pct := 100 * float64(lost) / float64(sent)
	switch {
	case lost > 0 && pct < 0.05:
		return "<0.1%"
	case lost < sent && pct >= 99.95:
		return ">99.9%"
	}
	return fmt.Sprintf("%.1f%%", pct)
}

// Orders of the landing page's table (?sort=).
const (
	sortName = "name" // by name, then module and address
	sortRTT  = "rtt"  // slowest smoothed RTT first; no reply yet last
	sortLoss = "loss" // most loss over the window first, then most timeouts in the last minute
)

// sortRows orders rows by key, one of the sort constants.
func sortRows(rows []proberRow, key string) {
	byName := func(a, b *proberRow) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Module, b.Module), strings.Compare(a.Address, b.Address))
	}
	slices.SortStableFunc(rows, func(a, b proberRow) int {
		switch key {
		case sortRTT:
			if c := cmp.Compare(b.srtt, a.srtt); c != 0 {
				return c
			}
		case sortLoss:
			if c := cmp.Or(cmp.Compare(b.loss, a.loss), cmp.Compare(b.RecentTimeouts, a.RecentTimeouts)); c != 0 {
				return c
			}
		}
		return byName(&a, &b)
	})
}

// labelsText writes a target's extra labels as "name=value" pairs,
// sorted by name.
func labelsText(labels map[string]string) string {
	pairs := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		pairs = append(pairs, k+"="+labels[k])
	}
	return strings.Join(pairs, ", ")
}

// sourceOf says where a prober's target comes from: "static" (the config
// file), "dynamic" (a /probe request) or "discovered".
func sourceOf(o *prober.Options) string {
	switch {
	case o.Dynamic:
		return "dynamic"
	case o.Discovered:
		return "discovered"
	}
	return "static"
}
