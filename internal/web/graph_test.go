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
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

func TestGraphRequests(t *testing.T) {
	pool := history.NewPool(3*time.Hour, time.Minute)
	lossy := pastProber(t, pool, "lossy", "10.0.0.1:4000", nil, 0, minuteLoss{5: 0.2, 6: 0.5, 30: 1, 120: 0.1})
	healthy := pastProber(t, pool, "healthy", "10.0.0.2:4000", nil, 0, nil)
	dynamic := pastProber(t, pool, "10.0.0.3:4000", "10.0.0.3:4000", nil, 0, minuteLoss{2: 0.1})
	evil := pastProber(t, pool, hostile, "10.0.0.4:4000", nil, 0, nil)
	// Two targets of one address: address= alone names neither.
	twinA := pastProber(t, pool, "twin-a", "10.0.0.9:4000", nil, 0, nil)
	twinB := pastProber(t, pool, "twin-b", "10.0.0.9:4000", nil, 0, nil)
	base := serve(t, graphHandler{probers: list(lossy, healthy, dynamic, evil, twinA, twinB), span: pool.Span(), clock: pastClock})
	off := serve(t, graphHandler{probers: list(lossy), span: 0, clock: pastClock})

	for _, tt := range []struct {
		name, base, query string
		code              int
		reason            string // in a 4xx answer
	}{
		{"static target", base, "target=lossy&module=default&range=1h", http.StatusOK, ""},
		{"module defaults to default", base, "target=lossy", http.StatusOK, ""},
		{"dynamic prober by address", base, "address=10.0.0.3:4000&range=3h", http.StatusOK, ""},
		{"dynamic prober by another spelling of its address", base, "address=%5B::ffff:10.0.0.3%5D:04000", http.StatusOK, ""},
		{"static target by another spelling of its address", base, "target=lossy&address=10.0.0.1:04000", http.StatusOK, ""},
		{"range in minutes", base, "target=lossy&range=90m", http.StatusOK, ""},
		{"no target", base, "range=1h", http.StatusBadRequest, "target or address parameter is missing"},
		{"range past the history", base, "target=lossy&range=6h", http.StatusBadRequest, "longer than the history kept (--web.history=3h)"},
		{"range not a duration", base, "target=lossy&range=soon", http.StatusBadRequest, `range "soon": want a duration`},
		{"range under a minute", base, "target=lossy&range=30s", http.StatusBadRequest, "shorter than a minute"},
		{"control characters", base, "target=a%0Ab", http.StatusBadRequest, "contains control characters"},
		{"long, unknown", base, "target=" + strings.Repeat("a", 2000), http.StatusNotFound, "no prober for target aaaa"},
		{"unknown target", base, "target=nope", http.StatusNotFound, "no prober for target nope in module default"},
		{"unknown module", base, "target=lossy&module=other", http.StatusNotFound, "no prober for target lossy in module other"},
		{"unknown target, not UTF-8", base, "target=%FFx", http.StatusNotFound, "no prober for target \uFFFDx in module default"},
		{"address of another target", base, "target=lossy&address=10.0.0.2:4000", http.StatusNotFound, "no prober"},
		{"address of two targets", base, "address=10.0.0.9:4000", http.StatusBadRequest,
			"address 10.0.0.9:4000 in module default is the address of 2 targets (twin-a, twin-b): name one with target="},
		{"address of two targets, one named", base, "address=10.0.0.9:4000&target=twin-b", http.StatusOK, ""},
		{"history off", off, "target=lossy", http.StatusNotFound, "--web.history is 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, body := getType(t, tt.base+"/graph?"+tt.query)
			if code != tt.code {
				t.Fatalf("HTTP %d, want %d: %s", code, tt.code, body)
			}
			if code != http.StatusOK {
				if !strings.Contains(body, tt.reason) || strings.Count(body, "\n") != 1 {
					t.Errorf("answer %q, want one line with %q", body, tt.reason)
				}
				return
			}
			if ctype != "image/svg+xml" {
				t.Errorf("Content-Type %q", ctype)
			}
			if pic := parseSVG(t, body); pic.attr("class") != "smoke-graph" {
				t.Errorf("picture of class %q, want smoke-graph", pic.attr("class"))
			}
			noScript(t, body)
		})
	}

	t.Run("marks where the data says", func(t *testing.T) {
		for _, tt := range []struct {
			target string
			rng    string
			past   minuteLoss
			window int
		}{
			{"lossy", "1h", minuteLoss{5: 0.2, 6: 0.5, 30: 1, 120: 0.1}, 60},
			{"lossy", "3h", minuteLoss{5: 0.2, 6: 0.5, 30: 1, 120: 0.1}, 180},
			{"healthy", "3h", nil, 180},
		} {
			_, _, body := getType(t, base+"/graph?"+url.Values{"target": {tt.target}, "range": {tt.rng}}.Encode())
			pic := parseSVG(t, body)
			checkLossMarks(t, pic, tt.past, tt.window)
			// Every whole minute of the window has its median; a minute
			// lost whole has none.
			medians := pic.all("median")
			want := tt.window - 1
			if _, all := tt.past[30]; all {
				want--
			}
			if len(medians) < want || len(medians) > want+2 {
				t.Errorf("%s %s: %d medians, want %d whole minutes' (and the edges')", tt.target, tt.rng, len(medians), want)
			}
			for _, m := range medians {
				// The history keeps medians within 0.3 %.
				if v, err := strconv.ParseFloat(m.attr("data-p50"), 64); err != nil || math.Abs(v-0.002) > 0.002*0.003 {
					t.Errorf("%s: median at %s is %s s, want 0.002", tt.target, m.attr("data-t"), m.attr("data-p50"))
					break
				}
			}
			if smoke := pic.all("smoke"); len(smoke) != 3*len(medians) {
				t.Errorf("%s: %d smoke bands for %d medians, want three each", tt.target, len(smoke), len(medians))
			}
		}
	})

	t.Run("hostile name", func(t *testing.T) {
		code, _, body := getType(t, base+"/graph?"+url.Values{"target": {hostile}}.Encode())
		if code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", code, body)
		}
		noScript(t, body)
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; (10.0.0.4:4000, module default)") {
			t.Errorf("the title is not the escaped name:\n%s", body[:min(len(body), 600)])
		}
	})
}

func TestParseRange(t *testing.T) {
	for _, tt := range []struct {
		in   string
		span time.Duration
		want time.Duration
	}{
		{"", 3 * time.Hour, time.Hour},
		{"", 30 * time.Minute, 30 * time.Minute},
		{"3h", 3 * time.Hour, 3 * time.Hour},
		{"1d", 48 * time.Hour, 24 * time.Hour},
		{"1m", 3 * time.Hour, time.Minute},
		{"30s", 30 * time.Second, 30 * time.Second}, // --web.history=30s: the target page's graph
	} {
		got, err := parseRange(tt.in, tt.span)
		if err != nil || got != tt.want {
			t.Errorf("parseRange(%q, %v) = %v, %v; want %v", tt.in, tt.span, got, err, tt.want)
		}
	}
}
