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

package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// portFloor is the lowest port Port hands out: below it are the ports
// that services and people use (2112, 4000, 8080, 9090, 9100 ...).
const portFloor = 10000

// Port returns a TCP port of 127.0.0.1 for a process under test to listen
// on (the exporter's web or echo address, Prometheus, a container's port
// mapping), or for nothing to listen on. Unlike the port of a listener on
// :0 that is closed before the process starts, it cannot be handed out
// twice or taken in between:
//   - no two calls in a process return the same port, and on Unix no two
//     processes running Port at the same time do either (a lock on the
//     port's byte of a file in the temporary directory, held until the
//     process exits);
//   - the port lies outside the kernel's ephemeral range
//     (/proc/sys/net/ipv4/ip_local_port_range on Linux), from which binds
//     to port 0 and outgoing connections take theirs, so no other test's
//     listener or connection can get it;
//   - it could be bound on 127.0.0.1 when Port returned.
func Port(t testing.TB) int {
	t.Helper()
	p, err := ports.take()
	if err != nil {
		t.Fatalf("testenv.Port: %v", err)
	}
	return p
}

// ports hands out Port's ports. It is the one piece of mutable state of
// this package, and must be per process: it is what makes the ports of a
// process distinct.
var ports portAllocator

// portAllocator walks the candidate ports in order, once per process.
type portAllocator struct {
	mu    sync.Mutex
	init  bool
	cands []portRange // in ascending order
	next  int         // index of the next candidate, across cands
	locks portLocker  // the ports other processes hold
}

// portRange is the ports first to last.
type portRange struct{ first, last int }

func (r portRange) size() int { return r.last - r.first + 1 }

func (a *portAllocator) take() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.init {
		lo, hi := ephemeralRange()
		a.cands = candidates(lo, hi)
		locks, err := openPortLocker()
		if err != nil {
			return 0, err
		}
		a.locks, a.init = locks, true
	}
	for {
		p, ok := a.at(a.next)
		if !ok {
			return 0, errors.New("no free port left outside the ephemeral range")
		}
		a.next++
		held, err := a.locks.lock(p)
		if err != nil {
			return 0, err
		}
		if !held {
			continue // another process has it
		}
		if bindable(p) {
			return p, nil
		}
	}
}

// at returns the i-th candidate port.
func (a *portAllocator) at(i int) (int, bool) {
	for _, r := range a.cands {
		if i < r.size() {
			return r.first + i, true
		}
		i -= r.size()
	}
	return 0, false
}

// candidates returns the ports from portFloor to 65535 outside the
// ephemeral range lo-hi.
func candidates(lo, hi int) []portRange {
	var out []portRange
	if lo > portFloor {
		out = append(out, portRange{portFloor, min(lo-1, 65535)})
	}
	if first := max(hi+1, portFloor); first <= 65535 {
		out = append(out, portRange{first, 65535})
	}
	return out
}

// ephemeralRange returns the kernel's range of ports for binds to port 0
// and outgoing connections: Linux's ip_local_port_range, or else IANA's
// dynamic range, which macOS and Windows use.
func ephemeralRange() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if lo, hi, err := parsePortRange(string(b)); err == nil {
			return lo, hi
		}
	}
	return 49152, 65535
}

// parsePortRange parses ip_local_port_range: two ports separated by white
// space.
func parsePortRange(s string) (lo, hi int, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("port range %q: want two numbers", s)
	}
	if lo, err = strconv.Atoi(f[0]); err != nil {
		return 0, 0, fmt.Errorf("port range %q: %w", s, err)
	}
	if hi, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, fmt.Errorf("port range %q: %w", s, err)
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("port range %q: out of order or out of 1-65535", s)
	}
	return lo, hi, nil
}

// bindable reports whether a listener can be bound to 127.0.0.1:p now.
func bindable(p int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}
