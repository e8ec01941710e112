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

//go:build linux

package faults

import (
	"flag"
	"fmt"
	"math"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

var (
	graphRun = flag.Duration("graph.run", time.Minute,
		"TestGraphsInChromium: how long the exporter probes before the pages are loaded (the README's pictures: 30m)")
	graphShots = flag.String("graph.screenshots", "",
		"TestGraphsInChromium: a directory to copy its screenshots to (the README's: ../docs)")
)

// The targets of TestGraphsInChromium: one on a clean port, one behind
// 20 % random loss of the packets to its echo server, and one on the
// clean port whose name is markup.
const (
	cleanPort  = "4000"
	lossyPort  = "4001"
	hostileTag = `<script>alert("x")</script>`
)

// graphModule probes every half second with a fixed 150 ms timeout. A
// frame the link drops waits for TCP's retransmission, at least 200 ms
// later: its probe times out, and then its reply comes late, which the
// graphs do not count as loss (they count the probes never answered).
// So the lossy target's module, lossy, gives up on a connection at its
// first timeout (reconnect_after: 1): the reply never comes, and every
// frame the link drops is a probe lost. It speaks v1, with no HELLO to
// lose on each new connection, and reconnects 100 ms after the timeout,
// well before the next probe. The healthy targets' module, default,
// keeps its connection whatever happens, so a stall of a machine shared
// with other tests makes at worst a timeout and a late reply, not a loss.
const graphModule = `modules:
  default:
    interval: 500ms
    timeout: 150ms
    adaptive: false
    min_timeout: 50ms
    max_timeout: 1s
    reconnect_after: 0
    ip_protocol: ip4
  lossy:
    interval: 500ms
    timeout: 150ms
    adaptive: false
    min_timeout: 50ms
    max_timeout: 1s
    reconnect_after: 1
    reconnect_backoff: 100ms
    echo_protocol: v1
    ip_protocol: ip4
`

// TestGraphsInChromium runs an exporter with a healthy target and one
// behind 20 % loss (nftables in the echo namespace; its module makes each
// dropped frame a lost probe, see graphModule), loads its landing
// page and its targets' pages in headless Chromium, and checks what a
// person sees: the targets sorted by loss, names shown as text, the
// sparklines' and the graphs' loss marks where the exporter's counters
// say (and none on the healthy target), the smoke around the medians,
// no script and no console message. It takes screenshots of the landing
// page and of the lossy target's graph.
func TestGraphsInChromium(t *testing.T) {
	requireSuite(t)
	b := testenv.StartChromium(t)
	tp := newTopo(t, "g")
	// 20 % of the probes' packets are dropped: those with data, not the
	// bare ACKs, whose loss would stall the echo server's replies in
	// ways that vary from run to run (its retransmission timer, its
	// congestion window of one after it fires).
	tp.setRules(t, "tcp dport "+lossyPort+" ip length > 64 numgen random mod 100 < 20 drop", "")
	startExporter(t, tp.echo, "echo", "targets: []\n", "--echo.listen-address=:"+cleanPort, "--echo.listen-address=:"+lossyPort)
	cfg := graphModule + fmt.Sprintf(`targets:
  - {name: healthy, address: "%[1]s:%[2]s"}
  - {name: lossy, address: "%[1]s:%[3]s", module: lossy}
  - {name: '%[4]s', address: "%[1]s:%[2]s"}
`, echoV4, cleanPort, lossyPort, hostileTag)
	prober := startExporter(t, tp.prober, "prober", cfg, "--no-echo")
	start := time.Now()
	for time.Since(start) < *graphRun {
		time.Sleep(time.Second)
	}
	// The browser is on the host; the exporter's web port is in its
	// namespace: a proxy in this process joins them.
	target, _ := url.Parse("http://" + webAddr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = prober.client.Transport
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	shots := t.TempDir()

	page := b.NewPage(t, 1400, 560)
	page.Navigate(srv.URL + "/favicon.ico")
	page.Navigate(srv.URL + "/?sort=loss")
	var landing struct {
		Names   []string
		Scripts int
		Marks   map[string]int // loss paths of each row's sparkline
	}
	page.Eval(`({
		names: [...document.querySelectorAll("#probers tbody tr td:first-child a")].map(a => a.textContent),
		scripts: document.scripts.length,
		marks: Object.fromEntries([...document.querySelectorAll("#probers tbody tr")].map(tr =>
			[tr.querySelector("a").textContent, tr.querySelectorAll("svg.sparkline path.loss").length])),
	})`, &landing)
	if len(landing.Names) != 3 || landing.Names[0] != "lossy" || landing.Scripts != 0 {
		t.Errorf("rows sorted by loss %q, %d scripts: want lossy first, 3 rows, no script", landing.Names, landing.Scripts)
	}
	if landing.Marks["lossy"] == 0 || landing.Marks["healthy"] != 0 || landing.Marks[hostileTag] != 0 {
		t.Errorf("sparklines' loss marks %v: want some on lossy only", landing.Marks)
	}
	page.ScreenshotOf("#probers", filepath.Join(shots, "landing.png"))

	m := prober.mustScrape(t)
	lossy := checkTargetPage(t, page, srv.URL, "lossy", "lossy", true)
	page.ScreenshotOf(`figure.graph[data-range="1h"] svg`, filepath.Join(shots, "graph.png"))
	healthy := checkTargetPage(t, page, srv.URL, "healthy", "default", false)
	for _, p := range page.Problems() {
		t.Errorf("console: %s", p)
	}

	// The graph's probes are the counters' probes: the history records
	// each one the counters count, its loss is the probes never answered
	// (timeouts − late replies; a late reply in the minute after its
	// timeout's would leave its loss, but the lossy target has none, its
	// connection closed at the timeout, and the healthy ones have no
	// timeouts), and the page came a moment after the scrape.
	for _, g := range []struct {
		name string
		got  slotSums
	}{{"lossy", lossy}, {"healthy", healthy}} {
		s := m.target(g.name)
		done, lost := s.received+s.timeouts, s.timeouts-s.late
		t.Logf("%s: graph %d sent %d lost (%.1f%%); counters %v received %v timed out, %v late, %v dropped, %v retransmits",
			g.name, g.got.sent, g.got.lost, 100*float64(g.got.lost)/float64(g.got.sent), s.received, s.timeouts, s.late, s.dropped, s.retransmits)
		if float64(g.got.sent) < done || float64(g.got.sent) > done+10 || float64(g.got.lost) < lost || float64(g.got.lost) > lost+5 {
			t.Errorf("%s: the graph has %d probes and %d lost; the counters, scraped just before, %v and %v (%v timeouts − %v late)",
				g.name, g.got.sent, g.got.lost, done, lost, s.timeouts, s.late)
		}
	}
	// Each probe of the lossy target is lost with probability 0.2, so
	// its count is binomial: the lower bound is 3.5 standard deviations
	// below 20 % (about 1 run in 4 000 falls below it: 11 of 122 did
	// once, 2.9 deviations), the upper one leaves room for the timeouts
	// a loaded machine adds.
	sd := math.Sqrt(0.2 * 0.8 / float64(lossy.sent))
	if r := float64(lossy.lost) / float64(lossy.sent); r < 0.2-3.5*sd || r > 0.35 {
		t.Errorf("lossy: %.1f%% of the graph's probes lost behind 20%% packet loss (%d probes; at least %.1f%% expected)", 100*r, lossy.sent, 100*(0.2-3.5*sd))
	}
	if healthy.lost != 0 {
		t.Errorf("healthy: %d probes lost on a clean link", healthy.lost)
	}
	copyShots(t, shots)
}

// slotSums are the probes sent and lost over a graph's slots.
type slotSums struct{ sent, lost int }

// graphSlot is one slot of a graph, as the page draws it.
type graphSlot struct {
	T                 string  // data-t: the slot's start
	Loss              float64 // data-loss
	X, X2, Width      float64
	P50, Lo, Hi       float64 // median; the p25–p75 band
	Bands             int     // smoke bands
	Title             string  // "15:04: median 1.23 ms, 12 of 60 lost"
	HasMedian, Marked bool
	MarkX, MarkLoss   float64 // the loss mark's x and data-loss
}

// lostOf reads "L of S lost" from a slot's tooltip.
var lostOf = regexp.MustCompile(`(\d+) of (\d+) lost$`)

// checkTargetPage loads a target's page and checks its 1h graph: a median
// per slot with replies, with its smoke around it; a loss mark under each
// slot with loss, at the slot's place, with the slot's loss, and in its
// tooltip the probes lost. It returns the probes the slots hold.
func checkTargetPage(t *testing.T, page *testenv.Page, base, name, module string, lossy bool) slotSums {
	t.Helper()
	page.Navigate(base + "/target?" + url.Values{"target": {name}, "module": {module}}.Encode())
	var slots map[string]*graphSlot
	page.Eval(`(() => {
		const g = document.querySelector('figure.graph[data-range="1h"] svg.smoke-graph'), slots = {};
		const slot = t => slots[t] ??= {t: t, bands: 0};
		const num = (e, a) => parseFloat(e.getAttribute(a));
		for (const l of g.querySelectorAll("line.median")) {
			const s = slot(l.dataset.t);
			Object.assign(s, {hasMedian: true, p50: num(l, "data-p50"), loss: num(l, "data-loss"),
				x: num(l, "x1"), x2: num(l, "x2"), title: l.querySelector("title").textContent.trim()});
		}
		for (const r of g.querySelectorAll("rect.smoke")) {
			const s = slot(r.dataset.t);
			s.bands++;
			if (r.dataset.band === "p25-p75") Object.assign(s, {lo: num(r, "data-lo"), hi: num(r, "data-hi")});
		}
		for (const r of g.querySelectorAll("rect.loss")) {
			const s = slot(r.dataset.t);
			if (s.marked) throw new Error("two loss marks at " + r.dataset.t);
			Object.assign(s, {marked: true, markLoss: num(r, "data-loss"), markX: num(r, "x"), width: num(r, "width"),
				markTitle: r.querySelector("title").textContent.trim()});
			s.title ??= s.markTitle;
			s.loss ??= s.markLoss;
		}
		return slots;
	})()`, &slots)
	var sums slotSums
	for t0, s := range slots {
		m := lostOf.FindStringSubmatch(s.Title)
		if m == nil {
			t.Errorf("%s: slot %s has no tooltip of its probes: %+v", name, t0, s)
			continue
		}
		lost, _ := strconv.Atoi(m[1])
		sent, _ := strconv.Atoi(m[2])
		sums.sent += sent
		sums.lost += lost
		ratio := float64(lost) / float64(sent)
		if s.Marked != (lost > 0) || math.Abs(s.Loss-ratio) > 1e-3 || s.Marked && math.Abs(s.MarkLoss-ratio) > 1e-3 {
			t.Errorf("%s: slot %s: loss mark %v with data-loss %v; its tooltip says %d of %d lost", name, t0, s.Marked, s.Loss, lost, sent)
		}
		if s.HasMedian && (s.Bands != 3 || !(s.Lo <= s.P50 && s.P50 <= s.Hi) || s.P50 <= 0 || s.P50 > 0.005) {
			t.Errorf("%s: slot %s: median %v s in %d smoke bands, p25–p75 %v–%v: want the median in its smoke, under 5 ms on a veth", name, t0, s.P50, s.Bands, s.Lo, s.Hi)
		}
		if s.HasMedian != (lost < sent) {
			t.Errorf("%s: slot %s: median drawn %v with %d of %d lost", name, t0, s.HasMedian, lost, sent)
		}
		if s.Marked && s.HasMedian && math.Abs(s.X-s.MarkX) > 0.2 {
			t.Errorf("%s: slot %s: loss mark at x %v, its median at %v", name, t0, s.MarkX, s.X)
		}
		if lossy && sent >= 50 && (s.Loss < 0.05 || s.Loss > 0.45) {
			t.Errorf("%s: slot %s: %.0f%% lost behind 20%% loss", name, t0, 100*s.Loss)
		}
	}
	if len(slots) == 0 || sums.sent == 0 {
		t.Fatalf("%s: the 1h graph has no slot", name)
	}
	return sums
}

// copyShots copies the screenshots to -graph.screenshots, if it is set.
func copyShots(t *testing.T, dir string) {
	t.Helper()
	if *graphShots == "" {
		return
	}
	for _, name := range []string{"landing.png", "graph.png"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*graphShots, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots copied to %s", *graphShots)
}
