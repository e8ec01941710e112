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
	"fmt"
	"os"
	"slices"
	"strings"
)

// On lo, libpcap keeps only the incoming copy of each packet: a frame's
// capture time is when the receiving side's softirq took it off the
// loopback queue and handed it to the taps, on its way to TCP. For a
// request that is one loopback transit after it left the prober; for a
// reply, one after it left the echo server. txcap (bench/txcap) captures
// the outgoing copies of both; with -departures, each probe is also timed
// from its request's departure to its reply's arrival (what the earlier
// version of this tool reported, mixing both kinds of capture) and from
// departure to departure. Neither is the instant a kernel timestamp
// marks: a departure is taken before the loopback driver, where the
// transmit timestamp is; a capture after the loopback queue; and the
// receive timestamp of a TCP segment on lo later still, in the IP layer
// (bench/README.md, "Where the last microseconds go"). Departure to
// departure is what a capture at each host's own interface would show.

// addDepartures reads txcap's capture (o.departures) and gives each probe
// the departures of its request and reply, matched by client port and
// sequence number.
func (r *results) addDepartures(o options) error {
	f, err := os.Open(o.departures)
	if err != nil {
		return fmt.Errorf("departures: %w", err)
	}
	defer f.Close()
	d := newMatcher(options{serverPort: o.serverPort, clientPort: o.clientPort})
	// txcap's connection id is the client port, so that its keys are
	// those of the tshark matcher's probes.
	if err := d.read(f); err != nil {
		return fmt.Errorf("departures: %w", err)
	}
	answered := make(map[key]probe, len(d.probes))
	for _, p := range d.probes {
		answered[key{p.clientPort, p.seq}] = p
	}
	for i := range r.probes {
		p := &r.probes[i]
		k := key{p.clientPort, p.seq}
		if dp, ok := answered[k]; ok {
			p.depNs, p.repDepNs = dp.reqNs, dp.repNs
		} else if req, ok := d.requests[k]; ok {
			p.depNs = req.ns
		}
	}
	r.departures = true
	return nil
}

// departureSummary is the summary's fields for the probes with a
// departure: how many, their RTT from departure to reply, the request's
// loopback transit (departure to capture) and the sender's send path up to
// the departure; then for the probes whose reply's departure was captured
// too, their RTT from departure to departure and the reply's transit.
func (r results) departureSummary() string {
	var rtts, transits, sends, dd, repTransits []int64
	for _, p := range r.probes {
		if p.depNs == 0 {
			continue
		}
		rtts = append(rtts, p.repNs-p.depNs)
		transits = append(transits, p.reqNs-p.depNs)
		sends = append(sends, p.depNs-p.stampNs)
		if p.repDepNs != 0 {
			dd = append(dd, p.repDepNs-p.depNs)
			repTransits = append(repTransits, p.repNs-p.repDepNs)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, " depart_frames=%d depart_mean_us=%s depart_p50_us=%s lo_transit_mean_us=%s lo_transit_p50_us=%s send_depart_mean_us=%s",
		len(rtts), meanUs(rtts), p50Us(rtts), meanUs(transits), p50Us(transits), meanUs(sends))
	fmt.Fprintf(&b, " dd_frames=%d dd_mean_us=%s dd_p50_us=%s reply_transit_mean_us=%s reply_transit_p50_us=%s",
		len(dd), meanUs(dd), p50Us(dd), meanUs(repTransits), p50Us(repTransits))
	return b.String()
}

func meanUs(v []int64) string {
	if len(v) == 0 {
		return "nan"
	}
	var sum int64
	for _, x := range v {
		sum += x
	}
	return fmt.Sprintf("%.3f", float64(sum)/float64(len(v))/1e3)
}

func p50Us(v []int64) string {
	if len(v) == 0 {
		return "nan"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf("%.3f", float64(s[len(s)/2])/1e3)
}
