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
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// Addresses inside the namespaces. They exist only there: the host never
// routes to them, and every namespace is private to one test.
const (
	proberV4    = "10.233.1.1"  // prober's primary IPv4 address
	proberV4Alt = "10.233.1.10" // secondary, for source_ip_address and not_allowed
	echoV4      = "10.233.1.2"
	proberV6    = "fd00:233::1"
	proberV6Alt = "fd00:233::a" // deprecated, so the kernel never picks it by default
	echoV6      = "fd00:233::2"
	echoPort    = "4000"
	// webAddr is where each exporter serves HTTP, on its own namespace's
	// loopback. The tests reach it by dialing from inside the namespace.
	webAddr = "127.0.0.1:2112"
)

// nsPrefix starts the name of every namespace and interface the suite
// creates, followed by the test process's pid.
const nsPrefix = "tfi"

// requireSuite fails (under CI) or skips the test unless it can run: root,
// ip, nft and ss, and the binary built.
func requireSuite(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "the fault-injection suite needs root (network namespaces, nftables)")
	}
	for _, tool := range []struct{ cmd, pkg string }{{"ip", "iproute2"}, {"nft", "nftables"}, {"ss", "iproute2"}} {
		testenv.LookPath(t, tool.cmd, tool.pkg)
	}
	if binary == "" {
		t.Fatal("tcpping_exporter was not built")
	}
}

// run runs a command to completion and fails the test with its output if it
// fails.
func run(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// runErr runs a command under a 30 s deadline and returns its combined
// output.
func runErr(stdin string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// topo is two network namespaces, the prober's and the echo server's,
// joined by a veth pair, with IPv4 and IPv6 addresses on both ends and an
// nftables table "tfi" in the echo namespace whose input and output chains
// the scenarios fill.
type topo struct {
	prober, echo string // namespace names
	// ownEtcNetns records that the test created /etc/netns, so it removes
	// it again (if nobody else put anything in it).
	ownEtcNetns bool
}

// newTopo builds the topology for one test; tag tells the tests of one
// process apart. Cleanup deletes everything, also when the test fails.
func newTopo(t *testing.T, tag string) *topo {
	t.Helper()
	testenv.SweepStaleNetns(nsPrefix)
	base := fmt.Sprintf("%s%d%s", nsPrefix, os.Getpid(), tag)
	tp := &topo{prober: base + "p", echo: base + "e"}
	vp, ve := base+"p", base+"e" // interface names, within IFNAMSIZ
	t.Cleanup(func() { tp.destroy(t) })
	for _, ns := range []string{tp.prober, tp.echo} {
		_, _ = runErr("", "ip", "netns", "del", ns) // left over by a killed run
		run(t, "", "ip", "netns", "add", ns)
		run(t, "", "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "", "ip", "-n", tp.prober, "link", "add", vp, "type", "veth", "peer", "name", ve, "netns", tp.echo)
	for _, c := range [][]string{
		{"-n", tp.prober, "addr", "add", proberV4 + "/24", "dev", vp},
		{"-n", tp.prober, "addr", "add", proberV4Alt + "/24", "dev", vp},
		{"-n", tp.prober, "-6", "addr", "add", proberV6 + "/64", "dev", vp, "nodad"},
		// Deprecated (preferred_lft 0): the kernel never picks it as a
		// source by itself, but a socket may still bind it.
		{"-n", tp.prober, "-6", "addr", "add", proberV6Alt + "/64", "dev", vp, "nodad", "preferred_lft", "0"},
		{"-n", tp.echo, "addr", "add", echoV4 + "/24", "dev", ve},
		{"-n", tp.echo, "-6", "addr", "add", echoV6 + "/64", "dev", ve, "nodad"},
		{"-n", tp.prober, "link", "set", vp, "up"},
		{"-n", tp.echo, "link", "set", ve, "up"},
	} {
		run(t, "", "ip", c...)
	}
	tp.nft(t, `table inet tfi {
	chain input { type filter hook input priority 0; policy accept; }
	chain output { type filter hook output priority 0; policy accept; }
}`)
	// Both ends reachable over both families before any test starts.
	for _, a := range []string{echoV4, "[" + echoV6 + "]"} {
		waitDial(t, tp.prober, a+":9", 10*time.Second) // closed port: a reset proves reachability
	}
	return tp
}

// destroy deletes the namespaces (and so the veth pair) and the per
// namespace /etc/netns files.
func (tp *topo) destroy(t *testing.T) {
	for _, ns := range []string{tp.prober, tp.echo} {
		if out, err := runErr("", "ip", "netns", "del", ns); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
		_ = os.RemoveAll(filepath.Join("/etc/netns", ns))
	}
	if tp.ownEtcNetns {
		_ = os.Remove("/etc/netns")
	}
}

// nft loads an nftables script in the echo namespace.
func (tp *topo) nft(t *testing.T, script string) {
	t.Helper()
	run(t, script, "ip", "netns", "exec", tp.echo, "nft", "-f", "-")
}

// setRules replaces the rules of the echo namespace's input and output
// chains; empty strings clear them.
func (tp *topo) setRules(t *testing.T, input, output string) {
	t.Helper()
	tp.nft(t, fmt.Sprintf(`flush chain inet tfi input
flush chain inet tfi output
table inet tfi {
	chain input {
		%s
	}
	chain output {
		%s
	}
}`, input, output))
}

// counters returns the packets counted by each nftables counter of the
// echo namespace's tfi table, all read by one listing, so that counters
// compared with each other are read together while probes keep coming.
func (tp *topo) counters(t *testing.T) map[string]int {
	t.Helper()
	out := run(t, "", "ip", "netns", "exec", tp.echo, "nft", "list", "counters", "table", "inet", "tfi")
	n := map[string]int{}
	for _, m := range regexp.MustCompile(`counter (\w+) \{\s*packets (\d+)`).FindAllStringSubmatch(out, -1) {
		n[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(n) == 0 {
		t.Fatalf("no counters in:\n%s", out)
	}
	return n
}

// hosts makes ip netns exec bind-mount a hosts file over /etc/hosts for
// processes started in ns (ip-netns(8): /etc/netns/NAME/).
func (tp *topo) hosts(t *testing.T, ns, content string) {
	t.Helper()
	if _, err := os.Stat("/etc/netns"); errors.Is(err, os.ErrNotExist) {
		tp.ownEtcNetns = true
	}
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// peers returns the remote addresses of the established connections on the
// echo namespace's port, as ss shows them from the echo server's side.
func (tp *topo) peers(t *testing.T, port string) []netip.AddrPort {
	t.Helper()
	out := run(t, "", "ip", "netns", "exec", tp.echo, "ss", "-Htn", "state", "established", "( sport = :"+port+" )")
	var peers []netip.AddrPort
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		ap, err := netip.ParseAddrPort(f[len(f)-1])
		if err != nil {
			t.Fatalf("ss peer %q: %v", f[len(f)-1], err)
		}
		peers = append(peers, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	return peers
}

// inNS runs f inside network namespace ns (testenv.InNamespace).
func inNS(ns string, f func() error) error { return testenv.InNamespace(ns, f) }

// nsDialer returns a DialContext that connects from inside ns.
func nsDialer(ns string, local netip.Addr) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNS(ns, func() error {
			d := net.Dialer{Timeout: 5 * time.Second}
			if local.IsValid() {
				d.LocalAddr = &net.TCPAddr{IP: local.AsSlice()}
			}
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// waitDial waits until a TCP dial from ns to addr gets an answer: a
// connection or a refusal.
func waitDial(t *testing.T, ns, addr string, within time.Duration) {
	t.Helper()
	dial := nsDialer(ns, netip.Addr{})
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := dial(ctx, "tcp", addr)
		cancel()
		if err == nil {
			_ = c.Close()
			return
		}
		if isRefused(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s unreachable from %s: %v", addr, ns, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func isRefused(err error) bool { return errors.Is(err, unix.ECONNREFUSED) }
