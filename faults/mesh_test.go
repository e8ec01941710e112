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

// The fleet mesh end to end: nodes on one bridge, each running the real
// binary with one identical tcpping.yml whose discovery entry finds the
// others (DNS, a file, an HTTP endpoint), a real Prometheus scraping them
// all, and every assertion made through Prometheus' API.

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// Timing of the mesh: short, so that the whole test runs in minutes.
const (
	meshInterval = 500 * time.Millisecond // probe interval
	meshRefresh  = 2 * time.Second        // refresh_interval of every source
	// meshStop bounds how long a removed node's pairs take to leave
	// Prometheus: the source's refresh, the discovery's publication
	// (0.5 s after changes settle), one probe interval, and Prometheus'
	// next scrape (1 s) and staleness marking, with a second for a loaded
	// machine.
	meshStop = meshRefresh + 500*time.Millisecond + meshInterval + time.Second + time.Second
)

// meshModule is the module every node runs; its in-flight bound is
// ceil(2s / 500ms) + 1. The bridge's round trip is tens of microseconds:
// min_timeout 1s makes a timeout mean a lost probe, not a stall of a
// loaded test machine (six exporters, with the race detector, on two
// shared CPUs; with 500ms, one probe in some runs came back late).
const (
	meshModule = `modules:
  default:
    interval: 500ms
    timeout: 1s
    min_timeout: 1s
    max_timeout: 2s
    ip_protocol: ip4
`
	meshMaxInFlight = 5
)

// meshSource is a kind of discovery source the mesh runs on.
type meshSource struct {
	// entry is the source's lines of the discovery entry.
	entry string
	// set makes the source list the members' echo addresses.
	set func(t *testing.T, members []int)
	// fail breaks the source in its ways, calling during with each
	// failure in place, and mends it.
	fail func(t *testing.T, during func(what string))
}

func TestMesh(t *testing.T) {
	requireSuite(t)
	testenv.LookPath(t, "prometheus", "prometheus")
	for _, kind := range []string{"dns", "file", "http"} {
		t.Run(kind, func(t *testing.T) {
			mt := newMeshTopo(t, "m"+kind[:1], 6)
			runMesh(t, mt, newMeshSource(t, mt, kind))
		})
	}
}

// newMeshSource sets up the source of a kind in the mesh's hub.
func newMeshSource(t *testing.T, mt *meshTopo, kind string) meshSource {
	t.Helper()
	refresh := meshRefresh.String()
	switch kind {
	case "dns":
		testenv.LookPath(t, "dnsmasq", "dnsmasq")
		d := testenv.StartDnsmasqIn(t, mt.hub, meshHub)
		return meshSource{
			entry: fmt.Sprintf("    dns_sd_configs: [{names: [%s], type: A, port: %s, refresh_interval: %s}]\n", meshDNSName, echoPort, refresh),
			set: func(t *testing.T, members []int) {
				var lines []string
				for _, i := range members {
					lines = append(lines, meshIP(i)+" "+meshDNSName)
				}
				d.SetHosts(t, lines...)
			},
			fail: func(t *testing.T, during func(string)) {
				d.Stop(t) // lookups are refused
				during("DNS server down")
				d.Start(t)
			},
		}
	case "file":
		path := mt.write(t, "mesh.json", "[]")
		var current []int
		return meshSource{
			entry: fmt.Sprintf("    file_sd_configs: [{files: [%s], refresh_interval: %s}]\n", path, refresh),
			set: func(t *testing.T, members []int) {
				current = members
				mt.write(t, "mesh.json", targetGroups(members)) // atomically: a rename
			},
			fail: func(t *testing.T, during func(string)) {
				// In place, half at a time: readers see half a file.
				body := targetGroups(current)
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteString(body[:len(body)/2]); err != nil {
					t.Fatal(err)
				}
				during("file half written")
				if _, err := f.WriteString(body[len(body)/2:]); err != nil {
					t.Fatal(err)
				}
			},
		}
	case "http":
		s := mt.startSDServer(t)
		var current []int
		return meshSource{
			entry: fmt.Sprintf("    http_sd_configs: [{url: \"http://%s/sd\", refresh_interval: %s}]\n", meshSDAddr, refresh),
			set: func(t *testing.T, members []int) {
				current = members
				s.set(sdGood, members)
			},
			fail: func(t *testing.T, during func(string)) {
				s.set(sdError, current)
				during("HTTP 500")
				s.set(sdGarbage, current)
				during("a body that is not JSON")
				s.set(sdGood, current)
			},
		}
	}
	t.Fatalf("unknown source kind %q", kind)
	return meshSource{}
}

// mesh is one run: the topology, the source, Prometheus and the running
// exporters.
type mesh struct {
	mt        *meshTopo
	src       meshSource
	prom      *prometheus
	cfg       string
	exporters map[int]*exporter
	samplers  map[int]*sampler
}

// meshConfig is the one tcpping.yml of every node.
func meshConfig(src meshSource, peers int) string {
	return meshModule + "discovery:\n  - name: mesh\n" + src.entry +
		fmt.Sprintf("    exclude_self: true\n    peers: %d\n", peers)
}

// start runs node i's exporter, with an invariant check on every scrape.
func (m *mesh) start(t *testing.T, i int) {
	t.Helper()
	e := launch(t, m.mt.nodes[i-1], fmt.Sprintf("node%d", i), []string{
		"--config.file=" + m.cfg, "--web.listen-address=:2112", "--echo.listen-address=:" + echoPort,
	})
	bound := map[string]int{}
	for j := 1; j <= len(m.mt.nodes); j++ {
		bound[meshEcho(j)] = meshMaxInFlight
	}
	m.samplers[i] = newSampler(t, e, bound)
	m.exporters[i] = e
}

// pause sleeps for d: the mesh runs meanwhile.
func pause(d time.Duration) {
	tm := time.NewTimer(d)
	<-tm.C
}

func runMesh(t *testing.T, mt *meshTopo, src meshSource) {
	m := &mesh{mt: mt, src: src, prom: mt.startPrometheus(t), exporters: map[int]*exporter{}, samplers: map[int]*sampler{}}
	m.cfg = mt.write(t, "tcpping.yml", meshConfig(src, 0))
	first := []int{1, 2, 3, 4, 5}
	src.set(t, first)
	for _, i := range first {
		m.start(t, i)
	}
	m.prom.scrape(t, first)
	m.waitPairs(t, "five nodes", allPairs(first), 60*time.Second)
	m.waitGauge(t, "five nodes", `tcpping_exporter_probers{job="mesh",source="discovered"}`, first, 4, 10*time.Second)

	all := []int{1, 2, 3, 4, 5, 6}
	outer := t // node 6 runs to the end, not to the end of the subtest
	t.Run("a sixth node joins", func(t *testing.T) {
		m.start(outer, 6)
		m.prom.scrape(t, all)
		src.set(t, all)
		m.waitPairs(t, "six nodes", allPairs(all), 30*time.Second)
	})

	survivors := []int{1, 2, 4, 5, 6}
	t.Run("a node leaves and dies", func(t *testing.T) {
		before := m.counters(t)
		src.set(t, survivors)
		m.samplers[3].stop() // its scrapes end with it; what they found stands
		m.exporters[3].kill(t)
		if took := m.waitPairs(t, "node 3 gone", allPairs(survivors), 30*time.Second); took > meshStop {
			t.Errorf("node 3's pairs stopped after %v, want within %v (refresh %v, one interval and a scrape)", took, meshStop, meshRefresh)
		}
		m.prom.scrape(t, survivors)
		pause(2 * meshInterval)
		checkNoLoss(t, "node 3 left", allPairs(survivors), before, m.counters(t))
	})

	t.Run("the source fails and its last good targets stand in", func(t *testing.T) {
		before := m.counters(t)
		src.fail(t, func(what string) {
			m.waitGauge(t, what, `tcpping_exporter_discovery_failing{job="mesh",discovery="mesh"}`, survivors, 1, 3*meshRefresh+5*time.Second)
			pause(meshRefresh)
			m.waitPairs(t, what, allPairs(survivors), time.Second)
		})
		m.waitGauge(t, "source mended", `tcpping_exporter_discovery_failing{job="mesh",discovery="mesh"}`, survivors, 0, 3*meshRefresh+5*time.Second)
		checkNoLoss(t, "source failing", allPairs(survivors), before, m.counters(t))
	})

	t.Run("peers: 2", func(t *testing.T) {
		before := m.counters(t)
		m.mt.write(t, "tcpping.yml", meshConfig(src, 2))
		for _, i := range survivors {
			m.exporters[i].signal(t, syscall.SIGHUP)
		}
		m.waitGauge(t, "peers 2", `tcpping_exporter_probers{job="mesh",source="discovered"}`, survivors, 2, 20*time.Second)
		m.waitGauge(t, "peers 2", `tcpping_exporter_config_last_reload_successful{job="mesh"}`, survivors, 1, 5*time.Second)
		// Each exporter probes 2 others and each node is probed by 2.
		deadline := time.Now().Add(20 * time.Second)
		for {
			ps := m.pairs(t, `tcp_echo_rtt_seconds_count{job="mesh"} > 0`)
			from, to := map[int]int{}, map[int]int{}
			for p := range ps {
				from[p.from]++
				to[p.to]++
			}
			ok := len(ps) == 2*len(survivors)
			for _, i := range survivors {
				ok = ok && from[i] == 2 && to[i] == 2
			}
			if ok {
				t.Logf("peers 2: pairs %v", sortedPairs(ps))
				// The pairs that stay keep their probers across the
				// reload: their counters go on.
				pause(2 * meshInterval)
				checkNoLoss(t, "reload with peers 2", sortedPairs(ps), before, m.counters(t))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("peers 2: pairs %v: probes per exporter %v, probers per node %v; want 2 and 2", sortedPairs(ps), from, to)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
