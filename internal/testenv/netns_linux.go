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
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netnsChildEnv names, in the environment of a test binary that
// RunInNetns runs inside a namespace, the namespace it runs in.
const netnsChildEnv = "TCPPING_TEST_NETNS"

// NetnsResolvConf is the /etc/resolv.conf of the namespaces RunInNetns
// makes: a DNS server on the namespace's own loopback (StartDnsmasq with
// listen 127.0.0.1).
const NetnsResolvConf = "nameserver 127.0.0.1\n"

// InNetns returns the namespace the test binary runs in when RunInNetns
// started it, or "".
func InNetns() string { return os.Getenv(netnsChildEnv) }

// RunInNetns runs the test named test of this test binary again, inside a
// new network namespace whose loopback is up and whose /etc/resolv.conf is
// NetnsResolvConf (ip netns exec mounts /etc/netns/NAME/resolv.conf over
// it), with the extra test flags args, and fails t if that test does not
// pass there. The test itself finds its namespace with InNetns and skips
// when it is empty. It needs root and ip (iproute2); without them it calls
// Unavailable. tag tells the namespaces of one process apart.
func RunInNetns(t *testing.T, tag, test string, args ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "%s needs root, for a network namespace with its own DNS server", test)
	}
	ip := LookPath(t, "ip", "iproute2")
	ns := fmt.Sprintf("tns%d%s", os.Getpid(), tag)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	SweepStaleNetns("tns")
	_ = exec.Command(ip, "netns", "del", ns).Run() // left over by a killed run of this pid
	run("netns", "add", ns)
	t.Cleanup(func() {
		// Whatever still runs in the namespace is this test's: stop it
		// before the namespace goes.
		if out, err := exec.Command(ip, "netns", "pids", ns).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				var pid int
				if _, err := fmt.Sscan(f, &pid); err == nil && pid != os.Getpid() {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if out, err := exec.Command(ip, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
		}
	})
	run("-n", ns, "link", "set", "lo", "up")

	etcNetns := "/etc/netns"
	_, statErr := os.Stat(etcNetns)
	dir := filepath.Join(etcNetns, ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
		if os.IsNotExist(statErr) {
			_ = os.Remove(etcNetns) // ours, if nobody else put anything in it
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(NetnsResolvConf), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	argv := append([]string{"netns", "exec", ns, os.Args[0],
		"-test.run=^" + test + "$", "-test.v", "-test.count=1", "-test.timeout=4m"}, args...)
	cmd := exec.CommandContext(ctx, ip, argv...)
	cmd.Env = append(os.Environ(), netnsChildEnv+"="+ns)
	out, err := cmd.CombinedOutput()
	t.Logf("inside namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("%s failed inside the namespace: %v", test, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("%s did not pass inside the namespace", test)
	}
}

// SweepStaleNetns deletes the network namespaces that test processes
// killed before their cleanup ran (a test timeout does that) left behind,
// after killing what still runs in them: those named prefix, a process ID
// and lowercase letters (a tag), whose process is gone, and their
// /etc/netns directories. Namespaces of processes that still run, this
// one's included, are left alone. It needs root and ip; without them it
// does nothing.
func SweepStaleNetns(prefix string) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	stale := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\d+)[a-z]+$`)
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		m := stale.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || unix.Kill(pid, 0) == nil {
			continue // ours, or its process still runs
		}
		if pids, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, f := range strings.Fields(string(pids)) {
				if pid, err := strconv.Atoi(f); err == nil {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
		_ = os.RemoveAll(filepath.Join("/etc/netns", name))
	}
}

// CheckResolvConf fails t unless /etc/resolv.conf is NetnsResolvConf: the
// test runs inside RunInNetns's namespace.
func CheckResolvConf(t testing.TB) {
	t.Helper()
	if b, err := os.ReadFile("/etc/resolv.conf"); err != nil || string(b) != NetnsResolvConf {
		t.Fatalf("/etc/resolv.conf in namespace %s is %q (%v), want %q", InNetns(), b, err, NetnsResolvConf)
	}
}

// InNamespace runs f on an OS thread that has joined the network
// namespace ns (made by ip netns add), so every socket f creates lives
// there; the sockets keep working from any goroutine afterwards. The
// thread is never returned to the Go scheduler: it exits with f's
// goroutine.
func InNamespace(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread dies with this goroutine
		h, err := os.Open(filepath.Join("/var/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := unix.Setns(int(h.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}
