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
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/prober"
)

// The tests of the pages that show history (/graph, /target and the
// landing page's sparklines) draw probers that are never started, whose
// Recorders are filled here with a known past: what the pictures must
// show is then exact. That past ends at pastNow, and the handlers that
// draw it are given pastClock, so that the minute they draw is the one it
// was filled up to however long the test takes: with the wall clock, a
// test that straddled a minute's end (more likely the busier the machine)
// saw every mark one minute later than it counted.

// pastNow is the instant the known pasts end at.
var pastNow = time.Now()

// pastClock is the clock of handlers that draw a known past.
var pastClock clock = func() time.Time { return pastNow }

// minuteLoss is a prober's known past: per minute before the current
// one, counted back (1 is the last whole minute), the share of its 60
// probes that were lost; minutes not listed lost none.
type minuteLoss map[int]float64

// pastProber returns a prober of module "default", not started, whose
// history holds 60 probes a minute for the span of pool up to now, with
// the loss of past and RTTs from 1 to 3 ms (medians of 2 ms) plus rtt.
func pastProber(t testing.TB, pool *history.Pool, name, address string, labels map[string]string, rtt time.Duration, past minuteLoss) *prober.Prober {
	t.Helper()
	return prober.New(prober.Options{Name: name, Address: address, ModuleName: "default",
		Module: config.DefaultModule(), Labels: labels, History: pastHistory(pool, rtt, past)}, nil)
}

// pastHistory returns a Recorder of pool filled as pastProber says, up
// to pastNow.
func pastHistory(pool *history.Pool, rtt time.Duration, past minuteLoss) *history.Recorder {
	rec := pool.NewRecorder()
	cur := pastNow.Truncate(time.Minute)
	for m := int(pool.Span() / time.Minute); m >= 1; m-- {
		start := cur.Add(-time.Duration(m) * time.Minute)
		lost := int(math.Round(past[m] * 60))
		for i := range 60 {
			at := start.Add(time.Duration(i) * time.Second)
			if i < lost {
				rec.Lost(at)
			} else {
				rec.Reply(at, rtt+time.Millisecond+time.Duration(i%3)*time.Millisecond)
			}
		}
	}
	return rec
}

// minuteAgo returns the Unix time of the start of minute m counted back
// from pastNow's, as the pictures' data-t attributes hold it.
func minuteAgo(m int) string {
	return strconv.FormatInt(pastNow.Truncate(time.Minute).Add(-time.Duration(m)*time.Minute).Unix(), 10)
}

// list returns a proberList of ps.
func list(ps ...*prober.Prober) proberList { return func() []*prober.Prober { return ps } }

// serve returns a server of h, closed when the test ends.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// getType is get, with the Content-Type.
func getType(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// element is a parsed SVG element.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []element  `xml:",any"`
}

// attr returns the value of attribute name, or "".
func (e *element) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns the elements of class class under e, e included.
func (e *element) all(class string) []*element {
	var out []*element
	if e.attr("class") == class {
		out = append(out, e)
	}
	for i := range e.Children {
		out = append(out, e.Children[i].all(class)...)
	}
	return out
}

// parseSVG parses one picture.
func parseSVG(t *testing.T, s string) *element {
	t.Helper()
	var e element
	if err := xml.Unmarshal([]byte(s), &e); err != nil {
		t.Fatalf("not XML: %v\n%s", err, s)
	}
	if e.XMLName.Local != "svg" {
		t.Fatalf("root element %s, want svg", e.XMLName.Local)
	}
	return &e
}

// svgRE finds the pictures inline in a page.
var svgRE = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// pictures returns the inline pictures of a page, parsed.
func pictures(t *testing.T, page string) []*element {
	t.Helper()
	var out []*element
	for _, s := range svgRE.FindAllString(page, -1) {
		out = append(out, parseSVG(t, s))
	}
	return out
}

// lossMarks returns the loss marks of a picture by data-t.
func lossMarks(t *testing.T, pic *element) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, e := range pic.all("loss") {
		v, err := strconv.ParseFloat(e.attr("data-loss"), 64)
		if err != nil {
			t.Fatalf("loss mark data-loss=%q", e.attr("data-loss"))
		}
		out[e.attr("data-t")] = v
	}
	return out
}

// checkLossMarks checks that pic marks loss exactly at the minutes of
// want within window minutes back, with the ratio want says.
func checkLossMarks(t *testing.T, pic *element, want minuteLoss, window int) {
	t.Helper()
	got := lossMarks(t, pic)
	n := 0
	for m, ratio := range want {
		if m > window {
			continue
		}
		n++
		if v, ok := got[minuteAgo(m)]; !ok || math.Abs(v-ratio) > 0.01 {
			t.Errorf("minute -%d: loss mark %v (present %v), want %v", m, v, ok, ratio)
		}
	}
	if len(got) != n {
		t.Errorf("%d loss marks, want %d: %v", len(got), n, got)
	}
}

// noScript fails if a page or picture could run anything.
func noScript(t *testing.T, body string) {
	t.Helper()
	lower := strings.ToLower(body)
	for _, bad := range []string{"<script", "javascript:", " onload=", " onerror=", "<b>"} {
		if strings.Contains(lower, bad) {
			i := strings.Index(lower, bad)
			t.Errorf("page has %q: …%s…", bad, body[max(0, i-80):min(len(body), i+80)])
		}
	}
}

// hostile is a target name that is markup.
const hostile = `<script>alert("x")</script>`

// sparkLoss returns the minutes a sparkline marks with loss, by the Unix
// time of their start, with the loss class of the mark: it reads the
// marks' geometry back into time through the sparkline's window.
func sparkLoss(t *testing.T, pic *element) map[string]int {
	t.Helper()
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("sparkline number %q: %v", s, err)
		}
		return v
	}
	from, to, width := num(pic.attr("data-from")), num(pic.attr("data-to")), num(pic.attr("width"))
	at := func(x float64) float64 { return from + x/width*(to-from) }
	out := map[string]int{}
	for _, p := range pic.all("loss") {
		class, err := strconv.Atoi(p.attr("data-loss-class"))
		if err != nil {
			t.Fatalf("loss path data-loss-class=%q", p.attr("data-loss-class"))
		}
		// Segments: "Mx yhw", one per run of minutes.
		for _, m := range regexp.MustCompile(`M([0-9.]+) [0-9.]+h([0-9.]+)`).FindAllStringSubmatch(p.attr("d"), -1) {
			t0, t1 := at(num(m[1])), at(num(m[1])+num(m[2]))
			for start := math.Floor(t0/60) * 60; start < t1; start += 60 {
				if min(t1, start+60)-max(t0, start) >= 20 { // most of the minute's visible part
					out[strconv.FormatFloat(start, 'f', 0, 64)] = class
				}
			}
		}
	}
	return out
}

// checkSparkLoss checks that a sparkline marks loss at the minutes of
// want within its hour, in the colour of all lost for those that lost
// all, and nowhere else.
func checkSparkLoss(t *testing.T, pic *element, want minuteLoss) {
	t.Helper()
	got := sparkLoss(t, pic)
	n := 0
	for m, ratio := range want {
		if m > 59 {
			continue
		}
		n++
		class, ok := got[minuteAgo(m)]
		if !ok || class < 1 || (class == 7) != (ratio == 1) {
			t.Errorf("minute -%d (%v lost): mark of class %d (present %v)", m, ratio, class, ok)
		}
	}
	if len(got) != n {
		t.Errorf("%d minutes marked with loss, want %d: %v", len(got), n, got)
	}
}
