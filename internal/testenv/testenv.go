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

// Package testenv holds what the tests of several packages share: building
// the binary under test, a buffer a process writes while a test reads it,
// and the rule for missing prerequisites: on a developer's machine the test
// skips and says what to install, in CI (CI set) it fails, because CI must
// provide everything.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Module is the import path of the binary under test.
const Module = "github.com/tcpping/tcpping_exporter"

// Build builds tcpping_exporter into dir, with the race detector if race,
// and returns its path. Build output goes to stderr.
func Build(dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "tcpping_exporter")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, Module)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

// InCI reports whether the tests run in CI.
func InCI() bool { return os.Getenv("CI") != "" }

// Unavailable skips t because a prerequisite is missing, or fails it in CI.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatal(msg + "; CI must provide it")
	}
	t.Skip(msg)
}

// LookPath returns the path of command cmd, from Debian package pkg, or
// calls Unavailable.
func LookPath(t testing.TB, cmd, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(cmd)
	if err != nil {
		Unavailable(t, "%s not installed (Debian package %s)", cmd, pkg)
	}
	return p
}

// Buffer is a bytes.Buffer that a process may write while a test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
