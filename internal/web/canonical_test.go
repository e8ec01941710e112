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
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// probeTarget requests /probe for target and returns its status and body.
func probeTarget(t *testing.T, base, target string) (int, string) {
	t.Helper()
	return testenv.Get(t, base+"/probe?target="+url.QueryEscape(target),
		map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "2"})
}

// TestProbeSpellingsOfOneEndpoint checks that /probe keys a prober by its
// endpoint, not by how the request spells it: a port with leading zeros,
// an IPv6 address not in its canonical form, an IPv4-mapped IPv6 address
// and a DNS name in another case all reach the prober of the canonical
// spelling, a static one included, and use no further
// --probe.max-dynamic-targets slot.
func TestProbeSpellingsOfOneEndpoint(t *testing.T) {
	addr := testenv.EchoServer(t)
	_, port, _ := net.SplitHostPort(addr)

	t.Run("dynamic", func(t *testing.T) {
		for _, c := range []struct {
			name, canonical string
			spellings       []string
		}{
			{"IPv4", "127.0.0.1:" + port, []string{"127.0.0.1:" + port, "127.0.0.1:0" + port, "127.0.0.1:000" + port}},
			{"IPv4-mapped IPv6", "127.0.0.1:" + port, []string{"[::ffff:127.0.0.1]:" + port, "[0:0:0:0:0:FFFF:7f00:1]:0" + port, "127.0.0.1:" + port}},
			{"IPv6", "[::1]:" + port, []string{"[0:0::1]:" + port, "[::1]:" + port, "[0000:0000::0001]:0" + port}},
			{"DNS name", "localhost:" + port, []string{"LocalHost:" + port, "localhost:" + port, "LOCALHOST:0" + port}},
		} {
			t.Run(c.name, func(t *testing.T) {
				srv, m := probeServer(t, fastConfig(), 2)
				for _, s := range c.spellings {
					if code, body := probeTarget(t, srv.URL, s); code != http.StatusOK {
						t.Fatalf("%s: HTTP %d: %s", s, code, body)
					}
				}
				ps := m.Dynamic()
				var got []string
				for _, p := range ps {
					got = append(got, p.Options().Address)
				}
				if len(ps) != 1 || got[0] != c.canonical {
					t.Errorf("%q started dynamic probers of %q, want one of %q", c.spellings, got, c.canonical)
				}
			})
		}
	})

	t.Run("static", func(t *testing.T) {
		cfg := fastConfig()
		cfg.Targets = []config.Target{
			{Name: "ip", Address: "127.0.0.1:0" + port},
			{Name: "name", Address: "LocalHost:" + port},
		}
		srv, m := probeServer(t, cfg, 10)
		for _, s := range []string{"127.0.0.1:" + port, "[::ffff:127.0.0.1]:" + port, "localhost:0" + port} {
			code, body := probeTarget(t, srv.URL, s)
			if code != http.StatusOK {
				t.Fatalf("%s: HTTP %d: %s", s, code, body)
			}
			parser := expfmt.NewTextParser(model.UTF8Validation)
			mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := testenv.Value(mfs, "tcp_echo_sent_total", nil); !ok {
				t.Errorf("%s: no snapshot in %s", s, body)
			}
		}
		if ps := m.Dynamic(); len(ps) != 0 {
			t.Errorf("spellings of static targets started %d dynamic probers, first %q", len(ps), ps[0].Options().Address)
		}
	})

	t.Run("allowed-target matches every spelling", func(t *testing.T) {
		allowed, err := ParseAllowedTargets([]string{"127.0.0.1/32", "::1/128", "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := probeServerAllowing(t, fastConfig(), 10, allowed)
		for _, c := range []struct {
			target string
			want   int
		}{
			{"127.0.0.1:0" + port, http.StatusOK},
			{"[::ffff:127.0.0.1]:" + port, http.StatusOK},
			{"[0:0::1]:0" + port, http.StatusOK},
			{"[::ffff:127.0.0.2]:" + port, http.StatusForbidden},
			{"[0:0::2]:" + port, http.StatusForbidden},
			{"LocalHost:0" + port, http.StatusOK},
			{"otherhost:" + port, http.StatusForbidden},
		} {
			if code, body := probeTarget(t, srv.URL, c.target); code != c.want {
				t.Errorf("%s: HTTP %d %q, want %d", c.target, code, body, c.want)
			}
		}
	})
}
