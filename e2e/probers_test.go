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

// TestDiscoverySeriesFollowConfig checks that the series DESIGN.md lists
// "with discovery", tcpping_exporter_probers{source="discovered"} and
// Prometheus' own prometheus_sd_* metrics, are on /metrics only while the
// loaded config has discovery entries, across reloads that add and remove
// them; tcpping_exporter_probers of static and dynamic are always there.
func TestDiscoverySeriesFollowConfig(t *testing.T) {
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	withoutDiscovery := selfConfig(echoPort)
	withDiscovery := withoutDiscovery + "discovery:\n  - name: mesh\n    file_sd_configs: [{files: [mesh.json]}]\n"
	writeFile(t, dir, "mesh.json", fmt.Sprintf("[{\"targets\": [\"127.0.0.2:%d\"]}]\n", echoPort))
	cfg := writeFile(t, dir, "tcpping.yml", withoutDiscovery)
	p := startBinary(t, dir, "--config.file="+cfg, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort),
		"--echo.listen-address=127.0.0.2:"+strconv.Itoa(echoPort))
	metrics := base + "/metrics"
	static := map[string]string{"source": "static"}
	discovered := map[string]string{"source": "discovered"}

	// waitSources polls /metrics until the discovered series is there
	// (with at least minDiscovered), and the prometheus_sd_* families with
	// prometheus_sd_discovered_targets{config="mesh"} among them, or until
	// none of them is, as want says.
	waitSources := func(t *testing.T, want bool, minDiscovered float64) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var text string
		var sd []string
		for ctx.Err() == nil {
			mfs, body, err := scrape(http.DefaultClient, metrics)
			text = body
			if err == nil {
				sd = sd[:0]
				for name := range mfs {
					if strings.HasPrefix(name, "prometheus_sd_") {
						sd = append(sd, name)
					}
				}
				slices.Sort(sd)
				_, hasStatic := testenv.Value(mfs, "tcpping_exporter_probers", static)
				_, hasDynamic := testenv.Value(mfs, "tcpping_exporter_probers", map[string]string{"source": "dynamic"})
				v, hasDisc := testenv.Value(mfs, "tcpping_exporter_probers", discovered)
				_, hasMesh := testenv.Value(mfs, "prometheus_sd_discovered_targets", map[string]string{"config": "mesh"})
				sdOK := want && hasMesh || !want && len(sd) == 0
				if hasStatic && hasDynamic && hasDisc == want && (!want || v >= minDiscovered) && sdOK {
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("want tcpping_exporter_probers of static and dynamic, discovered present=%v (>= %v), and prometheus_sd_* present=%v (prometheus_sd_discovered_targets{config=\"mesh\"} among them); /metrics has:\n%s\nprometheus_sd_* families: %q",
			want, minDiscovered, want, grepLines(text, "tcpping_exporter_probers"), sd)
	}

	t.Run("no discovery", func(t *testing.T) { waitSources(t, false, 0) })
	t.Run("reload adds discovery", func(t *testing.T) {
		writeFile(t, dir, "tcpping.yml", withDiscovery)
		if code, body := post(t, base+"/-/reload"); code != http.StatusOK {
			t.Fatalf("reload: HTTP %d %q", code, body)
		}
		waitSources(t, true, 1)
	})
	t.Run("reload removes discovery", func(t *testing.T) {
		writeFile(t, dir, "tcpping.yml", withoutDiscovery)
		if code, body := post(t, base+"/-/reload"); code != http.StatusOK {
			t.Fatalf("reload: HTTP %d %q", code, body)
		}
		waitSources(t, false, 0)
	})
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
