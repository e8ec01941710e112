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

// Package collector turns prober snapshots into Prometheus metrics at
// scrape time, and serves them: NewHandler is the /metrics handler, which
// negotiates the format and encoding, caps concurrent scrapes and filters
// by name[]. Nothing is measured here: each prober's state is copied once
// per scrape and turned into series, so a scrape never blocks probing and
// the series of targets that are gone disappear with them.
package collector

import (
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/prober"
)

// baseLabels are the labels every per-prober series on /metrics carries,
// before the targets' extra labels.
var baseLabels = [...]string{"target", "address", "module"}

// descs are the per-prober Descs for one label set, one per family, in
// the order of families.
type descs []*prometheus.Desc

func newDescs(labels []string) descs {
	d := make(descs, len(families))
	for i := range families {
		d[i] = prometheus.NewDesc(families[i].name, families[i].help, labels, nil)
	}
	return d
}

func (d descs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range d {
		ch <- x
	}
}

// collect emits one prober's series from its snapshot.
func (d descs) collect(ch chan<- prometheus.Metric, s *prober.Snapshot, lv []string) {
	for i := range families {
		f := &families[i]
		switch f.kind {
		case counter:
			ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(d[i], prometheus.CounterValue, f.value(s), s.Started, lv...)
		case gauge:
			ch <- prometheus.MustNewConstMetric(d[i], prometheus.GaugeValue, f.value(s), lv...)
		case histogram:
			h := f.hist(s)
			m := &histogramMetric{desc: d[i], labels: prometheus.MakeLabelPairs(d[i], lv)}
			fillHistogram(&m.h, h, timestamp(s.Started), newHistogramSlab(1, len(h.UpperBounds)))
			ch <- m
		}
	}
}

// target is one prober as a scrape reads it: *prober.Prober is one, and
// tests expose synthetic snapshots through their own.
type target interface {
	Options() prober.Options
	// SnapshotInto copies the prober's state into s, reusing the
	// slices s has.
	SnapshotInto(s *prober.Snapshot)
}

// targetList is the static targets of one scrape: New's probers, or the
// targets of newCollector's tests. It saves a scrape a copy of the
// probers' slice as a []target, 16 bytes of garbage per prober.
type targetList struct {
	probers []*prober.Prober
	targets []target
}

func (l targetList) len() int { return len(l.probers) + len(l.targets) }

func (l targetList) at(i int) target {
	if i < len(l.probers) {
		return l.probers[i]
	}
	return l.targets[i-len(l.probers)]
}

// Collector exposes the static probers on /metrics. Its label names are
// fixed at construction: target, address and module, then the targets'
// extra label names (the union across targets; a target without one has it
// empty). A reload that changes the union builds a new Collector. Among the
// extra names, config.FlowLabel ("flow") is the flow label: a prober whose
// module has flows > 1 has its flow's number there ("0".."N-1"), others
// their own extra label of that name, if any (config allows one only on a
// target of one flow).
//
// It is a prometheus.Collector, and also a prometheus.Gatherer whose Gather
// builds the metric families directly from the snapshots: with thousands of
// targets that is several times cheaper than a Registry, which sorts, hashes
// and checks every series of every scrape. writeExposition skips the
// metric families altogether for the text and delimited protobuf formats.
type Collector struct {
	probers    func() []*prober.Prober // New's
	targets    func() []target         // newCollector's
	extraNames []string
	labelNames []string
	flowIdx    int   // index of the flow label in labelNames, -1 if none
	sorted     []int // indexes of labelNames in name order
	// By label in name order, what precedes its value: in the text
	// formats `{name="` or `,name="`, in protobuf the name field of its
	// LabelPair.
	textPrefix, protoName []string
	d                     descs
	cache                 labelCache // Gather's
	// wbuf is writeExposition's write buffer, kept for the next scrape.
	// It is all a scrape keeps: the rest of its memory is mapped for it
	// and unmapped after it.
	wbuf kept[[wbufSize]byte]
	// hints size a scrape's arrays, for the text formats and protobuf.
	hints [2]sizeHints
}

// New returns a Collector over the probers that probers returns at each
// scrape, with the given extra label names (sorted, unique). They must
// include config.FlowLabel if a prober's module has flows > 1, as
// config.Config.LabelNames does: its flows' series would be the same
// series otherwise.
func New(probers func() []*prober.Prober, extraLabelNames []string) *Collector {
	c := newCollector(nil, extraLabelNames)
	c.probers = probers
	return c
}

func newCollector(targets func() []target, extraLabelNames []string) *Collector {
	labels := append(baseLabels[:len(baseLabels):len(baseLabels)], extraLabelNames...)
	sorted := make([]int, len(labels))
	for i := range sorted {
		sorted[i] = i
	}
	slices.SortFunc(sorted, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	c := &Collector{targets: targets, extraNames: extraLabelNames, labelNames: labels, sorted: sorted, d: newDescs(labels),
		flowIdx: slices.Index(labels, config.FlowLabel)}
	for k, j := range sorted {
		sep := ","
		if k == 0 {
			sep = "{"
		}
		c.textPrefix = append(c.textPrefix, sep+labels[j]+`="`)
		c.protoName = append(c.protoName, string(appendString(nil, pbLabelName, labels[j])))
	}
	return c
}

// list returns the static targets of a scrape.
func (c *Collector) list() targetList {
	if c.probers != nil {
		return targetList{probers: c.probers()}
	}
	return targetList{targets: c.targets()}
}

// Describe sends every Desc.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { c.d.describe(ch) }

// labelValue returns the value of label j of c's label names for a
// prober of options o.
func (c *Collector) labelValue(o *prober.Options, j int) string {
	switch j {
	case 0:
		return o.Name
	case 1:
		return o.Address
	case 2:
		return o.ModuleName
	case c.flowIdx:
		if o.Module.Flows > 1 {
			return strconv.Itoa(o.Flow) // no allocation below 100
		}
	}
	return o.Labels[c.extraNames[j-len(baseLabels)]]
}

// labelValues returns a prober's label values in c's label order.
func (c *Collector) labelValues(t target) []string {
	o := t.Options()
	lv := make([]string, len(c.labelNames))
	for j := range lv {
		lv[j] = c.labelValue(&o, j)
	}
	return lv
}

// Collect snapshots every prober and emits its series.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ts := c.list()
	for i := range ts.len() {
		t := ts.at(i)
		var s prober.Snapshot
		t.SnapshotInto(&s)
		c.d.collect(ch, &s, c.labelValues(t))
	}
}

// ProbeCollector exposes one target on /probe: its series carry no target,
// address or module label (Prometheus' relabeling supplies instance), plus
// probe_success. A target of several flows has each flow's series, with
// the flow label, and one probe_success for them all.
type ProbeCollector struct {
	flows   []*prober.Prober
	d       descs
	success *prometheus.Desc
}

// NewProbe returns a ProbeCollector for the target of p: every flow of it
// (p.Flows).
func NewProbe(p *prober.Prober) *ProbeCollector {
	flows := p.Flows()
	var labels []string
	if len(flows) > 1 {
		labels = []string{config.FlowLabel}
	}
	return &ProbeCollector{
		flows: flows,
		d:     newDescs(labels),
		success: prometheus.NewDesc("probe_success",
			"Whether the connection is up and the most recent completed probe was answered (1) or not (0).", nil, nil),
	}
}

// Describe sends every Desc.
func (c *ProbeCollector) Describe(ch chan<- *prometheus.Desc) {
	c.d.describe(ch)
	ch <- c.success
}

// Collect emits each flow's series from one snapshot of it. probe_success
// is 1 only if every flow is connected and had its most recent probe
// answered: with flows over several paths, one bad path is a failure of
// the target as its application traffic sees it (a share of its flows
// suffer), and the flows' own series say which one.
func (c *ProbeCollector) Collect(ch chan<- prometheus.Metric) {
	ok := true
	var lv []string
	for k, p := range c.flows {
		s := p.Snapshot()
		if len(c.flows) > 1 {
			lv = []string{strconv.Itoa(k)}
		}
		c.d.collect(ch, &s, lv)
		ok = ok && s.Connected && s.LastProbeOK
	}
	ch <- prometheus.MustNewConstMetric(c.success, prometheus.GaugeValue, boolFloat(ok))
}
