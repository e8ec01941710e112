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

package collector

import (
	"fmt"
	"io"
	"net/http"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/internal/lowprio"
	"github.com/tcpping/tcpping_exporter/prober"
)

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// Registry gathers the exporter's self-metrics, served with the
	// static targets' families. Nil: none.
	Registry prometheus.Gatherer
	// Targets returns, at each scrape, the static targets' Collector,
	// or nil before the first config is loaded. Nil: no targets.
	Targets func() *Collector
	// Logger gets the errors of gathering and writing a scrape. Nil:
	// none are logged.
	Logger log.Logger
	// MaxRequestsInFlight is how many scrapes are served at once; more
	// are answered 503 as promhttp answers them. 0 or less: no limit, as
	// in promhttp.HandlerOpts.
	MaxRequestsInFlight int
}

// handler serves /metrics: see NewHandler.
type handler struct {
	registry prometheus.Gatherer
	targets  func() *Collector
	dto      http.Handler // promhttp, for the formats not streamed
	inFlight chan struct{}
	limit    int
	// keptGzip is the gzipper kept between scrapes, 1.2 MB of compressor
	// state, so that a gzip scrape (Prometheus asks for gzip) does not
	// make a new one after each collection.
	keptGzip kept[gzipper]
	logger   log.Logger
}

// NewHandler returns the /metrics handler: the families of opts.Registry
// and of the static targets' Collector that opts.Targets returns, merged
// in name order, in the format and encoding a scrape negotiates as
// promhttp negotiates them (Accept, with OpenMetrics enabled, and
// Accept-Encoding, gzip or identity), limited to the families named by
// the name[] query parameters if there are any.
//
// The text format, OpenMetrics and delimited protobuf (which Prometheus
// asks for when it scrapes native histograms) are streamed by
// writeExposition from the probers' snapshots, made and written on a
// thread of low priority (internal/lowprio) so that probing need not wait
// for the CPU a large scrape takes: with 10 000 targets that is 35 MiB of
// text, which promhttp would encode from 140 000 metric structs. The
// protobuf text formats, which only people ask for, are served by
// promhttp from merge of the registry and the Collector's Gather.
//
// Past opts.MaxRequestsInFlight concurrent scrapes, it answers 503 with
// promhttp's message. Errors gathering the registry are logged and what
// was gathered is served, as with promhttp.ContinueOnError.
//
// The exporter serves it as, with targets the atomic.Pointer that reload
// swaps:
//
//	mux.Handle(telemetryPath, collector.NewHandler(collector.HandlerOptions{
//		Registry:            registry, // self-metrics
//		Targets:             targets.Load,
//		Logger:              logger,
//		MaxRequestsInFlight: 10,
//	}))
func NewHandler(opts HandlerOptions) http.Handler {
	h := &handler{
		registry: opts.Registry,
		targets:  opts.Targets,
		logger:   opts.Logger,
		limit:    opts.MaxRequestsInFlight,
	}
	if h.registry == nil {
		h.registry = prometheus.Gatherers(nil)
	}
	if h.targets == nil {
		h.targets = func() *Collector { return nil }
	}
	if h.logger == nil {
		h.logger = log.NewNopLogger()
	}
	if h.limit > 0 {
		h.inFlight = make(chan struct{}, h.limit)
	}
	h.dto = promhttp.HandlerFor(merge(h.registryGatherer, h.targetsGatherer), promhttp.HandlerOpts{
		ErrorLog:          promLogger{h.logger},
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
	return h
}

func (h *handler) registryGatherer() prometheus.Gatherer { return h.registry }

// targetsGatherer returns the static targets' Collector as a Gatherer:
// nil, not a nil *Collector, if there is none.
func (h *handler) targetsGatherer() prometheus.Gatherer {
	if c := h.targets(); c != nil {
		return c
	}
	return nil
}

// ServeHTTP serves one scrape.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.inFlight != nil {
		select {
		case h.inFlight <- struct{}{}:
			defer func() { <-h.inFlight }()
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", h.limit),
				http.StatusServiceUnavailable)
			return
		}
	}
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...)
	if !streams(format) {
		h.dto.ServeHTTP(w, r)
		return
	}
	others, err := h.registry.Gather()
	if err != nil {
		// As promhttp.ContinueOnError: serve what was gathered.
		level.Error(h.logger).Log("msg", "error gathering metrics", "err", err)
	}
	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", string(format))
	gz := acceptsGzip(r.Header)
	if gz {
		hdr.Set("Content-Encoding", "gzip")
	}
	// The probers' snapshots and the response, almost all of a scrape's
	// CPU, are made at low priority, so that the probe path and a local
	// echo server need not wait for the CPU they take.
	targets, keep := h.targets(), nameFilter(r)
	err = lowprio.Run(func() error {
		var out io.Writer = w
		if gz {
			z := h.getGzip(w)
			defer h.releaseGzip(z) // ends the gzip stream on this thread too
			out = z.gz
		}
		return writeExposition(out, format, others, targets, keep)
	})
	if err != nil {
		level.Error(h.logger).Log("msg", "error writing metrics", "err", err)
	}
}

// ServeProbe answers a /probe request with the series of p alone: no
// target, address or module label, plus probe_success, in the format the
// request negotiates (promhttp, which a single prober's few series do not
// need streamed). Errors are logged to logger.
func ServeProbe(w http.ResponseWriter, r *http.Request, p *prober.Prober, logger log.Logger) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewProbe(p))
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          promLogger{logger},
		EnableOpenMetrics: true,
	}).ServeHTTP(w, r)
}

// nameFilter returns the filter of the name[] query parameters, which
// promhttp also honours, or nil for all families.
func nameFilter(r *http.Request) func(string) bool {
	names := r.URL.Query()["name[]"]
	if len(names) == 0 {
		return nil
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return func(name string) bool { return set[name] }
}

// promLogger adapts the go-kit logger to promhttp's ErrorLog.
type promLogger struct{ l log.Logger }

// Println logs v at error level, as promhttp reports errors.
func (p promLogger) Println(v ...any) {
	level.Error(p.l).Log("msg", fmt.Sprint(v...))
}
