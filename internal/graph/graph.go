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

// Package graph draws a target's RTT and loss history as SVG, on the
// server, with no script and nothing fetched from elsewhere, so the pages
// that show it work on an air-gapped host.
//
// Smoke draws the SmokePing-style graph of a target page. Time runs along
// the x axis (UTC), the RTT up the y axis, from zero to a little above
// the largest p90 of the window (what lies above is clipped: one
// retransmission must not flatten a whole graph). For each slot of the
// history:
//
//   - the spread of its RTTs is grey smoke: three nested translucent
//     bands, min–max, p10–p90 and p25–p75, so the smoke is darkest where
//     most probes sit, next to the median;
//   - the median is a short line across the slot, coloured by the slot's
//     loss with SmokePing's colours for 20 pings: green for none, light
//     blue up to 1/20 lost, blue up to 2/20, indigo up to 3/20, violet up
//     to 5/20, magenta up to 10/20, red short of all, dark red for all;
//   - a slot with loss also gets a mark of that colour in a strip under
//     the time axis, so loss shows even where there is no median (every
//     probe lost) or the line is too short to see;
//   - a slot whose replies all came late (each probe timed out, then
//     its reply came) has no RTT to draw and need have no loss: its
//     column of the plot is shaded amber, a colour no loss class has,
//     so that it does not read as a slot without probes;
//   - a slot without probes is left blank.
//
// A legend under the graph explains the colours, the bands and the
// shade of late replies; a window
// with no probe at all says "no data".
//
// Sparkline draws the same median and loss marks, and an amber mark for a
// slot of late replies only, in a few pixels, for the
// landing page's table, without axes, in as few bytes as it can: a page
// holds a thousand of them.
//
// Everything drawn carries classes and data attributes (slot start in
// Unix seconds, RTTs in seconds, loss ratio; a Sparkline's window and
// loss classes) so that tests, and a browser test, can check that the
// picture shows what the data says. Output is
// deterministic: the same points draw the same bytes. Text from outside
// (titles, target names, labels) is escaped.
package graph

import (
	"errors"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// Options describe one picture.
type Options struct {
	// Title is drawn above a Smoke graph, and is a Sparkline's tooltip
	// (none if empty).
	Title string
	// From and To delimit the window on the time axis: the caller's
	// range (1h, 3h) ending now. Only the points that start in it are
	// drawn (history.Point.In): a window of an hour is 60 one-minute
	// slots, the open one included.
	From, To time.Time
	// Width and Height are the picture's size in pixels; 0 takes the
	// default: 720×300 for Smoke, 120×24 for Sparkline.
	Width, Height int
}

// ErrWindow is returned for a window whose end is not after its start.
var ErrWindow = errors.New("graph: window ends before it starts")

// check returns ErrWindow if o's window is empty.
func (o *Options) check() error {
	if !o.To.After(o.From) {
		return ErrWindow
	}
	return nil
}

// size returns o's width and height, or the defaults.
func (o *Options) size(w, h int) (float64, float64) {
	if o.Width > 0 {
		w = o.Width
	}
	if o.Height > 0 {
		h = o.Height
	}
	return float64(w), float64(h)
}

// The loss classes, after SmokePing's for 20 pings per step: no loss,
// then at most 1, 2, 3, 5, 10 and 19 of 20 lost, then all of them.
const (
	lossNone = iota
	lossAll  = 7
	numLoss  = 8
)

// lossClass returns the loss class of a slot.
func lossClass(p *history.Point) int {
	switch {
	case p.Lost == 0:
		return lossNone
	case p.Lost >= p.Sent:
		return lossAll
	}
	for c := 1; c < lossAll; c++ {
		if p.Lost*20 <= lossUpTo(c)*p.Sent {
			return c
		}
	}
	return lossAll - 1
}

// lossUpTo returns the most probes of 20 that loss class c covers.
func lossUpTo(c int) int {
	switch c {
	case lossNone:
		return 0
	case 4:
		return 5
	case 5:
		return 10
	case 6:
		return 19
	case lossAll:
		return 20
	}
	return c
}

// lossColour returns the colour of loss class c: SmokePing's.
func lossColour(c int) string {
	switch c {
	case lossNone:
		return "#26ff00"
	case 1:
		return "#00b8ff"
	case 2:
		return "#0059ff"
	case 3:
		return "#5e00ff"
	case 4:
		return "#7e00ff"
	case 5:
		return "#dd00ff"
	case 6:
		return "#ff0000"
	}
	return "#7f0000"
}

// lossLabel returns the legend's text for loss class c.
func lossLabel(c int) string {
	switch c {
	case lossNone:
		return "0%"
	case 6:
		return "<100%"
	case lossAll:
		return "100%"
	}
	return "≤" + itoa(lossUpTo(c)*5) + "%"
}
