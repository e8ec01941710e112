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
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/tcpping/tcpping_exporter/prober"
)

const namespace = "tcp_echo"

// kind is what a family's series are, which decides how each exposition
// path reads and encodes them. Its values index per-kind arrays.
type kind uint8

const (
	gauge kind = iota
	counter
	histogram
	numKinds
)

// String returns the kind's name in the text format's TYPE line.
func (k kind) String() string {
	return [...]string{gauge: "gauge", counter: "counter", histogram: "histogram"}[k]
}

// family is one per-prober metric family: its name, help and kind, and how
// to read its value from a snapshot. Every exposition path (Collect,
// Gather, the text and protobuf writers) iterates the families table and
// switches on kind; none names a family.
type family struct {
	// name is the family's name in the text format and in Gather:
	// counters end in _total. Samples are named the same in OpenMetrics,
	// whose HELP and TYPE lines drop the _total. The table gives it
	// without the namespace, which newFamilies prefixes.
	name, help string
	kind       kind
	// value reads a counter's or gauge's value, hist a histogram's
	// (without copying it).
	value func(s *prober.Snapshot) float64
	hist  func(s *prober.Snapshot) *prober.HistogramSnapshot

	// Filled in by newFamilies.

	// slot is the family's index among those of its storage in a scrape:
	// counters' and gauges' values (scrape.vals) or histograms' rows
	// (scrape.rows).
	slot int
	// header is the HELP and TYPE lines in each text format (fmtText,
	// fmtOpenMetrics).
	header [2][]byte
	// bucket, sum and count name a histogram's samples.
	bucket, sum, count string
	// pb is the name, help and type fields of the family's protobuf
	// MetricFamily message.
	pb []byte
}

// families are the per-prober families, sorted by name as a Gatherer
// sorts them. Nothing modifies them after initialisation.
var families = newFamilies([]family{
	{name: "sent_total", kind: counter, value: func(s *prober.Snapshot) float64 { return float64(s.Sent) },
		help: "Echo probes due, one per interval; a probe due while disconnected counts as sent and timed out."},
	{name: "received_total", kind: counter, value: func(s *prober.Snapshot) float64 { return float64(s.Received) },
		help: "Echo replies matched to an in-flight probe before its timeout."},
	{name: "timeouts_total", kind: counter, value: func(s *prober.Snapshot) float64 { return float64(s.Timeouts) },
		help: "Echo probes with no reply within their timeout, including those in flight when a connection dropped."},
	{name: "late_total", kind: counter, value: func(s *prober.Snapshot) float64 { return float64(s.Late) },
		help: "Echo replies that arrived after their probe had timed out."},
	{name: "dropped_total", kind: counter, value: func(s *prober.Snapshot) float64 { return float64(s.Dropped) },
		help: "Established connections lost plus failed connection attempts."},
	{name: "unexpected_replies_total", kind: counter, value: func(s *prober.Snapshot) float64 { return float64(s.Unexpected) },
		help: "Echo replies that matched no probe sent on the connection: duplicates, unknown sequence numbers or bad magic."},
	{name: "retransmits_total", kind: counter, value: func(s *prober.Snapshot) float64 { return float64(s.Retransmits) },
		help: "Kernel TCP retransmissions on this target's connections, from TCP_INFO (Linux; 0 elsewhere)."},
	{name: "last_rtt_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.LastRTT.Seconds() },
		help: "Most recent round-trip time, in seconds."},
	{name: "connected", kind: gauge, value: func(s *prober.Snapshot) float64 { return boolFloat(s.Connected) },
		help: "Whether the probe connection is established (1) or not (0)."},
	{name: "estimated_timeout_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.Timeout.Seconds() },
		help: "Probe timeout in force now, in seconds."},
	{name: "smoothed_rtt_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.SRTT.Seconds() },
		help: "Smoothed round-trip time of the RFC 6298 timeout estimator, in seconds."},
	{name: "connect_duration_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.ConnectDuration.Seconds() },
		help: "TCP handshake time of the current connection, in seconds."},
	{name: "in_flight", kind: gauge, value: func(s *prober.Snapshot) float64 { return float64(s.InFlight) },
		help: "Echo probes sent and awaiting their reply or timeout; sent equals received plus timeouts plus in_flight."},
	{name: "rtt_seconds", kind: histogram, hist: func(s *prober.Snapshot) *prober.HistogramSnapshot { return &s.Histogram },
		help: "Round-trip time of echo replies received in time, in seconds."},
	{name: "jitter_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.Jitter.Seconds() },
		help: "Smoothed jitter of the round-trip time as RFC 3550 computes it, J += (|RTT_i - RTT_i-1| - J)/16, in seconds."},
	// The extended protocol's families exist for every prober, at 0 (the
	// histogram empty) where the echo server does not speak it.
	{name: "peer_turnaround_seconds", kind: histogram, hist: func(s *prober.Snapshot) *prober.HistogramSnapshot { return &s.Turnaround },
		help: "Time the echo server took from receiving each probe to sending its reply, from extended replies only, in seconds."},
	{name: "forward_jitter_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.ForwardJitter.Seconds() },
		help: "RFC 3550 jitter of the one-way transit from the prober to the echo server, from extended replies only (no clock sync needed), in seconds."},
	{name: "reverse_jitter_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.ReverseJitter.Seconds() },
		help: "RFC 3550 jitter of the one-way transit from the echo server back to the prober, from extended replies only (no clock sync needed), in seconds."},
	{name: "forward_delay_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.ForwardDelay.Seconds() },
		help: "Last one-way delay from the prober to the echo server, from extended replies only, meaningful only when both hosts' clocks are synchronized, in seconds."},
	{name: "reverse_delay_seconds", kind: gauge, value: func(s *prober.Snapshot) float64 { return s.ReverseDelay.Seconds() },
		help: "Last one-way delay from the echo server back to the prober, turnaround excluded, from extended replies only, meaningful only when both hosts' clocks are synchronized, in seconds."},
})

// familiesOf counts the families of each kind.
var familiesOf = func() (n [numKinds]int) {
	for i := range families {
		n[families[i].kind]++
	}
	return n
}()

// scalarFamilies is the number of counter and gauge families: the values
// a scrape keeps per prober.
var scalarFamilies = familiesOf[counter] + familiesOf[gauge]

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// newFamilies prefixes the names of fs with the namespace, sorts them,
// gives each its slot and encodes its headers.
func newFamilies(fs []family) []family {
	for i := range fs {
		fs[i].name = namespace + "_" + fs[i].name
	}
	slices.SortFunc(fs, func(a, b family) int { return strings.Compare(a.name, b.name) })
	var slots [numKinds]int
	for i := range fs {
		f := &fs[i]
		storage := f.kind
		if storage == counter {
			storage = gauge // counters and gauges share scrape.vals
		}
		f.slot = slots[storage]
		slots[storage]++
		f.encodeHeaders()
	}
	return fs
}

var (
	// helpEscaper escapes HELP text in the text format, quotedEscaper
	// label values in both formats and HELP text in OpenMetrics.
	helpEscaper   = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	quotedEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// encodeHeaders fills in what the writers write of f besides its series.
func (f *family) encodeHeaders() {
	typ := f.kind.String()
	omName, omType := f.name, typ
	if f.kind == counter {
		// OpenMetrics names a counter family without _total; one whose
		// samples do not end in _total cannot be a counter.
		if base, ok := strings.CutSuffix(f.name, "_total"); ok {
			omName = base
		} else {
			omType = "unknown"
		}
	}
	f.header[fmtText] = []byte("# HELP " + f.name + " " + helpEscaper.Replace(f.help) + "\n# TYPE " + f.name + " " + typ + "\n")
	f.header[fmtOpenMetrics] = []byte("# HELP " + omName + " " + quotedEscaper.Replace(f.help) + "\n# TYPE " + omName + " " + omType + "\n")
	f.bucket, f.sum, f.count = f.name+"_bucket", f.name+"_sum", f.name+"_count"
	f.pb = protoHeader(f.name, f.help, f.pbType())
}

// pbType is f's type in a protobuf MetricFamily.
func (f *family) pbType() dto.MetricType {
	return [...]dto.MetricType{gauge: dto.MetricType_GAUGE, counter: dto.MetricType_COUNTER, histogram: dto.MetricType_HISTOGRAM}[f.kind]
}
