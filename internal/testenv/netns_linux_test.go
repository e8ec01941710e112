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

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepStaleNetns leaves namespaces as a killed test run would, one
// with a process still inside, and checks that the sweep removes them and
// their /etc/netns directories, and nothing of a process that still runs.
func TestSweepStaleNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		Unavailable(t, "the sweep needs root, for network namespaces")
	}
	ip := LookPath(t, "ip", "iproute2")
	// A process ID that no process has now: one that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	gone := fmt.Sprintf("tsweep%da", dead.Process.Pid)
	busy := fmt.Sprintf("tsweep%db", dead.Process.Pid)
	mine := fmt.Sprintf("tsweep%da", os.Getpid())
	other := fmt.Sprintf("tsweepx%da", dead.Process.Pid) // not the pattern: prefix, digits, letters
	for _, ns := range []string{gone, busy, mine, other} {
		_ = exec.Command(ip, "netns", "del", ns).Run()
		if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v\n%s", ns, err, out)
		}
		t.Cleanup(func() { _ = exec.Command(ip, "netns", "del", ns).Run() })
	}
	etc := filepath.Join("/etc/netns", gone)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(etc) })
	// What a killed run left running in its namespace.
	sleeper := exec.Command(ip, "netns", "exec", busy, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	t.Cleanup(func() { _ = sleeper.Process.Kill() })

	SweepStaleNetns("tsweep")

	out, err := exec.Command(ip, "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		left[name] = true
	}
	for ns, want := range map[string]bool{gone: false, busy: false, mine: true, other: true} {
		if left[ns] != want {
			t.Errorf("namespace %s present after the sweep: %v, want %v", ns, left[ns], want)
		}
	}
	if _, err := os.Stat(etc); !os.IsNotExist(err) {
		t.Errorf("%s after the sweep: %v, want it removed", etc, err)
	}
	if err := <-exited; err == nil {
		t.Error("the process left in a stale namespace exited by itself; want it killed")
	}
}
