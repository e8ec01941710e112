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
// ports for processes under test to listen on (Port), TCP test servers on
// 127.0.0.1 (an original echo server; one of the extended protocol whose
// replies can be held and whose clock set off: ExtEchoServer; an original
// one that holds each reply as long as the test says, pipelined, and can
// leave a frame unanswered: HeldEchoServer), a decoder of /metrics bodies
// and a lookup of one series' value, a thread's nice value, and the rule for missing prerequisites: on
// a developer's machine the test skips and says what to install, in CI (CI
// set) it fails, because CI must provide everything.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
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

// Serve runs handle for every connection to a new 127.0.0.1 listener until
// the test ends, then closes the listener and the connections and waits for
// the handlers. It returns the listener's address.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		}
	})
	return ln.Addr().String()
}

// EchoServer runs a minimal echo server written from DESIGN.md's byte
// layout alone (not with the project's echo package): it reflects every
// 24-byte frame unchanged. It returns the server's address.
func EchoServer(t testing.TB) string {
	t.Helper()
	return Serve(t, Echo)
}

// Echo reflects every 24-byte frame read from c until c fails: the loop of
// EchoServer, for servers that also watch their connections.
func Echo(c net.Conn) {
	buf := make([]byte, 24)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// DecodeExposition decodes a /metrics body of format f, failing the test
// on the first error the format's parser reports.
func DecodeExposition(t testing.TB, body []byte, f expfmt.Format) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), f)
	var mfs []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return mfs
		}
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		mfs = append(mfs, mf)
	}
}

// Value returns the value of the first series of family name whose labels
// include want (a histogram's sample count), and whether there is one.
func Value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Get fetches u with the given request headers and returns the status code
// and the body; a failed request fails the test.
func Get(t testing.TB, u string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
