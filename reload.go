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
	"context"
	"errors"
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

// reloader owns the loaded config. Startup, SIGHUP and POST /-/reload all
// go through its one goroutine, so reloads never overlap; a failed reload
// keeps the running config.
type reloader struct {
	file     string
	explicit bool // --config.file was given: a missing file is an error
	logger   log.Logger
	manager  *prober.Manager

	current atomic.Pointer[config.Config]
	targets atomic.Pointer[collector.Collector] // static targets' series

	success   prometheus.Gauge
	timestamp prometheus.Gauge
	requests  chan chan error
}

func newReloader(file string, explicit bool, m *prober.Manager, logger log.Logger, reg prometheus.Registerer) *reloader {
	r := &reloader{
		file: file, explicit: explicit, manager: m,
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

// loadConfig reads the config file. The default file may be missing: then
// the built-in default module runs with no static targets.
func loadConfig(file string, explicit bool) (*config.Config, bool, error) {
	cfg, err := config.Load(file)
	if err != nil && !explicit && errors.Is(err, os.ErrNotExist) {
		return config.Default(), false, nil
	}
	return cfg, err == nil, err
}

// reload loads the file and, if it is valid, reconciles the probers.
func (r *reloader) reload() (err error) {
	defer func() {
		if err != nil {
			r.success.Set(0)
			return
		}
		r.success.Set(1)
		r.timestamp.SetToCurrentTime()
	}()
	cfg, found, err := loadConfig(r.file, r.explicit)
	if err != nil {
		return err
	}
	if !found {
		level.Info(r.logger).Log("msg", "config file not found, using the built-in default module and no static targets", "file", r.file)
	}
	r.apply(cfg)
	level.Info(r.logger).Log("msg", "config loaded", "file", r.file, "targets", len(cfg.Targets), "modules", len(cfg.Modules))
	return nil
}

// apply reconciles the probers with cfg and publishes a collector whose
// label names fit cfg's targets.
func (r *reloader) apply(cfg *config.Config) {
	r.manager.Reconcile(cfg)
	r.targets.Store(collector.New(r.manager.Static, cfg.LabelNames()))
	r.current.Store(cfg)
}

// targetsGatherer returns the gatherer of the static targets' series for
// the config in force.
func (r *reloader) targetsGatherer() prometheus.Gatherer {
	if c := r.targets.Load(); c != nil {
		return c
	}
	return nil
}

// run serves reload requests and SIGHUP until ctx is done.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal) {
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
func (r *reloader) reloadOrWarn() error {
	err := r.reload()
	if err != nil {
		level.Warn(r.logger).Log("msg", "reload failed, keeping the running config", "err", err)
	}
	return err
}

// ServeHTTP handles POST /-/reload.
func (r *reloader) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "this endpoint requires a POST request", http.StatusMethodNotAllowed)
		return
	}
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
