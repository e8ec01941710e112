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
// scrape time. Nothing is measured here: Collect copies each prober's state
// once and emits const metrics, so a scrape never blocks probing and series
// of targets that are gone disappear with them.
package collector

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tcpping/tcpping_exporter/prober"
)

const namespace = "tcp_echo"

// baseLabels are the labels every per-prober series on /metrics carries,
// before the targets' extra labels.
var baseLabels = [...]string{"target", "address", "module"}

// descs are the per-prober metric descriptions for one label set.
type descs struct {
	sent, received, timeouts, late, dropped, unexpected, retrans *prometheus.Desc
	rtt, lastRTT, connected, timeout, srtt, connect              *prometheus.Desc
	inFlight                                                     *prometheus.Desc
}

func newDescs(labels []string) descs {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return descs{
		sent:       d("sent_total", "Echo probes due, one per interval; a probe due while disconnected counts as sent and timed out."),
		received:   d("received_total", "Echo replies matched to an in-flight probe before its timeout."),
		timeouts:   d("timeouts_total", "Echo probes with no reply within their timeout, including those in flight when a connection dropped."),
		late:       d("late_total", "Echo replies that arrived after their probe had timed out."),
		dropped:    d("dropped_total", "Established connections lost plus failed connection attempts."),
		unexpected: d("unexpected_replies_total", "Echo replies that matched no probe sent on the connection: duplicates, unknown sequence numbers or bad magic."),
		retrans:    d("retransmits_total", "Kernel TCP retransmissions on this target's connections, from TCP_INFO (Linux; 0 elsewhere)."),
		rtt:        d("rtt_seconds", "Round-trip time of echo replies received in time, in seconds."),
		lastRTT:    d("last_rtt_seconds", "Most recent round-trip time, in seconds."),
		connected:  d("connected", "Whether the probe connection is established (1) or not (0)."),
		timeout:    d("estimated_timeout_seconds", "Probe timeout in force now, in seconds."),
		srtt:       d("smoothed_rtt_seconds", "Smoothed round-trip time of the RFC 6298 timeout estimator, in seconds."),
		connect:    d("connect_duration_seconds", "TCP handshake time of the current connection, in seconds."),
		inFlight:   d("in_flight", "Echo probes sent and awaiting their reply or timeout; sent equals received plus timeouts plus in_flight."),
	}
}

func (d descs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range []*prometheus.Desc{
		d.sent, d.received, d.timeouts, d.late, d.dropped, d.unexpected, d.retrans,
		d.rtt, d.lastRTT, d.connected, d.timeout, d.srtt, d.connect, d.inFlight,
	} {
		ch <- x
	}
}

// collect emits one prober's series from its snapshot.
func (d descs) collect(ch chan<- prometheus.Metric, s *prober.Snapshot, lv []string) {
	counter := func(desc *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(desc, prometheus.CounterValue, float64(v), s.Started, lv...)
	}
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, lv...)
	}
	counter(d.sent, s.Sent)
	counter(d.received, s.Received)
	counter(d.timeouts, s.Timeouts)
	counter(d.late, s.Late)
	counter(d.dropped, s.Dropped)
	counter(d.unexpected, s.Unexpected)
	counter(d.retrans, s.Retransmits)
	ch <- newHistogram(d.rtt, &s.Histogram, s.Started, lv)
	gauge(d.lastRTT, s.LastRTT.Seconds())
	gauge(d.connected, boolFloat(s.Connected))
	gauge(d.timeout, s.Timeout.Seconds())
	gauge(d.srtt, s.SRTT.Seconds())
	gauge(d.connect, s.ConnectDuration.Seconds())
	gauge(d.inFlight, float64(s.InFlight))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collector exposes the static probers on /metrics. Its label names are
// fixed at construction: target, address and module, then the targets' extra label names
// (the union across targets; a target without one has it empty). A reload
// that changes the union builds a new Collector.
type Collector struct {
	probers    func() []*prober.Prober
	extraNames []string
	d          descs
}

// New returns a Collector over the probers that probers returns at each
// scrape, with the given extra label names (sorted, unique).
func New(probers func() []*prober.Prober, extraLabelNames []string) *Collector {
	labels := append(baseLabels[:len(baseLabels):len(baseLabels)], extraLabelNames...)
	return &Collector{probers: probers, extraNames: extraLabelNames, d: newDescs(labels)}
}

// Describe sends every Desc.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { c.d.describe(ch) }

// Collect snapshots every prober and emits its series.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	lv := make([]string, len(baseLabels)+len(c.extraNames))
	for _, p := range c.probers() {
		o := p.Options()
		lv[0], lv[1], lv[2] = o.Name, o.Address, o.ModuleName
		for i, n := range c.extraNames {
			lv[3+i] = o.Labels[n]
		}
		s := p.Snapshot()
		c.d.collect(ch, &s, lv)
	}
}

// ProbeCollector exposes one prober on /probe: its series carry no target,
// address or module label (Prometheus' relabeling supplies instance), plus
// probe_success.
type ProbeCollector struct {
	p       *prober.Prober
	d       descs
	success *prometheus.Desc
}

// NewProbe returns a ProbeCollector for p.
func NewProbe(p *prober.Prober) *ProbeCollector {
	return &ProbeCollector{
		p: p,
		d: newDescs(nil),
		success: prometheus.NewDesc("probe_success",
			"Whether the connection is up and the most recent completed probe was answered (1) or not (0).", nil, nil),
	}
}

// Describe sends every Desc.
func (c *ProbeCollector) Describe(ch chan<- *prometheus.Desc) {
	c.d.describe(ch)
	ch <- c.success
}

// Collect emits the prober's series from one snapshot.
func (c *ProbeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Snapshot()
	c.d.collect(ch, &s, nil)
	ch <- prometheus.MustNewConstMetric(c.success, prometheus.GaugeValue, boolFloat(s.Connected && s.LastProbeOK))
}

// histogram is a const metric carrying both classic and native buckets,
// which client_golang's const constructors cannot combine.
type histogram struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      dto.Histogram
}

func newHistogram(desc *prometheus.Desc, s *prober.HistogramSnapshot, created time.Time, lv []string) prometheus.Metric {
	m := &histogram{desc: desc, labels: prometheus.MakeLabelPairs(desc, lv)}
	h := &m.h
	h.SampleCount = proto.Uint64(s.Count)
	h.SampleSum = proto.Float64(s.Sum)
	h.CreatedTimestamp = timestamppb.New(created)
	h.Bucket = make([]*dto.Bucket, len(s.UpperBounds))
	var cum uint64
	for i, ub := range s.UpperBounds {
		cum += s.Counts[i]
		h.Bucket[i] = &dto.Bucket{CumulativeCount: proto.Uint64(cum), UpperBound: proto.Float64(ub)}
	}
	if s.Native {
		h.Schema = proto.Int32(s.Schema)
		h.ZeroThreshold = proto.Float64(s.ZeroThreshold)
		h.ZeroCount = proto.Uint64(s.ZeroCount)
		h.PositiveSpan, h.PositiveDelta = spans(s.NativeOffset, s.NativeCounts)
	}
	return m
}

// spans encodes dense native bucket counts starting at index offset as
// spans and deltas. Empty buckets inside the range stay in one span (a
// delta of 0 costs less than a new span); leading and trailing ones are
// trimmed. With no observations a single empty span marks the histogram as
// native, as client_golang does.
func spans(offset int, counts []uint64) ([]*dto.BucketSpan, []int64) {
	lo, hi := 0, len(counts)
	for lo < hi && counts[lo] == 0 {
		lo++
	}
	for hi > lo && counts[hi-1] == 0 {
		hi--
	}
	if lo == hi {
		return []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}, nil
	}
	deltas := make([]int64, 0, hi-lo)
	var prev int64
	for _, c := range counts[lo:hi] {
		deltas = append(deltas, int64(c)-prev)
		prev = int64(c)
	}
	return []*dto.BucketSpan{{Offset: proto.Int32(int32(offset + lo)), Length: proto.Uint32(uint32(hi - lo))}}, deltas
}

// Desc returns the metric's Desc.
func (m *histogram) Desc() *prometheus.Desc { return m.desc }

// Write fills out with the histogram and its labels.
func (m *histogram) Write(out *dto.Metric) error {
	out.Label = m.labels
	out.Histogram = &m.h
	return nil
}
