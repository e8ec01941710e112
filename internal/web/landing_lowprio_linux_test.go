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
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/internal/lowprio"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// TestLandingPageAtLowPriority checks that the landing page, whose rows
// take about 0.5 s of CPU for 10 000 targets, is made at low priority, as
// /metrics is: the thread that reads the probers for it runs at nice 19.
func TestLandingPageAtLowPriority(t *testing.T) {
	pool := history.NewPool(time.Hour, time.Minute)
	probers := list(pastProber(t, pool, "a", "10.0.0.1:4000", nil, 0, nil))
	nice := -100
	h := newTestLanding(t, func() []*prober.Prober {
		nice = testenv.ThreadNice(t)
		return probers()
	}, time.Hour)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	if got := rowNames(t, rec.Body.String()); len(got) != 1 || got[0] != "a" {
		t.Errorf("rows %q, want [a]", got)
	}
	if nice != lowprio.Nice {
		t.Errorf("the landing page's rows were made at nice %d, want %d (as /metrics)", nice, lowprio.Nice)
	}
}
