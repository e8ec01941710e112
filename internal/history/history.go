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

// Package history keeps a bounded in-memory history of one prober's
// round-trip times and loss, for the graphs of the landing and target
// pages: per slot of time (a minute by default), the spread of the RTTs
// that came back and the number of probes sent and lost, for the last
// --web.history.
//
// A Pool holds the settings (slot length, span) and the memory of every
// Recorder it hands out. A prober owns one Recorder and tells it each
// probe's outcome with Reply or Lost, and with Late a reply that came
// after its probe was recorded lost, passing the time: the package has
// no clock of its own. A slot's loss is the probes never answered, not
// those answered late (within the slot of their timeout: see Late). Snapshot copies a window of slots out as Points,
// which hold no reference into the Recorder.
//
// Each slot keeps seven quantiles of its RTTs: min, p10, p25, p50, p75,
// p90 and max. The median draws the line, and the three nested pairs
// around it (p25–p75, p10–p90, min–max) draw the smoke, darker near the
// median, as SmokePing shades its sorted pings; seven values are the
// fewest that still show where the bulk of the probes sit (p25–p75),
// where the usual jitter ends (p10–p90) and what the outliers did
// (min–max). A slot with no probe is empty, a gap, which is not the same
// as a slot whose probes were all lost.
//
// Memory: a slot is one 64-bit word (see code.go), and the open slot
// samples at most 64 RTTs (a probe a second for a minute fits whole), so
// a Recorder of the default 3 h of one-minute slots holds 180 words and
// a 128-byte reservoir, 1568 bytes, taken from the Pool at its first
// probe and never grown. That memory lives outside the Go heap, where
// the GC neither scans it nor counts it towards its next goal (which
// would double its cost in RSS), and goes back to the Pool when the
// Recorder is garbage. On the heap a Recorder is 64 bytes, about 130
// with the cleanup that gives its block back. Filled, 10 000 Recorders
// add 1.8 KiB of RSS per target, 1.9 KiB counting the GC's headroom over
// their heap part (TestMemoryPerTarget); the same on the heap would cost
// twice 1.6 KiB. (Where internal/offheap cannot map memory, on Windows,
// the blocks are on the heap after all.) Nothing at all is kept when the
// span is 0.
package history

import "time"

// The quantiles each slot keeps, as indices of Point.RTT.
const (
	Min = iota // the smallest RTT
	P10        // the 10th percentile
	P25        // the 25th percentile
	P50        // the median
	P75        // the 75th percentile
	P90        // the 90th percentile
	Max        // the largest RTT

	// NumQuantiles is the number of quantiles kept.
	NumQuantiles
)

// QuantileLevel returns the level of quantile i (0 for Min, 0.5 for P50,
// 1 for Max).
func QuantileLevel(i int) float64 {
	return float64(twentieths(i)) / 20
}

// twentieths returns the level of quantile i in twentieths.
func twentieths(i int) int {
	switch i {
	case P10:
		return 2
	case P25:
		return 5
	case P50:
		return 10
	case P75:
		return 15
	case P90:
		return 18
	case Max:
		return 20
	}
	return 0
}

// Point is one slot of a Recorder's history.
type Point struct {
	// Start and End delimit the slot: [Start, End), in UTC.
	Start, End time.Time
	// Sent is the number of probes whose outcome the slot saw, Lost the
	// number of them never answered: they timed out or were due while
	// disconnected, and no late reply to them came within the slot (a
	// late reply is not a loss; see Recorder.Late).
	// They are exact up to 127 probes a slot; beyond, Sent is within
	// 3.1 % (up to 31 744, where it stops) and Lost/Sent within 1/254
	// and half a probe of the true ratio (some loss never reads as none).
	Sent, Lost int
	// RTT holds the quantiles of the RTTs of the probes that came back in
	// time, indexed by Min … Max; all zero when none did (see Timed). A
	// late reply counts as received but has no RTT. Of a slot of at most
	// 64 RTTs (a probe a second fills a minute with 60) the median is
	// within 0.3 % (see code.go for the others). Of a slot of more, Min
	// and Max are still the slot's, but the quantiles between them are
	// those of a uniform sample of 64 of its RTTs (the reservoir), an
	// estimate: about a sixteenth of the RTTs' spread off for the median
	// (one standard error), up to a fifth. At a probe every 100 ms, RTTs
	// spread evenly over 10–20 ms give a median up to 10 % off.
	RTT [NumQuantiles]time.Duration
	// Open is set on the slot still being filled (the last one).
	Open bool
}

// In reports whether p is in the window [from, to): whether it starts in
// it. A window of R then holds R of slots, R/slot of them, and the slot
// that straddles from, which began before it, is not counted in it: the
// last hour, drawn or summed at 10:30:30, is the slots of 09:31 to 10:30,
// the open one included, not those of 09:30 to 10:30, 61 minutes.
func (p Point) In(from, to time.Time) bool {
	return !p.Start.Before(from) && p.Start.Before(to)
}

// Empty reports whether no probe was sent in the slot: a gap in the
// history, not a loss.
func (p Point) Empty() bool { return p.Sent == 0 }

// Timed reports whether the slot has RTTs: some probe came back before
// its timeout. A slot whose replies were all late has none, though it
// has no loss.
func (p Point) Timed() bool { return p.RTT[Max] > 0 }

// LateOnly reports whether probes of the slot came back but none in time
// to be timed: its replies all came late. It has no RTTs, as an empty
// slot has none, but its probes were sent and answered.
func (p Point) LateOnly() bool { return p.Received() > 0 && !p.Timed() }

// Received returns the number of probes that came back, late or not.
func (p Point) Received() int { return p.Sent - p.Lost }

// LossRatio returns the fraction of probes lost, 0 for an empty slot.
func (p Point) LossRatio() float64 {
	if p.Sent == 0 {
		return 0
	}
	return float64(p.Lost) / float64(p.Sent)
}
