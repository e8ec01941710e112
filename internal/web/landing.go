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
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/tcpping/tcpping_exporter/internal/lowprio"
)

// proberTable renders the landing page's table of probers, with a
// sparkline of each one's history when one is kept. html/template escapes
// target names, labels and errors; the sparklines are SVG the graph
// package drew and escaped. Sorting is a link per column, done on the
// server: the page has no script.
//
// A thousand rows are a heavy page, mostly for the browser's layout. So
// the table is a header and chunks of rows, each chunk a table of its
// own, of the same fixed column widths, in a block that the browser lays
// out and paints only when it comes into view (CSS content-visibility);
// the chunks line up as one table, and find in page still finds every
// row.
var proberTable = template.Must(template.New("probers").Parse(`
{{- define "cols"}}<colgroup><col class="name"><col class="flow"><col class="address"><col class="module"><col class="connected"><col class="rtt"><col class="rtt"><col class="loss">{{if .Window}}<col class="spark">{{end}}<col></colgroup>{{end -}}
<h2>Probers</h2>
<div id="probers" data-sort="{{.Sort}}">
<table class="probers">{{template "cols" .}}
<thead><tr><th><a href="?sort=name">Name</a></th><th>Flow</th><th>Address</th><th>Module</th><th>State</th><th>Last RTT</th><th><a href="?sort=rtt">SRTT</a></th>
{{- if .Window}}<th><a href="?sort=loss">Loss, {{.Window}}</a></th><th>Last {{.Window}}</th>{{else}}<th><a href="?sort=loss">Timeouts (1 min)</a></th>{{end -}}
<th>Last error</th></tr></thead>
</table>
{{- range .Chunks}}
<div class="chunk"><table class="probers">{{template "cols" $}}<tbody>
{{- range .}}
<tr><td><a href="{{.TargetURL}}">{{.Name}}</a>{{if ne .Source "static"}} ({{.Source}}){{end}}</td><td>{{.Flow}}</td><td>{{.Address}}</td><td>{{.Module}}</td><td>{{.State}}</td><td>{{.LastRTT}}</td><td>{{.SRTT}}</td>
{{- if $.Window}}<td>{{.Loss}}</td><td class="spark">{{.Spark}}</td>{{else}}<td>{{.RecentTimeouts}}</td>{{end -}}
<td>{{.LastError}}</td></tr>
{{- end}}
</tbody></table></div>
{{- else}}
<p>No probers: add targets to the config file or request /probe?target=host:port.</p>
{{- end}}
</div>`))

// chunkRows is how many rows a chunk of the landing page's table holds.
const chunkRows = 50

// landingCSS is the landing page's style beyond exporter-toolkit's. The
// tables' layout is fixed and their borders are not collapsed: with a
// thousand rows, either would cost the browser much of the page's time.
// A chunk out of view takes the height of 50 rows until it is drawn.
// The columns of fixed width take 63.5em and 132px; the last error gets
// what is left, at least 12em: a narrower window scrolls the table
// sideways rather than squeeze the error into a column a letter wide.
const landingCSS = ".probers{table-layout:fixed;width:100%;border-collapse:separate;border-spacing:0;border:solid #ccc;border-width:0 0 0 1px}" +
	"#probers{min-width:calc(75.5em + 132px)}" +
	"#probers>table{border-top-width:1px}.chunk{content-visibility:auto;contain-intrinsic-size:auto 1400px}" +
	".probers td,.probers th{border:solid #ccc;border-width:0 1px 1px 0;padding:2px 6px;text-align:left;overflow-wrap:anywhere}" +
	"col.name{width:16em}col.flow{width:3.5em}col.address{width:13em}col.module{width:7em}col.connected{width:6em}col.rtt{width:6em}" +
	"col.loss{width:6em}col.spark{width:132px}td.spark{padding:0 4px;line-height:0}th a{color:inherit}"

// maxLandings is how many landing pages are made and sent at once. A page
// is made whole in memory and held until its client has taken it: about
// a megabyte per 1 000 targets, twice that while it is made. Without a
// bound, requests at once (a flood, clients that stop reading) took
// memory without end: 60 took an exporter of 10 000 targets from 170 MB
// to 760 MB resident. More wait for their turn, up to landingWait.
const maxLandings = 4

// landingWait is how long a request for the landing page waits for its
// turn before it is answered 503.
const landingWait = 10 * time.Second

// landingHandler serves / through exporter-toolkit's landing page with the
// current table of probers, so it renders per request.
type landingHandler struct {
	probers proberList
	span    time.Duration // the history kept, --web.history
	clock   clock         // the time a table is made at; time.Now if nil
	// head and tail are exporter-toolkit's page before and after the
	// table: the page is made once, the table per request.
	head, tail []byte
	// turns holds a token per page being made or sent (maxLandings).
	turns chan struct{}
}

// tableMark stands for the table in the page exporter-toolkit makes.
const tableMark = "\x00probers\x00"

// newLandingHandler returns the handler of the landing page, with a link
// to the metrics at telemetryPath.
func newLandingHandler(telemetryPath string, probers proberList, span time.Duration) (landingHandler, error) {
	page, err := toolkitweb.NewLandingPage(toolkitweb.LandingConfig{
		Name:        "TCP Ping Exporter",
		Description: "Prometheus exporter for TCP round-trip time, loss and connection stability",
		Version:     version.Info(),
		Profiling:   "false",
		ExtraCSS:    landingCSS,
		Links: []toolkitweb.LandingLinks{
			{Address: telemetryPath, Text: "Metrics"},
			{Address: "/probe?target=127.0.0.1:4000&debug=true", Text: "Probe (debug)", Description: "/probe?target=host:port&module=name"},
			{Address: "/config", Text: "Configuration"},
			{Address: "/-/healthy", Text: "Health"},
		},
		ExtraHTML: tableMark,
	})
	if err != nil {
		return landingHandler{}, err
	}
	req, err := http.NewRequest(http.MethodGet, "/", nil)
	if err != nil {
		return landingHandler{}, err
	}
	var rec pageRecorder
	page.ServeHTTP(&rec, req)
	head, tail, ok := bytes.Cut(rec.body.Bytes(), []byte(tableMark))
	if !ok {
		return landingHandler{}, errors.New("exporter-toolkit's landing page lost its extra HTML")
	}
	// exporter-toolkit's page has no doctype, which puts browsers in
	// quirks mode: the page is laid out as the target page is, by the
	// standards.
	if !bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(head[:min(len(head), 64)])), []byte("<!doctype")) {
		head = append([]byte("<!DOCTYPE html>\n"), head...)
	}
	return landingHandler{probers: probers, span: span, head: head, tail: tail, turns: make(chan struct{}, maxLandings)}, nil
}

// pageRecorder keeps the page a handler writes.
type pageRecorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *pageRecorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}

func (r *pageRecorder) Write(p []byte) (int, error) { return r.body.Write(p) }

func (r *pageRecorder) WriteHeader(int) {}

func (h landingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := q.Get("sort")
	switch key {
	case "":
		key = sortName
	case sortName, sortRTT, sortLoss:
	default:
		http.Error(w, fmt.Sprintf("sort: want name, rtt or loss, got %q", truncate(key)), http.StatusBadRequest)
		return
	}
	if !h.turn(w, r) {
		return
	}
	defer func() { <-h.turns }()
	// The page, about 0.5 s of CPU for 10 000 targets, is made at low
	// priority, as /metrics is, so that the probe path and a local echo
	// server need not wait for the CPU it takes.
	var page bytes.Buffer
	err = lowprio.Run(func() error { return h.page(&page, key) })
	if err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = w.Write(page.Bytes())
}

// turn waits for a turn to make and send a page, up to landingWait, and
// reports whether it came; if not, it answers 503 (or nothing, if the
// client left). The caller gives the turn back when its page is sent.
func (h landingHandler) turn(w http.ResponseWriter, r *http.Request) bool {
	timer := time.NewTimer(landingWait)
	defer timer.Stop()
	select {
	case h.turns <- struct{}{}:
		return true
	case <-r.Context().Done():
		return false
	case <-timer.C:
	}
	http.Error(w, fmt.Sprintf("%d landing pages are being made or sent, and none was done within %s: try again later", maxLandings, landingWait),
		http.StatusServiceUnavailable)
	return false
}

// page writes the landing page to page with its table sorted by key.
func (h landingHandler) page(page *bytes.Buffer, key string) error {
	b := newRowBuilder(h.clock.now(), h.span, true)
	ps := h.probers()
	rows := make([]proberRow, 0, len(ps))
	for _, p := range ps {
		rows = append(rows, b.row(p))
	}
	sortRows(rows, key)
	data := struct {
		Chunks [][]proberRow
		Sort   string
		Window string
	}{Chunks: slices.Collect(slices.Chunk(rows, chunkRows)), Sort: key}
	if b.window > 0 {
		data.Window = model.Duration(b.window).String()
	}
	page.Write(h.head)
	if err := proberTable.Execute(page, data); err != nil {
		return err
	}
	page.Write(h.tail)
	return nil
}
