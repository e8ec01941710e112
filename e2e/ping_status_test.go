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

//go:build unix

package e2e

import (
	"bufio"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// pingStatus is the line Ctrl-\ (SIGQUIT) prints on standard error, as
// iputils' ping(8) prints "received/transmitted packets, loss".
var pingStatus = regexp.MustCompile(`(?m)^(\d+)/(\d+) probes, [0-9.]+% loss, min/avg/max/mdev = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms$`)

// TestPingSIGQUIT presses Ctrl-\ (SIGQUIT) during a ping, as ping(8)'s
// users do to see the counts so far: the ping prints a status line on
// standard error and keeps going, and Ctrl-C still ends it with its
// summary and exit code 0. It used to die of the signal with a dump of
// its goroutines, no summary, and exit code 2, a usage error's.
func TestPingSIGQUIT(t *testing.T) {
	addr := testenv.EchoServer(t)
	cmd := exec.Command(binary, "ping", "-i", "0.05", addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var all []string
	exited := func() {
		_ = cmd.Wait()
		t.Fatalf("ping exited, code %d:\n%s\nstderr:\n%.600s", cmd.ProcessState.ExitCode(), strings.Join(all, "\n"), stderr.String())
	}
	// replies waits for n more reply lines.
	replies := func(n int) {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for n > 0 {
			select {
			case l, ok := <-lines:
				if !ok {
					exited()
				}
				all = append(all, l)
				if pingReply.MatchString(l) {
					n--
				}
			case <-timeout:
				t.Fatalf("no replies:\n%s\nstderr:\n%s", strings.Join(all, "\n"), stderr.String())
			}
		}
	}
	replies(3)
	if err := cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	// The status line comes, and the ping goes on.
	replies(3)
	m := pingStatus.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr %q, want a status line matching %s", stderr.String(), pingStatus)
	}
	recv, _ := strconv.Atoi(m[1])
	sent, _ := strconv.Atoi(m[2])
	if recv < 3 || sent < recv || sent > recv+1 {
		t.Errorf("status %q: want the 3 replies seen before it, and at most one probe in flight", m[0])
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		all = append(all, l)
	}
	done := make(chan error)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ping did not exit on SIGINT")
	}
	text := strings.Join(all, "\n") + "\n"
	if err != nil || pingSummary.FindStringSubmatch(text) == nil || !pingRTT.MatchString(text) {
		t.Fatalf("exit %v; output:\n%s\nstderr:\n%s", err, text, stderr.String())
	}
}
