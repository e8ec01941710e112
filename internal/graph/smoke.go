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
	"strconv"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// The Smoke graph's margins around the plot, in pixels: room for the
// title above, the RTT labels left, and the loss strip, the time labels
// and the legend below.
const (
	marginLeft   = 64
	marginRight  = 16
	marginTop    = 44 // the title's line, then the window's dates
	marginBottom = 80
	lossStrip    = 6 // the loss marks' height, under the time axis
)

// The title's font size: a title too long for the plot's width is
// shortened in its middle (fitText); the whole of it is the picture's
// title element, a browser's tooltip.
const (
	titleSize   = "13"
	titleSizePx = 13
)

// smokeOpacity is the opacity of one smoke band: where two overlap the
// smoke is 1−(1−a)² dark, where all three do 1−(1−a)³.
const smokeOpacity = 0.15

// A slot whose replies all came late (history.Point.LateOnly) is shaded
// in lateColour, a colour none of the loss classes has, lateOpacity
// opaque, over the plot's height: it has no RTT to draw.
const (
	lateColour  = "#f0a000"
	lateOpacity = 0.3
)

// smoke is a Smoke graph being drawn.
type smoke struct {
	window
	o      *Options
	pts    []history.Point
	w, h   float64
	y0, y1 float64 // the plot's top and bottom; window has its sides
	ys     linear
	axis   rttAxis
	data   bool // some slot of the window had a probe
}

// Smoke writes the SmokePing-style graph of points in o's window to w
// (see the package comment for what it shows). It returns ErrWindow if
// the window is empty, else what w.Write returns.
func Smoke(w io.Writer, points []history.Point, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	g := newSmoke(points, &o)
	var s svg
	s.header("smoke-graph", g.w, g.h)
	s.open("title").content("title", o.Title)
	g.frame(&s)
	g.yAxis(&s)
	g.xAxis(&s)
	g.slots(&s)
	g.legend(&s)
	s.close("svg")
	return s.writeTo(w)
}

// newSmoke lays out the graph of points.
func newSmoke(points []history.Point, o *Options) *smoke {
	g := &smoke{o: o, pts: points}
	g.w, g.h = o.size(720, 300)
	g.window = newWindow(o, marginLeft, g.w-marginRight)
	g.y0, g.y1 = marginTop, g.h-marginBottom
	var hi time.Duration
	for i := range points {
		p := &points[i]
		if !g.inWindow(p) || p.Empty() {
			continue
		}
		g.data = true
		hi = max(hi, p.RTT[history.P90])
	}
	g.axis = newRTTAxis(hi.Seconds())
	g.ys = linear{0, g.axis.top, g.y1, g.y0}
	return g
}

// y returns d's pixel, within the plot: RTTs above the axis are clipped.
func (g *smoke) y(d time.Duration) float64 {
	return min(max(g.ys.at(d.Seconds()), g.y0), g.y1)
}

// frame draws the background, the title and the window's dates.
func (g *smoke) frame(s *svg) {
	s.open("rect").attr("class", "background").num("width", g.w).num("height", g.h).attr("fill", "#fff").end()
	s.open("text").attr("class", "title").num("x", g.x0).num("y", 17).attr("font-size", titleSize).
		attr("font-weight", "bold").content("text", fitText(g.o.Title, g.x1-g.x0, titleSizePx))
	from, to := g.from.UTC(), g.to.UTC()
	s.open("text").attr("class", "window").num("x", g.x1).num("y", 34).attr("text-anchor", "end").
		content("text", from.Format("2006-01-02 15:04")+" – "+to.Format("2006-01-02 15:04")+" UTC")
	s.open("rect").attr("class", "plot").num("x", g.x0).num("y", g.y0).num("width", g.x1-g.x0).
		num("height", g.y1-g.y0).attr("fill", "none").attr("stroke", "#999").end()
}

// yAxis draws the RTT ticks, their grid lines and the axis' title.
func (g *smoke) yAxis(s *svg) {
	for i := 0; i <= g.axis.ticks; i++ {
		v := g.axis.value(i)
		y := g.ys.at(v)
		s.open("g").attr("class", "ytick").float("data-v", v).start()
		s.open("line").num("x1", g.x0-4).num("y1", y).num("x2", g.x1).num("y2", y).attr("stroke", "#e4e4e4").end()
		s.open("text").num("x", g.x0-7).num("y", y+4).attr("text-anchor", "end").content("text", g.axis.label(i))
		s.close("g")
	}
	my := (g.y0 + g.y1) / 2
	s.open("text").attr("class", "yaxis").num("x", 16).num("y", my).attr("text-anchor", "middle").
		attr("transform", "rotate(-90 16 "+fmtNum(my)+")").content("text", "RTT ("+g.axis.unitName+")")
}

// xAxis draws the time ticks, their grid lines and labels (UTC).
func (g *smoke) xAxis(s *svg) {
	timeTicks(g.from, g.to, func(t time.Time) {
		x := g.x(t)
		s.open("g").attr("class", "xtick").unix("data-t", t).start()
		s.open("line").num("x1", x).num("y1", g.y0).num("x2", x).num("y2", g.y1+4).attr("stroke", "#e4e4e4").end()
		s.open("text").num("x", x).num("y", g.y1+lossStrip+16).attr("text-anchor", "middle").
			content("text", t.UTC().Format("15:04"))
		s.close("g")
	})
}

// slots draws every slot's smoke, then the medians over it, then the
// loss marks; or says there is no data.
func (g *smoke) slots(s *svg) {
	if !g.data {
		s.open("text").attr("class", "nodata").num("x", (g.x0+g.x1)/2).num("y", (g.y0+g.y1)/2).
			attr("text-anchor", "middle").attr("fill", "#888").attr("font-size", "14").content("text", "no data")
		return
	}
	s.open("g").attr("class", "late-layer").attr("fill", lateColour).float("fill-opacity", lateOpacity).start()
	g.each(s, g.late)
	s.close("g")
	s.open("g").attr("class", "smoke-layer").attr("fill", "#000").float("fill-opacity", smokeOpacity).start()
	g.each(s, g.smoke)
	s.close("g")
	s.open("g").attr("class", "median-layer").attr("stroke-width", "2").start()
	g.each(s, g.median)
	s.close("g")
	s.open("g").attr("class", "loss-layer").start()
	g.each(s, g.loss)
	s.close("g")
}

// each calls draw with every slot of the window that saw a probe.
func (g *smoke) each(s *svg, draw func(*svg, *history.Point)) {
	for i := range g.pts {
		if p := &g.pts[i]; g.inWindow(p) && !p.Empty() {
			draw(s, p)
		}
	}
}

// smoke draws p's three smoke bands, outermost first.
func (g *smoke) smoke(s *svg, p *history.Point) {
	if !p.Timed() {
		return
	}
	x, xe := g.x(p.Start), g.x(p.End)
	for _, b := range [...]struct {
		name   string
		lo, hi int
	}{{"min-max", history.Min, history.Max}, {"p10-p90", history.P10, history.P90}, {"p25-p75", history.P25, history.P75}} {
		lo, hi := p.RTT[b.lo], p.RTT[b.hi]
		top := g.y(hi)
		s.open("rect").attr("class", "smoke").attr("data-band", b.name).unix("data-t", p.Start).
			secs("data-lo", lo).secs("data-hi", hi).num("x", x).num("y", top).num("width", xe-x).
			num("height", g.y(lo)-top).end()
	}
}

// late shades p's column of the plot if its replies all came late: it has
// no RTT to draw, and must not read as a slot without probes, which stays
// blank.
func (g *smoke) late(s *svg, p *history.Point) {
	if !p.LateOnly() {
		return
	}
	x, xe := g.x(p.Start), g.x(p.End)
	s.open("rect").attr("class", "late").unix("data-t", p.Start).attr("data-late", itoa(p.Received())).
		num("x", x).num("y", g.y0).num("width", max(xe-x, 1)).num("height", g.y1-g.y0).start()
	note(s, p, false)
	s.close("rect")
}

// median draws p's median across its slot, in the colour of its loss.
func (g *smoke) median(s *svg, p *history.Point) {
	if !p.Timed() {
		return
	}
	y := g.y(p.RTT[history.P50])
	s.open("line").attr("class", "median").unix("data-t", p.Start).secs("data-p50", p.RTT[history.P50]).
		float("data-loss", p.LossRatio()).num("x1", g.x(p.Start)).num("y1", y).num("x2", g.x(p.End)).
		num("y2", y).attr("stroke", lossColour(lossClass(p))).start()
	note(s, p, true)
	s.close("line")
}

// loss marks p's loss, if any, in the strip under the time axis.
func (g *smoke) loss(s *svg, p *history.Point) {
	if p.Lost == 0 {
		return
	}
	x, xe := g.x(p.Start), g.x(p.End)
	s.open("rect").attr("class", "loss").unix("data-t", p.Start).float("data-loss", p.LossRatio()).
		num("x", x).num("y", g.y1+1).num("width", max(xe-x, 1)).num("height", lossStrip).
		attr("fill", lossColour(lossClass(p))).start()
	note(s, p, false)
	s.close("rect")
}

// note writes p's tooltip, "10:05: median 1.23 ms, 12 of 60 lost" (or
// "10:05: 60 replies all late, no RTT, 0 of 60 lost"), as a title
// element; the text is the package's own, with nothing to escape.
func note(s *svg, p *history.Point, median bool) {
	s.b = append(s.b, "<title>"...)
	s.b = p.Start.UTC().AppendFormat(s.b, "15:04")
	s.b = append(s.b, ": "...)
	switch {
	case median:
		s.b = append(s.b, "median "...)
		s.b = appendRTT(s.b, p.RTT[history.P50])
		s.b = append(s.b, ", "...)
	case p.LateOnly():
		s.b = strconv.AppendInt(s.b, int64(p.Received()), 10)
		s.b = append(s.b, " replies all late, no RTT, "...)
	}
	s.b = strconv.AppendInt(s.b, int64(p.Lost), 10)
	s.b = append(s.b, " of "...)
	s.b = strconv.AppendInt(s.b, int64(p.Sent), 10)
	s.b = append(s.b, " lost</title>\n"...)
}

// legend explains the median's colours and the smoke's bands.
func (g *smoke) legend(s *svg) {
	y := g.y1 + lossStrip + 38
	s.open("g").attr("class", "legend").start()
	s.open("text").num("x", g.x0).num("y", y).content("text", "median by loss:")
	for c := range numLoss {
		x := g.x0 + 92 + float64(c)*58
		s.open("rect").attr("class", "swatch").attr("data-loss-class", itoa(c)).num("x", x).num("y", y-7).
			num("width", 12).num("height", 4).attr("fill", lossColour(c)).end()
		s.open("text").num("x", x+16).num("y", y).content("text", lossLabel(c))
	}
	y += 18
	s.open("text").num("x", g.x0).num("y", y).content("text", "smoke:")
	a := 1.0
	for i, band := range [...]string{"min–max", "p10–p90", "p25–p75"} {
		a *= 1 - smokeOpacity
		x := g.x0 + 92 + float64(i)*116
		s.open("rect").attr("class", "swatch").num("x", x).num("y", y-9).num("width", 12).num("height", 10).
			attr("fill", "#000").float("fill-opacity", 1-a).end()
		s.open("text").num("x", x+16).num("y", y).content("text", band+" of RTTs")
	}
	x := g.x0 + 92 + 3*116
	s.open("rect").attr("class", "swatch").attr("data-late", "").num("x", x).num("y", y-9).num("width", 12).
		num("height", 10).attr("fill", lateColour).float("fill-opacity", lateOpacity).end()
	s.open("text").num("x", x+16).num("y", y).content("text", "replies all late, no RTT")
	s.close("g")
}
