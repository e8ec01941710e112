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

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestShutdownStopsProbersBeforeEchoServer checks that SIGTERM stops the
// probers before the echo server: an exporter that probes its own echo
// server does not log its connection lost, a warning, on every stop.
func TestShutdownStopsProbersBeforeEchoServer(t *testing.T) {
	for round := range 6 {
		dir := t.TempDir()
		p, web, echoPort := startSelf(t, dir)
		url := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
		self := map[string]string{"target": "self", "address": fmt.Sprintf("127.0.0.1:%d", echoPort), "module": "default", "site": "local"}
		waitMetric(t, http.DefaultClient, url, "tcp_echo_received_total", self, 1)
		if code, _ := p.stop(t); code != 0 {
			t.Fatalf("round %d: exit code %d after SIGTERM, want 0", round, code)
		}
		out := p.stderr.String()
		i := strings.Index(out, `msg="shutting down"`)
		if i < 0 {
			t.Fatalf("round %d: no shutdown logged", round)
		}
		for _, line := range strings.Split(out[i:], "\n") {
			if strings.Contains(line, "level=warn") || strings.Contains(line, "level=error") {
				t.Fatalf("round %d: shutdown logged %q", round, line)
			}
		}
	}
}
