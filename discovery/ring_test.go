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
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tcpping/tcpping_exporter/config"
)

// tgt returns a target at address with the default module.
func tgt(address string) config.Target {
	return config.Target{Name: address, Address: address, Module: config.DefaultModuleName}
}

// ipNet returns an interface address as net.InterfaceAddrs returns it.
func ipNet(t *testing.T, cidr string) net.Addr {
	t.Helper()
	ip, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	n.IP = ip
	return n
}

func TestSelfSetHas(t *testing.T) {
	self := newSelfSet([]net.Addr{
		ipNet(t, "127.0.0.1/8"),
		ipNet(t, "10.1.2.3/24"),
		ipNet(t, "::1/128"),
		ipNet(t, "fe80::1/64"),
		ipNet(t, "2001:db8::7/64"),
		&net.IPAddr{IP: net.ParseIP("192.0.2.9")},
	}, []uint16{4000, 4001})
	tests := []struct {
		address string
		want    bool
	}{
		{"10.1.2.3:4000", true},
		{"10.1.2.3:4001", true},
		{"127.0.0.1:4000", true},
		{"192.0.2.9:4000", true},
		{"[::1]:4000", true},
		{"[2001:db8::7]:4001", true},
		{"[fe80::1%eth0]:4000", true}, // the zone does not matter
		{"[::ffff:10.1.2.3]:4000", true},
		{"10.1.2.3:4002", false},  // another port
		{"10.1.2.4:4000", false},  // another host in the same subnet
		{"127.0.0.2:4000", false}, // only the interface's own address
		{"localhost:4000", false}, // names are not resolved
		{"10.1.2.3", false},       // no port
		{"10.1.2.3:echo", false},  // port not a number
		{"10.1.2.3:70000", false}, // port out of range
		{"[2001:db8::8]:4000", false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			if got := self.has(tt.address); got != tt.want {
				t.Errorf("has(%q) = %v, want %v", tt.address, got, tt.want)
			}
		})
	}
	t.Run("no echo server", func(t *testing.T) {
		if newSelfSet([]net.Addr{ipNet(t, "10.1.2.3/24")}, nil).has("10.1.2.3:4000") {
			t.Error("without echo ports, an own address is self")
		}
	})
}

func TestExcludeSelf(t *testing.T) {
	self := newSelfSet([]net.Addr{ipNet(t, "10.0.0.2/24")}, []uint16{4000})
	all := []config.Target{tgt("10.0.0.1:4000"), tgt("10.0.0.2:4000"), tgt("10.0.0.3:4000"), tgt("10.0.0.2:5000")}
	others, selves := excludeSelf(all, self)
	if want := []config.Target{all[0], all[2], all[3]}; !slices.Equal(names(others), names(want)) {
		t.Errorf("others = %q, want %q", names(others), names(want))
	}
	if len(selves) != 1 || selves[0].Address != "10.0.0.2:4000" {
		t.Errorf("selves = %q, want 10.0.0.2:4000", names(selves))
	}
}

// names returns the names of targets, in order.
func names(targets []config.Target) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t.Name
	}
	return out
}

func TestRingHashStable(t *testing.T) {
	// Every exporter of a fleet must compute the same ring, whatever its
	// version or platform: these are the first 8 bytes of SHA-256.
	tests := []struct {
		s    string
		want uint64
	}{
		{"10.0.0.1:4000", 0x2e7d9740bcf795b1},
		{"[2001:db8::1]:4000", 0xf7e412392febaa7d},
		{"node1", 0xca12f31b8cbf5f29},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := ringHash(tt.s); got != tt.want {
				t.Errorf("ringHash(%q) = %#x, want %#x", tt.s, got, tt.want)
			}
		})
	}
}

func TestSelectPeers(t *testing.T) {
	var five []config.Target
	for i := range 5 {
		five = append(five, tgt(fmt.Sprintf("10.0.0.%d:4000", i+1)))
	}
	// The ring order of the five, computed independently of selectPeers.
	ring := slices.Clone(five)
	slices.SortFunc(ring, func(a, b config.Target) int { return compareKeys(targetKey(a), targetKey(b)) })
	after := func(i, k int) []string { // the k after ring[i], wrapping
		var out []string
		for j := 1; j <= k; j++ {
			out = append(out, ring[(i+j)%len(ring)].Name)
		}
		return out
	}
	tests := []struct {
		name     string
		targets  []config.Target
		at       ringKey
		k        int
		want     []string
		anyOrder bool // all of them are selected, in no particular order
	}{
		{"no targets", nil, meshIDKey("x"), 2, []string{}, true},
		{"peers 0 is every target", five, meshIDKey("x"), 0, names(five), true},
		{"peers at the number of targets is every target", five, meshIDKey("x"), 5, names(five), true},
		{"peers above the number of targets is every target", five, meshIDKey("x"), 9, names(five), true},
		{"own address skipped", five, targetKey(ring[1]), 2, after(1, 2), false},
		{"wraps around", five, targetKey(ring[4]), 2, after(4, 2), false},
		{"own address skipped with peers at the others' count", five, targetKey(ring[0]), 4, after(0, 4), true},
		{"own address skipped with peers one below the others' count", five, targetKey(ring[2]), 3, after(2, 3), false},
		{"before the first", five, ringKey{hash: 0}, 1, []string{ring[0].Name}, false},
		{"after the last", five, ringKey{hash: ^uint64(0), address: "\xff"}, 1, []string{ring[0].Name}, false},
		{"an address under two modules is one place", append(slices.Clone(five), config.Target{Name: ring[2].Name, Address: ring[2].Address, Module: "fast"}),
			targetKey(ring[1]), 2, []string{ring[2].Name, ring[2].Name, ring[3].Name}, false},
		{"an address spelled two ways is one place", append(slices.Clone(five), config.Target{Name: "spelled", Address: strings.Replace(ring[2].Address, ":4000", ":04000", 1), Module: "fast"}),
			targetKey(ring[1]), 2, []string{ring[2].Name, "spelled", ring[3].Name}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(selectPeers(tt.targets, tt.at, tt.k))
			want := tt.want
			if tt.anyOrder {
				got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("selectPeers = %q, want %q", got, want)
			}
		})
	}
}

func TestPlace(t *testing.T) {
	a, b := tgt("10.0.0.1:4000"), tgt("10.0.0.2:4000")
	first := a
	if compareKeys(targetKey(b), targetKey(a)) < 0 {
		first = b
	}
	tests := []struct {
		name   string
		selves []config.Target
		want   ringKey
	}{
		{"mesh ID when not among the targets", nil, meshIDKey("host1")},
		{"own address", []config.Target{a}, targetKey(a)},
		{"first own address in ring order", []config.Target{a, b}, targetKey(first)},
		{"first own address in ring order, either way", []config.Target{b, a}, targetKey(first)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := place(tt.selves, "host1"); got != tt.want {
				t.Errorf("place = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// fleet simulates exporters that all see the same list of nodes, each at its
// own echo address, and returns the probed pairs [from, to] each selects.
func fleet(t *testing.T, nodes []string, k int) map[[2]string]bool {
	t.Helper()
	all := make([]config.Target, len(nodes))
	for i, n := range nodes {
		all[i] = tgt(n + ":4000")
	}
	pairs := make(map[[2]string]bool, len(nodes)*k)
	for _, n := range nodes {
		self := newSelfSet([]net.Addr{&net.IPAddr{IP: net.ParseIP(n)}}, []uint16{4000})
		others, selves := excludeSelf(all, self)
		if len(selves) != 1 {
			t.Fatalf("node %s found itself %d times", n, len(selves))
		}
		for _, peer := range selectPeers(others, place(selves, "unused"), k) {
			pairs[[2]string{n, peer.Address}] = true
		}
	}
	return pairs
}

// nodeAddrs returns n distinct node IPs, from offset on.
func nodeAddrs(offset, n int) []string {
	out := make([]string, n)
	for i := range out {
		j := offset + i
		out[i] = fmt.Sprintf("10.%d.%d.%d", j/65536%256, j/256%256, j%256)
	}
	return out
}

// diff counts the pairs only in a and only in b.
func diff(a, b map[[2]string]bool) (onlyA, onlyB int) {
	for p := range a {
		if !b[p] {
			onlyA++
		}
	}
	for p := range b {
		if !a[p] {
			onlyB++
		}
	}
	return onlyA, onlyB
}

// meshSizes are the fleets simulated: every node of a 1000-node fleet sorts
// the whole ring, so the large fleet runs fewer peer counts.
var meshSizes = []struct{ nodes, peers int }{
	{100, 1}, {100, 2}, {100, 3}, {100, 8}, {100, 99}, {1000, 3},
}

func TestMeshCoverage(t *testing.T) {
	for _, c := range meshSizes {
		n, k := c.nodes, c.peers
		{
			t.Run(fmt.Sprintf("%d nodes, peers %d", n, k), func(t *testing.T) {
				nodes := nodeAddrs(1, n)
				pairs := fleet(t, nodes, k)
				out, in := map[string]int{}, map[string]int{}
				for p := range pairs {
					out[p[0]]++
					in[p[1]+""]++
				}
				for _, node := range nodes {
					if out[node] != k {
						t.Errorf("node %s probes %d others, want %d", node, out[node], k)
					}
					if in[node+":4000"] != k {
						t.Errorf("node %s is probed by %d exporters, want %d", node, in[node+":4000"], k)
					}
				}
				for p := range pairs {
					if p[1] == p[0]+":4000" {
						t.Errorf("node %s probes itself", p[0])
					}
				}
			})
		}
	}
}

func TestMeshChurn(t *testing.T) {
	// A node joining adds its own k pairs, and each of its k predecessors
	// swaps one pair (its farthest successor for the newcomer): k removed,
	// 2k added, 3k changed. Leaving is the reverse. The bound asserted is
	// exactly that; the log shows the measured counts.
	for _, c := range meshSizes {
		n, k := c.nodes, c.peers
		if k >= n-1 {
			continue // everyone probes everyone: a node changes 2(n-1) pairs
		}
		{
			t.Run(fmt.Sprintf("%d nodes, peers %d", n, k), func(t *testing.T) {
				nodes := nodeAddrs(1, n)
				before := fleet(t, nodes, k)
				joined := fleet(t, append(slices.Clone(nodes), nodeAddrs(n+1, 1)...), k)
				removed, added := diff(before, joined)
				t.Logf("join:  %d pairs removed, %d added (%d changed of %d)", removed, added, removed+added, len(before))
				if removed != k || added != 2*k {
					t.Errorf("join removed %d and added %d pairs, want %d and %d", removed, added, k, 2*k)
				}
				for _, leaver := range []int{0, n / 2} {
					rest := slices.Delete(slices.Clone(nodes), leaver, leaver+1)
					left := fleet(t, rest, k)
					removed, added := diff(before, left)
					t.Logf("leave: %d pairs removed, %d added (%d changed of %d)", removed, added, removed+added, len(before))
					if removed != 2*k || added != k {
						t.Errorf("node %d leaving removed %d and added %d pairs, want %d and %d", leaver, removed, added, 2*k, k)
					}
				}
			})
		}
	}
}

func TestMeshIDPlacement(t *testing.T) {
	// An exporter that is not among the targets (or does not look for
	// itself) stands at its mesh ID: it still probes exactly k, the same
	// k on every run, and different IDs spread over the ring.
	all := make([]config.Target, 0, 50)
	for _, n := range nodeAddrs(1, 50) {
		all = append(all, tgt(n+":4000"))
	}
	first := names(selectPeers(all, meshIDKey("prober-a"), 3))
	if len(first) != 3 {
		t.Fatalf("selected %d, want 3", len(first))
	}
	if again := names(selectPeers(slices.Clone(all), meshIDKey("prober-a"), 3)); !slices.Equal(first, again) {
		t.Errorf("same ID selected %q, then %q", first, again)
	}
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	if again := names(selectPeers(reversed, meshIDKey("prober-a"), 3)); !slices.Equal(first, again) {
		t.Errorf("the list's order changed the selection: %q, then %q", first, again)
	}
	starts := map[string]bool{}
	for i := range 20 {
		starts[selectPeers(all, meshIDKey(fmt.Sprintf("prober-%d", i)), 1)[0].Name] = true
	}
	if len(starts) < 10 {
		t.Errorf("20 mesh IDs start at only %d distinct places", len(starts))
	}
}

func TestEchoPorts(t *testing.T) {
	tests := []struct {
		addrs   []string
		want    []uint16
		wantErr bool
	}{
		{nil, nil, false},
		{[]string{":4000"}, []uint16{4000}, false},
		{[]string{":4000", "10.0.0.1:4000", "[::1]:4001"}, []uint16{4000, 4001}, false},
		{[]string{"127.0.0.1:0"}, nil, true},
		{[]string{":echo"}, nil, true},
		{[]string{"4000"}, nil, true},
		{[]string{":65536"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.addrs), func(t *testing.T) {
			got, err := EchoPorts(tt.addrs)
			if (err != nil) != tt.wantErr {
				t.Fatalf("EchoPorts(%q) error %v, want error: %v", tt.addrs, err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("EchoPorts(%q) = %v, want %v", tt.addrs, got, tt.want)
			}
		})
	}
}

// TestNewSelf checks where an exporter places itself: at --mesh.id, else
// at its host name, with the ports its echo server is bound to.
func TestNewSelf(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSelf("", []string{"[::]:4000", "0.0.0.0:4000", "127.0.0.1:4001"})
	if err != nil || s.MeshID != host || !slices.Equal(s.EchoPorts, []uint16{4000, 4001}) {
		t.Errorf("NewSelf = %+v, %v; want mesh ID %q and ports 4000, 4001", s, err, host)
	}
	s, err = NewSelf("node-7", nil)
	if err != nil || s.MeshID != "node-7" || len(s.EchoPorts) != 0 {
		t.Errorf("NewSelf(node-7, no echo server) = %+v, %v", s, err)
	}
	if _, err := NewSelf("m", []string{"no port"}); err == nil {
		t.Error("NewSelf with a listen address without a port: no error")
	}
}
