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
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/prober"
)

// targetPage renders /target: a target's probers (one per flow), and for
// each its graphs and its debug text. html/template escapes every name, label and error;
// the graphs are SVG the graph package drew and escaped. The page loads
// nothing from elsewhere and has no script.
var targetPage = template.Must(template.New("target").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{.Title}} · TCP Ping Exporter</title>
<link rel="icon" href="data:,">
<style>
body{font-family:sans-serif;margin:0}
header{background-color:#e6522c;color:#fff;font-size:1rem;padding:1rem}
main{padding:1rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
h2,h3,td.labels,td.error{overflow-wrap:anywhere}
figure{display:inline-block;margin:0 1rem 1rem 0}figcaption{font-size:small}
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto}
</style>
</head>
<body>
<header><h1>TCP Ping Exporter</h1></header>
<main>
{{if .Landing}}<p><a href="./">All probers</a></p>{{end}}
<h2 id="title">{{.Title}}</h2>
<h3>Probers of this target</h3>
<table id="target-probers">
<thead><tr><th>Flow</th><th>Address</th><th>Module</th><th>Labels</th><th>Source</th><th>State</th><th>Last RTT</th><th>SRTT</th>{{if .Window}}<th>Loss, {{.Window}}</th>{{end}}<th>Timeouts (1 min)</th><th>Last error</th></tr></thead>
<tbody>
{{- range .Probers}}{{with .Row}}
<tr><td>{{.Flow}}</td><td>{{.Address}}</td><td>{{.Module}}</td><td class="labels">{{.Labels}}</td><td>{{.Source}}</td><td>{{.State}}</td><td>{{.LastRTT}}</td><td>{{.SRTT}}</td>{{if $.Window}}<td>{{.Loss}}</td>{{end}}<td>{{.RecentTimeouts}}</td><td class="error">{{.LastError}}</td></tr>
{{- end}}{{end}}
</tbody>
</table>
{{- range .Probers}}
<section class="prober">
<h3>{{.Heading}}</h3>
{{- range .Graphs}}
<figure class="graph" data-range="{{.Range}}">{{.SVG}}<figcaption>Last {{.Range}}: <a href="{{.URL}}">SVG</a></figcaption></figure>
{{- else}}
<p>No history is kept: --web.history is 0.</p>
{{- end}}
<h4>Debug</h4>
<pre class="debug">{{.Debug}}</pre>
</section>
{{- end}}
</main>
</body>
</html>
`))

// targetProber is one prober's part of the target page.
type targetProber struct {
	Row     proberRow
	Heading string
	Graphs  []targetGraph
	Debug   string // the text of /probe?debug=true
}

// targetGraph is one graph of the target page.
type targetGraph struct {
	Range string
	SVG   template.HTML // the graph package escapes what it draws
	URL   string        // the same graph from /graph
}

// targetHandler serves /target?target=NAME&module=M (or address= for a
// dynamic prober): the page of one target.
type targetHandler struct {
	probers proberList
	span    time.Duration // the history kept, --web.history
	clock   clock         // the time a page is made at; time.Now if nil
	// noLanding is set when the metrics are at / (--web.telemetry-path=/)
	// in place of the landing page: the page then has no link back to it.
	noLanding bool
}

func (h targetHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ps, ok := findProbers(w, q, h.probers)
	if !ok {
		return
	}
	now := h.clock.now()
	b := newRowBuilder(now, h.span, false)
	data := struct {
		Title, Window string
		Landing       bool
		Probers       []targetProber
	}{Title: ps[0].Options().Name, Landing: !h.noLanding}
	if b.window > 0 {
		data.Window = model.Duration(b.window).String()
	}
	for _, p := range ps {
		tp, err := h.prober(p, b, now)
		if err != nil {
			http.Error(w, "graph: "+err.Error(), http.StatusInternalServerError)
			return
		}
		data.Probers = append(data.Probers, tp)
	}
	var page bytes.Buffer
	if err := targetPage.Execute(&page, data); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page.Bytes())
}

// prober returns p's part of the page.
func (h targetHandler) prober(p *prober.Prober, b *rowBuilder, now time.Time) (targetProber, error) {
	o := p.Options()
	tp := targetProber{Row: b.row(p), Heading: proberTitle(p)}
	for _, rng := range graphRanges(h.span) {
		var svg bytes.Buffer
		if err := smokeGraph(&svg, p, rng, now); err != nil {
			return tp, err
		}
		name := model.Duration(rng).String()
		q := targetValues(&o)
		q.Set("range", name)
		if o.Module.Flows > 1 {
			q.Set("flow", strconv.Itoa(o.Flow))
		}
		tp.Graphs = append(tp.Graphs, targetGraph{
			Range: name, SVG: template.HTML(svg.String()), URL: "graph?" + q.Encode(),
		})
	}
	var debug bytes.Buffer
	writeFlowDebug(&debug, p)
	tp.Debug = debug.String()
	return tp, nil
}
