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
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// TestRenamedDiscoveryEntryKeepsProbers renames a discovery entry by a
// reload, its sources unchanged: its targets, unchanged too, keep their
// probers, connections and counters, and never leave /metrics.
func TestRenamedDiscoveryEntryKeepsProbers(t *testing.T) {
	dir := t.TempDir()
	a := testenv.EchoServer(t)
	targets := filepath.Join(dir, "targets.json")
	writeTargets(t, targets, map[string]map[string]string{a: {"zone": "a"}})
	file := filepath.Join(dir, "tcpping.yml")
	cfg := func(entry string) string {
		return fmt.Sprintf("modules:\n  default: {interval: 50ms, ip_protocol: ip4}\ndiscovery:\n  - name: %s\n    file_sd_configs: [{files: [%s]}]\n", entry, targets)
	}
	writeConfig(t, file, cfg("mesh"))
	rl, m, srv := newMeshReloader(t, file)
	before := waitSeries(t, srv.URL+"/metrics", map[string]map[string]string{a: {"zone": "a"}})[a]
	kept := m.Static()[0]

	writeConfig(t, file, cfg("dc1"))
	if err := rl.Reload(); err != nil {
		t.Fatal(err)
	}
	// The reload has reconciled the probers with what discovery
	// published for the new config before it returned.
	ps := m.Static()
	if len(ps) != 1 || ps[0] != kept {
		t.Fatalf("probers after the rename: %d, the same one: %v; want the one that ran", len(ps), len(ps) == 1 && ps[0] == kept)
	}
	_, values, err := scrapeSeries(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := values[a]; !ok || v < before {
		t.Errorf("tcp_echo_sent_total of %s after the rename: %v (present %v), before %v", a, v, ok, before)
	}
	// Once the renamed entry's source has answered and the Runner has
	// published (after its quiet time), the target keeps its prober too.
	time.Sleep(3 * time.Second)
	if ps := m.Static(); len(ps) != 1 || ps[0] != kept {
		t.Errorf("probers once the renamed entry's source answered: %d, the same one: %v", len(ps), len(ps) == 1 && ps[0] == kept)
	}
	if s := kept.Snapshot(); s.State == prober.StateStopped || s.Dropped != 0 {
		t.Errorf("the target's prober is %v with %d connections lost, want it running on its connection", s.State, s.Dropped)
	}
	code, body := testenv.Get(t, srv.URL+"/metrics", nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := testenv.Value(mfs, "tcpping_exporter_discovered_targets", map[string]string{"discovery": "dc1"}); !ok || d != 1 {
		t.Errorf("tcpping_exporter_discovered_targets{discovery=\"dc1\"} = %v (present %v), want 1", d, ok)
	}
}
