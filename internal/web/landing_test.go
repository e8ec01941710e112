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
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// newTestLanding returns the landing page of probers with a history of
// span.
func newTestLanding(t testing.TB, probers proberList, span time.Duration) landingHandler {
	t.Helper()
	h, err := newLandingHandler("/metrics", probers, span)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// pastLanding is newTestLanding for probers of a known past (pastProber):
// it makes its table at pastNow.
func pastLanding(t testing.TB, probers proberList, span time.Duration) landingHandler {
	t.Helper()
	h := newTestLanding(t, probers, span)
	h.clock = pastClock
	return h
}

// rowNames returns the names in the landing page's table, in order.
func rowNames(t *testing.T, page string) []string {
	t.Helper()
	var names []string
	for _, m := range regexp.MustCompile(`<tr><td><a href="target\?[^"]*">([^<]*)</a></td>`).FindAllStringSubmatch(page, -1) {
		names = append(names, html.UnescapeString(m[1]))
	}
	return names
}

func TestLandingSparklinesAndLoss(t *testing.T) {
	pool := history.NewPool(3*time.Hour, time.Minute)
	some := minuteLoss{4: 0.2, 30: 0.5, 100: 1} // minute 100 is outside the sparkline's hour
	probers := list(
		pastProber(t, pool, "b-healthy", "10.0.0.2:4000", nil, 0, nil),
		pastProber(t, pool, "a-lossy", "10.0.0.1:4000", nil, 0, some),
		pastProber(t, pool, "c-lossier", "10.0.0.3:4000", nil, 0, minuteLoss{1: 1, 2: 1}),
		pastProber(t, pool, hostile, "10.0.0.4:4000", map[string]string{"x": "<b>y</b>"}, 0, nil),
	)
	base := serve(t, pastLanding(t, probers, pool.Span()))

	code, _, page := getType(t, base+"/")
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", code, page)
	}
	noScript(t, page)
	if got, want := strings.Join(rowNames(t, page), " | "), hostile+" | a-lossy | b-healthy | c-lossier"; got != want {
		t.Errorf("rows %s, want %s by name", got, want)
	}
	pics := pictures(t, page)
	if len(pics) != 4 {
		t.Fatalf("%d pictures, want a sparkline per prober", len(pics))
	}
	// Rows and sparklines are in the same order.
	wantLoss := []minuteLoss{nil, some, nil, {1: 1, 2: 1}}
	for i, pic := range pics {
		if pic.attr("class") != "sparkline" || len(pic.all("median")) != 1 {
			t.Errorf("picture %d: class %q, %d median paths; want a sparkline with its median", i, pic.attr("class"), len(pic.all("median")))
		}
		checkSparkLoss(t, pic, wantLoss[i])
	}
	// Loss over the hour's 3540 probes (the current minute, which has
	// none yet, and the 59 before it): 42 and 120 lost.
	for _, want := range []string{"<td>1.2%</td>", "<td>3.4%</td>", "<td>0.0%</td>", "<th><a href=\"?sort=loss\">Loss, 1h</a></th>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	for key, want := range map[string]string{
		"name": hostile + " | a-lossy | b-healthy | c-lossier",
		"loss": "c-lossier | a-lossy | " + hostile + " | b-healthy",
	} {
		_, _, page := getType(t, base+"/?sort="+key)
		if got := strings.Join(rowNames(t, page), " | "); got != want {
			t.Errorf("sort=%s: rows %s, want %s", key, got, want)
		}
		if !strings.Contains(page, `<div id="probers" data-sort="`+key+`">`) {
			t.Errorf("sort=%s: the table does not say how it is sorted", key)
		}
	}
	if code, _, body := getType(t, base+"/?sort=random"); code != http.StatusBadRequest || !strings.Contains(body, "sort: want name, rtt or loss") {
		t.Errorf("sort=random: HTTP %d %q, want 400 and a reason", code, body)
	}
	// The reason quotes what it was given: one line, whatever the value.
	if code, _, body := getType(t, base+"/?sort=a%0Ab"); code != http.StatusBadRequest || body != "sort: want name, rtt or loss, got \"a\\nb\"\n" {
		t.Errorf("sort with a newline: HTTP %d %q, want 400 and a one-line reason", code, body)
	}

	t.Run("without history", func(t *testing.T) {
		base := serve(t, pastLanding(t, probers, 0))
		_, _, page := getType(t, base+"/")
		if len(pictures(t, page)) != 0 || strings.Contains(page, "Loss, ") || !strings.Contains(page, `<a href="?sort=loss">Timeouts (1 min)</a>`) {
			t.Errorf("history off: want no sparkline or loss column:\n%s", page)
		}
	})
}

// delayedEcho echoes each 24-byte frame d after it came.
func delayedEcho(d time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 24)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			time.Sleep(d)
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
}

// TestLandingSortByRTT runs probers against echo servers that answer
// after 0, 15 and 30 ms and checks that ?sort=rtt puts the slowest first
// and the one that never answered last.
func TestLandingSortByRTT(t *testing.T) {
	cfg := config.Default()
	mod := cfg.Modules["default"]
	mod.Interval = config.Duration(20 * time.Millisecond)
	mod.IPProtocol = "ip4"
	cfg.Modules["default"] = mod
	for _, tg := range []struct {
		name string
		d    time.Duration
	}{{"fast", 0}, {"slow", 30 * time.Millisecond}, {"medium", 15 * time.Millisecond}} {
		cfg.Targets = append(cfg.Targets, config.Target{Name: tg.name, Address: testenv.Serve(t, delayedEcho(tg.d))})
	}
	cfg.Targets = append(cfg.Targets, config.Target{Name: "silent", Address: stallingServer(t)})
	m := prober.NewManager(t.Context(), prober.ManagerOptions{MaxDynamic: 10, IdleTimeout: time.Hour,
		History: history.NewPool(time.Hour, time.Minute)}, nil)
	t.Cleanup(m.Stop)
	m.Reconcile(cfg)
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range m.Static() {
		for p.Options().Name != "silent" && p.Snapshot().Received < 10 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no 10 replies", p.Options().Name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	base := serve(t, newTestLanding(t, managerList(m), time.Hour))
	_, _, page := getType(t, base+"/?sort=rtt")
	if got, want := strings.Join(rowNames(t, page), " "), "slow medium fast silent"; got != want {
		t.Errorf("sort=rtt: %s, want %s", got, want)
	}
}
