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
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/tcpping/tcpping_exporter/config"
)

// FuzzParseProbeRequest feeds /probe any query string and scrape timeout
// header. parseProbeRequest must not panic, its errors must be one line
// (they are the whole body of a 400), and whatever it accepts must be
// something the prober can use: DESIGN.md's host:port with a port 1–65535,
// a name a module can have (config.ValidateName), and a first-request wait within the scrape timeout.
// The seed corpus is in testdata/fuzz/FuzzParseProbeRequest.
func FuzzParseProbeRequest(f *testing.F) {
	f.Add("target=127.0.0.1:4000&module=default", "")
	f.Add("target=%5B::1%5D:4000&debug=true", "10")
	f.Add("target=host:0", "")
	f.Fuzz(func(t *testing.T, rawQuery, scrapeTimeout string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/probe", RawQuery: rawQuery}, Header: http.Header{}}
		if scrapeTimeout != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", scrapeTimeout)
		}
		req, err := parseProbeRequest(r)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || msg == "" {
				t.Fatalf("error %q is not one line", msg)
			}
			return
		}
		checkProbeTarget(t, req.target)
		if config.ValidateName(req.module) != nil {
			t.Fatalf("accepted module %q", req.module)
		}
		limit := defaultProbeWait
		if scrapeTimeout != "" {
			secs, err := strconv.ParseFloat(scrapeTimeout, 64)
			if err != nil {
				t.Fatalf("accepted scrape timeout %q that is not a number", scrapeTimeout)
			}
			limit = time.Duration(secs * float64(time.Second))
			if !(secs > 0 && secs <= 3600) {
				t.Fatalf("accepted scrape timeout %q outside (0, 3600] seconds (wait %v)", scrapeTimeout, req.wait)
			}
		}
		if req.wait < 0 || req.wait > limit {
			t.Fatalf("scrape timeout %q: wait %v, want within [0, %v]", scrapeTimeout, req.wait, limit)
		}
	})
}

// FuzzValidateTarget checks that every target validateTarget accepts is one
// the prober can dial: host:port, a non-empty host without control or space
// characters, a port 1–65535.
func FuzzValidateTarget(f *testing.F) {
	for _, s := range []string{"127.0.0.1:4000", "[::1]:4000", "example.com:65535", "host:0", "host:", ":80", "host"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		err := validateTarget(target)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error %q is not one line", msg)
			}
			return
		}
		checkProbeTarget(t, target)
	})
}

// checkProbeTarget fails unless target is one the prober can dial.
func checkProbeTarget(t *testing.T, target string) {
	t.Helper()
	if target == "" || len(target) > maxTargetLength {
		t.Fatalf("accepted target of %d bytes", len(target))
	}
	if strings.ContainsFunc(target, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		t.Fatalf("accepted target %q with control or space characters", target)
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil || host == "" {
		t.Fatalf("accepted target %q that is not host:port: %v", target, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		t.Fatalf("accepted target %q whose port is not 1-65535", target)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		t.Fatalf("accepted target %q whose port the dialer rejects: %v", target, err)
	}
}
