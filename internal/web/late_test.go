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

package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/prober"
)

// TestMinuteOfLateRepliesIsNotAGap draws a prober that probed for the last
// ten minutes only, 60 probes a minute, answered in time but in minute 5
// (counted back), where each probe timed out and its reply came late: no
// loss, and no RTT. /graph must not draw that minute blank, as it draws
// the minutes before the first probe (no data), but mark it, once, with
// a legend entry that says what the mark is; the landing page's sparkline
// must mark it too.
func TestMinuteOfLateRepliesIsNotAGap(t *testing.T) {
	pool := history.NewPool(3*time.Hour, time.Minute)
	rec := pool.NewRecorder()
	cur := pastNow.Truncate(time.Minute)
	for m := 10; m >= 1; m-- {
		start := cur.Add(-time.Duration(m) * time.Minute)
		for i := range 60 {
			at := start.Add(time.Duration(i) * time.Second)
			if m == 5 {
				rec.Lost(at)
				rec.Late(at)
			} else {
				rec.Reply(at, 2*time.Millisecond)
			}
		}
	}
	p := prober.New(prober.Options{Name: "s", Address: "10.0.0.1:4000", ModuleName: "default",
		Module: config.DefaultModule(), History: rec}, nil)

	code, _, body := getType(t, serve(t, graphHandler{probers: list(p), span: pool.Span(), clock: pastClock})+"/graph?target=s&range=1h")
	if code != http.StatusOK {
		t.Fatalf("/graph: HTTP %d: %s", code, body)
	}
	pic := parseSVG(t, body)
	if n := len(pic.all("median")); n != 9 {
		t.Errorf("%d medians, want 9: every minute with RTTs", n)
	}
	late := pic.all("late")
	if len(late) != 1 || late[0].attr("data-t") != minuteAgo(5) {
		var at []string
		for _, e := range late {
			at = append(at, e.attr("data-t"))
		}
		t.Errorf("late marks at %v, want one, at minute -5 (%s): the minute of late replies draws like a minute without probes", at, minuteAgo(5))
	}
	if !strings.Contains(body, ">replies all late, no RTT</text>") {
		t.Errorf("the legend does not explain the mark of late replies")
	}

	landing := newTestLanding(t, list(p), pool.Span())
	landing.clock = pastClock
	_, _, page := getType(t, serve(t, landing)+"/")
	pics := pictures(t, page)
	if len(pics) != 1 {
		t.Fatalf("%d pictures, want a sparkline", len(pics))
	}
	if marks := pics[0].all("late"); len(marks) != 1 {
		t.Errorf("the sparkline has %d paths of late marks, want one", len(marks))
	}
}
