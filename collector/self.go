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

import "github.com/prometheus/client_golang/prometheus"

// ProberCount exposes tcpping_exporter_probers{source="static|dynamic"},
// and source="discovered" with discovery.
type ProberCount struct {
	count     func() (static, discovered, dynamic int)
	discovery func() bool
	desc      *prometheus.Desc
}

// NewProberCount returns a collector of the number of running probers, as
// reported by count at scrape time. The static and dynamic series are
// always there, at 0 when no prober runs; the discovered one only while
// discovery reports that the loaded config has discovery entries (DESIGN.md
// lists it "with discovery"), or while discovered probers still run: a
// reload that removes discovery adopts the config a moment before it
// stops their probers, and a scrape in that moment must not hide them.
func NewProberCount(count func() (static, discovered, dynamic int), discovery func() bool) *ProberCount {
	return &ProberCount{
		count:     count,
		discovery: discovery,
		desc: prometheus.NewDesc("tcpping_exporter_probers",
			"Probers running, by source: static targets of the config, targets found by discovery, or dynamic /probe targets.",
			[]string{"source"}, nil),
	}
}

// Describe sends the Desc.
func (c *ProberCount) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect emits one series per source in use.
func (c *ProberCount) Collect(ch chan<- prometheus.Metric) {
	s, disc, d := c.count()
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s), "static")
	if disc > 0 || c.discovery() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(disc), "discovered")
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(d), "dynamic")
}
