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

// Package web holds the exporter's HTTP side: the routes, the /metrics
// handler, /probe and its debug page, the landing page with a sparkline
// per prober, each target's page (/target) and its graphs (/graph),
// /config, /-/healthy, and the Reloader, which owns the loaded config (SIGHUP and
// POST /-/reload) and decides which collector of the static targets is
// live. main wires it: NewReloader, then NewHandler for the server.
package web

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tcpping/tcpping_exporter/collector"
	"github.com/tcpping/tcpping_exporter/prober"
)

// Options are what the endpoints serve.
type Options struct {
	// TelemetryPath is the path of the metrics endpoint
	// (--web.telemetry-path), checked by ValidateTelemetryPath.
	TelemetryPath string
	// Registry gathers the exporter's self-metrics.
	Registry prometheus.Gatherer
	// Reloader has the loaded config and the static targets' collector.
	Reloader *Reloader
	// Manager runs the static and the dynamic probers.
	Manager *prober.Manager
	// AllowedTargets restricts the targets of /probe
	// (--probe.allowed-target); the zero value allows any.
	AllowedTargets AllowedTargets
	// HistorySpan is how far back the probers' history reaches
	// (--web.history), for the landing page's sparklines, /graph and
	// /target; 0 if none is kept.
	HistorySpan time.Duration
	// WriteStallTimeout is how long a response may wait for its client to
	// take any of it before the connection is closed; 0 is
	// defaultWriteStallTimeout.
	WriteStallTimeout time.Duration
}

// NewHandler returns the handler of every endpoint: the telemetry path,
// the fixed routes (/probe, /graph, /target, /-/healthy, /-/reload,
// /config, /favicon.ico) and the landing page at /. A client that takes
// none of a response for opts.WriteStallTimeout is disconnected.
func NewHandler(opts Options, logger log.Logger) http.Handler {
	// Each route is registered with its method: the mux answers any other
	// with 405 and an Allow header naming the route's methods (a GET
	// route's are GET and HEAD), and a path of no route with 404.
	mux := http.NewServeMux()
	mux.Handle(http.MethodGet+" "+opts.TelemetryPath, collector.NewHandler(collector.HandlerOptions{
		Registry:            opts.Registry,
		Targets:             opts.Reloader.targets.Load,
		Logger:              logger,
		MaxRequestsInFlight: maxScrapes,
	}))
	probers := managerList(opts.Manager)
	for _, r := range fixedRoutes {
		mux.Handle(r.method+" "+r.path, r.handler(opts, probers, logger))
	}
	if opts.hasLanding() {
		// "/{$}" is / alone: any other path is no route's, 404.
		const pattern = http.MethodGet + " /{$}"
		landing, err := newLandingHandler(opts.TelemetryPath, probers, opts.HistorySpan)
		if err != nil {
			mux.Handle(pattern, failing{fmt.Errorf("landing page: %w", err)})
		} else {
			mux.Handle(pattern, landing)
		}
	}
	stall := opts.WriteStallTimeout
	if stall <= 0 {
		stall = defaultWriteStallTimeout
	}
	return stallGuard{next: mux, stall: stall}
}

// hasLanding reports whether the landing page is at /: not when the
// metrics are (--web.telemetry-path=/).
func (o Options) hasLanding() bool { return o.TelemetryPath != "/" }

// maxScrapes is how many /metrics requests are served at once; more get
// 503, as promhttp's MaxRequestsInFlight answers them.
const maxScrapes = 10

// route is an endpoint at a fixed path, the method it takes (GET also
// takes HEAD), and how to make its handler.
type route struct {
	method, path string
	handler      func(opts Options, probers proberList, logger log.Logger) http.Handler
}

// fixedRoutes are the endpoints at fixed paths: NewHandler serves them,
// and --web.telemetry-path may take none of them (ValidateTelemetryPath).
var fixedRoutes = [...]route{
	{http.MethodGet, "/probe", func(o Options, _ proberList, l log.Logger) http.Handler {
		return probeHandler{manager: o.Manager, allowed: o.AllowedTargets, logger: l}
	}},
	{http.MethodGet, "/-/healthy", func(Options, proberList, log.Logger) http.Handler { return http.HandlerFunc(healthy) }},
	{http.MethodPost, "/-/reload", func(o Options, _ proberList, _ log.Logger) http.Handler { return o.Reloader }},
	{http.MethodGet, "/config", func(o Options, _ proberList, _ log.Logger) http.Handler { return newConfigHandler(o.Reloader) }},
	{http.MethodGet, "/graph", func(o Options, ps proberList, _ log.Logger) http.Handler {
		return graphHandler{probers: ps, span: o.HistorySpan}
	}},
	{http.MethodGet, "/target", func(o Options, ps proberList, _ log.Logger) http.Handler {
		return targetHandler{probers: ps, span: o.HistorySpan, noLanding: !o.hasLanding()}
	}},
	{http.MethodGet, "/favicon.ico", func(Options, proberList, log.Logger) http.Handler { return http.HandlerFunc(favicon) }},
}

// ValidateTelemetryPath checks --web.telemetry-path: a clean absolute path
// of plain characters that is not another endpoint's route.
func ValidateTelemetryPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("--web.telemetry-path %q: must start with /", p)
	}
	if strings.ContainsAny(p, "{} \t\n?#%") {
		return fmt.Errorf("--web.telemetry-path %q: must be a plain path", p)
	}
	// net/http answers a request for a path that is not clean with a
	// redirect to its clean form, so the endpoint at such a path could
	// never be reached. A trailing slash is clean: the endpoint is then
	// that path and every path under it.
	if c := path.Clean(p); p != c && p != c+"/" {
		return fmt.Errorf("--web.telemetry-path %q: must be a clean path, without empty, \".\" or \"..\" segments: requests for it are redirected to %q", p, c)
	}
	for _, r := range fixedRoutes {
		if p == r.path {
			return fmt.Errorf("--web.telemetry-path %q: that path is the %s endpoint", p, r.path)
		}
	}
	return nil
}

// parseQuery returns r's query parameters, or, for a 400 answer, a
// one-line error: for a query that does not decode (a bad percent escape,
// a ';'), of which url.Values.Get would drop the parameter and answer as
// if it were missing, and for a parameter given more than once, of which
// it would silently take the first.
func parseQuery(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %s", truncate(err.Error()))
	}
	for name, values := range q {
		if len(values) > 1 {
			n := truncate(name)
			if q := strconv.Quote(n); q[1:len(q)-1] != n {
				n = q // a name with a newline or a control byte, quoted: the reason stays one line
			}
			return nil, fmt.Errorf("%s: given %d times, want it once", n, len(values))
		}
	}
	return q, nil
}

func healthy(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, "Healthy")
}

// failing answers every request with 500 and err.
type failing struct{ err error }

func (f failing) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, f.err.Error(), http.StatusInternalServerError)
}

// faviconSVG is the pages' icon: a browser asks for one, and logs an
// error in the console if there is none.
const faviconSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">` +
	`<rect width="16" height="16" rx="3" fill="#e6522c"/><path d="M2 10h3l2-5 2 8 2-4h3" fill="none" stroke="#fff" stroke-width="1.5"/></svg>`

func favicon(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write([]byte(faviconSVG))
}
