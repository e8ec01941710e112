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
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/prober"
)

func TestTargetPage(t *testing.T) {
	pool := history.NewPool(3*time.Hour, time.Minute)
	past := minuteLoss{3: 0.25, 90: 0.5}
	lossy := pastProber(t, pool, "lossy", "10.0.0.1:4000", map[string]string{"site": "ams"}, 0, past)
	evil := pastProber(t, pool, hostile, "10.0.0.4:4000", map[string]string{"rack": `<b>r1</b>`}, 0, nil)
	// Two probers of one name in one module: the page lists both.
	twinA := pastProber(t, pool, "twin", "10.0.0.5:4000", nil, 0, nil)
	twinB := pastProber(t, pool, "twin", "10.0.0.6:4000", nil, 0, nil)
	// Two targets of one address in one module.
	alpha := pastProber(t, pool, "alpha", "10.0.0.8:4000", nil, 0, nil)
	beta := pastProber(t, pool, "beta", "10.0.0.8:4000", nil, 0, nil)
	probers := list(lossy, evil, twinA, twinB, beta, alpha)
	base := serve(t, targetHandler{probers: probers, span: pool.Span(), clock: pastClock})

	t.Run("graphs, probers and debug text", func(t *testing.T) {
		code, ctype, page := getType(t, base+"/target?target=lossy&module=default")
		if code != http.StatusOK || ctype != "text/html; charset=utf-8" {
			t.Fatalf("HTTP %d %s:\n%s", code, ctype, page)
		}
		for _, want := range []string{
			`<h2 id="title">lossy</h2>`, "<td>10.0.0.1:4000</td>", `<td class="labels">site=ams</td>`,
			`<figure class="graph" data-range="1h">`, `<figure class="graph" data-range="3h">`,
			`href="graph?address=10.0.0.1%3A4000&amp;module=default&amp;range=3h&amp;target=lossy"`,
			"<pre class=\"debug\">Prober lossy (static)\naddress:           10.0.0.1:4000\n",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		pics := pictures(t, page)
		if len(pics) != 2 {
			t.Fatalf("%d pictures, want the 1h and the 3h graphs", len(pics))
		}
		checkLossMarks(t, pics[0], past, 60)
		checkLossMarks(t, pics[1], past, 180)
		noScript(t, page)
	})

	t.Run("hostile name and label", func(t *testing.T) {
		code, _, page := getType(t, base+"/target?"+url.Values{"target": {hostile}, "module": {"default"}}.Encode())
		if code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", code, page)
		}
		noScript(t, page)
		name := html.EscapeString(hostile)
		for _, want := range []string{"<title>" + name, `<h2 id="title">` + name + "</h2>", `<td class="labels">rack=&lt;b&gt;r1&lt;/b&gt;</td>`, "Prober " + name} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if len(pictures(t, page)) != 2 {
			t.Error("want the 1h and 3h graphs")
		}
	})

	t.Run("every prober of the target", func(t *testing.T) {
		_, _, page := getType(t, base+"/target?target=twin")
		if !strings.Contains(page, "<td>10.0.0.5:4000</td>") || !strings.Contains(page, "<td>10.0.0.6:4000</td>") ||
			strings.Count(page, `<section class="prober">`) != 2 || len(pictures(t, page)) != 4 {
			t.Errorf("want both probers of twin, each with two graphs:\n%s", page)
		}
		_, _, page = getType(t, base+"/target?target=twin&address=10.0.0.6:4000")
		if strings.Contains(page, "10.0.0.5:4000") || strings.Count(page, `<section class="prober">`) != 1 {
			t.Error("address= did not pick one prober")
		}
	})

	// address= alone is a /probe prober's, whose name is its address: of
	// an address several targets share, it names none of them. The page
	// of them all would be titled with the first one's name, and of 10 000
	// targets on one address it was 116 MB.
	t.Run("address of two targets", func(t *testing.T) {
		code, _, body := getType(t, base+"/target?address=10.0.0.8:4000")
		if want := "address 10.0.0.8:4000 in module default is the address of 2 targets (alpha, beta): name one with target=\n"; code != http.StatusBadRequest || body != want {
			t.Errorf("HTTP %d %q, want 400 %q", code, body, want)
		}
		if code, _, page := getType(t, base+"/target?address=10.0.0.8:4000&target=beta"); code != http.StatusOK || !strings.Contains(page, `<h2 id="title">beta</h2>`) {
			t.Errorf("with target=beta: HTTP %d\n%s", code, page)
		}
	})

	t.Run("flows", func(t *testing.T) {
		mod := config.DefaultModule()
		mod.Flows = 3
		var flows []*prober.Prober
		for f := range 3 {
			flows = append(flows, prober.New(prober.Options{Name: "ecmp", Address: "10.0.0.7:4000", ModuleName: "default",
				Module: mod, Flow: f, History: pastHistory(pool, 0, minuteLoss{f + 1: 0.5})}, nil))
		}
		probers := list(flows...)
		base := serve(t, targetHandler{probers: probers, span: pool.Span(), clock: pastClock})
		_, _, page := getType(t, base+"/target?target=ecmp")
		for f := range 3 {
			for _, want := range []string{
				fmt.Sprintf("<tr><td>%d</td><td>10.0.0.7:4000</td>", f),
				fmt.Sprintf("<h3>ecmp (10.0.0.7:4000, module default), flow %d</h3>", f),
				fmt.Sprintf("Prober ecmp (static), flow %d of 3\n", f),
				fmt.Sprintf(`href="graph?address=10.0.0.7%%3A4000&amp;flow=%d&amp;module=default&amp;range=1h&amp;target=ecmp"`, f),
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		}
		pics := pictures(t, page)
		if len(pics) != 6 {
			t.Fatalf("%d graphs, want 1h and 3h of each of 3 flows", len(pics))
		}
		for f := range 3 {
			checkLossMarks(t, pics[2*f], minuteLoss{f + 1: 0.5}, 60)
		}
		graphs := serve(t, graphHandler{probers: probers, span: pool.Span(), clock: pastClock})
		_, _, svg := getType(t, graphs+"/graph?target=ecmp&flow=2")
		checkLossMarks(t, parseSVG(t, svg), minuteLoss{3: 0.5}, 60)
		if !strings.Contains(svg, "ecmp (10.0.0.7:4000, module default), flow 2, last 1h") {
			t.Error("flow 2's graph does not say it is flow 2's")
		}
		for q, code := range map[string]int{"flow=3": http.StatusNotFound, "flow=16": http.StatusBadRequest, "flow=x": http.StatusBadRequest} {
			if got, _, body := getType(t, graphs+"/graph?target=ecmp&"+q); got != code {
				t.Errorf("%s: HTTP %d, want %d: %s", q, got, code, body)
			}
		}
	})

	t.Run("ranges within the history kept", func(t *testing.T) {
		for _, tt := range []struct {
			span   time.Duration
			ranges []string
		}{{time.Hour, []string{"1h"}}, {20 * time.Minute, []string{"20m"}}, {0, nil}} {
			srv := serve(t, targetHandler{probers: probers, span: tt.span, clock: pastClock})
			_, _, page := getType(t, srv+"/target?target=lossy")
			n := strings.Count(page, `<figure class="graph"`)
			for _, r := range tt.ranges {
				if !strings.Contains(page, `data-range="`+r+`"`) {
					t.Errorf("span %v: no %s graph", tt.span, r)
				}
			}
			if n != len(tt.ranges) {
				t.Errorf("span %v: %d graphs, want %v", tt.span, n, tt.ranges)
			}
			if tt.span == 0 && !strings.Contains(page, "No history is kept: --web.history is 0.") {
				t.Error("history off, and the page does not say so")
			}
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for q, want := range map[string]int{
			"":                      http.StatusBadRequest,
			"target=a%00b":          http.StatusBadRequest,
			"target=nope":           http.StatusNotFound,
			"target=lossy&module=x": http.StatusNotFound,
		} {
			if code, _, body := getType(t, base+"/target?"+q); code != want {
				t.Errorf("%q: HTTP %d, want %d: %s", q, code, want, body)
			}
		}
	})
}
