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

package prober

import "time"

// RFC 6298 constants: the gains of section 2 (alpha = 1/8, beta = 1/4,
// K = 4) and the clock granularity G. Go's monotonic clock has nanosecond
// resolution, but a G of 1 ms keeps RTO above SRTT even when RTTVAR collapses
// on a very steady sub-millisecond path.
const (
	rtoK           = 4
	rtoGranularity = time.Millisecond
)

// rtoEstimator computes the retransmission-timeout style probe timeout of
// RFC 6298 from RTT samples, with a floor proportional to SRTT (margin).
// Not safe for concurrent use.
//
// RFC 6298 sets the timeout at SRTT + 4 RTTVAR, which suits TCP's own
// retransmissions but not a loss count: on a steady path RTTVAR decays to
// almost nothing, the timeout settles a granularity G above SRTT (151 ms
// on a steady 150 ms path), and a few milliseconds of jitter then turn
// answered probes into timeouts and late replies. The margin keeps the
// timeout at least SRTT × (1 + margin): with the default 0.5 a probe on a
// 150 ms path is declared lost after 225 ms, not 151, jitter up to half
// the RTT is never counted as loss, and a lost probe is still counted
// within 1.5 SRTT (or min_timeout, if larger) of its send.
type rtoEstimator struct {
	// The two flags share a word: 64 bytes, one per target, not 72 (which
	// Go allocates as 80).
	adaptive, hasSample bool

	initial  time.Duration
	min, max time.Duration
	margin   float64

	srtt, rttvar time.Duration
	rto          time.Duration
}

// newRTOEstimator returns an estimator whose timeout starts at initial and
// stays within [minRTO, maxRTO], and at least SRTT × (1 + margin).
func newRTOEstimator(adaptive bool, initial, minRTO, maxRTO time.Duration, margin float64) *rtoEstimator {
	return &rtoEstimator{adaptive: adaptive, initial: initial, min: minRTO, max: maxRTO, margin: margin, rto: initial}
}

// timeout returns the timeout in force for the next probe.
func (e *rtoEstimator) timeout() time.Duration {
	if !e.adaptive {
		return e.initial
	}
	return e.rto
}

// smoothed returns SRTT, zero before the first sample.
func (e *rtoEstimator) smoothed() time.Duration { return e.srtt }

// sample feeds one RTT measurement (RFC 6298 sections 2.2 and 2.3). Only
// replies that arrived within their timeout may be fed in: per Karn's
// algorithm a late reply says nothing reliable about the path.
func (e *rtoEstimator) sample(r time.Duration) {
	if !e.hasSample {
		// 2.2: SRTT <- R, RTTVAR <- R/2.
		e.srtt = r
		e.rttvar = r / 2
		e.hasSample = true
	} else {
		// 2.3: RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|,
		// then SRTT <- (1 - alpha) * SRTT + alpha * R', in that order.
		d := e.srtt - r
		if d < 0 {
			d = -d
		}
		e.rttvar = e.rttvar - e.rttvar/4 + d/4
		e.srtt = e.srtt - e.srtt/8 + r/8
	}
	// RTO <- SRTT + max(G, K*RTTVAR), at least SRTT × (1 + margin), and
	// clamped (2.4 and 2.5 set a 1 s floor and an upper bound; here both
	// are the module's min and max_timeout).
	floor := time.Duration(float64(e.srtt) * (1 + e.margin))
	e.rto = e.clamp(max(e.srtt+max(rtoGranularity, rtoK*e.rttvar), floor))
}

// backoff doubles the timeout after a timeout (RFC 6298 section 5.5), up
// to the maximum.
func (e *rtoEstimator) backoff() {
	e.rto = e.clamp(2 * e.rto)
}

func (e *rtoEstimator) clamp(d time.Duration) time.Duration {
	return min(max(d, e.min), e.max)
}
