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
	"testing"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// TestSlotOfLateRepliesOnly draws an hour in which slot 7's probes all
// timed out and were answered late: no loss, and no RTT (see
// history.Recorder.Late). Neither picture draws a median, smoke or loss
// mark there, and both draw the slots around it as usual.
func TestSlotOfLateRepliesOnly(t *testing.T) {
	var pts []history.Point
	for i := range 60 {
		if i == 7 {
			pts = append(pts, slot(i, 60, 0))
			continue
		}
		pts = append(pts, slot(i, 60, 0, 8, 9, 9.5, 10, 11, 12, 30))
	}
	_, root := smokeOf(t, pts, "server1")
	for _, class := range []string{"median", "smoke", "loss"} {
		if n := len(root.at(class, pts[7].Start)); n != 0 {
			t.Errorf("the slot of late replies has %d %s elements, want none", n, class)
		}
	}
	if n := len(root.all("median")); n != 59 {
		t.Errorf("%d medians, want 59: every slot but the late one", n)
	}
	if n := len(root.all("loss")); n != 0 {
		t.Errorf("%d loss marks on an hour without loss", n)
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
	if marks := lossPaths(t, spark); len(marks) != 0 {
		t.Errorf("sparkline loss marks %v on an hour without loss", marks)
	}
}
