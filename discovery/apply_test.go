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

// Applying a config to a running Runner: reloads keep what did not change.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}, "site", "ams"))
	base := fmt.Sprintf("discovery:\n  - name: files\n    file_sd_configs: [{files: [%q]}]\n", path)
	h := newHarness(t, Self{})
	h.apply(base)
	h.waitTargets(fileChange, "files", "10.0.0.1:4000")
	src := h.firstSource("files")

	t.Run("unchanged config publishes nothing and keeps the source", func(t *testing.T) {
		n := len(h.history())
		h.apply(base)
		if got := len(h.history()); got != n {
			t.Errorf("%d updates for an unchanged config, want none", got-n)
		}
		if h.firstSource("files") != src {
			t.Error("the source was replaced")
		}
	})
	t.Run("new relabel rules apply at once, on the same source", func(t *testing.T) {
		h.apply(base + "    relabel_configs: [{source_labels: [site], target_label: dc}]\n")
		// ApplyConfig has published before it returned.
		got := entryTargetsOf(h.history()[len(h.history())-1], "files")
		if len(got) != 1 || got[0].Labels["dc"] != "ams" {
			t.Errorf("targets %+v right after ApplyConfig, want label dc=ams", got)
		}
		if h.firstSource("files") != src {
			t.Error("the source was replaced")
		}
	})
	t.Run("a new module for the entry applies at once", func(t *testing.T) {
		h.apply(modulesOnly + base + "    module: fast\n")
		got := entryTargetsOf(h.history()[len(h.history())-1], "files")
		if len(got) != 1 || got[0].Module != "fast" {
			t.Errorf("targets %+v right after ApplyConfig, want module fast", got)
		}
	})
	t.Run("removed entry leaves the update and the metrics", func(t *testing.T) {
		h.apply("")
		if got := h.history()[len(h.history())-1]; len(got.Entries) != 0 {
			t.Errorf("update %+v after removing the entry, want no entries", got)
		}
		for _, name := range []string{"tcpping_exporter_discovered_targets", "tcpping_exporter_discovery_failing", "prometheus_sd_discovered_targets"} {
			if _, ok := h.gauge(name, "discovery", "files"); ok {
				t.Errorf("%s{discovery=files} still exists", name)
			}
			if _, ok := h.gauge(name, "config", "files"); ok {
				t.Errorf("%s{config=files} still exists", name)
			}
		}
		h.r.mu.Lock()
		removed := src.removed
		h.r.mu.Unlock()
		if !removed {
			t.Error("the source of the removed entry still counts as running")
		}
	})
}

func TestReloadChangedSourceKeepsTargets(t *testing.T) {
	// The entry's source changes to an HTTP endpoint that takes its time:
	// the entry keeps its targets until the new source answers, so that a
	// consumer does not stop probers only to start them again.
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000", "10.0.0.2:4000"}))
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n", path))
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000", "10.0.0.2:4000")
	n := len(h.history())

	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, jsonTargets([]string{"10.0.0.2:4000", "10.0.0.3:4000"}))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    http_sd_configs: [{url: %q, refresh_interval: 5s}]\n", srv.URL))
	// Let the Runner publish whatever it would while the server holds
	// its answer: more than its quiet time.
	quietPassed := time.NewTimer(3 * defaultTiming().quiet)
	<-quietPassed.C
	if got := len(h.history()); got != n {
		t.Errorf("%d updates before the new source answered, want none: %v", got-n, h.history()[n:])
	}
	close(release)
	h.waitTargets(httpChange, "mesh", "10.0.0.2:4000", "10.0.0.3:4000")
}

func TestReloadGateEnds(t *testing.T) {
	// A new source that never answers: once the gate has ended, the
	// replaced source's last good targets stand in for it, as a failing
	// source's do, until it answers well.
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	// The server is made first, so that it closes after the Runner stops
	// (cleanups run last first): Close waits for the request it holds.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	h := newHarness(t, Self{})
	h.r.mu.Lock()
	h.r.timing.gate = time.Second
	h.r.mu.Unlock()
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n", path))
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000")

	n := len(h.history())
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    http_sd_configs: [{url: %q, refresh_interval: 30s}]\n", srv.URL))
	time.Sleep(3 * time.Second) // the gate of 1 s, and a publication's quiet time
	for _, u := range h.history()[n:] {
		if got := addresses(u, "mesh"); !slices.Equal(got, []string{"10.0.0.1:4000"}) {
			t.Errorf("targets %q while the new source has not answered, want the replaced one's last good", got)
		}
	}
	if v, _ := h.gauge("tcpping_exporter_discovered_targets", "discovery", "mesh"); v != 1 {
		t.Errorf("discovered_targets = %v after the gate, want the stand-in's 1", v)
	}
}

func TestApplyConfigError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	good := fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n", path)
	bad := good + "  - name: web\n    http_sd_configs: [{url: http://127.0.0.1:1/, tls_config: {ca_file: /nonexistent/ca.pem}}]\n"
	h := newHarness(t, Self{})
	h.apply(good)
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000")
	n := len(h.history())
	cfg := parseConfig(t, bad)
	for name, err := range map[string]error{"Check": Check(cfg), "ApplyConfig": h.r.ApplyConfig(cfg)} {
		if err == nil || !strings.Contains(err.Error(), `discovery "web": http_sd_configs[0]: `) || !strings.Contains(err.Error(), "ca.pem") {
			t.Errorf("%s: error %v, want one naming the entry, the source and the file", name, err)
		}
	}
	if got := len(h.history()); got != n {
		t.Errorf("a failed ApplyConfig published %d updates", got-n)
	}
	if h.firstSource("mesh").removed {
		t.Error("a failed ApplyConfig stopped the running source")
	}
	if err := Check(parseConfig(t, good)); err != nil {
		t.Errorf("Check of a good config: %v", err)
	}
}

func TestApplyBeforeRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	got := make(chan Update, 10)
	r, err := New(Options{Registerer: prometheus.NewRegistry(), OnUpdate: func(u Update) { got <- u }})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ApplyConfig(parseConfig(t, fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n", path))); err != nil {
		t.Fatal(err)
	}
	if u := <-got; len(u.Targets()) != 0 {
		t.Errorf("targets %v before Run, want none: nothing runs yet", u.Targets())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	timeout := time.After(fileChange)
	select {
	case u := <-got:
		if addrs := addresses(u, "mesh"); !slices.Equal(addrs, []string{"10.0.0.1:4000"}) {
			t.Errorf("targets %q once running", addrs)
		}
	case <-timeout:
		t.Error("no update once Run started")
	}
	if err := r.Run(ctx); err == nil {
		t.Error("a second Run while the first runs did not fail")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// firstSource returns the first source of the entry named name.
func (h *harness) firstSource(name string) *source {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	for _, e := range h.r.entries {
		if e.cfg.Name == name {
			return e.sources[0]
		}
	}
	h.t.Fatalf("no entry %q", name)
	return nil
}

// TestRunTwice checks that a Runner runs once: a second Run, whether the
// first is still stopping or has returned, fails at once and starts
// nothing (the discoverers of Prometheus are not made to run twice).
func TestRunTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	got := make(chan Update, 100)
	r, err := New(Options{Registerer: prometheus.NewRegistry(), OnUpdate: func(u Update) { got <- u }})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ApplyConfig(parseConfig(t, fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q]}]\n", path))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- r.Run(ctx) }()
	deadline := time.After(fileChange)
	for running := false; !running; {
		select {
		case u := <-got:
			running = len(u.Targets()) > 0
		case <-deadline:
			t.Fatal("no targets once Run started")
		}
	}
	// A second Run right as the first stops, then one after it returned.
	cancel()
	again := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrRunTwice) {
				t.Errorf("Run %s returned %v, want ErrRunTwice", what, err)
			}
		case <-time.After(time.Second):
			t.Errorf("Run %s did not return at once", what)
			cancel()
			<-done
		}
	}
	again("while the first stops")
	if err := <-first; err != nil {
		t.Errorf("first Run: %v", err)
	}
	again("after the first returned")
}

func TestReloadRenamedEntryKeepsTargets(t *testing.T) {
	// A reload renames the entry, its source unchanged: the update that
	// ApplyConfig publishes has the entry's targets under its new name,
	// not an empty entry until the source, made anew, answers.
	path := filepath.Join(t.TempDir(), "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	entry := func(name string) string {
		return fmt.Sprintf("discovery:\n  - name: %s\n    file_sd_configs: [{files: [%q]}]\n", name, path)
	}
	h := newHarness(t, Self{})
	h.apply(entry("mesh"))
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000")
	n := len(h.history())
	h.apply(entry("dc1"))
	for _, u := range h.history()[n:] {
		if got := addresses(u, "dc1"); len(got) != 1 || len(u.Entries) != 1 {
			t.Errorf("update %d after the rename: entries %+v, want dc1 with 10.0.0.1:4000 only", u.Seq, u.Entries)
		}
	}
	if got := len(h.history()) - n; got != 1 {
		t.Errorf("%d updates from ApplyConfig, want 1", got)
	}
	if _, ok := h.gauge("tcpping_exporter_discovered_targets", "discovery", "mesh"); ok {
		t.Error("tcpping_exporter_discovered_targets{discovery=mesh} still exists")
	}
	if src := h.firstSource("dc1"); src == nil || src.entry != "dc1" {
		t.Error("the renamed entry runs no source of its own name")
	}
}

func TestReloadMovedSourceKeepsTargets(t *testing.T) {
	// A reload moves a file from one entry to another: the update that
	// ApplyConfig publishes has its targets in their new entry, not
	// nowhere until the source, made anew there, answers.
	dir := t.TempDir()
	one, two, three := filepath.Join(dir, "1.json"), filepath.Join(dir, "2.json"), filepath.Join(dir, "3.json")
	writeAtomic(t, one, jsonTargets([]string{"10.0.0.1:4000"}))
	writeAtomic(t, two, jsonTargets([]string{"10.0.0.2:4000"}))
	writeAtomic(t, three, jsonTargets([]string{"10.0.0.3:4000"}))
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf("discovery:\n  - name: a\n    file_sd_configs: [{files: [%q]}, {files: [%q]}]\n  - name: b\n    file_sd_configs: [{files: [%q]}]\n", one, two, three))
	h.waitTargets(fileChange, "b", "10.0.0.3:4000")
	h.waitTargets(fileChange, "a", "10.0.0.1:4000", "10.0.0.2:4000")
	n := len(h.history())
	h.apply(fmt.Sprintf("discovery:\n  - name: a\n    file_sd_configs: [{files: [%q]}]\n  - name: b\n    file_sd_configs: [{files: [%q]}, {files: [%q]}]\n", one, three, two))
	for _, u := range h.history()[n:] {
		if a, b := addresses(u, "a"), addresses(u, "b"); fmt.Sprint(a) != "[10.0.0.1:4000]" || fmt.Sprint(b) != "[10.0.0.2:4000 10.0.0.3:4000]" {
			t.Errorf("update %d after the move: a %v, b %v; want a [10.0.0.1:4000], b [10.0.0.2:4000 10.0.0.3:4000]", u.Seq, a, b)
		}
	}
	if len(h.history()) == n {
		t.Error("no update from ApplyConfig")
	}
	// Once the moved source has answered in its new entry, its targets
	// are its own, the same.
	h.waitTargets(fileChange, "b", "10.0.0.2:4000", "10.0.0.3:4000")
}

// TestReloadToGlobMatchingNothing changes an entry's file to a glob that
// matches no file yet: Prometheus' file discoverer then sends nothing at
// all, which is its answer "no targets" (what the same config gives at
// start, and what removing every file gives), not a silence to wait out:
// the replaced file's targets leave, they do not stand in for ever.
func TestReloadToGlobMatchingNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000"}))
	h := newHarness(t, Self{})
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q], refresh_interval: 1s}]\n", path))
	h.waitTargets(fileChange, "mesh", "10.0.0.1:4000")

	empty := filepath.Join(dir, "new")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	h.apply(fmt.Sprintf("discovery:\n  - name: mesh\n    file_sd_configs: [{files: [%q], refresh_interval: 1s}]\n", filepath.Join(empty, "*.json")))
	h.waitTargets(fileChange, "mesh")
	h.waitGauge(fileChange, 0, "tcpping_exporter_discovered_targets", "discovery", "mesh")

	// A file the glob matches later brings its targets.
	writeAtomic(t, filepath.Join(empty, "a.json"), jsonTargets([]string{"10.0.0.2:4000"}))
	h.waitTargets(fileChange, "mesh", "10.0.0.2:4000")
}
