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
// them: WriteExposition encodes a prober's labels at every scrape, which
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

	fams := make([]*dto.MetricFamily, 0, len(scalars)+1)
	metrics := make([]dto.Metric, n*(len(scalars)+1))
	ptrs := make([]*dto.Metric, n*(len(scalars)+1))
	values := make([]float64, n*len(scalars))
	var nCounters int
	for _, m := range scalars {
		if m.counter {
			nCounters++
		}
	}
	counters := make([]dto.Counter, n*nCounters)
	gauges := make([]dto.Gauge, n*(len(scalars)-nCounters))
	k, ci, gi := 0, 0, 0
	for _, def := range scalars {
		mf := &dto.MetricFamily{
			Name: proto.String(namespace + "_" + def.name),
			Help: proto.String(def.help),
			Type: dto.MetricType_GAUGE.Enum(),
		}
		if def.counter {
			mf.Type = dto.MetricType_COUNTER.Enum()
		}
		mf.Metric = ptrs[k : k+n : k+n]
		for i := range snaps {
			m := &metrics[k]
			m.Label = labels[i].pairs
			values[k] = def.value(&snaps[i])
			if def.counter {
				counters[ci] = dto.Counter{Value: &values[k], CreatedTimestamp: labels[i].created}
				m.Counter = &counters[ci]
				ci++
			} else {
				gauges[gi] = dto.Gauge{Value: &values[k]}
				m.Gauge = &gauges[gi]
				gi++
			}
			ptrs[k] = m
			k++
		}
		fams = append(fams, mf)
	}
	fams = append(fams, c.gatherHistograms(snaps, labels, metrics[k:], ptrs[k:]))
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return fams, nil
}

func (c *Collector) gatherHistograms(snaps []prober.Snapshot, labels []*proberLabels, metrics []dto.Metric, ptrs []*dto.Metric) *dto.MetricFamily {
	total := 0
	for i := range snaps {
		total += len(snaps[i].Histogram.UpperBounds)
	}
	slab := newHistogramSlab(len(snaps), total)
	hists := make([]dto.Histogram, len(snaps))
	mf := &dto.MetricFamily{
		Name:   proto.String(namespace + "_" + rttName),
		Help:   proto.String(rttHelp),
		Type:   dto.MetricType_HISTOGRAM.Enum(),
		Metric: ptrs[:len(snaps):len(snaps)],
	}
	for i := range snaps {
		slab = fillHistogram(&hists[i], &snaps[i].Histogram, labels[i].created, slab)
		metrics[i].Label = labels[i].pairs
		metrics[i].Histogram = &hists[i]
		ptrs[i] = &metrics[i]
	}
	return mf
}

// Merge returns a Gatherer of the families of all gs, which must not share
// family names (an error says which does). Unlike prometheus.Gatherers it
// does not re-check every series: each part is consistent on its own.
func Merge(gs ...func() prometheus.Gatherer) prometheus.Gatherer {
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
