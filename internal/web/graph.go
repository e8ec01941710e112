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
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/internal/graph"
	"github.com/tcpping/tcpping_exporter/prober"
)

// graphHandler serves /graph?target=NAME&module=M&range=1h (or address=
// for a dynamic prober; flow=N for one flow of several): the
// SmokePing-style SVG of a prober's history.
type graphHandler struct {
	probers proberList
	span    time.Duration // the history kept, --web.history
	clock   clock         // the time a graph is drawn at; time.Now if nil
}

func (h graphHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.span <= 0 {
		http.Error(w, "no history is kept: --web.history is 0", http.StatusNotFound)
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rng, err := parseRange(q.Get("range"), h.span)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ps, ok := findProbers(w, q, h.probers)
	if !ok {
		return
	}
	// Without flow=, a target's first flow.
	var b bytes.Buffer
	if err := smokeGraph(&b, ps[0], rng, h.clock.now()); err != nil {
		http.Error(w, "graph: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// smokeGraph draws p's history of the rng up to now into b.
func smokeGraph(b *bytes.Buffer, p *prober.Prober, rng time.Duration, now time.Time) error {
	from := now.Add(-rng)
	return graph.Smoke(b, p.History(nil, from, now), graph.Options{
		Title: proberTitle(p) + ", last " + model.Duration(rng).String(), From: from, To: now,
	})
}

// proberTitle names a prober in a graph's title: "name (address, module
// m)", and ", flow f" for a flow of several.
func proberTitle(p *prober.Prober) string {
	o := p.Options()
	s := o.Name + " (" + o.Address + ", module " + o.ModuleName + ")"
	if o.Module.Flows > 1 {
		s += ", flow " + strconv.Itoa(o.Flow)
	}
	return s
}
