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
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// sparkOf draws points in the hour from t0 as a Sparkline and parses it.
func sparkOf(t *testing.T, points []history.Point) ([]byte, *node) {
	t.Helper()
	var b bytes.Buffer
	if err := Sparkline(&b, points, Options{Title: "server1", From: t0, To: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	root := parse(t, b.Bytes())
	checkAirGapped(t, b.Bytes(), root)
	return b.Bytes(), root
}

// levels returns the level segments of a path drawn with M, V, H and h
// only, as their start and end x and their y.
func levels(t *testing.T, d string) (segs [][3]float64) {
	t.Helper()
	tokens := regexp.MustCompile(`[MVHh]|-?[0-9.]+`).FindAllString(d, -1)
	var x, y float64
	num := func(i int) float64 {
		if i >= len(tokens) {
			t.Fatalf("path %q: ends early", d)
		}
		v, err := strconv.ParseFloat(tokens[i], 64)
		if err != nil {
			t.Fatalf("path %q: %v", d, err)
		}
		return v
	}
	for i := 0; i < len(tokens); i++ {
		switch tokens[i] {
		case "M":
			x, y = num(i+1), num(i+2)
			i += 2
		case "V":
			y = num(i + 1)
			i++
		case "H", "h":
			xe := num(i + 1)
			if tokens[i] == "h" {
				xe += x
			}
			segs = append(segs, [3]float64{x, xe, y})
			x = xe
			i++
		default:
			t.Fatalf("path %q: token %q", d, tokens[i])
		}
	}
	return segs
}

// covered returns the y of the segment of segs that covers [x0, x1], and
// whether there is one.
func covered(segs [][3]float64, x0, x1 float64) (float64, bool) {
	for _, s := range segs {
		if s[0] <= x0+0.1 && x1 <= s[1]+0.1 {
			return s[2], true
		}
	}
	return 0, false
}

// lossPaths returns a Sparkline's loss marks by loss class.
func lossPaths(t *testing.T, root *node) map[int][][3]float64 {
	t.Helper()
	out := map[int][][3]float64{}
	for _, p := range root.all("loss") {
		c, err := strconv.Atoi(p.attr("data-loss-class"))
		if err != nil || p.attr("stroke") != lossColour(c) {
			t.Fatalf("loss path of class %q in %q", p.attr("data-loss-class"), p.attr("stroke"))
		}
		if _, dup := out[c]; dup {
			t.Fatalf("two loss paths of class %d", c)
		}
		out[c] = levels(t, p.attr("d"))
	}
	return out
}

func TestSparklineDrawsMediansAndLoss(t *testing.T) {
	pts := hourOfSlots()
	_, root := sparkOf(t, pts)
	if root.attr("width") != "120" || root.attr("height") != "24" {
		t.Errorf("size %s×%s, want 120×24", root.attr("width"), root.attr("height"))
	}
	if root.attr("data-from") != strconv.FormatInt(t0.Unix(), 10) || root.attr("data-to") != strconv.FormatInt(t0.Add(time.Hour).Unix(), 10) {
		t.Errorf("window %s to %s, want t0 and an hour later", root.attr("data-from"), root.attr("data-to"))
	}
	paths := root.all("median")
	if len(paths) != 1 {
		t.Fatalf("%d median paths, want 1", len(paths))
	}
	top := paths[0].num(t, "data-top")
	if top < ms(14).Seconds() {
		t.Fatalf("the scale reaches %v s, below the largest median", top)
	}
	y := func(d time.Duration) float64 { return 20 + (1-20)*d.Seconds()/top }
	x := func(i int) float64 { return float64(i) * 2 } // 120 px for 60 slots

	segs := levels(t, paths[0].attr("d"))
	// 60 slots less 5 empty and 1 lost, in runs broken by the gaps and
	// the slower slot 50: 0–29 (slot 20's loss leaves its median at the
	// same height), 35–39, 41–49, 50, 51–59.
	if len(segs) != 5 {
		t.Errorf("%d level segments, want 5: %v", len(segs), segs)
	}
	for i, p := range pts {
		got, ok := covered(segs, x(i), x(i+1))
		switch {
		case p.Received() == 0 && ok:
			t.Errorf("slot %d has no reply, and a median at y %v", i, got)
		case p.Received() > 0 && (!ok || !near(got, y(p.RTT[history.P50]))):
			t.Errorf("slot %d's median at y %v (drawn: %v), want %v", i, got, ok, y(p.RTT[history.P50]))
		}
	}

	marks := lossPaths(t, root)
	if len(marks) != 2 {
		t.Fatalf("loss paths of %d classes, want 2: %v", len(marks), marks)
	}
	for _, tt := range []struct{ slot, class int }{{20, 4}, {40, lossAll}} {
		segs := marks[tt.class]
		if len(segs) != 1 {
			t.Errorf("class %d: %d marks, want slot %d's", tt.class, len(segs), tt.slot)
			continue
		}
		if !near(segs[0][0], x(tt.slot)) || !near(segs[0][1], x(tt.slot+1)) || segs[0][2] < 20 {
			t.Errorf("class %d: mark %v, want slot %d's from x %v to %v under the line", tt.class, segs[0], tt.slot, x(tt.slot), x(tt.slot+1))
		}
	}
}

// TestSparklineMarksRunsOnce checks that adjacent slots of one loss
// class share one mark, and others do not.
func TestSparklineMarksRunsOnce(t *testing.T) {
	var pts []history.Point
	for i := range 10 {
		lost := 0
		switch {
		case i >= 2 && i < 5: // three slots of 1 in 60
			lost = 1
		case i == 5, i == 7: // 30 of 60, apart
			lost = 30
		}
		pts = append(pts, slot(i, 60, lost, 1, 1, 1, 1, 1, 1, 1))
	}
	_, root := sparkOf(t, pts)
	marks := lossPaths(t, root)
	if s := marks[1]; len(s) != 1 || !near(s[0][0], 4) || !near(s[0][1], 10) {
		t.Errorf("slots 2 to 4: marks %v, want one from x 4 to 10", s)
	}
	if s := marks[5]; len(s) != 2 || !near(s[0][0], 10) || !near(s[1][0], 14) {
		t.Errorf("slots 5 and 7: marks %v, want two, at x 10 and 14", s)
	}
	if len(marks) != 2 {
		t.Errorf("loss classes %v, want 1 and 5", marks)
	}
}

func TestSparklineWithoutData(t *testing.T) {
	for _, tt := range []struct {
		name   string
		pts    []history.Point
		nodata bool
	}{
		{"no points", nil, true},
		{"only empty slots", []history.Point{slot(2, 0, 0)}, true},
		{"every probe lost", []history.Point{slot(2, 60, 60), slot(3, 60, 60)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, root := sparkOf(t, tt.pts)
			if got := len(root.all("nodata")) == 1; got != tt.nodata {
				t.Errorf("no-data line drawn: %v, want %v", got, tt.nodata)
			}
			if n := len(root.all("median")); n != 0 {
				t.Errorf("%d median paths, want none", n)
			}
			marks := lossPaths(t, root)
			if tt.nodata && len(marks) != 0 || !tt.nodata && (len(marks[lossAll]) != 1 || len(marks) != 1) {
				t.Errorf("loss marks %v", marks)
			}
		})
	}
}

func TestLossClasses(t *testing.T) {
	// SmokePing's classes for 20 pings: 0, 1, 2, 3, 4–5, 6–10, 11–19, 20.
	for _, tt := range []struct {
		sent, lost, class int
	}{
		{20, 0, 0}, {20, 1, 1}, {20, 2, 2}, {20, 3, 3}, {20, 4, 4}, {20, 5, 4},
		{20, 6, 5}, {20, 10, 5}, {20, 11, 6}, {20, 19, 6}, {20, 20, 7},
		{60, 1, 1}, {60, 3, 1}, {60, 4, 2}, {60, 12, 4}, {60, 15, 4}, {60, 16, 5},
		{60, 30, 5}, {60, 31, 6}, {60, 59, 6}, {60, 60, 7}, {1, 1, 7},
	} {
		p := history.Point{Sent: tt.sent, Lost: tt.lost}
		if got := lossClass(&p); got != tt.class {
			t.Errorf("%d of %d lost: class %d (%s), want %d (%s)", tt.lost, tt.sent, got, lossLabel(got), tt.class, lossLabel(tt.class))
		}
	}
}

// BenchmarkSparkline1h draws one row's sparkline of the landing page.
func BenchmarkSparkline1h(b *testing.B) {
	pts := hourOfSlots()
	o := Options{Title: "server1", From: t0, To: t0.Add(time.Hour)}
	var w bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		if err := Sparkline(&w, pts, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.Len()), "bytes/sparkline")
}
