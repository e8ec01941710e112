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
	"html"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// TestLossColumnNeverRoundsLossAway checks the loss column of the landing
// and target pages at its ends: one probe lost of the hour's 3 660 must
// not read as no loss, and all but one lost must not read as all lost,
// as the graphs' colours never do either.
func TestLossColumnNeverRoundsLossAway(t *testing.T) {
	pool := history.NewPool(3*time.Hour, time.Minute)
	allButOne := minuteLoss{}
	for m := 1; m <= 180; m++ {
		allButOne[m] = 1
	}
	allButOne[5] = 59.0 / 60
	all := minuteLoss{}
	for m := 1; m <= 180; m++ {
		all[m] = 1
	}
	probers := list(
		pastProber(t, pool, "none", "10.0.0.1:4000", nil, 0, nil),
		pastProber(t, pool, "one", "10.0.0.2:4000", nil, 0, minuteLoss{7: 1.0 / 60}),
		pastProber(t, pool, "all-but-one", "10.0.0.3:4000", nil, 0, allButOne),
		pastProber(t, pool, "all", "10.0.0.4:4000", nil, 0, all),
	)
	landing := serve(t, pastLanding(t, probers, pool.Span()))
	code, _, page := getType(t, landing+"/")
	if code != http.StatusOK {
		t.Fatalf("landing page: HTTP %d", code)
	}
	// Name, flow, address, module, state, last RTT, SRTT, loss.
	row := regexp.MustCompile(`<tr><td><a [^>]*>([^<]*)</a></td>(?:<td>[^<]*</td>){6}<td>([^<]*)</td>`)
	onLanding := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(page, -1) {
		onLanding[m[1]] = html.UnescapeString(m[2])
	}
	targetPage := serve(t, targetHandler{probers: probers, span: pool.Span(), clock: pastClock})
	// Flow, address, module, labels, source, state, last RTT, SRTT, loss.
	targetRow := regexp.MustCompile(`<tr><td></td>(?:<td[^>]*>[^<]*</td>){7}<td>([^<]*)</td>`)
	for _, tt := range []struct{ name, want string }{
		{"none", "0.0%"},
		{"one", "<0.1%"},
		{"all-but-one", ">99.9%"},
		{"all", "100.0%"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := onLanding[tt.name]; got != tt.want {
				t.Errorf("landing page: loss reads %q, want %q", got, tt.want)
			}
			code, _, page := getType(t, targetPage+"/target?target="+tt.name)
			m := targetRow.FindStringSubmatch(page)
			if code != http.StatusOK || m == nil {
				t.Fatalf("target page: HTTP %d, no row", code)
			}
			if got := html.UnescapeString(m[1]); got != tt.want {
				t.Errorf("target page: loss reads %q, want %q", got, tt.want)
			}
		})
	}
}
