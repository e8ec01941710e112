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
	"regexp"
	"strconv"
	"syscall"
	"testing"

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
	p := startPing(t, "-i", "0.05", addr)
	p.replies(3)
	p.signal(syscall.SIGQUIT)
	// The status line comes, and the ping goes on.
	p.replies(3)
	m := pingStatus.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("stderr %q, want a status line matching %s", p.stderr.String(), pingStatus)
	}
	recv, _ := strconv.Atoi(m[1])
	sent, _ := strconv.Atoi(m[2])
	if recv < 3 || sent < recv || sent > recv+1 {
		t.Errorf("status %q: want the 3 replies seen before it, and at most one probe in flight", m[0])
	}
	text, err := p.interrupt()
	if err != nil || pingSummary.FindStringSubmatch(text) == nil || !pingRTT.MatchString(text) {
		t.Fatalf("exit %v; output:\n%s\nstderr:\n%s", err, text, p.stderr.String())
	}
}
