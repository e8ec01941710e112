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
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/prober"
)

// The pages that show a target's history (the landing page's sparklines,
// /graph, /target) find its probers here.

// proberList returns the running probers: the static ones sorted by name,
// then the dynamic ones sorted by module and address.
type proberList func() []*prober.Prober

// managerList returns m's probers as a proberList.
func managerList(m *prober.Manager) proberList {
	return func() []*prober.Prober {
		static := m.Static()
		return append(static[:len(static):len(static)], m.Dynamic()...)
	}
}

// targetQuery names the probers of one target: by target name, by address
// (a dynamic prober's name is its address), or both, in a module; all its
// flows, or one.
type targetQuery struct {
	target, address, module string
	flow                    int    // -1: every flow
	canonical               string // address's canonical spelling
}

// parseTargetQuery reads target=, address=, module= (default "default")
// and flow= (default: every flow). Its errors are one line, for a 400
// answer. A value may be of any length: the config and discovery take
// names of any length, and the landing page links to each; one that names
// no prober gets 404.
func parseTargetQuery(q url.Values) (targetQuery, error) {
	tq := targetQuery{target: q.Get("target"), address: q.Get("address"), module: q.Get("module"), flow: -1}
	if f := q.Get("flow"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n >= config.MaxFlows {
			return tq, fmt.Errorf("flow %q: want a flow number from 0 to %d", truncate(f), config.MaxFlows-1)
		}
		tq.flow = n
	}
	if tq.module == "" {
		tq.module = config.DefaultModuleName
	}
	if tq.target == "" && tq.address == "" {
		return tq, errors.New("target or address parameter is missing")
	}
	for _, v := range []struct{ name, value string }{{"target", tq.target}, {"address", tq.address}, {"module", tq.module}} {
		if strings.ContainsFunc(v.value, unicode.IsControl) {
			return tq, fmt.Errorf("%s %q: contains control characters", v.name, truncate(v.value))
		}
	}
	tq.canonical = config.CanonicalAddress(tq.address)
	return tq, nil
}

// matches reports whether a prober with options o is one of q's. An
// address matches in any spelling of its endpoint, as /probe keys
// probers (config.CanonicalAddress); a name only as it is.
func (q targetQuery) matches(o *prober.Options) bool {
	return o.ModuleName == q.module && (q.target == "" || o.Name == q.target) &&
		(q.address == "" || o.Address == q.address || config.CanonicalAddress(o.Address) == q.canonical) &&
		(q.flow < 0 || o.Flow == q.flow)
}

// find returns the probers of list that q names, in list's order.
func (q targetQuery) find(list proberList) []*prober.Prober {
	var out []*prober.Prober
	for _, p := range list() {
		if o := p.Options(); q.matches(&o) {
			out = append(out, p)
		}
	}
	return out
}

// findProbers answers a request for the probers its query names: it
// writes 400 with the reason for a bad query and 404 when no prober
// matches, and returns false then.
func findProbers(w http.ResponseWriter, q url.Values, list proberList) ([]*prober.Prober, bool) {
	tq, err := parseTargetQuery(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	ps := tq.find(list)
	if len(ps) == 0 {
		// The names may be any bytes but control characters: the reason
		// is UTF-8, as its content type says.
		http.Error(w, "no prober for "+strings.ToValidUTF8(truncate(tq.String()), "\uFFFD"), http.StatusNotFound)
		return nil, false
	}
	if names := targetNames(ps); len(names) > 1 {
		// address= alone, of an address several targets share: it names
		// none of them (a page of them all would be titled with one name;
		// of 10 000 targets on one address, it was 116 MB).
		http.Error(w, fmt.Sprintf("address %s in module %s is the address of %d targets (%s): name one with target=",
			truncate(tq.address), truncate(tq.module), len(names), namesText(names)), http.StatusBadRequest)
		return nil, false
	}
	return ps, true
}

// targetNames returns the names of the targets of ps, sorted, each once:
// a target of several flows has a prober per flow.
func targetNames(ps []*prober.Prober) []string {
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.Options().Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// namesText lists names for a one-line reason: the first three, each
// truncated, then how many more.
func namesText(names []string) string {
	const most = 3
	out := make([]string, 0, most+1)
	for _, n := range names[:min(len(names), most)] {
		out = append(out, truncate(n))
	}
	if len(names) > most {
		out = append(out, fmt.Sprintf("and %d more", len(names)-most))
	}
	return strings.Join(out, ", ")
}

// String names q's target for a reason or a title.
func (q targetQuery) String() string {
	s := "target " + q.target
	if q.target == "" {
		s = "address " + q.address
	} else if q.address != "" {
		s += " (" + q.address + ")"
	}
	s += " in module " + q.module
	if q.flow >= 0 {
		s += " flow " + strconv.Itoa(q.flow)
	}
	return s
}

// targetValues returns the query that names the target of the prober with
// options o: its name, address and module.
func targetValues(o *prober.Options) url.Values {
	return url.Values{"target": {o.Name}, "address": {o.Address}, "module": {o.ModuleName}}
}

// sparkWindow is how far back the landing page's sparklines reach, at
// most.
const sparkWindow = time.Hour

// graphRanges returns the ranges the target page draws: an hour and
// three, those within span, the history kept; or span alone if it is
// shorter than an hour.
func graphRanges(span time.Duration) []time.Duration {
	var out []time.Duration
	for _, d := range []time.Duration{time.Hour, 3 * time.Hour} {
		if d <= span {
			out = append(out, d)
		}
	}
	if len(out) == 0 && span > 0 {
		out = append(out, span)
	}
	return out
}

// parseRange reads a graph's range= (default: an hour, or the whole span
// if shorter): a duration of at least a minute, or the whole span if
// shorter (the graph the target page draws then), and at most span, the
// history kept.
func parseRange(s string, span time.Duration) (time.Duration, error) {
	if s == "" {
		return min(time.Hour, span), nil
	}
	d, err := model.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("range %q: want a duration such as 1h or 3h", truncate(s))
	case time.Duration(d) < min(time.Minute, span):
		return 0, fmt.Errorf("range %s: shorter than a minute, the history's resolution", d)
	case time.Duration(d) > span:
		return 0, fmt.Errorf("range %s: longer than the history kept (--web.history=%s)", d, model.Duration(span))
	}
	return time.Duration(d), nil
}
