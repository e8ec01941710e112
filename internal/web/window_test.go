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

// TestHourIsSixtyMinutes draws, half a minute into the current minute, a
// prober that lost half the probes of the minute an hour back and whose
// probes since were all answered, one of them in the current minute. An
// hour is 60 one-minute slots: the current minute and the 59 before it.
// The minute that began an hour and 30 s ago is not part of the last
// hour, so the landing page's "Loss, 1h" reads 0.0 %, its sparkline marks
// no loss, and /graph?range=1h draws 60 medians and no loss mark.
func TestHourIsSixtyMinutes(t *testing.T) {
	pool := history.NewPool(3*time.Hour, time.Minute)
	cur := pastNow.Truncate(time.Minute)
	rec := pastHistory(pool, 0, minuteLoss{60: 0.5})
	rec.Reply(cur, 2*time.Millisecond) // the current minute's probe
	p := prober.New(prober.Options{Name: "s", Address: "10.0.0.1:4000", ModuleName: "default",
		Module: config.DefaultModule(), History: rec}, nil)
	at := clock(func() time.Time { return cur.Add(30 * time.Second) })

	landing := newTestLanding(t, list(p), pool.Span())
	landing.clock = at
	_, _, page := getType(t, serve(t, landing)+"/")
	if !strings.Contains(page, "<td>0.0%</td>") {
		i := strings.Index(page, `<td class="spark">`)
		t.Errorf("Loss, 1h is not 0.0%%: the minute that began an hour and 30 s ago counts: …%s", page[max(0, i-60):max(0, i)])
	}
	pics := pictures(t, page)
	if len(pics) != 1 {
		t.Fatalf("%d pictures, want a sparkline", len(pics))
	}
	if got := sparkLoss(t, pics[0]); len(got) != 0 {
		t.Errorf("the sparkline marks loss at %v, want none", got)
	}

	code, _, body := getType(t, serve(t, graphHandler{probers: list(p), span: pool.Span(), clock: at})+"/graph?target=s&range=1h")
	if code != http.StatusOK {
		t.Fatalf("/graph: HTTP %d: %s", code, body)
	}
	pic := parseSVG(t, body)
	medians := pic.all("median")
	if len(medians) != 60 {
		t.Errorf("/graph?range=1h draws %d minutes' medians, want 60", len(medians))
	}
	if len(medians) > 0 && (medians[0].attr("data-t") != minuteAgo(59) || medians[len(medians)-1].attr("data-t") != minuteAgo(0)) {
		t.Errorf("/graph?range=1h draws minutes %s to %s, want %s (59 back) to %s (the current one)",
			medians[0].attr("data-t"), medians[len(medians)-1].attr("data-t"), minuteAgo(59), minuteAgo(0))
	}
	if marks := lossMarks(t, pic); len(marks) != 0 {
		t.Errorf("/graph?range=1h marks loss at %v, want none", marks)
	}
}
