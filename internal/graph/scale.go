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

package graph

import (
	"math"
	"strconv"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// linear maps values from [d0, d1] onto pixels [r0, r1].
type linear struct{ d0, d1, r0, r1 float64 }

// at returns v's pixel.
func (l linear) at(v float64) float64 {
	return l.r0 + (v-l.d0)*(l.r1-l.r0)/(l.d1-l.d0)
}

// window maps the time of o's window onto pixels [x0, x1].
type window struct {
	from, to time.Time
	x0, x1   float64
	xs       linear
}

// newWindow returns o's window drawn from x0 to x1.
func newWindow(o *Options, x0, x1 float64) window {
	return window{from: o.From, to: o.To, x0: x0, x1: x1, xs: linear{0, o.To.Sub(o.From).Seconds(), x0, x1}}
}

// inWindow reports whether p is in the window: whether it starts in it
// (history.Point.In). The open slot, which ends after the window, is
// drawn up to the window's end.
func (w *window) inWindow(p *history.Point) bool {
	return p.In(w.from, w.to)
}

// x returns t's pixel, within the window.
func (w *window) x(t time.Time) float64 {
	return min(max(w.xs.at(t.Sub(w.from).Seconds()), w.x0), w.x1)
}

// rttAxis is a y axis of RTTs from 0 to top seconds, with a tick every
// step, labelled in unit (seconds per µs, ms or s).
type rttAxis struct {
	top, step float64
	ticks     int // step × ticks = top
	unit      float64
	unitName  string
}

// newRTTAxis returns an axis that shows hi seconds with a little room
// above it, in four or five intervals of a round size (1, 2, 2.5 or 5
// times a power of ten), in the unit that keeps the labels short.
func newRTTAxis(hi float64) rttAxis {
	if hi <= 0 {
		hi = 1e-3 // no RTT at all: an axis to a millisecond
	}
	var a rttAxis
	a.step = niceStep(hi / 5)
	a.ticks = int(math.Ceil(hi * 1.05 / a.step * (1 - 1e-9)))
	a.top = float64(a.ticks) * a.step
	switch {
	case a.top < 1e-3:
		a.unit, a.unitName = 1e-6, "µs"
	case a.top < 1:
		a.unit, a.unitName = 1e-3, "ms"
	default:
		a.unit, a.unitName = 1, "s"
	}
	return a
}

// value returns the value of tick i, in seconds.
func (a rttAxis) value(i int) float64 { return float64(i) * a.step }

// label returns tick i's label, in the axis' unit.
func (a rttAxis) label(i int) string {
	v := math.Round(a.value(i)/a.unit*1e4) / 1e4
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// niceStep returns the smallest of 1, 2, 2.5 and 5 times a power of ten
// that is at least raw.
func niceStep(raw float64) float64 {
	base := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range [...]float64{1, 2, 2.5, 5} {
		if m*base >= raw*(1-1e-9) {
			return m * base
		}
	}
	return 10 * base
}

// timeStep returns the distance between the time axis' ticks: the
// smallest round step (1 minute to a day) that puts at most 8 of them
// in span: every 10 minutes for an hour, every 30 for three.
func timeStep(span time.Duration) time.Duration {
	for _, m := range [...]time.Duration{1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720} {
		if step := m * time.Minute; span <= 8*step {
			return step
		}
	}
	return 24 * time.Hour
}

// timeTicks calls f with every tick of [from, to]: the multiples of the
// step in Unix time, which every step above divides a day of.
func timeTicks(from, to time.Time, f func(time.Time)) {
	step := timeStep(to.Sub(from))
	t := from.Truncate(step) // Truncate works in absolute time: UTC multiples
	if t.Before(from) {
		t = t.Add(step)
	}
	for ; !t.After(to); t = t.Add(step) {
		f(t)
	}
}

// appendRTT appends d for a tooltip: three digits or so, in µs, ms or s.
// The unit and the digits are those of d as rounded: 999.7 µs is 1.00 ms,
// not 1000 µs.
func appendRTT(b []byte, d time.Duration) []byte {
	v, unit := d.Seconds()*1e6, " µs"
	if math.Round(v) >= 1000 {
		v, unit = d.Seconds()*1e3, " ms"
	}
	if math.Round(v) >= 1000 {
		v, unit = d.Seconds(), " s"
	}
	prec := 0
	switch {
	case math.Round(v*100) < 1000:
		prec = 2
	case math.Round(v*10) < 1000:
		prec = 1
	}
	return append(strconv.AppendFloat(b, v, 'f', prec, 64), unit...)
}
