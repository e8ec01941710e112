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
	"strconv"
	"strings"
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

// levels returns the level segments of a path drawn with M, V and H
// only, as their start and end x and their y.
func levels(t *testing.T, d string) (segs [][3]float64) {
	t.Helper()
	f := strings.Fields(d)
	var x, y float64
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("path %q: %v", d, err)
		}
		return v
	}
	for i := 0; i < len(f); i++ {
		switch c, rest := f[i][0], f[i][1:]; c {
		case 'M':
			x, y = num(rest), num(f[i+1])
			i++
		case 'V':
			y = num(rest)
		case 'H':
			segs = append(segs, [3]float64{x, num(rest), y})
			x = num(rest)
		default:
			t.Fatalf("path %q: command %q", d, f[i])
		}
	}
	return segs
}

func TestSparklineDrawsMediansAndLoss(t *testing.T) {
	pts := hourOfSlots()
	_, root := sparkOf(t, pts)
	if root.attr("width") != "120" || root.attr("height") != "24" {
		t.Errorf("size %s×%s, want 120×24", root.attr("width"), root.attr("height"))
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
	if len(segs) != 54 {
		t.Fatalf("%d level segments, want 54: 60 slots less 5 empty and 1 lost", len(segs))
	}
	k := 0
	for i, p := range pts {
		if p.Received() == 0 {
			continue
		}
		s := segs[k]
		k++
		if !near(s[0], x(i)) || !near(s[1], x(i+1)) || !near(s[2], y(p.RTT[history.P50])) {
			t.Errorf("slot %d's median from x %v to %v at y %v, want %v to %v at %v",
				i, s[0], s[1], s[2], x(i), x(i+1), y(p.RTT[history.P50]))
		}
	}

	marks := root.all("loss")
	if len(marks) != 2 {
		t.Fatalf("%d loss marks, want 2", len(marks))
	}
	for j, tt := range []struct {
		slot         int
		loss, colour string
	}{{20, "0.2", "#7e00ff"}, {40, "1", "#7f0000"}} {
		m := marks[j]
		if m.attr("data-t") != strconv.FormatInt(pts[tt.slot].Start.Unix(), 10) || m.attr("data-loss") != tt.loss ||
			m.attr("fill") != tt.colour || !near(m.num(t, "x"), x(tt.slot)) || m.num(t, "y") < 20 {
			t.Errorf("loss mark %d: %+v, want slot %d's at x %v under the line, loss %s in %s", j, m.Attrs, tt.slot, x(tt.slot), tt.loss, tt.colour)
		}
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
			if n := len(root.all("loss")); tt.nodata && n != 0 || !tt.nodata && n != 2 {
				t.Errorf("%d loss marks", n)
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
