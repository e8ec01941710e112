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
	"os"
	"os/exec"
	"testing"
)

// TestPortableLoop runs this package's tests again, in a child process,
// with the goroutine loop that other platforms use (run.go) in place of
// the epoll engine, so both loops pass the same tests on every CI run.
func TestPortableLoop(t *testing.T) {
	if !useEngine {
		t.Skip("this process is the goroutine-loop run")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^Test", "-test.skip", "^TestPortableLoop$",
		"-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "TCPPING_PROBER_LOOP=goroutine")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("prober tests with the goroutine loop: %v\n%s", err, out)
	}
	t.Logf("goroutine loop: %s", lastLine(out))
}

func lastLine(b []byte) string {
	s := string(b)
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
