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
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
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

// metrics is one parsed scrape.
type metrics map[string]*dto.MetricFamily

// get returns the value of the series of name whose labels include want
// (alternating names and values), or NaN if there is none. For a histogram
// it is the sample count.
func (m metrics) get(name string, want ...string) float64 {
	mf, ok := m[name]
	if !ok {
		return math.NaN()
	}
next:
	for _, s := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range s.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case s.GetCounter() != nil:
			return s.GetCounter().GetValue()
		case s.GetGauge() != nil:
			return s.GetGauge().GetValue()
		case s.GetHistogram() != nil:
			return float64(s.GetHistogram().GetSampleCount())
		case s.GetUntyped() != nil:
			return s.GetUntyped().GetValue()
		}
	}
	return math.NaN()
}

// targets returns the names of the targets on /metrics, each once.
func (m metrics) targets() []string {
	var names []string
	for _, s := range m["tcp_echo_sent_total"].GetMetric() {
		for _, lp := range s.GetLabel() {
			if lp.GetName() == "target" {
				names = append(names, lp.GetValue())
			}
		}
	}
	return slices.Compact(names) // a target's flows are consecutive
}

// stats are one target's series from one scrape.
type stats struct {
	sent, received, timeouts, inFlight, late, dropped, unexpected, retransmits float64
	connected, lastRTT, timeout                                                float64
	rttCount, rttSum                                                           float64
	// rttOver is how many observed RTTs exceeded each classic bucket bound.
	rttOver map[float64]float64
}

func (m metrics) target(name string) stats {
	s := stats{
		sent:        m.get("tcp_echo_sent_total", "target", name),
		received:    m.get("tcp_echo_received_total", "target", name),
		timeouts:    m.get("tcp_echo_timeouts_total", "target", name),
		inFlight:    m.get("tcp_echo_in_flight", "target", name),
		late:        m.get("tcp_echo_late_total", "target", name),
		dropped:     m.get("tcp_echo_dropped_total", "target", name),
		unexpected:  m.get("tcp_echo_unexpected_replies_total", "target", name),
		retransmits: m.get("tcp_echo_retransmits_total", "target", name),
		connected:   m.get("tcp_echo_connected", "target", name),
		lastRTT:     m.get("tcp_echo_last_rtt_seconds", "target", name),
		timeout:     m.get("tcp_echo_estimated_timeout_seconds", "target", name),
		rttOver:     map[float64]float64{},
	}
	for _, h := range m["tcp_echo_rtt_seconds"].GetMetric() {
		match := false
		for _, lp := range h.GetLabel() {
			match = match || lp.GetName() == "target" && lp.GetValue() == name
		}
		if !match {
			continue
		}
		hist := h.GetHistogram()
		s.rttCount = float64(hist.GetSampleCount())
		s.rttSum = hist.GetSampleSum()
		for _, b := range hist.GetBucket() {
			s.rttOver[b.GetUpperBound()] = s.rttCount - float64(b.GetCumulativeCount())
		}
	}
	return s
}

func (s stats) String() string {
	return fmt.Sprintf("sent %v received %v timeouts %v in_flight %v late %v dropped %v unexpected %v retransmits %v connected %v",
		s.sent, s.received, s.timeouts, s.inFlight, s.late, s.dropped, s.unexpected, s.retransmits, s.connected)
}

// checkHonest checks what must hold for every target on every scrape:
// the invariant sent == received + timeouts + in_flight, the in-flight
// bound of DESIGN.md, every late reply belongs to a probe counted as timed
// out, and the histogram holds exactly the received replies.
func checkHonest(m metrics, maxInFlight map[string]int) []string {
	var errs []string
	for _, name := range m.targets() {
		for _, s := range m.targetFlows(name) {
			errs = append(errs, checkStats(name, s, maxInFlight)...)
		}
	}
	return errs
}

// checkStats is checkHonest for the series of one target, or of one flow
// of a target of several flows.
func checkStats(name string, s stats, maxInFlight map[string]int) []string {
	var errs []string
	if s.sent != s.received+s.timeouts+s.inFlight {
		errs = append(errs, fmt.Sprintf("target %s: invariant broken: sent %v != received %v + timeouts %v + in_flight %v",
			name, s.sent, s.received, s.timeouts, s.inFlight))
	}
	if limit, ok := maxInFlight[name]; ok && s.inFlight > float64(limit) {
		errs = append(errs, fmt.Sprintf("target %s: in_flight %v above ceil(T/interval)+1 = %d", name, s.inFlight, limit))
	}
	if s.late > s.timeouts {
		errs = append(errs, fmt.Sprintf("target %s: late %v > timeouts %v: a late reply without a timed-out probe", name, s.late, s.timeouts))
	}
	if s.rttCount != s.received {
		errs = append(errs, fmt.Sprintf("target %s: histogram count %v != received %v", name, s.rttCount, s.received))
	}
	return errs
}

// sample is one scrape taken by a sampler.
type sample struct {
	at   time.Time
	took time.Duration
	m    metrics
}

// sampler scrapes an exporter every 500 ms in the background and checks
// every scrape with checkHonest, as long as the test runs.
type sampler struct {
	e           *exporter
	maxInFlight map[string]int

	stopOnce sync.Once
	stopc    chan struct{}
	done     chan struct{}

	mu      sync.Mutex
	samples []sample
	scrapes int
	errs    []string
	maxTook time.Duration
}

// sampleEvery is the period of background scrapes.
const sampleEvery = 500 * time.Millisecond

func newSampler(t *testing.T, e *exporter, maxInFlight map[string]int) *sampler {
	s := &sampler{e: e, maxInFlight: maxInFlight, stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(sampleEvery)
		defer tk.Stop()
		for {
			s.take()
			select {
			case <-s.stopc:
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(func() {
		s.stop()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, err := range s.errs {
			t.Error(err)
		}
		t.Logf("%s: %d scrapes checked, slowest %v", e.name, s.scrapes, s.maxTook.Round(time.Millisecond))
	})
	return s
}

// stop ends the background scrapes and waits for the last one.
func (s *sampler) stop() {
	s.stopOnce.Do(func() { close(s.stopc) })
	<-s.done
}

// take scrapes once and checks the result.
func (s *sampler) take() {
	if s.e.exited() {
		return
	}
	start := time.Now()
	m, err := s.e.scrape()
	took := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if !s.e.exited() {
			s.errs = append(s.errs, fmt.Sprintf("%s: scrape at %s: %v", s.e.name, start.Format("15:04:05.000"), err))
		}
		return
	}
	s.scrapes++
	s.maxTook = max(s.maxTook, took)
	s.errs = append(s.errs, checkHonest(m, s.maxInFlight)...)
	s.samples = append(s.samples, sample{at: start, took: took, m: m})
}

// last returns the most recent sample, waiting for the first one.
func (s *sampler) last(t *testing.T) sample {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.samples)
		var last sample
		if n > 0 {
			last = s.samples[n-1]
		}
		s.mu.Unlock()
		if n > 0 {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatal("no successful scrape in 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// since returns the samples taken at or after from.
func (s *sampler) since(from time.Time) []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sample
	for _, sm := range s.samples {
		if !sm.at.Before(from) {
			out = append(out, sm)
		}
	}
	return out
}

// waitFor waits until cond holds on a sample taken at or after from, and
// returns that sample; it fails the test after within.
func (s *sampler) waitFor(t *testing.T, what string, from time.Time, within time.Duration, cond func(metrics) bool) sample {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, sm := range s.since(from) {
			if cond(sm.m) {
				return sm
			}
		}
		if time.Now().After(deadline) {
			last := s.last(t)
			var state []string
			for _, name := range last.m.targets() {
				state = append(state, name+": "+last.m.target(name).String())
			}
			t.Fatalf("%s: not seen within %v of %s; last scrape:\n%s", what, within, from.Format("15:04:05.000"), strings.Join(state, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// resources are a process's goroutines and open files.
type resources struct{ goroutines, fds float64 }

func (m metrics) resources() resources {
	return resources{goroutines: m.get("go_goroutines"), fds: m.get("process_open_fds")}
}

// steadyResources returns the highest goroutine and open-file counts of
// four scrapes 200 ms apart: a scrape itself runs goroutines, so one
// reading varies by a few.
func steadyResources(t *testing.T, e *exporter) resources {
	t.Helper()
	var r resources
	for i := range 4 {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		now := e.mustScrape(t).resources()
		r = resources{goroutines: max(r.goroutines, now.goroutines), fds: max(r.fds, now.fds)}
	}
	return r
}

// waitResources waits until e's goroutines and open files are back to
// base, and fails the test after within.
func waitResources(t *testing.T, e *exporter, base resources, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m, err := e.scrape()
		if err == nil {
			r := m.resources()
			if r.goroutines <= base.goroutines && r.fds <= base.fds {
				t.Logf("%s: goroutines %v (start %v), open fds %v (start %v)", e.name, r.goroutines, base.goroutines, r.fds, base.fds)
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: goroutines %v (start %v), open fds %v (start %v): not back to their starting level within %v",
					e.name, r.goroutines, base.goroutines, r.fds, base.fds, within)
				return
			}
		} else if time.Now().After(deadline) {
			t.Errorf("%s: %v", e.name, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rss returns a process's resident set size in bytes, from /proc.
func rss(t *testing.T, pid int) float64 {
	t.Helper()
	r, err := rssOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var vmRSS = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`)

func rssOf(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := vmRSS.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	kb, err := strconv.ParseFloat(string(m[1]), 64)
	return kb * 1024, err
}
