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

// The mesh's parts: a hub namespace holding a bridge, the DNS server
// (dnsmasq), the HTTP discovery server and a real Prometheus, and one
// namespace per node, each joined to the bridge by a veth pair and running
// the real binary with the one config file every node shares.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// Addresses of the mesh: the hub is 10.234.0.1 on the bridge, node i is
// 10.234.0.(10+i). They exist only inside the test's namespaces.
const (
	meshHub      = "10.234.0.1"
	meshPromAddr = meshHub + ":9090"
	meshSDAddr   = meshHub + ":8080"
	meshDNSName  = "nodes.mesh.test"
)

// meshIP returns the address of node i.
func meshIP(i int) string { return fmt.Sprintf("10.234.0.%d", 10+i) }

// meshEcho returns the echo address of node i, as discovery finds it.
func meshEcho(i int) string { return meshIP(i) + ":" + echoPort }

// meshWeb returns the HTTP address of node i's exporter, as Prometheus
// scrapes it (its instance label).
func meshWeb(i int) string { return meshIP(i) + ":2112" }

// meshTopo is the mesh's namespaces and the files they share.
type meshTopo struct {
	hub   string
	nodes []string // nodes[i-1] is node i's namespace
	dir   string
	// ownEtcNetns records that the test created /etc/netns.
	ownEtcNetns bool
}

// newMeshTopo builds the hub and n node namespaces (none running yet);
// tag tells the tests of one process apart (letters only). Cleanup
// deletes everything, also when the test fails.
func newMeshTopo(t *testing.T, tag string, n int) *meshTopo {
	t.Helper()
	testenv.SweepStaleNetns(nsPrefix)
	base := fmt.Sprintf("%s%d%s", nsPrefix, os.Getpid(), tag)
	mt := &meshTopo{hub: base + "hub", dir: t.TempDir()}
	if _, err := os.Stat("/etc/netns"); errors.Is(err, os.ErrNotExist) {
		mt.ownEtcNetns = true
	}
	t.Cleanup(func() { mt.destroy(t) })
	_, _ = runErr("", "ip", "netns", "del", mt.hub)
	run(t, "", "ip", "netns", "add", mt.hub)
	for _, c := range [][]string{
		{"-n", mt.hub, "link", "set", "lo", "up"},
		{"-n", mt.hub, "link", "add", "br0", "type", "bridge"},
		{"-n", mt.hub, "addr", "add", meshHub + "/24", "dev", "br0"},
		{"-n", mt.hub, "link", "set", "br0", "up"},
	} {
		run(t, "", "ip", c...)
	}
	for i := 1; i <= n; i++ {
		ns := fmt.Sprintf("%sn%c", base, 'a'+i-1)
		mt.nodes = append(mt.nodes, ns)
		_, _ = runErr("", "ip", "netns", "del", ns)
		run(t, "", "ip", "netns", "add", ns)
		veth := fmt.Sprintf("v%d", i)
		for _, c := range [][]string{
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", mt.hub, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
			{"-n", mt.hub, "link", "set", veth, "master", "br0"},
			{"-n", mt.hub, "link", "set", veth, "up"},
			{"-n", ns, "addr", "add", meshIP(i) + "/24", "dev", "eth0"},
			{"-n", ns, "link", "set", "eth0", "up"},
		} {
			run(t, "", "ip", c...)
		}
		// Every node asks the hub's dnsmasq: ip netns exec mounts this
		// file over /etc/resolv.conf, which Prometheus' DNS discovery
		// reads.
		dir := filepath.Join("/etc/netns", ns)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver "+meshHub+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range mt.nodes {
		waitDial(t, mt.hub, meshEcho(i+1), 10*time.Second) // nothing listens yet: a refusal proves the path
	}
	return mt
}

// destroy deletes the namespaces (the veth pairs and the bridge go with
// them) and the /etc/netns files.
func (mt *meshTopo) destroy(t *testing.T) {
	for _, ns := range append([]string{mt.hub}, mt.nodes...) {
		if pids, err := runErr("", "ip", "netns", "pids", ns); err == nil {
			for _, f := range strings.Fields(pids) {
				// Not this process: a thread of it that joined the
				// namespace (testenv.InNamespace) may be its main one.
				if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
		if out, err := runErr("", "ip", "netns", "del", ns); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
		_ = os.RemoveAll(filepath.Join("/etc/netns", ns))
	}
	if mt.ownEtcNetns {
		_ = os.Remove("/etc/netns")
	}
}

// write writes a file in the mesh's shared directory, atomically, and
// returns its path.
func (mt *meshTopo) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(mt.dir, name)
	if err := os.WriteFile(p+".tmp", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
	return p
}

// prometheus is a real Prometheus (Debian package prometheus) running in
// the hub, scraping the exporters listed in its file_sd file every second.
type prometheus struct {
	mt      *meshTopo
	targets string // its file_sd file
	client  *http.Client
}

// startPrometheus starts Prometheus in the hub and waits until it is ready.
func (mt *meshTopo) startPrometheus(t *testing.T) *prometheus {
	t.Helper()
	bin := testenv.LookPath(t, "prometheus", "prometheus")
	p := &prometheus{mt: mt, client: &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{DialContext: nsDialer(mt.hub, netip.Addr{}), MaxIdleConnsPerHost: 2},
	}}
	p.targets = mt.write(t, "exporters.json", "[]")
	cfg := mt.write(t, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: mesh
    file_sd_configs: [{files: [%s], refresh_interval: 1s}]
`, p.targets))
	out := &testenv.Buffer{}
	cmd := exec.Command("ip", "netns", "exec", mt.hub, bin, "--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(mt.dir, "tsdb"), "--web.listen-address="+meshPromAddr)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		p.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", tail(out.String(), 40))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := p.client.Get("http://" + meshPromAddr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrape makes Prometheus scrape the exporters of the given nodes.
func (p *prometheus) scrape(t *testing.T, nodes []int) {
	t.Helper()
	var addrs []string
	for _, i := range nodes {
		addrs = append(addrs, meshWeb(i))
	}
	b, _ := json.Marshal([]map[string]any{{"targets": addrs}})
	p.mt.write(t, filepath.Base(p.targets), string(b))
}

// query runs an instant query.
func (p *prometheus) query(q string) ([]testenv.PromSeries, error) {
	return testenv.PromQuery(p.client, "http://"+meshPromAddr, q)
}

// sdServer is the HTTP discovery endpoint, in the hub: it serves the
// current members as target groups, or fails as told.
type sdServer struct {
	mu      sync.Mutex
	members []int
	mode    sdMode
	srv     *http.Server
}

// sdMode is how the HTTP discovery endpoint answers.
type sdMode int

const (
	sdGood    sdMode = iota // the members as JSON target groups
	sdError                 // HTTP 500
	sdGarbage               // 200 with a JSON content type and a body that is not JSON
)

// startSDServer serves http://meshSDAddr/sd from the hub until the test
// ends.
func (mt *meshTopo) startSDServer(t *testing.T) *sdServer {
	t.Helper()
	s := &sdServer{}
	var ln net.Listener
	if err := inNS(mt.hub, func() error {
		var err error
		ln, err = net.Listen("tcp", meshSDAddr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		<-done
	})
	return s
}

// set sets the members and the mode.
func (s *sdServer) set(mode sdMode, members []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode, s.members = mode, members
}

func (s *sdServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	mode, members := s.mode, s.members
	s.mu.Unlock()
	switch mode {
	case sdError:
		http.Error(w, "discovery backend down", http.StatusInternalServerError)
	case sdGarbage:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"targets": ["10.234.0.11:4000"`))
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(targetGroups(members)))
	}
}

// targetGroups returns the members' echo addresses as a file_sd or
// http_sd body: one group.
func targetGroups(members []int) string {
	addrs := []string{}
	for _, i := range members {
		addrs = append(addrs, meshEcho(i))
	}
	b, _ := json.Marshal([]map[string]any{{"targets": addrs}})
	return string(b) + "\n"
}
