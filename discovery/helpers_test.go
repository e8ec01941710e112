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

package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	slgk "github.com/tjhop/slog-gokit"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// harness is a Runner under test with what it reports: every update, its
// log lines, its registry.
type harness struct {
	t       *testing.T
	r       *Runner
	reg     *prometheus.Registry
	logs    *testenv.Buffer
	updates chan Update // every update, in order
	mu      sync.Mutex
	last    Update
	all     []Update
}

// newHarness returns a harness whose Runner runs until the test ends. self
// configures exclude_self and peers; its InterfaceAddrs defaults to none.
func newHarness(t *testing.T, self Self) *harness {
	t.Helper()
	h := &harness{t: t, reg: prometheus.NewRegistry(), logs: &testenv.Buffer{}, updates: make(chan Update, 1000)}
	if self.InterfaceAddrs == nil {
		self.InterfaceAddrs = func() ([]net.Addr, error) { return nil, nil }
	}
	logger := log.NewLogfmtLogger(h.logs)
	r, err := New(Options{
		Logger:      logger,
		SlogHandler: slgk.NewGoKitHandler(logger, slog.LevelDebug),
		Registerer:  h.reg,
		OnUpdate: func(u Update) {
			h.mu.Lock()
			if u.Seq <= h.last.Seq && h.last.Seq != 0 {
				t.Errorf("update %d after update %d", u.Seq, h.last.Seq)
			}
			h.last = u
			h.all = append(h.all, u)
			h.mu.Unlock()
			select {
			case h.updates <- u:
			default:
				t.Error("more than 1000 updates")
			}
		},
		Self: self,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return within 30 s of its context ending")
		}
		if t.Failed() {
			t.Logf("log:\n%s", h.logs.String())
		}
	})
	return h
}

// apply applies the config yml.
func (h *harness) apply(yml string) {
	h.t.Helper()
	if err := h.r.ApplyConfig(parseConfig(h.t, yml)); err != nil {
		h.t.Fatal(err)
	}
}

// waitUpdate waits up to timeout for an update that ok accepts and returns
// it; it fails the test if none comes.
func (h *harness) waitUpdate(timeout time.Duration, what string, ok func(Update) bool) Update {
	h.t.Helper()
	h.mu.Lock()
	if h.last.Seq != 0 && ok(h.last) {
		defer h.mu.Unlock()
		return h.last
	}
	h.mu.Unlock()
	deadline := time.After(timeout)
	for {
		select {
		case u := <-h.updates:
			if ok(u) {
				return u
			}
		case <-deadline:
			h.mu.Lock()
			defer h.mu.Unlock()
			h.t.Fatalf("no update within %s with %s; last: %v", timeout, what, addresses(h.last, ""))
			return Update{}
		}
	}
}

// waitTargets waits for entry's addresses to be want (sorted).
func (h *harness) waitTargets(timeout time.Duration, entry string, want ...string) Update {
	h.t.Helper()
	slices.Sort(want)
	return h.waitUpdate(timeout, fmt.Sprintf("%s = %q", entry, want), func(u Update) bool {
		return slices.Equal(addresses(u, entry), want)
	})
}

// addresses returns the sorted addresses of entry's targets in u, or of
// every entry's if entry is empty.
func addresses(u Update, entry string) []string {
	out := []string{}
	for _, e := range u.Entries {
		if entry != "" && e.Name != entry {
			continue
		}
		for _, t := range e.Targets {
			out = append(out, t.Address)
		}
	}
	slices.Sort(out)
	return out
}

// updates returns every update so far.
func (h *harness) history() []Update {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.all)
}

// gauge returns the value of the gauge name with the given label values
// (name=value pairs), as a scrape would show it, and whether it exists.
func (h *harness) gauge(name string, labelPairs ...string) (float64, bool) {
	h.t.Helper()
	return h.value(name, labelPairs...)
}

// value returns the value of the gauge or counter name with the given label
// values (name=value pairs), and whether it exists.
func (h *harness) value(name string, labelPairs ...string) (float64, bool) {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labelPairs) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue(), true
				}
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// hasLabels reports whether m has every name=value pair.
func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == pairs[i] && lp.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// waitGauge waits up to timeout for the gauge to have value want.
func (h *harness) waitGauge(timeout time.Duration, want float64, name string, labelPairs ...string) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got, ok := h.gauge(name, labelPairs...)
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s%q = %v (exists: %v) after %s, want %v", name, labelPairs, got, ok, timeout, want)
		}
		<-tick.C
	}
}

// countLog counts the log lines that contain every one of subs.
func (h *harness) countLog(subs ...string) int {
	n := 0
	for _, line := range strings.Split(h.logs.String(), "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all && line != "" {
			n++
		}
	}
	return n
}

// writeAtomic writes data to path through a temporary file and a rename,
// as a well-behaved generator of file_sd files does. The temporary file is
// made outside path's directory (on the same file system), so that the
// discoverer, which watches the directory, sees the rename alone.
func writeAtomic(t *testing.T, path, data string) {
	t.Helper()
	if err := writeAtomicErr(path, data); err != nil {
		t.Fatal(err)
	}
}

// writeAtomicErr is writeAtomic for goroutines other than the test's,
// which may not call t.Fatal: it returns the error.
func writeAtomicErr(path, data string) error {
	dir, err := os.MkdirTemp(filepath.Dir(filepath.Dir(path)), "tmp")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// jsonTargets returns a file_sd / http_sd JSON document: one group with the
// addresses and the group labels (name, value pairs).
func jsonTargets(addrs []string, groupLabels ...string) string {
	quoted := make([]string, len(addrs))
	for i, a := range addrs {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	var labels []string
	for i := 0; i+1 < len(groupLabels); i += 2 {
		labels = append(labels, fmt.Sprintf("%q: %q", groupLabels[i], groupLabels[i+1]))
	}
	return fmt.Sprintf(`[{"targets": [%s], "labels": {%s}}]`, strings.Join(quoted, ", "), strings.Join(labels, ", "))
}

// modulesOnly is a config fragment with a second module.
const modulesOnly = "modules:\n  fast: {interval: 100ms}\n"

// entryTargetsOf returns the targets of entry in u.
func entryTargetsOf(u Update, entry string) []config.Target {
	for _, e := range u.Entries {
		if e.Name == entry {
			return e.Targets
		}
	}
	return nil
}
