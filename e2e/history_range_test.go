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
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestGraphRangeIsBoundedByTheFlag runs the binary with a --web.history
// that is not a whole number of minutes, the history's slot: /graph takes
// ranges up to that value and answers 400 beyond it, naming the value the
// flag was given, and the landing page's loss column covers it.
func TestGraphRangeIsBoundedByTheFlag(t *testing.T) {
	p, web, _ := startSelf(t, t.TempDir(), "--web.history=90s")
	defer p.stop(t)
	base := "http://127.0.0.1:" + strconv.Itoa(web)
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcp_echo_sent_total", map[string]string{"target": "self"}, 1)
	for _, c := range []struct {
		rng  string
		code int
		body string
	}{
		{"90s", http.StatusOK, "last 1m30s"},
		{"1m", http.StatusOK, "last 1m"},
		{"91s", http.StatusBadRequest, "range 1m31s: longer than the history kept (--web.history=1m30s)"},
		{"2m", http.StatusBadRequest, "range 2m: longer than the history kept (--web.history=1m30s)"},
	} {
		code, body := testenv.Get(t, base+"/graph?target=self&range="+c.rng, nil)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("range=%s: HTTP %d %q, want %d with %q", c.rng, code, firstLine(body), c.code, c.body)
		}
	}
	if _, page := testenv.Get(t, base+"/", nil); !strings.Contains(page, "Loss, 1m30s") {
		t.Errorf("the landing page's loss column is not headed \"Loss, 1m30s\": %q", firstLine(page[max(0, strings.Index(page, "Loss")-40):]))
	}
}

// firstLine returns s up to its first newline, at most 200 bytes.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s[:min(len(s), 200)]
}
