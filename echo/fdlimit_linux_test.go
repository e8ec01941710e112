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
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/sys/unix"
)

// fdChildEnv marks the child process of TestLastFileDescriptor.
const fdChildEnv = "ECHO_TEST_FD_CHILD"

// TestLastFileDescriptor runs an echo server, in a child process, with
// every file descriptor but one taken, and connects to it once. accept
// takes the last one. The goroutine engine needs no other and serves the
// connection; the epoll engine must duplicate the socket to take it from
// Go's poller, cannot, and closes it unserved. Either way /metrics must
// tell the truth: a connection served is accepted once, one closed
// unserved is not accepted (nor rejected: no DESIGN.md reason is the
// process's file limit, as with the accept that fails on the last
// descriptor), and it is logged. The child lowers its own file limit, so no
// other test shares it.
func TestLastFileDescriptor(t *testing.T) {
	if os.Getenv(fdChildEnv) != "" {
		fdChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestLastFileDescriptor$", "-test.count=1",
		"-echo.engine="+testEngine(t).String())
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	defer func() { _ = stdin.Close() }()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	address, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if err != nil || !ok {
		t.Fatalf("child: %q, %v; stderr:\n%s", line, err, stderr.String())
	}

	c := dial(t, address)
	served := exchange(c, 1) == nil
	if !served {
		readUntilClosed(t, c) // the server closed it: EOF or a reset
	}
	_ = c.Close()
	if _, err := io.WriteString(stdin, "report\n"); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	metrics := string(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v; stdout:\n%s\nstderr:\n%s", err, metrics, stderr.String())
	}

	// The epoll engine needs a second descriptor for the connection.
	if wantServed := testEngine(t) == EngineGoroutine; served != wantServed {
		t.Errorf("served = %v, want %v with the %s engine", served, wantServed, testEngine(t))
	}
	wantAccepted := "tcp_echo_server_accepted_total 0\n"
	if served {
		wantAccepted = "tcp_echo_server_accepted_total 1\n"
	}
	for _, want := range []string{wantAccepted, "tcp_echo_server_connections 0\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("served = %v; /metrics lacks %q:\n%s", served, want, metrics)
		}
	}
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "tcp_echo_server_rejected_total{") && !strings.HasSuffix(l, " 0") {
			t.Errorf("served = %v; %s, want 0", served, l)
		}
	}
	if !served && !strings.Contains(stderr.String(), `level=warn component=echo msg="cannot serve connection"`) {
		t.Errorf("no warning for the connection closed unserved; stderr:\n%s", stderr.String())
	}
}

// fdChild is TestLastFileDescriptor's child: it starts a server, takes
// every descriptor but one, prints "ready ADDRESS", and once a line comes
// on stdin, and the connection has ended, prints the server's metrics as
// /metrics shows them.
func fdChild(t *testing.T) {
	reg := prometheus.NewRegistry()
	logger := log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	s, err := New(testOptions(t, Options{ListenAddresses: []string{"127.0.0.1:0"}}), logger, reg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { errc <- s.Serve(context.Background()) }()
	defer func() {
		s.Shutdown()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	const limit = 256
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Fatal(err)
	}
	var fill []int
	for range limit {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EMFILE) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fill = append(fill, fd)
	}
	if len(fill) == 0 || len(fill) == limit {
		t.Fatalf("took %d descriptors under a limit of %d", len(fill), limit)
	}
	_ = unix.Close(fill[len(fill)-1]) // the one left for accept
	fill = fill[:len(fill)-1]
	defer func() {
		for _, fd := range fill {
			_ = unix.Close(fd)
		}
	}()

	fmt.Printf("ready %s\n", addr(t, s))
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	waitConnections(t, s, 0) // the parent has closed its connection
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(os.Stdout, mf); err != nil {
			t.Fatal(err)
		}
	}
}
