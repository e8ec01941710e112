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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// TestSlotOfLateRepliesOnly draws an hour in which slot 7's probes all
// timed out and were answered late: no loss, and no RTT (see
// history.Recorder.Late); and slot 20's too, but for 6 of 60 never
// answered. Neither picture draws a median or smoke there; each marks
// both slots as late replies (Smoke shades their columns, Sparkline marks
// them under the line, under slot 20's loss mark), so that they do not
// read as slots without probes (slots 40 to 49 here), and draws the slots
// around them as usual.
func TestSlotOfLateRepliesOnly(t *testing.T) {
	var pts []history.Point
	for i := range 60 {
		switch {
		case i == 7:
			pts = append(pts, slot(i, 60, 0))
		case i == 20:
			pts = append(pts, slot(i, 60, 6))
		case i >= 40 && i < 50:
			// no probe
		default:
			pts = append(pts, slot(i, 60, 0, 8, 9, 9.5, 10, 11, 12, 30))
		}
	}
	start := func(i int) string { return strconv.FormatInt(t0.Add(time.Duration(i)*time.Minute).Unix(), 10) }
	_, root := smokeOf(t, pts, "server1")
	for _, i := range []int{7, 20} {
		for _, class := range []string{"median", "smoke"} {
			if n := len(root.at(class, pts[i].Start)); n != 0 {
				t.Errorf("slot %d, of late replies, has %d %s elements, want none", i, n, class)
			}
		}
	}
	if n := len(root.all("median")); n != 48 {
		t.Errorf("%d medians, want 48: every slot with RTTs", n)
	}
	var late []string
	for _, e := range root.all("late") {
		late = append(late, e.attr("data-t"))
		if e.attr("data-late") != "60" && e.attr("data-late") != "54" {
			t.Errorf("late shade at %s says %s replies, want 60 or 54", e.attr("data-t"), e.attr("data-late"))
		}
	}
	if got, want := strings.Join(late, " "), start(7)+" "+start(20); got != want {
		t.Errorf("late shades at %s, want slots 7 and 20 (%s) alone", got, want)
	}
	if loss := root.all("loss"); len(loss) != 1 || loss[0].attr("data-t") != start(20) {
		t.Errorf("%d loss marks, want one, at slot 20", len(loss))
	}

	_, spark := sparkOf(t, pts)
	paths := spark.all("median")
	if len(paths) != 1 {
		t.Fatalf("%d median paths, want 1", len(paths))
	}
	segs := levels(t, paths[0].attr("d"))
	x := func(i int) float64 { return float64(i) * 2 } // 120 px for 60 slots
	if y, ok := covered(segs, x(7), x(8)); ok {
		t.Errorf("the sparkline draws the slot of late replies at y %v", y)
	}
	for _, i := range []int{6, 8} {
		if _, ok := covered(segs, x(i), x(i+1)); !ok {
			t.Errorf("the sparkline leaves slot %d out", i)
		}
	}
	marks := spark.all("late")
	if len(marks) != 1 {
		t.Fatalf("%d paths of late marks, want 1", len(marks))
	}
	lateSegs := levels(t, marks[0].attr("d"))
	if len(lateSegs) != 2 {
		t.Errorf("late marks %v, want two: slots 7 and 20", lateSegs)
	}
	for _, i := range []int{7, 20} {
		if _, ok := covered(lateSegs, x(i), x(i+1)); !ok {
			t.Errorf("the sparkline does not mark slot %d as late replies: %v", i, lateSegs)
		}
	}
	if marks := lossPaths(t, spark); len(marks) != 1 {
		t.Errorf("sparkline loss marks %v, want slot 20's alone", marks)
	}
	// The loss mark is drawn over the late one: the last of the two.
	var order []string
	spark.walk(func(n *node) {
		if c := n.attr("class"); c == "late" || c == "loss" {
			order = append(order, c)
		}
	})
	if strings.Join(order, " ") != "late loss" {
		t.Errorf("sparkline marks in the order %v, want the loss mark over the late one", order)
	}
}
