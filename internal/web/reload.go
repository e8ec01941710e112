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
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tcpping/tcpping_exporter/collector"
	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/prober"
)

// Reloader owns the loaded config and the collector of the static and
// discovered targets' series that fits it (see targets.go). After the
// first Reload, SIGHUP and POST /-/reload go through its one goroutine
// (Run), so reloads never overlap; a failed reload keeps the running
// config.
type Reloader struct {
	file      ConfigFile
	logger    log.Logger
	manager   *prober.Manager
	discovery Discovery // nil: no discovery
	state     targetState

	current atomic.Pointer[config.Config]
	targets atomic.Pointer[collector.Collector] // static and discovered targets' series

	success   prometheus.Gauge
	timestamp prometheus.Gauge
	requests  chan chan error
}

// NewReloader returns the Reloader of file, which reconciles m's static
// probers with each config it loads. It registers the reload gauges on reg.
func NewReloader(file ConfigFile, m *prober.Manager, logger log.Logger, reg prometheus.Registerer) *Reloader {
	r := &Reloader{
		file: file, manager: m,
		logger: log.With(logger, "component", "config"),
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tcpping_exporter", Name: "config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded (1) or not (0).",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "tcpping_exporter", Name: "config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration reload, in seconds.",
		}),
		requests: make(chan chan error),
	}
	reg.MustRegister(r.success, r.timestamp)
	return r
}

// Reload loads the file and, if it is valid and discovery accepts it,
// reconciles the probers. main calls it once before serving; later reloads
// go through Run.
func (r *Reloader) Reload() (err error) {
	defer func() {
		if err != nil {
			r.success.Set(0)
			return
		}
		r.success.Set(1)
		r.timestamp.SetToCurrentTime()
	}()
	cfg, found, err := r.file.Load()
	if err != nil {
		return err
	}
	if !found {
		level.Info(r.logger).Log("msg", "config file not found, using the built-in default module and no static targets", "file", r.file.Path)
	}
	if err := r.adopt(cfg); err != nil {
		return err
	}
	level.Info(r.logger).Log("msg", "config loaded", "file", r.file.Path, "targets", len(cfg.Targets), "modules", len(cfg.Modules))
	return nil
}

// HasDiscovery reports whether the loaded config has discovery entries
// (false before the first successful Reload): while it has,
// tcpping_exporter_probers{source="discovered"} is exposed.
func (r *Reloader) HasDiscovery() bool {
	cfg := r.current.Load()
	return cfg != nil && len(cfg.Discovery) > 0
}

// Run serves reload requests and SIGHUP until ctx is done.
func (r *Reloader) Run(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = r.reloadOrWarn()
		case reply := <-r.requests:
			reply <- r.reloadOrWarn()
		}
	}
}

// reloadOrWarn reloads and logs a failure, which leaves the running config
// in force; it returns the error for POST /-/reload to answer with.
func (r *Reloader) reloadOrWarn() error {
	err := r.Reload()
	if err != nil {
		level.Warn(r.logger).Log("msg", "reload failed, keeping the running config", "err", err)
	}
	return err
}

// ServeHTTP handles POST /-/reload (NewHandler routes no other method
// to it).
func (r *Reloader) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	reply := make(chan error, 1)
	ctx, cancel := context.WithTimeout(req.Context(), 30*time.Second)
	defer cancel()
	select {
	case r.requests <- reply:
	case <-ctx.Done():
		http.Error(w, "reload not accepted: "+ctx.Err().Error(), http.StatusServiceUnavailable)
		return
	}
	if err := <-reply; err != nil {
		http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "config reloaded")
}
