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
	"fmt"
	"math"
	"slices"

	dto "github.com/prometheus/client_model/go"
)

// metrics is one parsed scrape.
type metrics map[string]*dto.MetricFamily

// get returns the value of the series of name whose labels include want
// (alternating names and values), or NaN if there is none. For a histogram
// it is the sample count.
func (m metrics) get(name string, want ...string) float64 {
	mf, ok := m[name]
	if !ok {
		return math.NaN()
	}
next:
	for _, s := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range s.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case s.GetCounter() != nil:
			return s.GetCounter().GetValue()
		case s.GetGauge() != nil:
			return s.GetGauge().GetValue()
		case s.GetHistogram() != nil:
			return float64(s.GetHistogram().GetSampleCount())
		case s.GetUntyped() != nil:
			return s.GetUntyped().GetValue()
		}
	}
	return math.NaN()
}

// targets returns the names of the targets on /metrics, each once.
func (m metrics) targets() []string {
	var names []string
	for _, s := range m["tcp_echo_sent_total"].GetMetric() {
		for _, lp := range s.GetLabel() {
			if lp.GetName() == "target" {
				names = append(names, lp.GetValue())
			}
		}
	}
	return slices.Compact(names) // a target's flows are consecutive
}

// stats are one target's series from one scrape.
type stats struct {
	sent, received, timeouts, inFlight, late, dropped, unexpected, retransmits float64
	connected, lastRTT, timeout                                                float64
	rttCount, rttSum                                                           float64
	// rttOver is how many observed RTTs exceeded each classic bucket bound.
	rttOver map[float64]float64
}

func (m metrics) target(name string) stats {
	s := stats{
		sent:        m.get("tcp_echo_sent_total", "target", name),
		received:    m.get("tcp_echo_received_total", "target", name),
		timeouts:    m.get("tcp_echo_timeouts_total", "target", name),
		inFlight:    m.get("tcp_echo_in_flight", "target", name),
		late:        m.get("tcp_echo_late_total", "target", name),
		dropped:     m.get("tcp_echo_dropped_total", "target", name),
		unexpected:  m.get("tcp_echo_unexpected_replies_total", "target", name),
		retransmits: m.get("tcp_echo_retransmits_total", "target", name),
		connected:   m.get("tcp_echo_connected", "target", name),
		lastRTT:     m.get("tcp_echo_last_rtt_seconds", "target", name),
		timeout:     m.get("tcp_echo_estimated_timeout_seconds", "target", name),
		rttOver:     map[float64]float64{},
	}
	for _, h := range m["tcp_echo_rtt_seconds"].GetMetric() {
		match := false
		for _, lp := range h.GetLabel() {
			match = match || lp.GetName() == "target" && lp.GetValue() == name
		}
		if !match {
			continue
		}
		hist := h.GetHistogram()
		s.rttCount = float64(hist.GetSampleCount())
		s.rttSum = hist.GetSampleSum()
		for _, b := range hist.GetBucket() {
			s.rttOver[b.GetUpperBound()] = s.rttCount - float64(b.GetCumulativeCount())
		}
	}
	return s
}

func (s stats) String() string {
	return fmt.Sprintf("sent %v received %v timeouts %v in_flight %v late %v dropped %v unexpected %v retransmits %v connected %v",
		s.sent, s.received, s.timeouts, s.inFlight, s.late, s.dropped, s.unexpected, s.retransmits, s.connected)
}

// checkHonest checks what must hold for every target on every scrape:
// the invariant sent == received + timeouts + in_flight, the in-flight
// bound of DESIGN.md, every late reply belongs to a probe counted as timed
// out, and the histogram holds exactly the received replies.
func checkHonest(m metrics, maxInFlight map[string]int) []string {
	var errs []string
	for _, name := range m.targets() {
		for _, s := range m.targetFlows(name) {
			errs = append(errs, checkStats(name, s, maxInFlight)...)
		}
	}
	return errs
}

// checkStats is checkHonest for the series of one target, or of one flow
// of a target of several flows.
func checkStats(name string, s stats, maxInFlight map[string]int) []string {
	var errs []string
	if s.sent != s.received+s.timeouts+s.inFlight {
		errs = append(errs, fmt.Sprintf("target %s: invariant broken: sent %v != received %v + timeouts %v + in_flight %v",
			name, s.sent, s.received, s.timeouts, s.inFlight))
	}
	if limit, ok := maxInFlight[name]; ok && s.inFlight > float64(limit) {
		errs = append(errs, fmt.Sprintf("target %s: in_flight %v above ceil(T/interval)+1 = %d", name, s.inFlight, limit))
	}
	if s.late > s.timeouts {
		errs = append(errs, fmt.Sprintf("target %s: late %v > timeouts %v: a late reply without a timed-out probe", name, s.late, s.timeouts))
	}
	if s.rttCount != s.received {
		errs = append(errs, fmt.Sprintf("target %s: histogram count %v != received %v", name, s.rttCount, s.received))
	}
	return errs
}
