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
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// checkPort fails the test unless p lies outside the ephemeral range and
// can be listened on at once.
func checkPort(t *testing.T, p int) {
	t.Helper()
	lo, hi := ephemeralRange()
	if p < portFloor || p > 65535 || p >= lo && p <= hi {
		t.Errorf("port %d: want %d-65535 outside the ephemeral range %d-%d", p, portFloor, lo, hi)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Errorf("port %d: %v", p, err)
		return
	}
	_ = ln.Close()
}

func TestPortNeverRepeats(t *testing.T) {
	const workers, each = 8, 100
	var (
		mu   sync.Mutex
		seen = map[int]bool{}
		wg   sync.WaitGroup
	)
	// Listeners on port 0 held meanwhile, as other tests have them: they
	// take ports from the ephemeral range, which Port's are not in.
	var held []net.Listener
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, ln)
	}
	for range workers {
		wg.Go(func() {
			for range each {
				// Port's t.Fatalf may not run on this goroutine.
				p, err := ports.take()
				if err != nil {
					t.Errorf("testenv.Port: %v", err)
					return
				}
				mu.Lock()
				if seen[p] {
					t.Errorf("port %d handed out twice", p)
				}
				seen[p] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, ln := range held {
		if p := ln.Addr().(*net.TCPAddr).Port; seen[p] {
			t.Errorf("port %d handed out while a listener on :0 had it", p)
		}
		_ = ln.Close()
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct ports from %d calls", len(seen), workers*each)
	}
	for p := range seen {
		checkPort(t, p)
	}
}

func TestPortSkipsBoundPorts(t *testing.T) {
	// The next port Port would consider is taken by a listener of
	// someone else: Port must pass it over.
	ports.mu.Lock()
	next, ok := ports.at(ports.next)
	ports.mu.Unlock()
	if !ok {
		t.Fatal("no candidate left")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(next)))
	if err != nil {
		t.Skipf("port %d is in use already: %v", next, err)
	}
	defer ln.Close()
	if p := Port(t); p == next {
		t.Errorf("Port returned %d, which a listener holds", p)
	} else {
		checkPort(t, p)
	}
}

// portHelperEnv makes TestPortHelperProcess, run as a child of
// TestPortDistinctAcrossProcesses, take that many ports.
const portHelperEnv = "TESTENV_PORT_HELPER"

// TestPortHelperProcess is the child of TestPortDistinctAcrossProcesses:
// it takes ports, prints them, and exits when its standard input closes,
// holding them until then.
func TestPortHelperProcess(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv(portHelperEnv))
	if err != nil {
		t.Skip("run by TestPortDistinctAcrossProcesses")
	}
	for range n {
		fmt.Println(Port(t))
	}
	fmt.Println("done")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func TestPortDistinctAcrossProcesses(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("ports are distinct across processes on Unix only")
	}
	const n = 50
	cmd := exec.Command(os.Args[0], "-test.run=^TestPortHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), portHelperEnv+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}()
	var theirs []int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "done" {
		p, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("helper process printed %q", sc.Text())
		}
		theirs = append(theirs, p)
	}
	if len(theirs) != n {
		t.Fatalf("helper process handed out %d ports, want %d", len(theirs), n)
	}
	// The helper started at the lowest candidate, as this process did:
	// without the locks the two would hand out the same ports.
	for range 2 * n {
		if p := Port(t); slices.Contains(theirs, p) {
			t.Errorf("port %d handed out here while the helper process holds it", p)
		}
	}
}

func TestCandidates(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi int
		want   []portRange
	}{
		{"Linux default", 32768, 60999, []portRange{{10000, 32767}, {61000, 65535}}},
		{"IANA", 49152, 65535, []portRange{{10000, 49151}}},
		{"below the floor", 1024, 5000, []portRange{{10000, 65535}}},
		{"everything", 1024, 65535, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := candidates(tt.lo, tt.hi); !slices.Equal(got, tt.want) {
				t.Errorf("candidates(%d, %d) = %v, want %v", tt.lo, tt.hi, got, tt.want)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	if lo, hi, err := parsePortRange("32768\t60999\n"); lo != 32768 || hi != 60999 || err != nil {
		t.Errorf("= %d, %d, %v; want 32768, 60999", lo, hi, err)
	}
	for _, bad := range []string{"", "32768", "a b", "1 70000", "600 500"} {
		if _, _, err := parsePortRange(bad); err == nil {
			t.Errorf("parsePortRange(%q) accepted", bad)
		}
	}
}
