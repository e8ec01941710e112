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
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/collector"
	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/prober"
)

// Scrape timeout handling, as blackbox_exporter: the header less an offset
// that leaves time to answer, 90 % of it when the offset would leave under
// minProbeWait, and defaultProbeWait without the header.
const (
	scrapeTimeoutOffset = 500 * time.Millisecond
	minProbeWait        = 100 * time.Millisecond
	defaultProbeWait    = 10 * time.Second
	maxTargetLength     = 1024
)

// probeHandler serves /probe?target=HOST:PORT&module=NAME.
type probeHandler struct {
	manager *prober.Manager
	allowed AllowedTargets
	logger  log.Logger
}

// probeRequest is a validated /probe request.
type probeRequest struct {
	target, module string
	debug          bool
	wait           time.Duration
}

// parseProbeRequest validates the query and headers of a /probe request. Its
// errors are one line, for a 400 answer.
func parseProbeRequest(r *http.Request) (probeRequest, error) {
	q, err := parseQuery(r)
	if err != nil {
		return probeRequest{}, err
	}
	req := probeRequest{target: q.Get("target"), module: q.Get("module")}
	if req.module == "" {
		req.module = config.DefaultModuleName
	}
	if err := validateTarget(req.target); err != nil {
		return req, err
	}
	// The config's rule of module names is the one rule: any name a
	// module can have may be asked for, whatever its length.
	if config.ValidateName(req.module) != nil {
		return req, fmt.Errorf("module %q: not a module name: it has control characters or is not UTF-8", truncate(req.module))
	}
	switch d := q.Get("debug"); d {
	case "", "false":
	case "true":
		req.debug = true
	default:
		return req, fmt.Errorf("debug: want true or false, got %q", truncate(d))
	}
	wait, err := probeWait(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"))
	if err != nil {
		return req, err
	}
	req.wait = wait
	return req, nil
}

// validateTarget checks a /probe target: what config.ValidateAddress checks
// of every target (host:port, a host that is an IP address or a DNS name, a
// port 1-65535), plus, as its input comes off the network, a length limit
// and no control or space characters anywhere.
func validateTarget(target string) error {
	switch {
	case target == "":
		return errors.New("target parameter is missing")
	case len(target) > maxTargetLength:
		return fmt.Errorf("target: longer than %d bytes", maxTargetLength)
	case strings.ContainsFunc(target, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return fmt.Errorf("target %q: contains control or space characters", truncate(target))
	}
	if err := config.ValidateAddress(target); err != nil {
		return fmt.Errorf("target %q: want host:port: %w", truncate(target), err)
	}
	return nil
}

// probeWait returns how long a first request may wait for a new prober's
// first result, from Prometheus' scrape timeout header.
func probeWait(header string) (time.Duration, error) {
	if header == "" {
		return defaultProbeWait, nil
	}
	secs, err := strconv.ParseFloat(header, 64)
	if err != nil || !(secs > 0 && secs <= 3600) { // the negation also rejects NaN
		return 0, fmt.Errorf("X-Prometheus-Scrape-Timeout-Seconds: want seconds in (0, 3600], got %q", truncate(header))
	}
	timeout := time.Duration(secs * float64(time.Second))
	if wait := timeout - scrapeTimeoutOffset; wait >= minProbeWait {
		return wait, nil
	}
	return timeout * 9 / 10, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// getServed answers a request whose prober Get could not give, and then
// returns false.
func getServed(w http.ResponseWriter, req probeRequest, err error) bool {
	var capped *prober.TooManyTargetsError
	switch {
	case err == nil:
		return true
	case errors.Is(err, prober.ErrUnknownModule): // not in the config of the latest reload
		http.Error(w, fmt.Sprintf("unknown module %q", truncate(req.module)), http.StatusBadRequest)
	case errors.As(err, &capped) && capped.Max == 0:
		http.Error(w, "/probe serves static targets only (--probe.max-dynamic-targets=0)", http.StatusServiceUnavailable)
	case errors.As(err, &capped):
		http.Error(w, fmt.Sprintf("%s: the exporter already runs --probe.max-dynamic-targets=%d probers", err, capped.Max), http.StatusServiceUnavailable)
	default:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
	return false
}

// awaitFirstResult waits until p has its first result, or until req's
// wait ends, and returns the prober to answer from: p, or the one that
// runs for the target now if a reload stopped p meanwhile. It holds no
// lock while it waits. It answers the request itself, and returns false,
// if the client went away or the prober could not be had.
func (h probeHandler) awaitFirstResult(w http.ResponseWriter, r *http.Request, req probeRequest, address string, p *prober.Prober) (*prober.Prober, bool) {
	deadline := time.Now().Add(req.wait)
	// A reload may stop the prober before its first result (its module
	// changed or went, or a target of the config now has its module and
	// address): the answer is then that of the prober that runs for them
	// now, within the same wait.
	for {
		all, err := awaitFirst(r, p, deadline)
		if err != nil {
			http.Error(w, "probe not answered: "+err.Error(), http.StatusServiceUnavailable)
			return nil, false
		}
		if !all || !stopped(p) || !time.Now().Before(deadline) {
			return p, true
		}
		next, _, err := h.manager.Get(req.module, address)
		if !getServed(w, req, err) {
			return nil, false
		}
		if next == p {
			return p, true
		}
		p = next
	}
}

// awaitFirst waits until every flow of p has its first result, or has
// stopped, and reports whether they all did before deadline. Its error is
// that of the request's context if that ended first: the client went
// away, or the exporter is stopping.
func awaitFirst(r *http.Request, p *prober.Prober, deadline time.Time) (bool, error) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for _, f := range p.Flows() {
		select {
		case <-f.FirstResult():
		case <-t.C:
			return false, nil
		case <-r.Context().Done():
			return false, r.Context().Err()
		}
	}
	return true, nil
}

// stopped reports whether the target of p has stopped: whether one of its
// flows has. A reload stops every flow of a target, each in its own time,
// and awaitFirst may return once the flows it waited for have stopped while
// one that had its first result before (p itself, say) is still stopping.
func stopped(p *prober.Prober) bool {
	return slices.ContainsFunc(p.Flows(), func(f *prober.Prober) bool { return f.Snapshot().State == prober.StateStopped })
}

func (h probeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := parseProbeRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// The prober is keyed, named and dialed by the canonical spelling
	// (config.CanonicalAddress), and the policy matches what is dialed.
	address := config.CanonicalAddress(req.target)
	// Before anything is resolved or dialed.
	if !h.allowed.Allows(address) {
		http.Error(w, fmt.Sprintf("target %q: not allowed by --probe.allowed-target", truncate(req.target)), http.StatusForbidden)
		return
	}
	p, created, err := h.manager.Get(req.module, address)
	if !getServed(w, req, err) {
		return
	}
	// Every request waits for the first result, not only the one that
	// started the prober: of requests that arrive together for a new
	// target (the two servers of an HA pair), the others would answer
	// with the zeros of a prober that has not probed yet. A prober that
	// has had its first result answers at once.
	p, ok := h.awaitFirstResult(w, r, req, address, p)
	if !ok {
		return
	}
	if req.debug {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		writeDebug(w, p)
		return
	}
	collector.ServeProbe(w, r, p, h.logger)
	level.Debug(h.logger).Log("msg", "probe served", "target", req.target, "module", req.module, "created", created)
}
