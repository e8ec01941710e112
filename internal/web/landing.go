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
	"html/template"
	"net/http"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"
)

// proberTable renders the landing page's table of probers, with a
// sparkline of each one's history when one is kept. html/template escapes
// target names, labels and errors; the sparklines are SVG the graph
// package drew and escaped. Sorting is a link per column, done on the
// server: the page has no script.
var proberTable = template.Must(template.New("probers").Parse(`
<h2>Probers</h2>
<table id="probers" data-sort="{{.Sort}}">
<thead><tr><th><a href="?sort=name">Name</a></th><th>Address</th><th>Module</th><th>Source</th><th>Connected</th><th>Last RTT</th><th><a href="?sort=rtt">SRTT</a></th>
{{- if .Window}}<th><a href="?sort=loss">Loss, {{.Window}}</a></th><th>RTT and loss, last {{.Window}}</th>{{else}}<th><a href="?sort=loss">Timeouts (1 min)</a></th>{{end -}}
<th>Last error</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td><a href="{{.TargetURL}}">{{.Name}}</a></td><td>{{.Address}}</td><td>{{.Module}}</td><td>{{.Source}}</td><td>{{.Connected}}</td><td>{{.LastRTT}}</td><td>{{.SRTT}}</td>
{{- if $.Window}}<td>{{.Loss}}</td><td class="spark">{{.Spark}}</td>{{else}}<td>{{.RecentTimeouts}}</td>{{end -}}
<td>{{.LastError}}</td></tr>
{{- else}}
<tr><td colspan="10">No probers: add targets to the config file or request /probe?target=host:port.</td></tr>
{{- end}}
</tbody>
</table>`))

// landingCSS is the landing page's style beyond exporter-toolkit's. The
// borders are not collapsed: with a thousand rows, collapsing them costs
// the browser a good share of the page's layout.
const landingCSS = "table{border-collapse:separate;border-spacing:0;border:solid #ccc;border-width:1px 0 0 1px}" +
	"td,th{border:solid #ccc;border-width:0 1px 1px 0;padding:2px 6px;text-align:left}" +
	"td.spark{padding:0 4px;line-height:0}th a{color:inherit}#probers[data-sort] th a{text-decoration:none}"

// landingHandler serves / through exporter-toolkit's landing page with the
// current table of probers, so it renders per request.
type landingHandler struct {
	probers proberList
	span    time.Duration // the history kept, --web.history
	// head and tail are exporter-toolkit's page before and after the
	// table: the page is made once, the table per request.
	head, tail []byte
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
	return landingHandler{probers: probers, span: span, head: head, tail: tail}, nil
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
	key := r.URL.Query().Get("sort")
	switch key {
	case "":
		key = sortName
	case sortName, sortRTT, sortLoss:
	default:
		http.Error(w, "sort: want name, rtt or loss, got "+truncate(key), http.StatusBadRequest)
		return
	}
	b := newRowBuilder(time.Now(), h.span, true)
	ps := h.probers()
	rows := make([]proberRow, 0, len(ps))
	for _, p := range ps {
		rows = append(rows, b.row(p))
	}
	sortRows(rows, key)
	data := struct {
		Rows   []proberRow
		Sort   string
		Window string
	}{Rows: rows, Sort: key}
	if b.window > 0 {
		data.Window = model.Duration(b.window).String()
	}
	var page bytes.Buffer
	page.Write(h.head)
	if err := proberTable.Execute(&page, data); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	page.Write(h.tail)
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = w.Write(page.Bytes())
}
