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

package echo

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestGoroutineEngine runs this package's tests again, in a child process,
// with every server on the goroutine engine, which the other platforms
// use, in place of the epoll engine, so that both engines pass the same
// tests on every run. Tests of the epoll worker's internals skip themselves
// there; the child's skips are listed in this test's log.
func TestGoroutineEngine(t *testing.T) {
	if *engineFlag != "" {
		t.Skipf("this process is the run with -echo.engine=%s", *engineFlag)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^Test", "-test.skip", "^TestGoroutineEngine$",
		"-test.count=1", "-test.timeout=10m", "-test.v", "-echo.engine=goroutine")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tests with the goroutine engine: %v\n%s", err, out)
	}
	var passed, skipped []string
	lines := bufio.NewScanner(bytes.NewReader(out))
	for lines.Scan() {
		if name, ok := strings.CutPrefix(lines.Text(), "--- PASS: "); ok {
			passed = append(passed, strings.Fields(name)[0])
		}
		if name, ok := strings.CutPrefix(lines.Text(), "--- SKIP: "); ok {
			skipped = append(skipped, strings.Fields(name)[0])
		}
	}
	if len(passed) == 0 {
		t.Fatalf("no test passed with the goroutine engine:\n%s", out)
	}
	t.Logf("goroutine engine: %d tests passed; skipped: %s", len(passed), strings.Join(skipped, " "))
}
