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

package discovery

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tcpping/tcpping_exporter/config"
)

// twoFiles writes two target files in a temporary directory and returns
// their paths.
func twoFiles(t *testing.T, a, b []string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	writeAtomic(t, pa, jsonTargets(a))
	writeAtomic(t, pb, jsonTargets(b))
	return pa, pb
}

func TestEntriesDedupe(t *testing.T) {
	a, b := twoFiles(t, []string{"10.0.0.1:4000", "10.0.0.2:4000"}, []string{"10.0.0.2:4000", "10.0.0.3:4000"})
	entry := func(name, path string) string {
		return fmt.Sprintf("  - name: %s\n    file_sd_configs: [{files: [%q]}]\n", name, path)
	}
	h := newHarness(t, Self{})
	h.apply("discovery:\n" + entry("a", a) + entry("b", b))
	u := h.waitTargets(fileChange, "b", "10.0.0.3:4000")
	if got := addresses(u, "a"); !slices.Equal(got, []string{"10.0.0.1:4000", "10.0.0.2:4000"}) {
		t.Errorf("entry a has %q, want both of its targets (it comes first)", got)
	}
	if got := addresses(Update{Entries: u.Entries}, ""); len(got) != 3 {
		t.Errorf("Targets() has %d targets, want 3 (one per module and address)", len(got))
	}
	if got := len(u.Targets()); got != 3 {
		t.Errorf("Update.Targets() has %d, want 3", got)
	}
	h.waitGauge(fileChange, 2, "tcpping_exporter_discovered_targets", "discovery", "a")
	h.waitGauge(fileChange, 1, "tcpping_exporter_discovered_targets", "discovery", "b")

	// The order of the entries decides.
	h.apply("discovery:\n" + entry("b", b) + entry("a", a))
	u = h.history()[len(h.history())-1]
	if got := addresses(u, "b"); !slices.Equal(got, []string{"10.0.0.2:4000", "10.0.0.3:4000"}) {
		t.Errorf("entry b, now first, has %q", got)
	}
	if got := addresses(u, "a"); !slices.Equal(got, []string{"10.0.0.1:4000"}) {
		t.Errorf("entry a, now second, has %q", got)
	}
	if u.Entries[0].Name != "b" {
		t.Errorf("entries in order %q, %q; want the config's: b, a", u.Entries[0].Name, u.Entries[1].Name)
	}
}

func TestMeshSelection(t *testing.T) {
	all := []string{"127.0.0.1:4000", "10.0.0.1:4000", "10.0.0.2:4000", "10.0.0.3:4000", "10.0.0.4:4000", "10.0.0.5:4000"}
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets(all))
	lo := func() ([]net.Addr, error) {
		return []net.Addr{&net.IPNet{IP: net.IPv4(127, 0, 0, 1), Mask: net.CIDRMask(8, 32)}}, nil
	}
	var others []config.Target
	for _, a := range all[1:] {
		others = append(others, tgt(a))
	}
	allTargets := append([]config.Target{tgt(all[0])}, others...)
	tests := []struct {
		name  string
		keys  string
		self  Self
		want  []config.Target
		count int
	}{
		{"exclude_self", "exclude_self: true", Self{EchoPorts: []uint16{4000}, InterfaceAddrs: lo}, others, 5},
		{"exclude_self without an echo server", "exclude_self: true", Self{InterfaceAddrs: lo}, allTargets, 6},
		{"exclude_self on another port", "exclude_self: true", Self{EchoPorts: []uint16{4001}, InterfaceAddrs: lo}, allTargets, 6},
		{"peers at own address", "exclude_self: true\n    peers: 2", Self{EchoPorts: []uint16{4000}, InterfaceAddrs: lo, MeshID: "m"},
			selectPeers(others, targetKey(tgt(all[0])), 2), 2},
		{"peers at the mesh ID", "peers: 2", Self{EchoPorts: []uint16{4000}, InterfaceAddrs: lo, MeshID: "m"},
			selectPeers(allTargets, meshIDKey("m"), 2), 2},
		{"peers above the count", "exclude_self: true\n    peers: 9", Self{EchoPorts: []uint16{4000}, InterfaceAddrs: lo}, others, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.self)
			h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n    %s\n", path, tt.keys))
			want := slices.Clone(tt.want)
			sortTargets(want)
			u := h.waitUpdate(fileChange, fmt.Sprintf("%d targets", tt.count), func(u Update) bool { return len(u.Targets()) > 0 })
			if got := u.Targets(); !slices.EqualFunc(got, want, func(a, b config.Target) bool { return a.Address == b.Address && a.Module == b.Module }) {
				t.Errorf("targets %q, want %q", names(got), names(want))
			}
			h.waitGauge(fileChange, float64(tt.count), "tcpping_exporter_discovered_targets", "discovery", "mesh")
		})
	}
}

func TestRejectedTargets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	// 10.0.0.2 has no port; fe80::1 is link-local with no zone, which
	// connect(2) refuses: both are rejected for their address.
	writeAtomic(t, path, `[{"targets": ["10.0.0.1:4000", "10.0.0.2", "[fe80::1]:4000", "10.0.0.3:4000"], "labels": {"kind": "x"}},
		{"targets": ["10.0.0.4:4000"], "labels": {"kind": "slow"}}]`)
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf(`discovery:
  - name: mesh
    file_sd_configs: [{files: [%q]}]
    relabel_configs:
      - {source_labels: [kind], regex: slow, target_label: __module__, replacement: slow}
`, path))
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000", "10.0.0.3:4000")
	h.waitGauge(fileChange, 2, "tcpping_exporter_discovery_rejected_targets", "discovery", "mesh", "reason", "address")
	h.waitGauge(fileChange, 1, "tcpping_exporter_discovery_rejected_targets", "discovery", "mesh", "reason", "module")
	h.waitGauge(fileChange, 0, "tcpping_exporter_discovery_rejected_targets", "discovery", "mesh", "reason", "label")
	h.waitGauge(fileChange, 2, "tcpping_exporter_discovered_targets", "discovery", "mesh")
	h.waitGauge(fileChange, 5, "prometheus_sd_discovered_targets", "config", "mesh")

	// The module comes to exist with a reload: the target is accepted.
	h.apply(fmt.Sprintf(`modules: {slow: {interval: 5s}}
discovery:
  - name: mesh
    file_sd_configs: [{files: [%q]}]
    relabel_configs:
      - {source_labels: [kind], regex: slow, target_label: __module__, replacement: slow}
`, path))
	u := h.history()[len(h.history())-1]
	if got := addresses(u, "mesh"); !slices.Equal(got, []string{"10.0.0.1:4000", "10.0.0.3:4000", "10.0.0.4:4000"}) {
		t.Errorf("targets %q after the module was added", got)
	}
	h.waitGauge(fileChange, 0, "tcpping_exporter_discovery_rejected_targets", "discovery", "mesh", "reason", "module")
}

func TestChurnStillPublishes(t *testing.T) {
	// A file rewritten every 100 ms never leaves the sources quiet; the
	// changes are published anyway, at most maxDelay after they began.
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n", path))
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000")

	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for g := 2; ; g++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				if err := writeAtomicErr(path, jsonTargets([]string{fmt.Sprintf("10.0.%d.1:4000", g%250)})); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	start := time.Now()
	h.waitUpdate(2*defaultTiming().maxDelay, "a churned target", func(u Update) bool {
		return len(u.Targets()) == 1 && u.Targets()[0].Address != "10.0.0.1:4000"
	})
	d := time.Since(start)
	close(stop)
	<-stopped
	t.Logf("first update %s after the churn began (maxDelay %s)", d.Round(time.Millisecond), defaultTiming().maxDelay)
}

func TestMetricsLint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	srv := newSDServer(t, jsonTargets([]string{"10.0.0.2:4000"}))
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf("discovery:\n  - name: files\n    file_sd_configs: [{files: [%q]}]\n"+
		"  - name: web\n    http_sd_configs: [{url: %q, refresh_interval: 1s}]\n", path, srv.URL))
	h.waitUpdate(httpChange, "both entries' targets", func(u Update) bool { return len(u.Targets()) == 2 })
	srv.set(http.StatusInternalServerError, "text/plain", "")
	h.waitGauge(httpChange, 1, "tcpping_exporter_discovery_failing", "discovery", "web")

	problems, err := testutil.GatherAndLint(h.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range []string{
		"tcpping_exporter_discovered_targets",
		"tcpping_exporter_discovery_failing",
		"tcpping_exporter_discovery_rejected_targets",
		"prometheus_sd_discovered_targets",
		"prometheus_sd_received_updates_total",
		"prometheus_sd_updates_total",
		"prometheus_sd_last_update_timestamp_seconds",
		"prometheus_sd_failed_configs",
		"prometheus_sd_refresh_failures_total",
		"prometheus_sd_http_failures_total",
		"prometheus_sd_file_read_errors_total",
		"prometheus_sd_file_mtime_seconds",
		"prometheus_sd_dns_lookups_total",
	} {
		if !have[name] {
			t.Errorf("%s is not registered", name)
		}
	}
	for name := range have {
		if !strings.HasPrefix(name, "tcpping_exporter_discover") && !strings.HasPrefix(name, "prometheus_sd_") {
			t.Errorf("unexpected metric %s", name)
		}
		if strings.Contains(name, "kubernetes") {
			t.Errorf("Kubernetes discovery metric %s", name)
		}
	}
}

// TestPeersByAddress checks that peers places addresses on the ring, not
// (module, address) pairs: some addresses are listed under two modules
// (relabeling sets __module__), and yet every exporter of the fleet
// selects exactly k addresses, probing each under every module it is
// listed with, and every address is probed by exactly k exporters.
func TestPeersByAddress(t *testing.T) {
	const n = 8
	var all, fast []string
	for i := 1; i <= n; i++ {
		all = append(all, fmt.Sprintf("127.0.0.%d:4000", i))
	}
	fast = all[:n/2]
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, strings.TrimSuffix(jsonTargets(all), "]")+", "+strings.TrimPrefix(jsonTargets(fast, "tier", "fast"), "["))
	modulesOf := map[string]int{}
	for _, a := range all {
		modulesOf[a]++
	}
	for _, a := range fast {
		modulesOf[a]++
	}
	at := func(ip string) func() ([]net.Addr, error) {
		return func() ([]net.Addr, error) {
			return []net.Addr{&net.IPNet{IP: net.ParseIP(ip), Mask: net.CIDRMask(8, 32)}}, nil
		}
	}
	for _, k := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("peers %d", k), func(t *testing.T) {
			yml := fmt.Sprintf(`%sdiscovery:
  - name: mesh
    file_sd_configs: [{files: [%q]}]
    relabel_configs:
      - {source_labels: [tier], regex: fast, target_label: __module__, replacement: fast}
    exclude_self: true
    peers: %d
`, modulesOnly, path, k)
			// The fleet: one exporter at each address; and two that are
			// not among the targets, each at its mesh ID.
			type exporter struct {
				name string
				self Self
			}
			var fleet []exporter
			for i := 1; i <= n; i++ {
				fleet = append(fleet, exporter{all[i-1], Self{EchoPorts: []uint16{4000}, InterfaceAddrs: at(fmt.Sprintf("127.0.0.%d", i)), MeshID: fmt.Sprintf("member-%d", i)}})
			}
			for _, id := range []string{"outside-a", "outside-b"} {
				fleet = append(fleet, exporter{id, Self{EchoPorts: []uint16{4000}, InterfaceAddrs: at("127.0.1.1"), MeshID: id}})
			}
			probedBy := map[string]int{}
			for _, x := range fleet {
				h := newHarness(t, x.self)
				h.apply(yml)
				u := h.waitUpdate(fileChange, "targets", func(u Update) bool { return len(u.Targets()) > 0 })
				perAddr := map[string]int{}
				for _, tg := range u.Targets() {
					perAddr[tg.Address]++
				}
				if len(perAddr) != k {
					t.Errorf("exporter %s probes %d addresses %v, want %d", x.name, len(perAddr), perAddr, k)
				}
				for a, c := range perAddr {
					if c != modulesOf[a] {
						t.Errorf("exporter %s probes %s under %d modules, want all %d", x.name, a, c, modulesOf[a])
					}
					if a == x.name {
						t.Errorf("exporter %s probes itself", x.name)
					}
					if strings.HasPrefix(x.name, "127.") {
						probedBy[a]++
					}
				}
				h.waitGauge(fileChange, float64(len(u.Targets())), "tcpping_exporter_discovered_targets", "discovery", "mesh")
			}
			for _, a := range all {
				if probedBy[a] != k {
					t.Errorf("%s is probed by %d exporters of the fleet, want %d", a, probedBy[a], k)
				}
			}
		})
	}
}

// TestRejectedTargetsWarnOnce checks that an operator hears of rejected
// targets at the default log level, once while the rejections stay as
// they are (every refresh of a source republishes them), and again when
// more are rejected: a file_sd file written for Prometheus, whose groups
// carry a job label, would otherwise lose its targets with a Debug line.
func TestRejectedTargetsWarnOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, `[{"targets": ["10.0.0.1:4000", "10.0.0.2:4000"], "labels": {"job": "mesh"}},
		{"targets": ["10.0.0.3:4000"]}]`)
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n", path))
	h.waitTargets(fileChange, "mesh", "10.0.0.3:4000")
	h.waitGauge(fileChange, 2, "tcpping_exporter_discovery_rejected_targets", "discovery", "mesh", "reason", "label")
	warn := func() int {
		return h.countLog("level=warn", `msg="discovered targets rejected"`, "discovery=mesh", "reason=label")
	}
	if n := warn(); n != 1 || h.countLog("level=warn", "count=2", `\"job\" is reserved`) != 1 {
		t.Fatalf("%d Warn lines about the rejected targets, want 1 with their count and the first's reason:\n%s", n, h.logs.String())
	}

	// Another target: a new publication, with the same rejections.
	writeAtomic(t, path, `[{"targets": ["10.0.0.1:4000", "10.0.0.2:4000"], "labels": {"job": "mesh"}},
		{"targets": ["10.0.0.3:4000", "10.0.0.4:4000"]}]`)
	h.waitTargets(fileChange, "mesh", "10.0.0.3:4000", "10.0.0.4:4000")
	if n := warn(); n != 1 {
		t.Errorf("%d Warn lines after a publication with the same rejections, want still 1", n)
	}

	// One more rejected: said again.
	writeAtomic(t, path, `[{"targets": ["10.0.0.1:4000", "10.0.0.2:4000", "10.0.0.5:4000"], "labels": {"job": "mesh"}},
		{"targets": ["10.0.0.3:4000", "10.0.0.4:4000"]}]`)
	h.waitGauge(fileChange, 3, "tcpping_exporter_discovery_rejected_targets", "discovery", "mesh", "reason", "label")
	if n := warn(); n != 2 {
		t.Errorf("%d Warn lines after a third target was rejected, want 2", n)
	}
}

// TestRejectedFlowLabel checks that a discovered target with an extra label
// named flow in a module of several flows is rejected for its label, as a
// static one is by the config, rather than published and then left
// unprobed: tcpping_exporter_discovered_targets counts what is probed.
func TestRejectedFlowLabel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, `[{"targets": ["10.0.0.1:4000"]}, {"targets": ["10.0.0.2:4000"], "labels": {"flow": "z"}}]`)
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf(`modules: {multi: {flows: 4}}
discovery:
  - name: mesh
    module: multi
    file_sd_configs: [{files: [%q]}]
`, path))
	h.waitGauge(fileChange, 1, "tcpping_exporter_discovery_rejected_targets", "discovery", "mesh", "reason", "label")
	h.waitGauge(fileChange, 1, "tcpping_exporter_discovered_targets", "discovery", "mesh")
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000")
}
