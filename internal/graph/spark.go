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
	"io"
	"math"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// sparkLoss is the height of a Sparkline's loss marks, at its bottom.
const sparkLoss = 3

// Sparkline writes a small picture of points in o's window to w: the
// median as a stepped line, from zero at the bottom to a little above
// the window's largest median at the top, and under it a mark for each
// slot with loss, in Smoke's loss colours, or whose replies all came late,
// in Smoke's amber of late replies. Gaps stay blank; a window
// with no probe shows a dashed line. It has no ids, so any number of
// Sparklines can sit on one page. It returns ErrWindow if the window is
// empty, else what w.Write returns.
//
// A page may hold a thousand Sparklines, so each is drawn in few bytes
// and elements: one path for the median, and one path per loss colour
// whose segments mark its slots (adjacent slots of one colour are one
// segment). The root's data-from and data-to give the window in Unix
// seconds, the median's data-top the RTT at the top in seconds, and each
// loss path's data-loss-class its colour's class (the path of late
// replies is of class late), so that a test can read back from the
// geometry which slots lost how much.
func Sparkline(w io.Writer, points []history.Point, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	width, height := o.size(120, 24)
	win := newWindow(&o, 0, width)
	var hi time.Duration
	data := false
	var classes [numLoss]bool
	late := false
	for i := range points {
		if p := &points[i]; win.inWindow(p) && !p.Empty() {
			data = true
			hi = max(hi, p.RTT[history.P50])
			classes[lossClass(p)] = p.Lost > 0
			late = late || p.LateOnly()
		}
	}
	top := max(hi.Seconds()*1.15, 1e-6)
	ys := linear{0, top, height - sparkLoss - 1, 1}

	var s svg
	s.open("svg").attr("xmlns", "http://www.w3.org/2000/svg").attr("class", "sparkline").
		num("width", width).num("height", height).attr("viewBox", "0 0 "+fmtNum(width)+" "+fmtNum(height)).
		attr("role", "img").unix("data-from", o.From).unix("data-to", o.To).start()
	if o.Title != "" {
		s.open("title").content("title", o.Title)
	}
	if !data {
		s.open("line").attr("class", "nodata").num("x1", 0).num("y1", height/2).num("x2", width).
			num("y2", height/2).attr("stroke", "#bbb").attr("stroke-dasharray", "2 2").end()
		s.close("svg")
		return s.writeTo(w)
	}
	if hi > 0 { // else no probe of the window came back in time
		s.open("path").attr("class", "median").float("data-top", top).
			attr("d", sparkPath(points, &win, ys)).attr("fill", "none").attr("stroke", "#333").
			attr("stroke-width", "1.5").end()
	}
	// Slots whose replies all came late: no median, but not a gap. Under
	// the loss marks, which cover it where some probes were lost too.
	if late {
		s.open("path").attr("class", "late").
			attr("d", markPath(points, &win, height-sparkLoss/2.0, func(p *history.Point) bool { return p.LateOnly() })).
			attr("fill", "none").attr("stroke", lateColour).num("stroke-width", sparkLoss).end()
	}
	for c, has := range classes {
		if has {
			s.open("path").attr("class", "loss").attr("data-loss-class", itoa(c)).
				attr("d", markPath(points, &win, height-sparkLoss/2.0, func(p *history.Point) bool {
					return p.Lost > 0 && lossClass(p) == c
				})).attr("fill", "none").attr("stroke", lossColour(c)).num("stroke-width", sparkLoss).end()
		}
	}
	s.close("svg")
	return s.writeTo(w)
}

// sparkPath returns the median's path: a level segment across each
// slot with replies, joined by a vertical to the one before when the
// two slots touch; touching slots at one height are one segment.
func sparkPath(points []history.Point, win *window, ys linear) string {
	var b []byte
	var prevEnd time.Time
	var x, y, w float64 // the segment not yet written
	open := false
	flush := func() {
		if open {
			b = append(b, 'h')
			b = appendNum(b, w)
		}
	}
	for i := range points {
		p := &points[i]
		if !win.inWindow(p) || !p.Timed() {
			continue
		}
		// Rounded as written, so that relative moves do not drift.
		py, px, pe := tenth(ys.at(p.RTT[history.P50].Seconds())), tenth(win.x(p.Start)), tenth(win.x(p.End))
		switch {
		case open && p.Start.Equal(prevEnd) && py == y:
			w = pe - x // the same level goes on
		case open && p.Start.Equal(prevEnd):
			flush()
			b = append(b, 'V')
			b = appendNum(b, py)
			x, y, w = px, py, pe-px
		default:
			flush()
			b = append(b, 'M')
			b = appendNum(b, px)
			b = append(b, ' ')
			b = appendNum(b, py)
			x, y, w, open = px, py, pe-px, true
		}
		prevEnd = p.End
	}
	flush()
	return string(b)
}

// markPath returns the path of marks at height y of the slots that mark
// picks: a level segment across each run of adjacent ones.
func markPath(points []history.Point, win *window, y float64, mark func(*history.Point) bool) string {
	var b []byte
	var runStart, prevEnd time.Time
	flush := func() {
		if runStart.IsZero() {
			return
		}
		x, xe := tenth(win.x(runStart)), tenth(win.x(prevEnd))
		b = append(b, 'M')
		b = appendNum(b, x)
		b = append(b, ' ')
		b = appendNum(b, y)
		b = append(b, 'h')
		b = appendNum(b, max(xe-x, 1))
		runStart = time.Time{}
	}
	for i := range points {
		p := &points[i]
		if !win.inWindow(p) || !mark(p) {
			continue
		}
		if !p.Start.Equal(prevEnd) {
			flush()
		}
		if runStart.IsZero() {
			runStart = p.Start
		}
		prevEnd = p.End
	}
	flush()
	return string(b)
}

// tenth returns v rounded to a tenth, as appendNum writes it.
func tenth(v float64) float64 { return math.Round(v*10) / 10 }
