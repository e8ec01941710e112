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
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// The ECMP scenario: the prober's and the echo server's namespaces joined
// by two parallel links, a and b, each way through a multipath route that
// hashes the 5-tuple (fib_multipath_hash_policy 1), as routers spreading
// flows over equal-cost paths do. A flow's path is the link its packets to
// the echo server take, which the kernel of the prober's namespace chose
// by hashing its ports; faults act on that direction of a link (the echo
// namespace's input from it), so they hit exactly the flows whose path it
// is, whichever link their replies take back.

// Addresses of the ECMP scenario: each host's own address on its loopback,
// reached over either link.
var (
	ecmpProber = [2]string{"10.233.1.1", "fd00:233:1::1"}
	ecmpEcho   = [2]string{"10.233.2.2", "fd00:233:2::2"}
	// ecmpLinks are the two links' subnets, the prober's end .1 (::1),
	// the echo server's .2 (::2).
	ecmpLinks = [2][2]string{{"10.233.11.", "fd00:233:11::"}, {"10.233.12.", "fd00:233:12::"}}
)

// ecmpTopo is the two namespaces and their two links. echoIf are the echo
// namespace's ends of links a and b, proberIf the prober's.
type ecmpTopo struct {
	*topo
	proberIf, echoIf [2]string
}

// newECMPTopo builds the namespaces, links and routes for one test; tag
// tells the tests of one process apart. Cleanup deletes everything, also
// when the test fails.
func newECMPTopo(t *testing.T, tag string) *ecmpTopo {
	t.Helper()
	testenv.SweepStaleNetns(nsPrefix)
	base := fmt.Sprintf("%s%d%s", nsPrefix, os.Getpid(), tag)
	et := &ecmpTopo{topo: &topo{prober: base + "p", echo: base + "e"}}
	t.Cleanup(func() { et.destroy(t) })
	for _, ns := range []string{et.prober, et.echo} {
		_, _ = runErr("", "ip", "netns", "del", ns) // left over by a killed run
		run(t, "", "ip", "netns", "add", ns)
		run(t, "", "ip", "-n", ns, "link", "set", "lo", "up")
		// Hash the 5-tuple over the multipath routes, both families; no
		// reverse-path filter, as replies may come back on either link.
		run(t, "", "ip", "netns", "exec", ns, "sysctl", "-q", "-w",
			"net.ipv4.fib_multipath_hash_policy=1", "net.ipv6.fib_multipath_hash_policy=1",
			"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
	}
	var cmds [][]string
	for i, link := range []string{"a", "b"} {
		et.proberIf[i], et.echoIf[i] = base+"p"+link, base+"e"+link
		cmds = append(cmds,
			[]string{"-n", et.prober, "link", "add", et.proberIf[i], "type", "veth", "peer", "name", et.echoIf[i], "netns", et.echo},
			[]string{"-n", et.prober, "addr", "add", ecmpLinks[i][0] + "1/24", "dev", et.proberIf[i]},
			[]string{"-n", et.echo, "addr", "add", ecmpLinks[i][0] + "2/24", "dev", et.echoIf[i]},
			[]string{"-n", et.prober, "-6", "addr", "add", ecmpLinks[i][1] + "1/64", "dev", et.proberIf[i], "nodad"},
			[]string{"-n", et.echo, "-6", "addr", "add", ecmpLinks[i][1] + "2/64", "dev", et.echoIf[i], "nodad"},
			[]string{"-n", et.prober, "link", "set", et.proberIf[i], "up"},
			[]string{"-n", et.echo, "link", "set", et.echoIf[i], "up"})
	}
	cmds = append(cmds,
		[]string{"-n", et.prober, "addr", "add", ecmpProber[0] + "/32", "dev", "lo"},
		[]string{"-n", et.prober, "-6", "addr", "add", ecmpProber[1] + "/128", "dev", "lo"},
		[]string{"-n", et.echo, "addr", "add", ecmpEcho[0] + "/32", "dev", "lo"},
		[]string{"-n", et.echo, "-6", "addr", "add", ecmpEcho[1] + "/128", "dev", "lo"})
	for fam := range 2 {
		// Each host reaches the other's address over both links.
		for _, side := range []struct {
			ns, dst, src, via string
			ifs               [2]string
		}{{et.prober, ecmpEcho[fam], ecmpProber[fam], "2", et.proberIf}, {et.echo, ecmpProber[fam], ecmpEcho[fam], "1", et.echoIf}} {
			c := []string{"-n", side.ns, "-4", "route", "add", side.dst, "src", side.src}
			if fam == 1 {
				c[2] = "-6"
			}
			for i := range 2 {
				c = append(c, "nexthop", "via", ecmpLinks[i][fam]+side.via, "dev", side.ifs[i])
			}
			cmds = append(cmds, c)
		}
	}
	for _, c := range cmds {
		run(t, "", "ip", c...)
	}
	et.nft(t, `table inet tfi {
	chain input { type filter hook input priority 0; policy accept; }
	chain output { type filter hook output priority 0; policy accept; }
}`)
	for _, a := range []string{ecmpEcho[0], "[" + ecmpEcho[1] + "]"} {
		waitDial(t, et.prober, a+":9", 10*time.Second) // closed port: a reset proves reachability
	}
	return et
}

// devRE finds the output interface in ip route get's answer.
var devRE = regexp.MustCompile(`\bdev (\S+)`)

// path asks the prober namespace's kernel which link, 0 (a) or 1 (b), a
// TCP flow from local to the echo server's port takes.
func (et *ecmpTopo) path(t *testing.T, local netip.AddrPort) int {
	t.Helper()
	fam := "-4"
	dst := ecmpEcho[0]
	if local.Addr().Is6() {
		fam, dst = "-6", ecmpEcho[1]
	}
	out := run(t, "", "ip", "-n", et.prober, fam, "route", "get", dst, "from", local.Addr().String(),
		"ipproto", "tcp", "sport", strconv.Itoa(int(local.Port())), "dport", echoPort)
	m := devRE.FindStringSubmatch(out)
	for i, ifname := range et.proberIf {
		if m != nil && m[1] == ifname {
			return i
		}
	}
	t.Fatalf("ip route get: no link of ours in %q", out)
	return -1
}

// forward returns nftables rules that apply verdict to the probes
// entering the echo namespace over link i: that link's forward direction.
func (et *ecmpTopo) forward(i int, verdict string) string {
	return fmt.Sprintf("iifname %q tcp dport %s %s", et.echoIf[i], echoPort, verdict)
}
