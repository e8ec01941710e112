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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

func TestAllowedTargets(t *testing.T) {
	a, err := ParseAllowedTargets([]string{"10.0.0.0/8", "fd00::/8", "192.0.2.7", "::ffff:198.51.100.0/120", "*.dc1.example.net", "echo-?.Example.ORG", "exact.example.com."})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		want   bool
	}{
		{"10.1.2.3:4000", true},
		{"11.1.2.3:4000", false},
		{"[fd00::1]:4000", true},
		{"[fe80::1]:4000", false},
		{"[fd00::1%lo]:4000", true}, // the zone is not part of the match
		{"[fe80::1%lo]:4000", false},
		{"[::ffff:10.0.0.1]:4000", true}, // a v4-mapped address is its IPv4 address
		{"192.0.2.7:4000", true},
		{"192.0.2.8:4000", false},
		{"198.51.100.9:4000", true}, // an IPv4-mapped CIDR is its IPv4 CIDR, as --echo.allowed-network's
		{"198.51.101.9:4000", false},
		{"a.dc1.example.net:4000", true},
		{"A.DC1.Example.Net.:4000", true},
		{"a.b.dc1.example.net:4000", false}, // '*' stays within one label
		{"dc1.example.net:4000", false},
		{"a.dc1.example.net.evil.com:4000", false},
		{"echo-1.example.org:4000", true},
		{"echo-12.example.org:4000", false},
		{"exact.example.com:4000", true},
		{"other.example.com:4000", false},
		{"localhost:4000", false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if got := a.Allows(tt.target); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.target, got, tt.want)
			}
		})
	}
	if none := (AllowedTargets{}); none.Restricted() || !none.Allows("203.0.113.9:1") {
		t.Error("the zero policy must allow everything")
	}
}

func TestParseAllowedTargetsErrors(t *testing.T) {
	for _, v := range []string{"10.0.0.0/33", "a/b", "bad name.example", "a..b", "[a-.example", ""} {
		t.Run(v, func(t *testing.T) {
			_, err := ParseAllowedTargets([]string{v})
			if err == nil || !strings.Contains(err.Error(), "--probe.allowed-target") {
				t.Errorf("ParseAllowedTargets(%q) = %v, want an error naming the flag", v, err)
			}
		})
	}
}

// countingListener counts the connections made to it.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

// TestProbeAllowedTarget shows the risk the flag exists for: without it a
// /probe caller makes the exporter connect wherever it names; with it, a
// target outside the policy gets 403 and nothing is dialed or resolved (no
// prober is even created).
func TestProbeAllowedTarget(t *testing.T) {
	addr, accepted := countingListener(t)
	header := map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "2"}

	t.Run("without the flag anyone can make it connect", func(t *testing.T) {
		srv, _ := probeServer(t, fastConfig(), 10)
		if code, body := testenv.Get(t, srv.URL+"/probe?target="+addr, header); code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", code, body)
		}
		deadline := time.Now().Add(5 * time.Second)
		for accepted.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if accepted.Load() == 0 {
			t.Fatal("the exporter never connected to the target /probe named")
		}
	})

	t.Run("with the flag it cannot", func(t *testing.T) {
		before := accepted.Load()
		allowed, err := ParseAllowedTargets([]string{"10.0.0.0/8", "*.example.net"})
		if err != nil {
			t.Fatal(err)
		}
		srv, m := probeServerAllowing(t, fastConfig(), 10, allowed)
		for _, target := range []string{addr, "blocked.example.com:4000"} {
			code, body := testenv.Get(t, srv.URL+"/probe?target="+target, header)
			if code != http.StatusForbidden || !strings.Contains(body, "not allowed by --probe.allowed-target") {
				t.Errorf("%s: HTTP %d %q, want 403 naming the flag", target, code, body)
			}
		}
		if _, dynamic := m.Counts(); dynamic != 0 {
			t.Errorf("%d dynamic probers started for refused targets", dynamic)
		}
		time.Sleep(200 * time.Millisecond) // a dial would have happened by now
		if n := accepted.Load() - before; n != 0 {
			t.Errorf("%d connections made to a refused target", n)
		}
		// Bad input is still a 400, whatever the policy.
		if code, _ := testenv.Get(t, srv.URL+"/probe?target=nope", header); code != http.StatusBadRequest {
			t.Errorf("malformed target: HTTP %d, want 400", code)
		}
	})
}

// TestProbeAllowedZonedTarget: a link-local target names its interface
// (fe80::1%lo) and must match a link-local policy. The request names an
// unknown module, so that passing the policy check ends in a 400 and
// nothing is dialed.
func TestProbeAllowedZonedTarget(t *testing.T) {
	allowed, err := ParseAllowedTargets([]string{"fe80::/10"})
	if err != nil {
		t.Fatal(err)
	}
	srv, m := probeServerAllowing(t, fastConfig(), 10, allowed)
	header := map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "2"}
	for target, want := range map[string]int{
		"[fe80::1%lo]:4000":   http.StatusBadRequest, // allowed, then the unknown module
		"[2001:db8::1]:4000":  http.StatusForbidden,
		"[fe80::1%lo]:notnum": http.StatusBadRequest,
	} {
		code, body := testenv.Get(t, srv.URL+"/probe?module=no-such-module&target="+url.QueryEscape(target), header)
		if code != want {
			t.Errorf("%s: HTTP %d %q, want %d", target, code, body, want)
		}
		if code == http.StatusBadRequest && strings.Contains(body, "not allowed") {
			t.Errorf("%s: %q, want no policy refusal", target, body)
		}
	}
	if _, dynamic := m.Counts(); dynamic != 0 {
		t.Errorf("%d dynamic probers started", dynamic)
	}
}
