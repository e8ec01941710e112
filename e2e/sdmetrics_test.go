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
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestPrometheusSDMetricsOnlyWithDiscovery checks that Prometheus' own
// prometheus_sd_* metrics are on /metrics only while the loaded config has
// discovery entries, as DESIGN.md lists them ("With discovery: ... the
// Prometheus discovery packages' own prometheus_sd_* metrics"), across
// reloads that add and remove them.
func TestPrometheusSDMetricsOnlyWithDiscovery(t *testing.T) {
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	withoutDiscovery := selfConfig(echoPort)
	withDiscovery := withoutDiscovery + "discovery:\n  - name: mesh\n    file_sd_configs: [{files: [mesh.json]}]\n"
	writeFile(t, dir, "mesh.json", fmt.Sprintf("[{\"targets\": [\"127.0.0.2:%d\"]}]\n", echoPort))
	cfg := writeFile(t, dir, "tcpping.yml", withoutDiscovery)
	p := startBinary(t, dir, "--config.file="+cfg, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))

	// waitSD polls /metrics until the prometheus_sd_* families are there
	// (prometheus_sd_discovered_targets{config="mesh"} among them) or
	// none is, as want says.
	waitSD := func(t *testing.T, want bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var names []string
		for ctx.Err() == nil {
			mfs, _, err := scrape(http.DefaultClient, base+"/metrics")
			if err == nil {
				names = names[:0]
				for name := range mfs {
					if strings.HasPrefix(name, "prometheus_sd_") {
						names = append(names, name)
					}
				}
				slices.Sort(names)
				_, mesh := testenv.Value(mfs, "prometheus_sd_discovered_targets", map[string]string{"config": "mesh"})
				if want && mesh || !want && len(names) == 0 {
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("prometheus_sd_* on /metrics: want present=%v (prometheus_sd_discovered_targets{config=\"mesh\"} with them), got %q",
			want, names)
	}

	t.Run("no discovery", func(t *testing.T) { waitSD(t, false) })
	t.Run("reload adds discovery", func(t *testing.T) {
		writeFile(t, dir, "tcpping.yml", withDiscovery)
		if code, body := post(t, base+"/-/reload"); code != http.StatusOK {
			t.Fatalf("reload: HTTP %d %q", code, body)
		}
		waitSD(t, true)
	})
	t.Run("reload removes discovery", func(t *testing.T) {
		writeFile(t, dir, "tcpping.yml", withoutDiscovery)
		if code, body := post(t, base+"/-/reload"); code != http.StatusOK {
			t.Fatalf("reload: HTTP %d %q", code, body)
		}
		waitSD(t, false)
	})
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
