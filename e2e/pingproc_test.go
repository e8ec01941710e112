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
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// pingProcess is a ping run as at a terminal: its output read line by
// line as it comes, signals sent to it.
type pingProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	all    []string // the lines read so far
	stderr testenv.Buffer
}

// startPing starts `ping args...`, killed when the test ends.
func startPing(t *testing.T, args ...string) *pingProcess {
	t.Helper()
	p := &pingProcess{t: t, cmd: exec.Command(binary, append([]string{"ping"}, args...)...), lines: make(chan string)}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// replies waits up to 15 s for n more reply lines; the ping must not exit
// meanwhile.
func (p *pingProcess) replies(n int) {
	p.t.Helper()
	timeout := time.After(15 * time.Second)
	for n > 0 {
		select {
		case l, ok := <-p.lines:
			if !ok {
				_ = p.cmd.Wait()
				p.t.Fatalf("ping exited, code %d:\n%s\nstderr:\n%.600s", p.cmd.ProcessState.ExitCode(), strings.Join(p.all, "\n"), p.stderr.String())
			}
			p.all = append(p.all, l)
			if pingReply.MatchString(l) {
				n--
			}
		case <-timeout:
			p.t.Fatalf("no replies:\n%s\nstderr:\n%s", strings.Join(p.all, "\n"), p.stderr.String())
		}
	}
}

// signal sends sig to the ping.
func (p *pingProcess) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// interrupt sends SIGINT, as Ctrl-C does, and waits up to 10 s for the
// ping to exit; it returns all its output and what Wait returned.
func (p *pingProcess) interrupt() (string, error) {
	p.t.Helper()
	p.signal(os.Interrupt)
	for l := range p.lines {
		p.all = append(p.all, l)
	}
	done := make(chan error)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return strings.Join(p.all, "\n") + "\n", err
	case <-time.After(10 * time.Second):
		p.t.Fatal("ping did not exit on SIGINT")
		return "", nil
	}
}
