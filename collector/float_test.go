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
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// strconvFloat is appendFloat without its fast paths: expfmt's way.
func strconvFloat(v float64, om bool) string {
	b := strconv.AppendFloat(nil, v, 'g', -1, 64)
	if om && !math.IsInf(v, 0) && !math.IsNaN(v) && !slices.ContainsFunc(b, func(c byte) bool { return c == 'e' || c == '.' }) {
		b = append(b, '.', '0')
	}
	return string(b)
}

// TestAppendFloatNanos checks appendFloat's fast path for the seconds of
// nanosecond durations against strconv: durations of every magnitude,
// converted as the collector converts them, around the path's bounds, and
// random doubles, which mostly miss it.
func TestAppendFloatNanos(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	check := func(v float64) {
		t.Helper()
		for _, om := range []bool{false, true} {
			if got, want := string(appendFloat(nil, v, om)), strconvFloat(v, om); got != want {
				t.Fatalf("appendFloat(%v, om %v) = %q, want %q", v, om, got, want)
			}
		}
	}
	fast := 0
	for range 300_000 {
		// A duration of up to 15 digits, of a random magnitude, and
		// with some trailing zeros.
		d := rng.Int64N(int64(math.Pow10(1 + rng.IntN(15))))
		if rng.IntN(4) == 0 {
			d -= d % int64(math.Pow10(rng.IntN(9)))
		}
		for _, v := range []float64{time.Duration(d).Seconds(), float64(d) / 1e9, float64(d) * 1e-9} {
			if _, ok := nanoDecimal(v); ok {
				fast++
			}
			check(v)
		}
		check(rng.Float64() * math.Pow10(rng.IntN(12)-6))
		check(math.Float64frombits(rng.Uint64()))
	}
	for _, v := range []float64{1e-4, 1e6, 0.00011, 999999.999999999, 999999.9999999999, 123456.000000001, 0.000123456} {
		for _, x := range []float64{v, math.Nextafter(v, 0), math.Nextafter(v, 2e6)} {
			check(x)
		}
	}
	if fast < 300_000 {
		t.Errorf("%d durations took the fast path: the test misses it", fast)
	}
}
