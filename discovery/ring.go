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

// The mesh: exclude_self and peers. Both are pure functions of the target
// list and of what this exporter is, so that every exporter of a fleet that
// sees the same list computes the same ring.

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"github.com/tcpping/tcpping_exporter/config"
)

// selfSet is what makes a target this exporter's own echo server: any
// address of this host's interfaces with any of the echo server's listen
// ports.
type selfSet struct {
	ips   map[netip.Addr]bool
	ports map[uint16]bool
}

// newSelfSet returns the selfSet of the interface addresses addrs (as
// net.InterfaceAddrs returns them) and the echo listen ports.
func newSelfSet(addrs []net.Addr, ports []uint16) selfSet {
	s := selfSet{ips: make(map[netip.Addr]bool, len(addrs)), ports: make(map[uint16]bool, len(ports))}
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if addr, ok := netip.AddrFromSlice(ip); ok {
			s.ips[addr.Unmap()] = true
		}
	}
	for _, p := range ports {
		s.ports[p] = true
	}
	return s
}

// has reports whether address (host:port) is this exporter's echo server.
// Only an IP address can match: host names are not resolved here, so that
// the mesh never waits for DNS.
func (s selfSet) has(address string) bool {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || !s.ports[uint16(p)] {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return s.ips[ip.Unmap().WithZone("")]
}

// excludeSelf splits targets into the others and those that are this
// exporter's own echo server, keeping their order.
func excludeSelf(targets []config.Target, self selfSet) (others, selves []config.Target) {
	others = make([]config.Target, 0, len(targets))
	for _, t := range targets {
		if self.has(t.Address) {
			selves = append(selves, t)
		} else {
			others = append(others, t)
		}
	}
	return others, selves
}

// ringKey is a place on the ring: the hash of an address (or of a mesh ID),
// then the address to order equal hashes, so that the order is total and
// the same on every host. The ring's nodes are addresses, not targets: an
// address listed under several modules is one node.
type ringKey struct {
	hash    uint64
	address string
}

// ringHash hashes s to its place on the ring: the first 8 bytes of its
// SHA-256, the same on every host and platform and spread evenly however
// alike the addresses are.
func ringHash(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	return binary.BigEndian.Uint64(sum[:8])
}

// targetKey returns the place of target t on the ring: its address's, in
// the canonical spelling the prober Manager keys it by, so that exporters
// whose lists spell one endpoint differently still agree on its place.
func targetKey(t config.Target) ringKey {
	a := config.CanonicalAddress(t.Address)
	return ringKey{hash: ringHash(a), address: a}
}

// meshIDKey returns the place on the ring of an exporter known by its mesh
// ID, for when its own echo address is not among the targets.
func meshIDKey(id string) ringKey {
	return ringKey{hash: ringHash(id), address: id}
}

// compareKeys orders ring keys.
func compareKeys(a, b ringKey) int {
	return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.address, b.address))
}

// place returns this exporter's place on the ring: the first of its own
// targets' addresses (those exclude_self found) in ring order, or its mesh
// ID's.
func place(selves []config.Target, meshID string) ringKey {
	if len(selves) == 0 {
		return meshIDKey(meshID)
	}
	k := targetKey(selves[0])
	for _, t := range selves[1:] {
		if tk := targetKey(t); compareKeys(tk, k) < 0 {
			k = tk
		}
	}
	return k
}

// selectPeers returns the targets of the k addresses that follow at on the
// ring of the targets' addresses, every target of an address (one per
// module it is listed with), in ring order; an address at at itself is
// skipped. k <= 0, or k at least the number of addresses, selects them
// all. When every exporter of a fleet sees the same list and stands at its
// own address, each selects exactly k other addresses and each address is
// selected by exactly k exporters (its k predecessors); a node joining or
// leaving changes the selections of only itself and its k predecessors.
func selectPeers(targets []config.Target, at ringKey, k int) []config.Target {
	type node struct {
		key     ringKey
		targets []config.Target // in the order given
	}
	var ring []*node
	byAddress := map[string]*node{}
	for _, t := range targets {
		key := targetKey(t)
		if compareKeys(key, at) == 0 {
			continue
		}
		n := byAddress[key.address]
		if n == nil {
			n = &node{key: key}
			byAddress[key.address] = n
			ring = append(ring, n)
		}
		n.targets = append(n.targets, t)
	}
	out := make([]config.Target, 0, len(targets))
	if k <= 0 || k >= len(ring) {
		for _, t := range targets {
			if compareKeys(targetKey(t), at) != 0 {
				out = append(out, t)
			}
		}
		return out
	}
	slices.SortFunc(ring, func(a, b *node) int { return compareKeys(a.key, b.key) })
	first, _ := slices.BinarySearchFunc(ring, at, func(n *node, at ringKey) int { return compareKeys(n.key, at) })
	for i := range k {
		out = append(out, ring[(first+i)%len(ring)].targets...)
	}
	return out
}

// NewSelf returns the Self of an exporter whose echo server listens on
// echoListen (its bound addresses; none when it is off), on the ring at
// meshID, or at the host's name if meshID is empty.
func NewSelf(meshID string, echoListen []string) (Self, error) {
	self := Self{MeshID: meshID}
	if self.MeshID == "" {
		host, err := os.Hostname()
		if err != nil {
			return Self{}, fmt.Errorf("--mesh.id: no host name to default to: %w", err)
		}
		self.MeshID = host
	}
	ports, err := EchoPorts(echoListen)
	if err != nil {
		return Self{}, err
	}
	self.EchoPorts = ports
	return self, nil
}

// EchoPorts returns the ports of the echo server's listen addresses, each
// once, for Self.EchoPorts: the addresses the listeners are bound to (so
// that ":0" gives the port the kernel chose), or the --echo.listen-address
// values, host:port with a numeric port.
func EchoPorts(listenAddresses []string) ([]uint16, error) {
	var ports []uint16
	for _, a := range listenAddresses {
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("echo listen address %q: %w", a, err)
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("echo listen address %q: want a port from 1 to 65535", a)
		}
		if !slices.Contains(ports, uint16(p)) {
			ports = append(ports, uint16(p))
		}
	}
	return ports, nil
}
