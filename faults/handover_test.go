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

//go:build linux

package faults

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTargetMovesBetweenConfigAndDiscovery moves a target of two flows
// from a file_sd file to the config's static targets and back, its name,
// address, labels and module unchanged, as a team migrating its target
// list does: each reload must keep the target's connections and counters
// (DESIGN.md: a target whose name, address, labels and module settings are
// unchanged keeps its connection and its counters), which the user sees as
// series that go on rather than reset, and as no new connection at the
// echo server.
func TestTargetMovesBetweenConfigAndDiscovery(t *testing.T) {
	requireSuite(t)
	tp := newTopo(t, "h")
	addr := echoV4 + ":" + echoPort
	dir := t.TempDir()
	sd := filepath.Join(dir, "sd.json")
	if err := os.WriteFile(sd, []byte(fmt.Sprintf(`[{"targets": [%q], "labels": {"site": "a"}}]`, addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	head := "modules:\n  default:\n    interval: 100ms\n    ip_protocol: ip4\n    flows: 2\n"
	disc := fmt.Sprintf("discovery:\n  - name: sd\n    file_sd_configs: [{files: [%q]}]\n", sd)
	static := fmt.Sprintf("targets:\n  - {name: %q, address: %q, labels: {site: a}}\n", addr, addr)
	cfg := filepath.Join(dir, "tcpping.yml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfg+".tmp", []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(cfg+".tmp", cfg); err != nil {
			t.Fatal(err)
		}
	}
	write(head + disc)
	echo := startExporter(t, tp.echo, "echo", "targets: []\n", "--echo.listen-address=:"+echoPort)
	prober := launch(t, tp.prober, "prober", []string{"--config.file=" + cfg, "--web.listen-address=" + webAddr, "--no-echo"})

	// sent returns each flow's probes sent, and the connections the echo
	// server accepted.
	sent := func() ([2]float64, float64) {
		t.Helper()
		m := prober.mustScrape(t)
		var s [2]float64
		for k := range s {
			s[k] = m.get("tcp_echo_sent_total", "target", addr, "flow", fmt.Sprint(k))
		}
		return s, echo.mustScrape(t).get("tcp_echo_server_accepted_total")
	}
	waitSent := func(what string, atLeast float64) [2]float64 {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s, _ := sent()
			if s[0] >= atLeast && s[1] >= atLeast {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: probes sent per flow %v, want %v each within 20s", what, s, atLeast)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	reload := func() {
		t.Helper()
		resp, err := prober.client.Post("http://"+webAddr+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("reload: HTTP %d: %s", resp.StatusCode, body)
		}
	}
	waitSent("discovered", 10)
	for _, step := range []struct{ what, config, source string }{
		{"from discovery to the config's targets", head + static + disc, "static"},
		{"back from the config to discovery", head + disc, "discovered"},
	} {
		before, accepted := sent()
		write(step.config)
		reload()
		if got := prober.mustScrape(t).get("tcpping_exporter_probers", "source", step.source); got != 1 {
			t.Fatalf("%s: tcpping_exporter_probers{source=%q} %v, want 1", step.what, step.source, got)
		}
		after, _ := sent() // a reset shows at once
		waitSent(step.what, max(before[0], before[1])+5)
		_, acceptedAfter := sent()
		for k := range before {
			if after[k] < before[k] {
				t.Errorf("%s: flow %d's tcp_echo_sent_total went from %v to %v: its counters were reset", step.what, k, before[k], after[k])
			}
		}
		if acceptedAfter != accepted {
			t.Errorf("%s: the echo server accepted %v connections, want none: the target redialed", step.what, acceptedAfter-accepted)
		}
	}
}
