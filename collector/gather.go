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

package collector

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tcpping/tcpping_exporter/prober"
)

// proberLabels is what Gather reuses of a prober across scrapes: its
// labels and created timestamp never change over its life. Only Gather,
// which serves the protobuf text formats that people rarely ask for, keeps
// them: writeExposition encodes a prober's labels at every scrape, which
// costs less than keeping them would (see scrape).
type proberLabels struct {
	pairs   []*dto.LabelPair
	created *timestamppb.Timestamp
	seen    uint64
}

// labelCache keeps proberLabels by prober, dropping those of probers that a
// scrape no longer sees.
type labelCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[target]*proberLabels
}

// cachedLabels returns the cache entry of every target, which it makes
// for new targets from their snapshots: their fields are never written
// again, so Gather may read them after the lock is released.
func (c *Collector) cachedLabels(ts targetList, snaps []prober.Snapshot) []*proberLabels {
	labels := make([]*proberLabels, ts.len())
	lc := &c.cache
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.m == nil {
		lc.m = map[target]*proberLabels{}
	}
	lc.gen++
	for i := range labels {
		t := ts.at(i)
		e, ok := lc.m[t]
		if !ok {
			e = &proberLabels{pairs: c.labelPairs(t), created: timestamp(snaps[i].Started)}
			lc.m[t] = e
		}
		e.seen = lc.gen
		labels[i] = e
	}
	for t, e := range lc.m {
		if e.seen != lc.gen {
			delete(lc.m, t)
		}
	}
	return labels
}

// labelPairs returns t's label pairs sorted by name, as client_golang
// would make them.
func (c *Collector) labelPairs(t target) []*dto.LabelPair {
	o := t.Options()
	pairs := make([]*dto.LabelPair, len(c.sorted))
	for i, j := range c.sorted {
		pairs[i] = &dto.LabelPair{Name: proto.String(c.labelNames[j]), Value: proto.String(c.labelValue(&o, j))}
	}
	return pairs
}

// Gather builds the static probers' metric families straight from their
// snapshots. Structs are allocated in slabs, one per kind for all probers,
// and label pairs are reused across scrapes, so a scrape of 10 000 probers
// costs a few dozen allocations plus the histograms' native buckets.
func (c *Collector) Gather() ([]*dto.MetricFamily, error) {
	ts := c.list()
	n := ts.len()
	if n == 0 {
		// No static targets: no families (an empty family is an error to
		// promhttp).
		return nil, nil
	}
	snaps := make([]prober.Snapshot, n)
	for i := range snaps {
		ts.at(i).SnapshotInto(&snaps[i])
	}
	labels := c.cachedLabels(ts, snaps)

	nf := len(families)
	fams := make([]*dto.MetricFamily, nf)
	metrics := make([]dto.Metric, n*nf)
	ptrs := make([]*dto.Metric, n*nf)
	values := make([]float64, n*scalarFamilies)
	counters := make([]dto.Counter, n*familiesOf[counter])
	gauges := make([]dto.Gauge, n*familiesOf[gauge])
	hists := make([]dto.Histogram, n*familiesOf[histogram])
	slab := newHistogramSlab(len(hists), histogramBuckets(snaps))
	k, vi, ci, gi, hi := 0, 0, 0, 0, 0
	for fi := range families {
		f := &families[fi]
		fams[fi] = &dto.MetricFamily{
			Name:   proto.String(f.name),
			Help:   proto.String(f.help),
			Type:   f.pbType().Enum(),
			Metric: ptrs[k : k+n : k+n],
		}
		for i := range snaps {
			m := &metrics[k]
			m.Label = labels[i].pairs
			switch f.kind {
			case counter:
				values[vi] = f.value(&snaps[i])
				counters[ci] = dto.Counter{Value: &values[vi], CreatedTimestamp: labels[i].created}
				m.Counter = &counters[ci]
				vi++
				ci++
			case gauge:
				values[vi] = f.value(&snaps[i])
				gauges[gi] = dto.Gauge{Value: &values[vi]}
				m.Gauge = &gauges[gi]
				vi++
				gi++
			case histogram:
				slab = fillHistogram(&hists[hi], f.hist(&snaps[i]), labels[i].created, slab)
				m.Histogram = &hists[hi]
				hi++
			}
			ptrs[k] = m
			k++
		}
	}
	return fams, nil // in name order, as families are
}

// histogramBuckets returns the number of classic buckets of all
// histograms of snaps.
func histogramBuckets(snaps []prober.Snapshot) int {
	total := 0
	for fi := range families {
		if f := &families[fi]; f.kind == histogram {
			for i := range snaps {
				total += len(f.hist(&snaps[i]).UpperBounds)
			}
		}
	}
	return total
}

// merge returns a Gatherer of the families of all gs, which must not share
// family names (an error says which does). Unlike prometheus.Gatherers it
// does not re-check every series: each part is consistent on its own.
func merge(gs ...func() prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		var all []*dto.MetricFamily
		var errs prometheus.MultiError
		for _, g := range gs {
			ga := g()
			if ga == nil {
				continue
			}
			fams, err := ga.Gather()
			errs.Append(err)
			all = append(all, fams...)
		}
		slices.SortStableFunc(all, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		for i := 1; i < len(all); i++ {
			if all[i].GetName() == all[i-1].GetName() {
				errs.Append(fmt.Errorf("metric family %q gathered twice", all[i].GetName()))
			}
		}
		return all, errs.MaybeUnwrap()
	})
}
