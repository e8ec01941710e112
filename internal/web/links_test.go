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
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/prober"
)

// pageLinks returns the links of page whose href starts with prefix,
// unescaped.
func pageLinks(page, prefix string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`href="(`+regexp.QuoteMeta(prefix)+`[^"]*)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// TestLinksLeadToTheirPages follows every link of the landing page to its
// target's page, and every graph link of that page to its graph: each
// must answer with the page or graph of that target, whatever its name.
// The config and discovery take names of any length.
func TestLinksLeadToTheirPages(t *testing.T) {
	followLinks(t, 3*time.Hour, "plain", hostile, `a&b "q" #frag?x=1+2 %20`, "javascript:alert(1)", "узел-москва",
		"long-"+strings.Repeat("a", 1100)) // a valid name, as config.ValidateName says
}

// followLinks serves the landing, target and graph pages of probers of
// names with a history of span, and follows their links.
func followLinks(t *testing.T, span time.Duration, names ...string) {
	t.Helper()
	pool := history.NewPool(span, time.Minute)
	var ps []*prober.Prober
	for i, n := range names {
		ps = append(ps, pastProber(t, pool, n, "10.0.0."+itoa(i+1)+":4000", nil, 0, nil))
	}
	probers := list(ps...)
	mux := http.NewServeMux()
	mux.Handle("/", pastLanding(t, probers, span))
	mux.Handle("/target", targetHandler{probers: probers, span: span, clock: pastClock})
	mux.Handle("/graph", graphHandler{probers: probers, span: span, clock: pastClock})
	base := serve(t, mux)

	_, _, landing := getType(t, base+"/")
	targets := pageLinks(landing, "target?")
	if len(targets) != len(names) {
		t.Fatalf("%d links to target pages, want %d", len(targets), len(names))
	}
	seen := map[string]bool{}
	for _, link := range targets {
		code, _, page := getType(t, base+"/"+link)
		if code != http.StatusOK {
			t.Errorf("%s: HTTP %d: %s", truncate(link), code, truncate(page))
			continue
		}
		if m := regexp.MustCompile(`<h2 id="title">([^<]*)</h2>`).FindStringSubmatch(page); m != nil {
			seen[html.UnescapeString(m[1])] = true
		}
		graphs := pageLinks(page, "graph?")
		if len(graphs) == 0 {
			t.Errorf("%s: no graph links", truncate(link))
		}
		for _, g := range graphs {
			if code, ctype, svg := getType(t, base+"/"+g); code != http.StatusOK || ctype != "image/svg+xml" {
				t.Errorf("%s: HTTP %d %s: %s", truncate(g), code, ctype, truncate(svg))
			}
		}
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("no link led to the page of %s", truncate(n))
		}
	}
}

// TestLinksWithUnderAMinuteOfHistory follows the links of the pages of an
// exporter run with --web.history under a minute, the history's slot: the
// target page draws the whole span, and its link to that graph must work.
func TestLinksWithUnderAMinuteOfHistory(t *testing.T) {
	followLinks(t, 30*time.Second, "plain")
}
