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

package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeResult is what one checked scrape found.
type scrapeResult struct {
	targets, broken int
	addrs           map[string]float64 // sent, by address
	goroutines      float64
	probers         float64
	firstBroken     string
}

// scrape fetches /metrics and checks the invariant for every target.
func scrape(url string) (scrapeResult, error) {
	var r scrapeResult
	resp, err := http.Get(url)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bufio.NewReader(resp.Body))
	if err != nil {
		return r, err
	}
	values := func(name string) map[string]float64 {
		out := map[string]float64{}
		for _, m := range mfs[name].GetMetric() {
			var addr string
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "address" {
					addr = lp.GetValue()
				}
			}
			switch {
			case m.GetCounter() != nil:
				out[addr] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[addr] = m.GetGauge().GetValue()
			}
		}
		return out
	}
	sent, recv, tout, infl := values("tcp_echo_sent_total"), values("tcp_echo_received_total"),
		values("tcp_echo_timeouts_total"), values("tcp_echo_in_flight")
	r.targets, r.addrs = len(sent), sent
	for addr, s := range sent {
		if s != recv[addr]+tout[addr]+infl[addr] {
			r.broken++
			if r.firstBroken == "" {
				r.firstBroken = fmt.Sprintf("%s: sent %v != received %v + timeouts %v + in_flight %v", addr, s, recv[addr], tout[addr], infl[addr])
			}
		}
	}
	if g := mfs["go_goroutines"].GetMetric(); len(g) == 1 {
		r.goroutines = g[0].GetGauge().GetValue()
	}
	for _, m := range mfs["tcpping_exporter_probers"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "source" && lp.GetValue() == "discovered" {
				r.probers = m.GetGauge().GetValue()
			}
		}
	}
	return r, nil
}

// sameSet reports whether the scraped addresses are exactly want.
func sameSet(got map[string]float64, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, a := range want {
		if _, ok := got[a]; !ok {
			return false
		}
	}
	return true
}

// waitHealthy waits up to 20 s for the prober to answer url.
func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no answer within 20s: %v", url, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
