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

package ping

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestPingStatus asks a running ping for its counts, as SIGQUIT does: a
// status line on stderr (a status object with --json) with the replies
// so far, and the ping goes on to its count.
func TestPingStatus(t *testing.T) {
	statusLine := regexp.MustCompile(`^(\d+)/(\d+) probes, [0-9.]+% loss, min/avg/max/mdev = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms\n$`)
	for _, asJSON := range []bool{false, true} {
		t.Run(map[bool]string{false: "text", true: "json"}[asJSON], func(t *testing.T) {
			addr := testenv.EchoServer(t)
			status := make(chan os.Signal)
			var stdout, stderr testenv.Buffer
			done := make(chan int)
			go func() {
				done <- Run(context.Background(), Options{Target: addr, Count: 30, Interval: 20 * time.Millisecond,
					JSON: asJSON, Status: status, Stdout: &stdout, Stderr: &stderr})
			}()
			deadline := time.Now().Add(10 * time.Second)
			for strings.Count(stdout.String(), `"type":"reply"`)+strings.Count(stdout.String(), " bytes from ") < 2 {
				if time.Now().After(deadline) {
					t.Fatalf("no 2 replies:\n%s%s", stdout.String(), stderr.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			select {
			case status <- syscall.SIGQUIT:
			case <-time.After(10 * time.Second):
				t.Fatal("the ping does not take a status request")
			}
			var code int
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ping did not end")
			}
			out, errs := stdout.String(), stderr.String()
			if code != ExitReplied || !strings.Contains(out, "30 probes transmitted, 30 received") &&
				!strings.Contains(out, `"transmitted":30,"received":30`) {
				t.Fatalf("exit code %d, want %d and all 30 probes: stdout:\n%s\nstderr:\n%s", code, ExitReplied, out, errs)
			}
			if !asJSON {
				if m := statusLine.FindStringSubmatch(errs); m == nil || num(t, m[1]) < 2 || num(t, m[1]) > num(t, m[2]) {
					t.Errorf("stderr %q, want one status line with the 2 replies seen, matching %s", errs, statusLine)
				}
				return
			}
			var e struct {
				Type                  string
				Transmitted, Received *float64
				RTT                   map[string]float64
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, `"type":"status"`) {
					if err := json.Unmarshal([]byte(l), &e); err != nil {
						t.Fatalf("line %q: %v", l, err)
					}
				}
			}
			if e.Type != "status" || e.Received == nil || *e.Received < 2 || *e.Transmitted < *e.Received || e.RTT["min_seconds"] <= 0 || errs != "" {
				t.Errorf("no status object with the 2 replies seen, or stderr %q:\n%s", errs, out)
			}
		})
	}
}
