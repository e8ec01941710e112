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
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// sparkLoss is the height of a Sparkline's loss marks, at its bottom.
const sparkLoss = 3

// Sparkline writes a small picture of points in o's window to w: the
// median as a stepped line, from zero at the bottom to a little above
// the window's largest median at the top, and under it a mark for each
// slot with loss, in Smoke's loss colours. Gaps stay blank; a window
// with no probe shows a dashed line. It has no ids, so any number of
// Sparklines can sit on one page. It returns ErrWindow if the window is
// empty, else what w.Write returns.
func Sparkline(w io.Writer, points []history.Point, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	width, height := o.size(120, 24)
	win := newWindow(&o, 0, width)
	var hi time.Duration
	data := false
	for i := range points {
		if p := &points[i]; win.inWindow(p) && !p.Empty() {
			data = true
			hi = max(hi, p.RTT[history.P50])
		}
	}
	top := max(hi.Seconds()*1.15, 1e-6)
	ys := linear{0, top, height - sparkLoss - 1, 1}

	var s svg
	s.header("sparkline", width, height)
	s.open("title").content("title", o.Title)
	if !data {
		s.open("line").attr("class", "nodata").num("x1", 0).num("y1", height/2).num("x2", width).
			num("y2", height/2).attr("stroke", "#bbb").attr("stroke-dasharray", "2 2").end()
		s.close("svg")
		return s.writeTo(w)
	}
	if hi > 0 { // else every probe of the window was lost
		s.open("path").attr("class", "median").float("data-top", top).
			attr("d", sparkPath(points, &win, ys)).attr("fill", "none").attr("stroke", "#333").
			attr("stroke-width", "1.5").end()
	}
	for i := range points {
		p := &points[i]
		if !win.inWindow(p) || p.Lost == 0 {
			continue
		}
		x, xe := win.x(p.Start), win.x(p.End)
		s.open("rect").attr("class", "loss").unix("data-t", p.Start).float("data-loss", p.LossRatio()).
			num("x", x).num("y", height-sparkLoss).num("width", max(xe-x, 1)).num("height", sparkLoss).
			attr("fill", lossColour(lossClass(p))).end()
	}
	s.close("svg")
	return s.writeTo(w)
}

// sparkPath returns the median's path: a level segment across each
// slot with replies, joined by a vertical to the one before when the
// two slots touch.
func sparkPath(points []history.Point, win *window, ys linear) string {
	var b []byte
	var prevEnd time.Time
	for i := range points {
		p := &points[i]
		if !win.inWindow(p) || p.Received() == 0 {
			continue
		}
		y := ys.at(p.RTT[history.P50].Seconds())
		if p.Start.Equal(prevEnd) {
			b = append(b, " V"...)
		} else {
			b = append(b, " M"...)
			b = appendNum(b, win.x(p.Start))
			b = append(b, ' ')
		}
		b = appendNum(b, y)
		b = append(b, " H"...)
		b = appendNum(b, win.x(p.End))
		prevEnd = p.End
	}
	return string(b[1:])
}
