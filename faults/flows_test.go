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

//go:build linux

package faults

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A target of several flows on /metrics and on its debug page: each flow's
// series, by the flow label, and each flow's local address.

// The debug page's flow headers and local addresses.
var (
	flowHeader = regexp.MustCompile(`^Prober \S+ \(static\), flow (\d+) of (\d+)$`)
	localLine  = regexp.MustCompile(`^local address:\s+(\S+)$`)
)

// flowLocals returns the local address of each flow of the static target
// of (module, address), from its debug page.
func flowLocals(t *testing.T, e *exporter, module, address string) []netip.AddrPort {
	t.Helper()
	body, err := e.debug(module, address)
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.AddrPort
	flow := -1
	for _, line := range strings.Split(body, "\n") {
		if m := flowHeader.FindStringSubmatch(line); m != nil {
			flow, _ = strconv.Atoi(m[1])
			if n, _ := strconv.Atoi(m[2]); out == nil {
				out = make([]netip.AddrPort, n)
			}
			continue
		}
		if m := localLine.FindStringSubmatch(line); m != nil && flow >= 0 && flow < len(out) {
			ap, err := netip.ParseAddrPort(m[1])
			if err != nil {
				t.Fatalf("flow %d: local address %q: %v", flow, m[1], err)
			}
			out[flow] = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	if out == nil {
		t.Fatalf("no flows in the debug page:\n%s", body)
	}
	for k, ap := range out {
		if !ap.IsValid() {
			t.Fatalf("no local address for flow %d in the debug page:\n%s", k, body)
		}
	}
	return out
}

// flow returns the series of one flow of a target.
func (m metrics) flow(target string, flow int) stats {
	f := strconv.Itoa(flow)
	s := stats{
		sent:        m.get("tcp_echo_sent_total", "target", target, "flow", f),
		received:    m.get("tcp_echo_received_total", "target", target, "flow", f),
		timeouts:    m.get("tcp_echo_timeouts_total", "target", target, "flow", f),
		inFlight:    m.get("tcp_echo_in_flight", "target", target, "flow", f),
		late:        m.get("tcp_echo_late_total", "target", target, "flow", f),
		dropped:     m.get("tcp_echo_dropped_total", "target", target, "flow", f),
		unexpected:  m.get("tcp_echo_unexpected_replies_total", "target", target, "flow", f),
		retransmits: m.get("tcp_echo_retransmits_total", "target", target, "flow", f),
		connected:   m.get("tcp_echo_connected", "target", target, "flow", f),
		lastRTT:     m.get("tcp_echo_last_rtt_seconds", "target", target, "flow", f),
		rttOver:     map[float64]float64{},
	}
	for _, h := range m["tcp_echo_rtt_seconds"].GetMetric() {
		labels := map[string]string{}
		for _, lp := range h.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["target"] != target || labels["flow"] != f {
			continue
		}
		hist := h.GetHistogram()
		s.rttCount, s.rttSum = float64(hist.GetSampleCount()), hist.GetSampleSum()
		for _, b := range hist.GetBucket() {
			s.rttOver[b.GetUpperBound()] = s.rttCount - float64(b.GetCumulativeCount())
		}
	}
	return s
}

// targetFlows returns the series of each flow of target name, or its own
// series if it has one flow.
func (m metrics) targetFlows(name string) []stats {
	var flows []stats
	for _, s := range m["tcp_echo_sent_total"].GetMetric() {
		var target, flow string
		for _, lp := range s.GetLabel() {
			switch lp.GetName() {
			case "target":
				target = lp.GetValue()
			case "flow":
				flow = lp.GetValue()
			}
		}
		if target != name || flow == "" {
			continue
		}
		k, _ := strconv.Atoi(flow)
		flows = append(flows, m.flow(name, k))
	}
	if len(flows) == 0 {
		return []stats{m.target(name)}
	}
	return flows
}
