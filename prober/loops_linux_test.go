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

package prober

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestBothLoops runs this package's tests again, in a child process, on
// the loop this process does not use (-prober.loop): the epoll engine and
// the portable goroutine loop pass the same tests on every go test run.
// The child must run every test: a skip, or no test at all, fails.
func TestBothLoops(t *testing.T) {
	other := LoopGoroutine
	if testLoop(t) == LoopGoroutine {
		other = LoopEngine
	}
	// TestResolveInterval runs both loops itself.
	args := []string{"-test.run", "^Test", "-test.skip", "^(TestBothLoops|TestResolveInterval)$",
		"-test.count=1", "-test.timeout=10m", "-test.v", "-prober.loop=" + other.String()}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	out, err := exec.Command(os.Args[0], args...).CombinedOutput()
	if err != nil {
		t.Fatalf("prober tests on the %v loop: %v\n%s", other, err, out)
	}
	var passed, skipped int
	for line := range bytes.Lines(out) {
		switch {
		case bytes.HasPrefix(line, []byte("--- PASS: Test")):
			passed++
		case bytes.Contains(line, []byte("--- SKIP: ")):
			skipped++
		}
	}
	if passed == 0 || skipped > 0 || bytes.Contains(out, []byte("no tests to run")) {
		t.Fatalf("prober tests on the %v loop: %d passed, %d skipped; every test must run on both loops\n%s",
			other, passed, skipped, out)
	}
	t.Logf("%v loop: %d tests passed", other, passed)
}
