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

package ping

import (
	"fmt"
	"math"
	"time"
)

// rttStats sums the replies' RTTs, to the nanosecond, for the --json
// summary.
type rttStats struct {
	n        int
	min, max time.Duration
	sum, sq  float64 // seconds, seconds²
}

func (r *rttStats) add(d time.Duration) {
	if r.n == 0 || d < r.min {
		r.min = d
	}
	r.max = max(r.max, d)
	r.n++
	v := d.Seconds()
	r.sum += v
	r.sq += v * v
}

// mean returns the mean RTT in seconds.
func (r *rttStats) mean() float64 { return r.sum / float64(r.n) }

// mdev returns the RTTs' standard deviation in seconds, as iputils'
// ping computes its mdev: sqrt(mean(rtt²) − mean(rtt)²).
func (r *rttStats) mdev() float64 {
	m := r.mean()
	return math.Sqrt(max(r.sq/float64(r.n)-m*m, 0))
}

// iputilsRTT sums the replies' RTTs for the text summary exactly as
// iputils' ping(8) does, so that the same reply times give the same
// line: release 20221126 (Debian 12's), ping/ping_common.c,
// gather_statistics and finish. Each RTT counts in whole microseconds,
// truncated, as the reply's line shows it; the sums are doubles, as
// ping's are.
type iputilsRTT struct {
	n           int64
	tmin, tmax  int64   // µs
	tsum, tsum2 float64 // µs, µs²
}

func (r *iputilsRTT) add(d time.Duration) {
	t := max(d.Microseconds(), 0) // ping counts a negative trip as 0
	if r.n == 0 || t < r.tmin {
		r.tmin = t
	}
	r.tmax = max(r.tmax, t)
	r.n++
	r.tsum += float64(t)
	r.tsum2 += float64(t * t)
}

// summary returns "min/avg/max/mdev" in milliseconds as ping's finish
// prints them. Its arithmetic is ping's, step by step: a double divided
// and truncated to an integer where ping assigns one to a long; the
// explicit conversion of tsum*tsum keeps Go from fusing it with the
// operations around it.
func (r *iputilsRTT) summary() string {
	n := float64(r.n)
	tmavg := int64(r.tsum / n)
	var tmvar int64
	if r.tsum < math.MaxInt32 {
		// ping: "This slightly clumsy computation order is important
		// to avoid integer rounding errors for small ping times."
		tmvar = int64((r.tsum2 - float64(r.tsum*r.tsum)/n) / n)
	} else {
		tmvar = int64(r.tsum2/n - float64(tmavg*tmavg))
	}
	return fmt.Sprintf("%s/%s/%s/%s", usMs(r.tmin), usMs(tmavg), usMs(r.tmax), usMs(llsqrt(tmvar)))
}

// llsqrt is ping's integer square root: Newton's iteration from a,
// stopped when it stops decreasing. It returns the value it stopped at,
// so a = k² − 1, where the iteration swings between k − 1 and k, gives k
// (3 gives 2, 8 gives 3); other a give the floor of their root.
func llsqrt(a int64) int64 {
	prev, x := int64(math.MaxInt64), a
	if x > 0 {
		for x < prev {
			prev = x
			x = (x + a/x) / 2
		}
	}
	return x
}

// usMs writes us microseconds as milliseconds with three decimals, as
// ping's "%ld.%03ld" of us/1000 and us%1000.
func usMs(us int64) string { return fmt.Sprintf("%d.%03d", us/1000, us%1000) }
