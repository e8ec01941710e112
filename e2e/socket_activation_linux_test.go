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

package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// activationEnv returns the test's environment without systemd's socket
// activation variables, plus extra.
func activationEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LISTEN_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startActivated runs the exporter as systemd runs a socket-activated
// service: ln's socket is its fd 3, LISTEN_FDS=1, and LISTEN_PID is the
// exporter's own pid. That pid is known only once the process exists, so
// a shell sets it to its own and execs the exporter, which keeps the pid.
// The test's copy of the socket is closed: the exporter holds the only one.
func startActivated(t *testing.T, dir string, ln *net.TCPListener, args ...string) *process {
	t.Helper()
	f, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("/bin/sh", append([]string{"-c", `export LISTEN_PID=$$; exec "$@"`, "sh", binary}, args...)...)
	cmd.Dir = dir
	cmd.Env = activationEnv("LISTEN_FDS=1")
	cmd.ExtraFiles = []*os.File{f} // fd 3, systemd's SD_LISTEN_FDS_START
	p := startCommand(t, cmd)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// refused reports whether a TCP connection to addr is refused.
func refused(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s accepts connections", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("dialing %s: %v, want connection refused", addr, err)
	}
	return nil
}

// TestSystemdSocketActivation runs the binary with --web.systemd-socket
// on a listening socket passed as systemd passes it, and checks that it
// serves /metrics there and not on --web.listen-address.
func TestSystemdSocketActivation(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := l.(*net.TCPListener)
	activated := ln.Addr().String()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	unused := "127.0.0.1:" + strconv.Itoa(web)
	cfg := writeFile(t, dir, "tcpping.yml", selfConfig(echoPort))
	p := startActivated(t, dir, ln, "--config.file="+cfg, "--web.systemd-socket",
		"--web.listen-address="+unused,
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))

	url := "http://" + activated + "/metrics"
	self := map[string]string{"target": "self", "address": fmt.Sprintf("127.0.0.1:%d", echoPort), "module": "default", "site": "local"}
	waitMetric(t, http.DefaultClient, url, "tcp_echo_received_total", self, 3)

	// Up and serving: had it opened --web.listen-address, it would by now.
	if err := refused(unused); err != nil {
		t.Errorf("--web.listen-address with --web.systemd-socket: %v", err)
	}
	logs := p.stderr.String()
	if !strings.Contains(logs, "Listening on systemd activated listeners") {
		t.Errorf("log does not say it uses systemd's listeners")
	}
	if !regexp.MustCompile(`msg="Listening on" address=` + regexp.QuoteMeta(activated) + `(\s|$)`).MatchString(logs) {
		t.Errorf("log does not say it listens on %s", activated)
	}
	if regexp.MustCompile(`address=` + regexp.QuoteMeta(unused) + `(\s|$)`).MatchString(logs) {
		t.Errorf("log names --web.listen-address %s", unused)
	}

	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	// The exporter held the socket's only copy: gone with it.
	if err := refused(activated); err != nil {
		t.Errorf("after exit: %v", err)
	}
}

// TestSystemdSocketActivationWithoutSocket checks what a user who sets
// --web.systemd-socket outside socket activation sees: a prompt exit with
// code 1 and a message that says what is missing, not a hang and not a
// listener on --web.listen-address. Socket activation passed to another
// process (LISTEN_PID not the exporter's, as when a wrapper forks it) is
// the same case: systemd's protocol says to ignore it.
func TestSystemdSocketActivationWithoutSocket(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"no LISTEN_FDS", nil},
		{"LISTEN_PID of another process", []string{"LISTEN_FDS=1", "LISTEN_PID=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			web, echoPort := testenv.Port(t), testenv.Port(t)
			unused := "127.0.0.1:" + strconv.Itoa(web)
			cfg := writeFile(t, dir, "tcpping.yml", selfConfig(echoPort))
			cmd := exec.Command(binary, "--config.file="+cfg, "--web.systemd-socket",
				"--web.listen-address="+unused,
				"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))
			cmd.Dir = dir
			cmd.Env = activationEnv(tc.env...)
			p := startCommand(t, cmd)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				if err := refused(unused); err == nil {
					t.Errorf("still running after 10s; nothing on --web.listen-address")
				} else {
					t.Errorf("still running after 10s: %v", err)
				}
				t.FailNow()
			}
			if code := p.cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			const want = `err="web server: no socket activation file descriptors found"`
			if logs := p.stderr.String(); !strings.Contains(logs, want) {
				t.Errorf("log has no %s:\n%s", want, logs)
			}
		})
	}
}
