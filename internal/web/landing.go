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
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/tcpping/tcpping_exporter/prober"
)

// proberTable renders the landing page's table of probers. html/template
// escapes target names, labels and errors: they come from config files and
// /probe requests.
var proberTable = template.Must(template.New("probers").Parse(`
<h2>Probers</h2>
<table id="probers">
<thead><tr><th>Name</th><th>Flow</th><th>Address</th><th>Module</th><th>Source</th><th>Connected</th><th>Last RTT</th><th>SRTT</th><th>Timeouts (1 min)</th><th>Last error</th><th>Debug</th></tr></thead>
<tbody>
{{- range .}}
<tr><td>{{.Name}}</td><td>{{.Flow}}</td><td>{{.Address}}</td><td>{{.Module}}</td><td>{{.Source}}</td><td>{{.Connected}}</td><td>{{.LastRTT}}</td><td>{{.SRTT}}</td><td>{{.RecentTimeouts}}</td><td>{{.LastError}}</td><td><a href="{{.DebugURL}}">debug</a></td></tr>
{{- else}}
<tr><td colspan="11">No probers: add targets to the config file or request /probe?target=host:port.</td></tr>
{{- end}}
</tbody>
</table>`))

// proberRow is one line of the table: a prober, which is one flow of a
// target of several flows (Flow is its number then, else empty).
type proberRow struct {
	Name, Flow, Address, Module, Source, Connected, LastRTT, SRTT, LastError string
	RecentTimeouts                                                           uint64
	DebugURL                                                                 string
}

func rowFor(p *prober.Prober) proberRow {
	o := p.Options()
	s := p.Snapshot()
	r := proberRow{
		Name: o.Name, Address: o.Address, Module: o.ModuleName, Source: "static",
		Connected: "no", LastRTT: "-", SRTT: "-", LastError: s.LastError,
		RecentTimeouts: s.RecentTimeouts,
		DebugURL:       "probe?" + url.Values{"target": {o.Address}, "module": {o.ModuleName}, "debug": {"true"}}.Encode(),
	}
	if o.Dynamic {
		r.Source = "dynamic"
	}
	if o.Discovered {
		r.Source = "discovered"
	}
	if o.Module.Flows > 1 {
		r.Flow = strconv.Itoa(o.Flow)
	}
	if s.Connected {
		r.Connected = "yes"
	}
	if s.Received > 0 {
		r.LastRTT = s.LastRTT.Round(time.Microsecond).String()
		r.SRTT = s.SRTT.Round(time.Microsecond).String()
	}
	return r
}

// landingHandler serves / through exporter-toolkit's landing page with the
// current table of probers, so it renders per request.
type landingHandler struct {
	telemetryPath string
	manager       *prober.Manager
}

func (h landingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rows []proberRow
	for _, p := range h.manager.Static() {
		rows = append(rows, rowFor(p))
	}
	for _, p := range h.manager.Dynamic() {
		rows = append(rows, rowFor(p))
	}
	var table bytes.Buffer
	if err := proberTable.Execute(&table, rows); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	page, err := toolkitweb.NewLandingPage(toolkitweb.LandingConfig{
		Name:        "TCP Ping Exporter",
		Description: "Prometheus exporter for TCP round-trip time, loss and connection stability",
		Version:     version.Info(),
		Profiling:   "false",
		ExtraCSS:    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}",
		Links: []toolkitweb.LandingLinks{
			{Address: h.telemetryPath, Text: "Metrics"},
			{Address: "/probe?target=127.0.0.1:4000&debug=true", Text: "Probe (debug)", Description: "/probe?target=host:port&module=name"},
			{Address: "/config", Text: "Configuration"},
			{Address: "/-/healthy", Text: "Health"},
		},
		ExtraHTML: table.String(),
	})
	if err != nil {
		http.Error(w, "landing page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	page.ServeHTTP(w, r)
}
