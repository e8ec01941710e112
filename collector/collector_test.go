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
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

func fastModule() config.Module {
	m := config.DefaultModule()
	m.Interval = config.Duration(10 * time.Millisecond)
	m.IPProtocol = "ip4"
	return m
}

func TestSeriesExistAtZero(t *testing.T) {
	m := config.DefaultModule()
	m.Buckets = []float64{0.001, 0.01}
	m.NativeHistogramBucketFactor = 0
	p := prober.New(prober.Options{Name: "a", Address: "192.0.2.1:4000", ModuleName: "default", Module: m,
		Labels: map[string]string{"site": "ams"}}, nil)
	c := New(func() []*prober.Prober { return []*prober.Prober{p} }, []string{"rack", "site"})
	want := `
# HELP tcp_echo_connected Whether the probe connection is established (1) or not (0).
# TYPE tcp_echo_connected gauge
tcp_echo_connected{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_dropped_total Established connections lost plus failed connection attempts.
# TYPE tcp_echo_dropped_total counter
tcp_echo_dropped_total{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_estimated_timeout_seconds Probe timeout in force now, in seconds.
# TYPE tcp_echo_estimated_timeout_seconds gauge
tcp_echo_estimated_timeout_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 1
# HELP tcp_echo_forward_delay_seconds Last one-way delay from the prober to the echo server, from extended replies only, meaningful only when both hosts' clocks are synchronized, in seconds.
# TYPE tcp_echo_forward_delay_seconds gauge
tcp_echo_forward_delay_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_forward_jitter_seconds RFC 3550 jitter of the one-way transit from the prober to the echo server, from extended replies only (no clock sync needed), in seconds.
# TYPE tcp_echo_forward_jitter_seconds gauge
tcp_echo_forward_jitter_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_in_flight Echo probes sent and awaiting their reply or timeout; sent equals received plus timeouts plus in_flight.
# TYPE tcp_echo_in_flight gauge
tcp_echo_in_flight{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_jitter_seconds Smoothed jitter of the round-trip time as RFC 3550 computes it, J += (|RTT_i - RTT_i-1| - J)/16, in seconds.
# TYPE tcp_echo_jitter_seconds gauge
tcp_echo_jitter_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_late_total Echo replies that arrived after their probe had timed out.
# TYPE tcp_echo_late_total counter
tcp_echo_late_total{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_peer_turnaround_seconds Time the echo server took from receiving each probe to sending its reply, from extended replies only, in seconds.
# TYPE tcp_echo_peer_turnaround_seconds histogram
tcp_echo_peer_turnaround_seconds_bucket{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a",le="0.001"} 0
tcp_echo_peer_turnaround_seconds_bucket{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a",le="0.01"} 0
tcp_echo_peer_turnaround_seconds_bucket{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a",le="+Inf"} 0
tcp_echo_peer_turnaround_seconds_sum{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
tcp_echo_peer_turnaround_seconds_count{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_received_total Echo replies matched to an in-flight probe before its timeout.
# TYPE tcp_echo_received_total counter
tcp_echo_received_total{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_retransmits_total Kernel TCP retransmissions on this target's connections, from TCP_INFO (Linux; 0 elsewhere).
# TYPE tcp_echo_retransmits_total counter
tcp_echo_retransmits_total{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_reverse_delay_seconds Last one-way delay from the echo server back to the prober, turnaround excluded, from extended replies only, meaningful only when both hosts' clocks are synchronized, in seconds.
# TYPE tcp_echo_reverse_delay_seconds gauge
tcp_echo_reverse_delay_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_reverse_jitter_seconds RFC 3550 jitter of the one-way transit from the echo server back to the prober, from extended replies only (no clock sync needed), in seconds.
# TYPE tcp_echo_reverse_jitter_seconds gauge
tcp_echo_reverse_jitter_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_rtt_seconds Round-trip time of echo replies received in time, in seconds.
# TYPE tcp_echo_rtt_seconds histogram
tcp_echo_rtt_seconds_bucket{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a",le="0.001"} 0
tcp_echo_rtt_seconds_bucket{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a",le="0.01"} 0
tcp_echo_rtt_seconds_bucket{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a",le="+Inf"} 0
tcp_echo_rtt_seconds_sum{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
tcp_echo_rtt_seconds_count{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_sent_total Echo probes due, one per interval; a probe due while disconnected counts as sent and timed out.
# TYPE tcp_echo_sent_total counter
tcp_echo_sent_total{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_smoothed_rtt_seconds Smoothed round-trip time of the RFC 6298 timeout estimator, in seconds.
# TYPE tcp_echo_smoothed_rtt_seconds gauge
tcp_echo_smoothed_rtt_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_timeouts_total Echo probes with no reply within their timeout, including those in flight when a connection dropped.
# TYPE tcp_echo_timeouts_total counter
tcp_echo_timeouts_total{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_unexpected_replies_total Echo replies that matched no probe sent on the connection: duplicates, unknown sequence numbers or bad magic.
# TYPE tcp_echo_unexpected_replies_total counter
tcp_echo_unexpected_replies_total{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_last_rtt_seconds Most recent round-trip time, in seconds.
# TYPE tcp_echo_last_rtt_seconds gauge
tcp_echo_last_rtt_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
# HELP tcp_echo_connect_duration_seconds TCP handshake time of the current connection, in seconds.
# TYPE tcp_echo_connect_duration_seconds gauge
tcp_echo_connect_duration_seconds{address="192.0.2.1:4000",module="default",rack="",site="ams",target="a"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestLiveProbersAndLabels(t *testing.T) {
	addr := testenv.EchoServer(t)
	a := prober.New(prober.Options{Name: "a", Address: addr, ModuleName: "default", Module: fastModule(),
		Labels: map[string]string{"site": "ams"}, NoSplay: true}, nil)
	b := prober.New(prober.Options{Name: "b", Address: addr, ModuleName: "fast", Module: fastModule(),
		Labels: map[string]string{"rack": "r1"}, NoSplay: true}, nil)
	for _, p := range []*prober.Prober{a, b} {
		p.Start(context.Background())
		t.Cleanup(p.Stop)
	}
	c := New(func() []*prober.Prober { return []*prober.Prober{a, b} }, []string{"rack", "site"})
	deadline := time.Now().Add(10 * time.Second)
	for a.Snapshot().Received < 5 || b.Snapshot().Received < 5 {
		if time.Now().After(deadline) {
			t.Fatal("probers got no replies")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, mf := range mfs {
		if mf.GetName() != "tcp_echo_rtt_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			found++
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			h := m.GetHistogram()
			if h.GetSampleCount() < 5 || h.GetSchema() != 3 || len(h.GetPositiveSpan()) == 0 || len(h.GetBucket()) != 16 {
				t.Errorf("%v: count %d schema %d spans %d classic buckets %d: want classic and native buckets",
					labels, h.GetSampleCount(), h.GetSchema(), len(h.GetPositiveSpan()), len(h.GetBucket()))
			}
			if h.GetZeroThreshold() != prober.NativeZeroThreshold {
				t.Errorf("%v: zero threshold %v, want the prober's %v", labels, h.GetZeroThreshold(), prober.NativeZeroThreshold)
			}
			want := map[string]map[string]string{
				"a": {"target": "a", "address": addr, "module": "default", "site": "ams", "rack": ""},
				"b": {"target": "b", "address": addr, "module": "fast", "site": "", "rack": "r1"},
			}[labels["target"]]
			for k, v := range want {
				if labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, labels[k], v)
				}
			}
		}
	}
	if found != 2 {
		t.Errorf("%d rtt histograms, want 2", found)
	}
}

func TestProbeCollector(t *testing.T) {
	addr := testenv.EchoServer(t)
	p := prober.New(prober.Options{Name: addr, Address: addr, ModuleName: "default", Module: fastModule(), NoSplay: true}, nil)
	c := NewProbe(p)
	if got := testutil.ToFloat64(prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		for m := range collectAll(c) {
			if m.Desc() == c.success {
				ch <- m
			}
		}
	})); got != 0 {
		t.Fatalf("probe_success before start = %v, want 0", got)
	}
	p.Start(context.Background())
	t.Cleanup(p.Stop)
	<-p.FirstResult()
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	want := `
# HELP probe_success Whether the connection is up and the most recent completed probe was answered (1) or not (0).
# TYPE probe_success gauge
probe_success 1
# HELP tcp_echo_connected Whether the probe connection is established (1) or not (0).
# TYPE tcp_echo_connected gauge
tcp_echo_connected 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "probe_success", "tcp_echo_connected"); err != nil {
		t.Error(err)
	}
}

// collectAll collects c into a closed channel.
func collectAll(c prometheus.Collector) chan prometheus.Metric {
	ch := make(chan prometheus.Metric, 100)
	c.Collect(ch)
	close(ch)
	return ch
}

func TestSpans(t *testing.T) {
	tests := []struct {
		name       string
		offset     int
		counts     []uint64
		wantOffset int32
		wantLen    uint32
		wantDeltas []int64
	}{
		{"empty", 5, nil, 0, 0, nil},
		{"all zero", 5, []uint64{0, 0}, 0, 0, nil},
		{"trimmed", -3, []uint64{0, 2, 0, 5, 0}, -2, 3, []int64{2, -2, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, d := spans(tt.offset, tt.counts)
			if len(sp) != 1 || sp[0].GetOffset() != tt.wantOffset || sp[0].GetLength() != tt.wantLen {
				t.Fatalf("spans %v", sp)
			}
			if len(d) != len(tt.wantDeltas) {
				t.Fatalf("deltas %v, want %v", d, tt.wantDeltas)
			}
			for i := range d {
				if d[i] != tt.wantDeltas[i] {
					t.Errorf("deltas %v, want %v", d, tt.wantDeltas)
				}
			}
		})
	}
}

func BenchmarkCollect1000(b *testing.B) {
	m := config.DefaultModule()
	ps := make([]*prober.Prober, 1000)
	for i := range ps {
		ps[i] = prober.New(prober.Options{Name: fmt.Sprintf("t%d", i), Address: "192.0.2.1:4000", ModuleName: "default", Module: m}, nil)
	}
	c := New(func() []*prober.Prober { return ps }, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGatherMatchesCollect checks that the fast Gather path exposes
// exactly what the Collector path does through a Registry.
func TestGatherMatchesCollect(t *testing.T) {
	addr := testenv.EchoServer(t)
	var ps []*prober.Prober
	for i, labels := range []map[string]string{{"site": "ams"}, {"rack": "r1"}, nil} {
		p := prober.New(prober.Options{Name: fmt.Sprintf("p%d", i), Address: addr, ModuleName: "default", Module: fastModule(),
			Labels: labels, NoSplay: true}, nil)
		p.Start(context.Background())
		t.Cleanup(p.Stop)
		ps = append(ps, p)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range ps {
		for p.Snapshot().Received < 3 {
			if time.Now().After(deadline) {
				t.Fatal("no replies")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Stop probing so both paths see the same counters.
	for _, p := range ps {
		p.Stop()
	}
	c := New(func() []*prober.Prober { return ps }, []string{"rack", "site"})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	want, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var wb, gb strings.Builder
	for _, mf := range want {
		_, _ = expfmt.MetricFamilyToText(&wb, mf)
	}
	for _, mf := range got {
		_, _ = expfmt.MetricFamilyToText(&gb, mf)
	}
	// The Registry sorts series by label values; Gather keeps prober
	// order. Compare the lines as sets.
	sorted := func(s string) string {
		lines := strings.Split(s, "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	if sorted(wb.String()) != sorted(gb.String()) {
		t.Errorf("Gather differs from Collect.\nGather:\n%s\nCollect:\n%s", gb.String(), wb.String())
	}
	if problems, err := testutil.GatherAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	// The label cache forgets probers that are gone.
	ps = ps[:1]
	if _, err := c.Gather(); err != nil || len(c.cache.m) != 1 {
		t.Errorf("label cache holds %d probers after one remained (err %v)", len(c.cache.m), err)
	}
}

func TestMergeRejectsDuplicateFamilies(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "tcp_echo_sent_total", Help: "x"}))
	ps := []*prober.Prober{prober.New(prober.Options{Name: "a", Address: "192.0.2.1:1", Module: config.DefaultModule()}, nil)}
	c := New(func() []*prober.Prober { return ps }, nil)
	g := merge(func() prometheus.Gatherer { return reg }, func() prometheus.Gatherer { return c })
	if _, err := g.Gather(); err == nil || !strings.Contains(err.Error(), "tcp_echo_sent_total") {
		t.Errorf("err = %v, want the duplicate family named", err)
	}
}

func BenchmarkGather1000(b *testing.B) {
	m := config.DefaultModule()
	ps := make([]*prober.Prober, 1000)
	for i := range ps {
		ps[i] = prober.New(prober.Options{Name: fmt.Sprintf("t%d", i), Address: "192.0.2.1:4000", ModuleName: "default", Module: m}, nil)
	}
	c := New(func() []*prober.Prober { return ps }, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
