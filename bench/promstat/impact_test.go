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
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestImpact runs impact against a fake exporter whose probes take 20 µs
// while it is left alone and 30 µs while it is scraped (a protobuf
// request since the last snap), and checks that impact tells the two
// kinds of slice apart: 20 and 30 µs, a ratio of 1.5, and one scraped
// slice per quiet one.
func TestImpact(t *testing.T) {
	var (
		mu             sync.Mutex
		sum            float64
		count, scrapes int
		scraped        bool
		quiet, loud    int // slices the fake saw of each kind
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(r.Header.Get("Accept"), "protobuf") {
			scrapes++
			scraped = true
			w.Header().Set("Content-Type", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
			_, _ = w.Write(make([]byte, 100))
			return
		}
		if count > 0 { // every snap but the first ends a slice
			rtt := 20e-6
			if scraped {
				rtt, loud = 30e-6, loud+1
			} else {
				quiet++
			}
			sum += 100 * rtt
		}
		count += 100
		scraped = false
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "tcp_echo_rtt_seconds_sum{target=\"a\"} %g\ntcp_echo_rtt_seconds_count{target=\"a\"} %d\n", sum, count-100)
		fmt.Fprintf(w, "tcp_echo_rtt_seconds_sum{target=\"extra\"} 1\ntcp_echo_rtt_seconds_count{target=\"extra\"} 1\n")
	}))
	defer srv.Close()

	var out strings.Builder
	err := impactCmd(&out, []string{"-url", srv.URL, "-extra", "extra", "-every", "10ms", "-slice", "60ms", "-pairs", "2", "-formats", "proto"})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"format=proto ", "quiet_rtt_us=20.000 ", "scraped_rtt_us=30.000 ", "ratio=1.5000 ", fmt.Sprintf("scrapes=%d ", scrapes)} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if quiet != 2 || loud != 2 {
		t.Errorf("the fake saw %d quiet and %d scraped slices, want 2 and 2", quiet, loud)
	}
}
