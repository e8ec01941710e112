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
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// hourOfSlots returns an hour of one-minute slots from t0: tight RTTs
// around 10 ms with an outlier at 30 ms, 20 % loss in slot 20, nothing
// in slots 30 to 34, every probe lost in slot 40, and a slower,
// lossless median of 14 ms in slot 50.
func hourOfSlots() []history.Point {
	var pts []history.Point
	for i := range 60 {
		switch {
		case i == 20:
			pts = append(pts, slot(i, 60, 12, 8, 9, 9.5, 10, 11, 12, 30))
		case i >= 30 && i < 35:
			pts = append(pts, slot(i, 0, 0))
		case i == 40:
			pts = append(pts, slot(i, 60, 60))
		case i == 50:
			pts = append(pts, slot(i, 60, 0, 12, 13, 13.5, 14, 15, 16, 30))
		default:
			pts = append(pts, slot(i, 60, 0, 8, 9, 9.5, 10, 11, 12, 30))
		}
	}
	return pts
}

// smokeOf draws points in the hour from t0 and parses the picture.
func smokeOf(t *testing.T, points []history.Point, title string) ([]byte, *node) {
	t.Helper()
	var b bytes.Buffer
	if err := Smoke(&b, points, Options{Title: title, From: t0, To: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	root := parse(t, b.Bytes())
	checkAirGapped(t, b.Bytes(), root)
	return b.Bytes(), root
}

// scales returns the picture's own mapping of RTTs (seconds) and times
// to pixels, fitted through its first and last axis ticks.
func scales(t *testing.T, root *node) (y func(time.Duration) float64, x func(time.Time) float64) {
	t.Helper()
	yt, xt := root.all("ytick"), root.all("xtick")
	if len(yt) < 3 || len(xt) < 3 {
		t.Fatalf("%d RTT ticks and %d time ticks, want at least 3 of each", len(yt), len(xt))
	}
	fit := func(ticks []*node, data, pos string) (float64, float64) {
		a, b := ticks[0], ticks[len(ticks)-1]
		v0, v1 := a.num(t, data), b.num(t, data)
		p0, p1 := a.child("line").num(t, pos), b.child("line").num(t, pos)
		return p0, (p1 - p0) / (v1 - v0)
	}
	y0, ky := fit(yt, "data-v", "y1")
	x0, kx := fit(xt, "data-t", "x1")
	xFirst := xt[0].num(t, "data-t")
	return func(d time.Duration) float64 { return y0 + ky*(d.Seconds()-yt[0].num(t, "data-v")) },
		func(tm time.Time) float64 { return x0 + kx*(float64(tm.Unix())-xFirst) }
}

func TestSmokeDrawsWhatTheDataSays(t *testing.T) {
	pts := hourOfSlots()
	_, root := smokeOf(t, pts, "server1")
	y, x := scales(t, root)
	plot := root.all("plot")[0]
	top := plot.num(t, "y")

	t.Run("the median sits at its RTT on the axis, in its loss colour", func(t *testing.T) {
		for _, tt := range []struct {
			slot   int
			p50    time.Duration
			colour string
		}{
			{0, ms(10), "#26ff00"},
			{20, ms(10), "#7e00ff"}, // 12 of 60 lost: 4 of 20, SmokePing's 4–5/20 colour
			{50, ms(14), "#26ff00"},
		} {
			m := root.at("median", pts[tt.slot].Start)
			if len(m) != 1 {
				t.Fatalf("slot %d has %d medians, want 1", tt.slot, len(m))
			}
			if got, want := m[0].num(t, "y1"), y(tt.p50); !near(got, want) || m[0].num(t, "y2") != got {
				t.Errorf("slot %d's median at y %v, want level at %v for %v", tt.slot, got, want, tt.p50)
			}
			if got := m[0].num(t, "data-p50"); got != tt.p50.Seconds() {
				t.Errorf("slot %d's data-p50 %v, want %v", tt.slot, got, tt.p50.Seconds())
			}
			if got := m[0].attr("stroke"); got != tt.colour {
				t.Errorf("slot %d's median is %s, want %s", tt.slot, got, tt.colour)
			}
			if x1, x2 := m[0].num(t, "x1"), m[0].num(t, "x2"); !near(x1, x(pts[tt.slot].Start)) || !near(x2, x(pts[tt.slot].End)) {
				t.Errorf("slot %d's median spans x %v to %v, want %v to %v", tt.slot, x1, x2, x(pts[tt.slot].Start), x(pts[tt.slot].End))
			}
		}
	})

	t.Run("the smoke spans the quantiles, clipped at the top", func(t *testing.T) {
		bands := root.at("smoke", pts[0].Start)
		if len(bands) != 3 {
			t.Fatalf("slot 0 has %d smoke bands, want 3", len(bands))
		}
		for i, want := range []struct {
			band   string
			lo, hi time.Duration
		}{
			{"min-max", ms(8), ms(30)}, {"p10-p90", ms(9), ms(12)}, {"p25-p75", ms(9.5), ms(11)},
		} {
			b := bands[i]
			wantTop := max(y(want.hi), top) // 30 ms is above the axis
			if b.attr("data-band") != want.band || !near(b.num(t, "y"), wantTop) ||
				!near(b.num(t, "y")+b.num(t, "height"), y(want.lo)) {
				t.Errorf("band %d: %s from y %v, %v high; want %s from %v down to %v",
					i, b.attr("data-band"), b.num(t, "y"), b.num(t, "height"), want.band, wantTop, y(want.lo))
			}
			if b.num(t, "data-lo") != want.lo.Seconds() || b.num(t, "data-hi") != want.hi.Seconds() {
				t.Errorf("band %s carries %s to %s, want %v to %v", want.band, b.attr("data-lo"), b.attr("data-hi"), want.lo, want.hi)
			}
		}
		if y(ms(12)) < top {
			t.Errorf("the axis stops below the largest p90, 12 ms")
		}
	})

	t.Run("loss is marked where and as much as it happened", func(t *testing.T) {
		marks := root.all("loss")
		if len(marks) != 2 {
			t.Fatalf("%d loss marks, want 2 (slots 20 and 40)", len(marks))
		}
		for _, tt := range []struct {
			slot         int
			loss, colour string
		}{
			{20, "0.2", "#7e00ff"},
			{40, "1", "#7f0000"},
		} {
			m := root.at("loss", pts[tt.slot].Start)
			if len(m) != 1 {
				t.Fatalf("slot %d has %d loss marks, want 1", tt.slot, len(m))
			}
			xs, xe := x(pts[tt.slot].Start), x(pts[tt.slot].End)
			if m[0].attr("data-loss") != tt.loss || m[0].attr("fill") != tt.colour ||
				!near(m[0].num(t, "x"), xs) || !near(m[0].num(t, "width"), xe-xs) {
				t.Errorf("slot %d's loss mark: loss %s, %s, x %v wide %v; want %s, %s, x %v wide %v", tt.slot,
					m[0].attr("data-loss"), m[0].attr("fill"), m[0].num(t, "x"), m[0].num(t, "width"), tt.loss, tt.colour, xs, xe-xs)
			}
			if m[0].num(t, "y") < plot.num(t, "y")+plot.num(t, "height") {
				t.Errorf("slot %d's loss mark is inside the plot, want it under the time axis", tt.slot)
			}
		}
	})

	t.Run("slots explain themselves on hover", func(t *testing.T) {
		if got := root.at("median", pts[20].Start)[0].child("title").Text; got != "10:20: median 10.0 ms, 12 of 60 lost" {
			t.Errorf("slot 20's median tooltip %q", got)
		}
		if got := root.at("loss", pts[40].Start)[0].child("title").Text; got != "10:40: 60 of 60 lost" {
			t.Errorf("slot 40's loss tooltip %q", got)
		}
	})

	t.Run("gaps and lost slots have no median or smoke", func(t *testing.T) {
		for _, i := range []int{30, 31, 32, 33, 34, 40} {
			if n := len(root.at("median", pts[i].Start)) + len(root.at("smoke", pts[i].Start)); n != 0 {
				t.Errorf("slot %d has %d medians and smoke bands, want none", i, n)
			}
		}
		if n := len(root.all("median")); n != 54 {
			t.Errorf("%d medians, want 54: 60 slots less 5 empty and 1 lost", n)
		}
	})

	t.Run("axes have units and times", func(t *testing.T) {
		var labels []string
		for _, tk := range root.all("xtick") {
			labels = append(labels, tk.child("text").Text)
		}
		if got := strings.Join(labels, " "); got != "10:00 10:10 10:20 10:30 10:40 10:50 11:00" {
			t.Errorf("time labels %q, want every 10 minutes in UTC", got)
		}
		if got := root.all("yaxis")[0].Text; got != "RTT (ms)" {
			t.Errorf("RTT axis title %q, want RTT (ms)", got)
		}
		if n := len(root.all("nodata")); n != 0 {
			t.Errorf("%d no-data notes on a graph with data", n)
		}
		if n := len(root.all("legend")[0].all("swatch")); n != numLoss+4 {
			t.Errorf("the legend has %d swatches, want %d loss colours, 3 smoke bands and late replies", n, numLoss)
		}
	})
}

func TestSmokeWithoutDataDrawsAxesAndSaysSo(t *testing.T) {
	for _, tt := range []struct {
		name string
		pts  []history.Point
	}{
		{"no points", nil},
		{"only empty slots", []history.Point{slot(3, 0, 0), slot(4, 0, 0)}},
		{"data outside the window", []history.Point{slot(-5, 60, 0, 1, 1, 1, 1, 1, 1, 1), slot(60, 60, 0, 1, 1, 1, 1, 1, 1, 1)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, root := smokeOf(t, tt.pts, "server1")
			notes := root.all("nodata")
			if len(notes) != 1 || notes[0].Text != "no data" {
				t.Errorf("no-data notes %v, want one saying no data", notes)
			}
			if len(root.all("ytick")) < 2 || len(root.all("xtick")) != 7 || len(root.all("plot")) != 1 {
				t.Errorf("%d RTT ticks, %d time ticks, want the axes drawn", len(root.all("ytick")), len(root.all("xtick")))
			}
			if n := len(root.all("median")) + len(root.all("smoke")) + len(root.all("loss")); n != 0 {
				t.Errorf("%d data elements drawn, want none", n)
			}
		})
	}
}

func TestSmokeThreeHours(t *testing.T) {
	var pts []history.Point
	for i := range 180 {
		pts = append(pts, slot(i, 60, i%7, 1, 1.1, 1.2, 1.3, 1.4, 1.5, 2))
	}
	var b bytes.Buffer
	if err := Smoke(&b, pts, Options{From: t0, To: t0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	root := parse(t, b.Bytes())
	var labels []string
	for _, tk := range root.all("xtick") {
		labels = append(labels, tk.child("text").Text)
	}
	if got := strings.Join(labels, " "); got != "10:00 10:30 11:00 11:30 12:00 12:30 13:00" {
		t.Errorf("time labels %q, want every 30 minutes", got)
	}
	if n := len(root.all("median")); n != 180 {
		t.Errorf("%d medians, want 180", n)
	}
}

func TestHostileTitleIsEscaped(t *testing.T) {
	hostile := `srv"1' onload="alert(1)" <script>alert('x')</script> & <b>`
	for _, draw := range []struct {
		name string
		f    func(*bytes.Buffer, []history.Point, Options) error
	}{
		{"Smoke", func(b *bytes.Buffer, p []history.Point, o Options) error { return Smoke(b, p, o) }},
		{"Sparkline", func(b *bytes.Buffer, p []history.Point, o Options) error { return Sparkline(b, p, o) }},
	} {
		t.Run(draw.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := draw.f(&b, hourOfSlots(), Options{Title: hostile + "\x00\x1b", From: t0, To: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			root := parse(t, b.Bytes())
			checkAirGapped(t, b.Bytes(), root)
			if got := root.child("title").Text; got != hostile+"\uFFFD\uFFFD" {
				t.Errorf("title reads %q, want %q with the control characters replaced", got, hostile)
			}
			if bytes.Contains(b.Bytes(), []byte("<b>")) || bytes.Contains(b.Bytes(), []byte(`"alert`)) {
				t.Errorf("the title's markup or quotes came through unescaped:\n%s", b.Bytes())
			}
		})
	}
}

func TestOutputIsDeterministic(t *testing.T) {
	pts := hourOfSlots()
	var a, b bytes.Buffer
	o := Options{Title: "server1", From: t0.Add(7 * time.Second), To: t0.Add(time.Hour + 7*time.Second)}
	if err := Smoke(&a, pts, o); err != nil {
		t.Fatal(err)
	}
	if err := Smoke(&b, pts, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two drawings of the same points differ")
	}
	parse(t, a.Bytes()).walk(func(n *node) {
		for _, at := range n.Attrs {
			switch at.Name.Local {
			case "x", "y", "width", "height", "x1", "x2", "y1", "y2":
				if i := strings.IndexByte(at.Value, '.'); i >= 0 && len(at.Value)-i > 2 {
					t.Errorf("<%s %s=%q>: want coordinates to a tenth of a pixel", n.XMLName.Local, at.Name.Local, at.Value)
				}
			}
		}
	})
}

func TestEmptyWindowIsAnError(t *testing.T) {
	for _, o := range []Options{{From: t0, To: t0}, {From: t0, To: t0.Add(-time.Hour)}, {}} {
		var b bytes.Buffer
		if err := Smoke(&b, hourOfSlots(), o); !errors.Is(err, ErrWindow) || b.Len() != 0 {
			t.Errorf("Smoke from %v to %v: %v and %d bytes, want ErrWindow and nothing", o.From, o.To, err, b.Len())
		}
		if err := Sparkline(&b, hourOfSlots(), o); !errors.Is(err, ErrWindow) || b.Len() != 0 {
			t.Errorf("Sparkline from %v to %v: %v and %d bytes, want ErrWindow and nothing", o.From, o.To, err, b.Len())
		}
	}
}

// BenchmarkSmoke3h draws a full 3 h graph, as /graph does per request.
func BenchmarkSmoke3h(b *testing.B) {
	var pts []history.Point
	for i := range 181 {
		pts = append(pts, slot(i, 60, i%3, 1, 1.1, 1.2, 1.3, 1.4, 1.5, 2))
	}
	o := Options{Title: "server1", From: t0, To: t0.Add(3 * time.Hour)}
	var w bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		if err := Smoke(&w, pts, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.Len()), "bytes/graph")
}

// TestLongTitleIsShortenedInItsMiddle checks that a title too long for
// the picture is drawn shortened in its middle, its end (the range) kept,
// and is whole in the picture's title element.
func TestLongTitleIsShortenedInItsMiddle(t *testing.T) {
	long := strings.Repeat("segment-", 40) + " (10.0.0.1:4000, module default), last 3h"
	for _, title := range []string{"db1 (10.0.0.1:4000, module default), last 1h", long} {
		_, root := smokeOf(t, hourOfSlots(), title)
		drawn := root.all("title")[0].Text
		if root.child("title").Text != title {
			t.Errorf("title element %q, want %q", root.child("title").Text, title)
		}
		switch {
		case title != long && drawn != title:
			t.Errorf("a short title drawn as %q", drawn)
		case title == long && (!strings.Contains(drawn, "…") || !strings.HasSuffix(drawn, ", last 3h")) ||
			textWidth(drawn, titleSizePx) > 720-marginLeft-marginRight:
			t.Errorf("a long title drawn as %q", drawn)
		}
	}
}
