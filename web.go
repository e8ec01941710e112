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

package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tcpping/tcpping_exporter/prober"
)

// routes are the exporter's HTTP endpoints.
type routes struct {
	telemetryPath string
	gatherer      prometheus.Gatherer
	reloader      *reloader
	manager       *prober.Manager
	logger        log.Logger
}

// mux builds the handler for every endpoint.
func (rt routes) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(rt.telemetryPath, promhttp.HandlerFor(rt.gatherer, promhttp.HandlerOpts{
		ErrorLog:            promLogger{rt.logger},
		ErrorHandling:       promhttp.ContinueOnError,
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: 10,
	}))
	mux.Handle("/probe", probeHandler{manager: rt.manager, config: rt.reloader.current.Load, logger: rt.logger})
	mux.HandleFunc("/-/healthy", healthy)
	mux.Handle("/-/reload", rt.reloader)
	mux.Handle("/config", configHandler{rt.reloader})
	if rt.telemetryPath != "/" {
		mux.Handle("/", landingHandler{telemetryPath: rt.telemetryPath, manager: rt.manager})
	}
	return mux
}

// reservedPaths are the routes --web.telemetry-path may not take.
var reservedPaths = [...]string{"/probe", "/config", "/-/healthy", "/-/reload"}

// validateTelemetryPath checks --web.telemetry-path: an absolute path of
// plain characters that is not another endpoint's route.
func validateTelemetryPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("--web.telemetry-path %q: must start with /", p)
	}
	if strings.ContainsAny(p, "{} \t\n?#%") {
		return fmt.Errorf("--web.telemetry-path %q: must be a plain path", p)
	}
	for _, r := range reservedPaths {
		if p == r {
			return fmt.Errorf("--web.telemetry-path %q: that path is the %s endpoint", p, r)
		}
	}
	return nil
}

func healthy(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, "Healthy")
}

// configHandler shows the loaded config as YAML.
type configHandler struct{ r *reloader }

func (h configHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	cfg := h.r.current.Load()
	if cfg == nil {
		http.Error(w, "no config loaded", http.StatusServiceUnavailable)
		return
	}
	out, err := cfg.YAML()
	if err != nil {
		http.Error(w, "marshal config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out)
}

// promLogger adapts the go-kit logger to promhttp's ErrorLog.
type promLogger struct{ l log.Logger }

func (p promLogger) Println(v ...any) {
	level.Error(p.l).Log("msg", fmt.Sprint(v...))
}
