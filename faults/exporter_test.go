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

package faults

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// exporter is a tcpping_exporter process running in a namespace, serving
// HTTP on webAddr there.
type exporter struct {
	name, ns string
	args     []string
	cmd      *exec.Cmd
	out      *testenv.Buffer
	done     chan struct{}
	client   *http.Client
}

// startExporter runs the binary in namespace ns with the config text cfg
// and extra flags, and waits until it answers HTTP. Cleanup kills it if it
// still runs, and fails the test if its output shows a panic or a data race.
func startExporter(t *testing.T, ns, name, cfg string, args ...string) *exporter {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".yml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--config.file=" + file, "--web.listen-address=" + webAddr}, args...)
	return launch(t, ns, name, args)
}

func launch(t *testing.T, ns, name string, args []string) *exporter {
	t.Helper()
	e := &exporter{
		name: name, ns: ns, args: args, out: &testenv.Buffer{}, done: make(chan struct{}),
		client: &http.Client{
			Timeout:   5 * time.Second,
			Transport: &http.Transport{DialContext: nsDialer(ns, netip.Addr{}), MaxIdleConnsPerHost: 1},
		},
	}
	// ip netns exec execs the binary in place, so the pid is the
	// exporter's own and signals reach it directly.
	e.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, binary}, args...)...)
	// Go's own resolver reads the hosts file ip netns exec mounts.
	// The race detector would otherwise linger a second at exit.
	e.cmd.Env = append(os.Environ(), "GODEBUG=netdns=go", "GORACE=atexit_sleep_ms=0")
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.cmd.Wait(); close(e.done) }()
	t.Cleanup(func() {
		if !e.exited() {
			_ = e.cmd.Process.Signal(syscall.SIGCONT)
			_ = e.cmd.Process.Kill()
			<-e.done
		}
		e.client.CloseIdleConnections()
		e.checkOutput(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", e.name, tail(e.out.String(), 60))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := e.client.Get("http://" + webAddr + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e
			}
		}
		if e.exited() || time.Now().After(deadline) {
			t.Fatalf("%s never answered HTTP: %v\n%s", name, err, e.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restart starts a new process with the same namespace and flags.
func (e *exporter) restart(t *testing.T) *exporter {
	t.Helper()
	return launch(t, e.ns, e.name, e.args)
}

func (e *exporter) exited() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

func (e *exporter) pid() int { return e.cmd.Process.Pid }

func (e *exporter) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := e.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: %v", sig, err)
	}
}

// kill sends SIGKILL and waits for the process to go.
func (e *exporter) kill(t *testing.T) {
	t.Helper()
	e.signal(t, syscall.SIGKILL)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		t.Fatal("process survived SIGKILL for 10s")
	}
	e.client.CloseIdleConnections()
}

// stop sends SIGTERM and requires a clean exit within 10 s.
func (e *exporter) stop(t *testing.T) {
	t.Helper()
	start := time.Now()
	e.signal(t, syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not exit within 10s of SIGTERM", e.name)
	}
	if code := e.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s exited with %d after SIGTERM, want 0", e.name, code)
	}
	t.Logf("%s: SIGTERM to exit in %v", e.name, time.Since(start).Round(time.Millisecond))
}

// checkOutput fails the test if the process panicked or the race detector
// reported a race.
func (e *exporter) checkOutput(t *testing.T) {
	out := e.out.String()
	for _, bad := range []string{"panic:", "WARNING: DATA RACE", "fatal error:"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s output contains %q:\n%s", e.name, bad, tail(out, 80))
			return
		}
	}
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// get fetches path from the exporter.
func (e *exporter) get(path string) (int, string, error) {
	resp, err := e.client.Get("http://" + webAddr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// scrape fetches and parses /metrics.
func (e *exporter) scrape() (metrics, error) {
	code, body, err := e.get("/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("/metrics: HTTP %d: %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	return metrics(mfs), err
}

// mustScrape is scrape for the test goroutine.
func (e *exporter) mustScrape(t *testing.T) metrics {
	t.Helper()
	m, err := e.scrape()
	if err != nil {
		t.Fatalf("%s: %v", e.name, err)
	}
	return m
}

// debug returns the debug page of the prober for (module, address).
func (e *exporter) debug(module, address string) (string, error) {
	q := url.Values{"target": {address}, "module": {module}, "debug": {"true"}}
	code, body, err := e.get("/probe?" + q.Encode())
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("debug page of %s %s: HTTP %d: %s", module, address, code, body)
	}
	return body, nil
}

// event is one line of a prober's recent connection events.
type event struct {
	at   time.Time
	text string
}

var eventLine = regexp.MustCompile(`(?m)^  (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)  (.*)$`)

// events returns the recent connection events of the prober for (module,
// address), from /probe?debug=true.
func (e *exporter) events(module, address string) ([]event, error) {
	body, err := e.debug(module, address)
	if err != nil {
		return nil, err
	}
	var evs []event
	for _, m := range eventLine.FindAllStringSubmatch(body, -1) {
		at, err := time.Parse("2006-01-02T15:04:05.000Z", m[1])
		if err != nil {
			return nil, err
		}
		evs = append(evs, event{at, m[2]})
	}
	return evs, nil
}
