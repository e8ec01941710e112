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
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// fileEntry is a config with one entry, "files", reading path. The refresh
// interval is long: changes must arrive through the file watch.
func fileEntry(path string) string {
	return fmt.Sprintf("discovery:\n  - name: files\n    file_sd_configs: [{files: [%q], refresh_interval: 5m}]\n", path)
}

// Changes reach the consumer within the refresh interval plus 10 s; a file
// watched by inotify is read at once, so the tests allow those 10 s.
const fileChange = 10 * time.Second

func TestFileAtomicRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000", "10.0.0.2:4000"}, "site", "ams"))
	h := newHarness(t, Self{})
	h.apply(fileEntry(path))
	u := h.waitTargets(fileChange, "files", "10.0.0.1:4000", "10.0.0.2:4000")
	if got := entryTargetsOf(u, "files")[0].Labels["site"]; got != "ams" {
		t.Errorf("label site = %q, want ams", got)
	}
	h.waitGauge(fileChange, 2, "tcpping_exporter_discovered_targets", "discovery", "files")

	for i, addrs := range [][]string{
		{"10.0.0.1:4000", "10.0.0.2:4000", "10.0.0.3:4000"},
		{"10.0.0.3:4000"},
		{"10.0.0.4:4000", "10.0.0.5:4000"},
	} {
		t.Run(fmt.Sprintf("rewrite %d", i+1), func(t *testing.T) {
			writeAtomic(t, path, jsonTargets(addrs, "site", "ams"))
			h.waitTargets(fileChange, "files", addrs...)
			h.waitGauge(fileChange, float64(len(addrs)), "tcpping_exporter_discovered_targets", "discovery", "files")
		})
	}
	if v, _ := h.gauge("tcpping_exporter_discovery_failing", "discovery", "files"); v != 0 {
		t.Errorf("failing = %v after atomic rewrites, want 0", v)
	}
	if n := h.countLog("failing"); n != 0 {
		t.Errorf("%d failure log lines after atomic rewrites, want 0:\n%s", n, h.logs.String())
	}
}

// TestStaticTargetWins checks that a discovered target whose module and
// address a static target has is not the entry's: the static one is
// probed, and tcpping_exporter_discovered_targets counts what the entry
// probes.
func TestStaticTargetWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000", "10.0.0.2:4000"}))
	h := newHarness(t, Self{})
	h.apply("targets:\n  - {name: pinned, address: \"10.0.0.1:4000\"}\n" + fileEntry(path))
	h.waitTargets(fileChange, "files", "10.0.0.2:4000")
	h.waitGauge(fileChange, 1, "tcpping_exporter_discovered_targets", "discovery", "files")
}

// TestTargetSpellingsAreOneTarget checks that two spellings of one
// endpoint are one target, as the Manager keys probers: a static target
// spelled otherwise still wins, and an entry keeps the first spelling it
// found, so tcpping_exporter_discovered_targets counts what is probed.
func TestTargetSpellingsAreOneTarget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "targets.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000", "10.0.0.2:4000", "[::ffff:10.0.0.2]:04000", "Echo.Example:4000", "echo.example:4000"}))
	h := newHarness(t, Self{})
	h.apply("targets:\n  - {name: pinned, address: \"[::FFFF:10.0.0.1]:04000\"}\n" + fileEntry(path))
	h.waitTargets(fileChange, "files", "10.0.0.2:4000", "Echo.Example:4000")
	h.waitGauge(fileChange, 2, "tcpping_exporter_discovered_targets", "discovery", "files")
}

func TestFileInPlaceHalfWritten(t *testing.T) {
	// A generator that rewrites the file in place leaves it half written
	// for a moment; the half is not valid JSON, so the source fails and
	// keeps its last good targets, and nothing is published until the
	// whole file is there.
	path := filepath.Join(t.TempDir(), "targets.json")
	before := []string{"10.0.0.1:4000", "10.0.0.2:4000"}
	writeAtomic(t, path, jsonTargets(before))
	h := newHarness(t, Self{})
	h.apply(fileEntry(path))
	h.waitTargets(fileChange, "files", before...)
	published := len(h.history())

	after := []string{"10.0.0.1:4000", "10.0.0.2:4000", "10.0.0.3:4000", "10.0.0.4:4000"}
	data := jsonTargets(after)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	h.waitGauge(fileChange, 1, "tcpping_exporter_discovery_failing", "discovery", "files")
	if n := h.countLog("level=warn", "discovery source failing", "targets.json"); n != 1 {
		t.Errorf("%d warnings for the half-written file, want 1:\n%s", n, h.logs.String())
	}
	if _, err := f.WriteString(data[len(data)/2:]); err != nil {
		t.Fatal(err)
	}
	h.waitTargets(fileChange, "files", after...)
	h.waitGauge(fileChange, 0, "tcpping_exporter_discovery_failing", "discovery", "files")
	if n := h.countLog("level=info", "discovery source recovered", "targets.json"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, h.logs.String())
	}
	// Prometheus' own lines come through, each time, at debug level.
	if n := h.countLog("level=debug", `msg="Error reading file"`, "discovery=files"); n < 1 {
		t.Errorf("Prometheus' error lines are not passed on at debug level:\n%s", h.logs.String())
	}
	if n := h.countLog("level=error"); n != 0 {
		t.Errorf("%d lines at error level, want none:\n%s", n, h.logs.String())
	}
	for _, u := range h.history()[published:] {
		if got := addresses(u, "files"); !slices.Equal(got, after) {
			t.Errorf("published %q while the file was half written; want only the whole file's %q", got, after)
		}
	}
}

func TestFileUnreadable(t *testing.T) {
	// The file's path becomes a directory (a symbolic link to one, renamed
	// over the file): opening works, reading fails with EISDIR, for root
	// too, which ignores file modes.
	dir := t.TempDir()
	path := filepath.Join(dir, "targets.json")
	good := []string{"10.0.0.1:4000", "10.0.0.2:4000"}
	writeAtomic(t, path, jsonTargets(good))
	h := newHarness(t, Self{})
	h.apply(fileEntry(path))
	h.waitTargets(fileChange, "files", good...)
	published := len(h.history())

	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".link")
	if err := os.Symlink("adir", link); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link, path); err != nil {
		t.Fatal(err)
	}
	h.waitGauge(fileChange, 1, "tcpping_exporter_discovery_failing", "discovery", "files")
	if n := h.countLog("level=warn", "discovery source failing", "is a directory"); n != 1 {
		t.Errorf("%d warnings naming the read error, want 1:\n%s", n, h.logs.String())
	}
	h.waitGauge(fileChange, 2, "tcpping_exporter_discovered_targets", "discovery", "files")
	if n := len(h.history()); n != published {
		t.Errorf("%d updates while the file was unreadable, want none: %v", n-published, h.history()[published:])
	}

	recovered := []string{"10.0.0.3:4000"}
	writeAtomic(t, path, jsonTargets(recovered))
	h.waitTargets(fileChange, "files", recovered...)
	h.waitGauge(fileChange, 0, "tcpping_exporter_discovery_failing", "discovery", "files")
}

func TestFileAnswers(t *testing.T) {
	// What counts as an answer (targets leave) and what as a failure
	// (targets stay), file by file.
	tests := []struct {
		name    string
		file    string
		change  func(t *testing.T, path string)
		leave   bool // the targets leave (an answer); else they stay (a failure)
		failing bool
	}{
		{"JSON with no targets", "t.json", func(t *testing.T, p string) { writeAtomic(t, p, "[]") }, true, false},
		{"JSON group without targets", "t.json", func(t *testing.T, p string) { writeAtomic(t, p, `[{"targets": []}]`) }, true, false},
		{"YAML with no targets", "t.yml", func(t *testing.T, p string) { writeAtomic(t, p, "[]\n") }, true, false},
		{"empty YAML file", "t.yml", func(t *testing.T, p string) { writeAtomic(t, p, "") }, true, false},
		{"file removed", "t.json", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, true, false},
		{"empty JSON file", "t.json", func(t *testing.T, p string) { writeAtomic(t, p, "") }, false, true},
		{"garbage JSON", "t.json", func(t *testing.T, p string) { writeAtomic(t, p, "{not json") }, false, true},
		{"JSON of the wrong shape", "t.json", func(t *testing.T, p string) { writeAtomic(t, p, `{"targets": ["a:1"]}`) }, false, true},
		{"YAML with an unknown key", "t.yml", func(t *testing.T, p string) { writeAtomic(t, p, "- targets: ['a:1']\n  lables: {}\n") }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			good := []string{"10.0.0.1:4000"}
			if filepath.Ext(tt.file) == ".yml" {
				writeAtomic(t, path, "- targets: ['10.0.0.1:4000']\n")
			} else {
				writeAtomic(t, path, jsonTargets(good))
			}
			h := newHarness(t, Self{})
			h.apply(fileEntry(path))
			h.waitTargets(fileChange, "files", good...)
			tt.change(t, path)
			if tt.leave {
				h.waitTargets(fileChange, "files")
				h.waitGauge(fileChange, 0, "tcpping_exporter_discovered_targets", "discovery", "files")
			} else {
				h.waitGauge(fileChange, 1, "tcpping_exporter_discovery_failing", "discovery", "files")
				if got := addresses(h.history()[len(h.history())-1], "files"); !slices.Equal(got, good) {
					t.Errorf("targets %q after a failure, want the last good %q", got, good)
				}
			}
			want := 0.0
			if tt.failing {
				want = 1
			}
			if v, _ := h.gauge("tcpping_exporter_discovery_failing", "discovery", "files"); v != want {
				t.Errorf("failing = %v, want %v", v, want)
			}
		})
	}
}

// TestFileFailingBesideEmptySibling checks that a file that stays
// unparsable stays failing, with its last good targets, while another file
// of the same glob is a valid empty list: the empty list's update does not
// say which file it came from, so it must not end the other's failure.
func TestFileFailingBesideEmptySibling(t *testing.T) {
	tests := []struct {
		name string
		good []string // what bad.json holds before it turns unparsable; nil: unparsable from the start
		// fixed is what bad.json holds in the end, fixedWant the targets
		// then; within is how soon the failure ends: an empty list is not
		// told apart from the sibling's, so that failure ends when the
		// file has not failed for twice the refresh interval plus 10 s.
		fixed     string
		fixedWant []string
		within    time.Duration
	}{
		{"unparsable from the start", nil, "[]", []string{}, 2*time.Second + 10*time.Second + fileChange},
		{"unparsable after holding targets", []string{"10.0.0.1:4000"}, jsonTargets([]string{"10.0.0.2:4000"}), []string{"10.0.0.2:4000"}, fileChange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			empty, bad := filepath.Join(dir, "a.json"), filepath.Join(dir, "bad.json")
			writeAtomic(t, empty, "[]")
			want := []string{}
			if tt.good != nil {
				writeAtomic(t, bad, jsonTargets(tt.good))
				want = tt.good
			} else {
				writeAtomic(t, bad, "{not json")
			}
			h := newHarness(t, Self{})
			// A short refresh interval: every second both files are read
			// again, the empty one sending its empty update.
			h.apply(fmt.Sprintf("discovery:\n  - name: files\n    file_sd_configs: [{files: [%q], refresh_interval: 1s}]\n", filepath.Join(dir, "*.json")))
			h.waitTargets(fileChange, "files", want...)
			if tt.good != nil {
				writeAtomic(t, bad, "{not json")
			}
			h.waitGauge(fileChange, 1, "tcpping_exporter_discovery_failing", "discovery", "files")
			// Several refreshes, and rewrites of the empty file.
			deadline := time.Now().Add(4 * time.Second)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for i := 0; time.Now().Before(deadline); i++ {
				if i%10 == 0 {
					writeAtomic(t, empty, "[]")
				}
				if v, _ := h.gauge("tcpping_exporter_discovery_failing", "discovery", "files"); v != 1 {
					t.Fatalf("failing = %v while bad.json is unparsable, want 1:\n%s", v, h.logs.String())
				}
				<-tick.C
			}
			if n := h.countLog("discovery source recovered"); n != 0 {
				t.Errorf("%d recovery lines while bad.json is unparsable, want 0:\n%s", n, h.logs.String())
			}
			if n := h.countLog("level=warn", "discovery source failing", "bad.json"); n != 1 {
				t.Errorf("%d failure lines for bad.json, want 1 (one streak):\n%s", n, h.logs.String())
			}
			if got := addresses(h.history()[len(h.history())-1], "files"); !slices.Equal(got, want) {
				t.Errorf("targets %q while bad.json is unparsable, want its last good %q", got, want)
			}
			writeAtomic(t, bad, tt.fixed)
			h.waitTargets(fileChange, "files", tt.fixedWant...)
			h.waitGauge(tt.within, 0, "tcpping_exporter_discovery_failing", "discovery", "files")
			if n := h.countLog("level=info", "discovery source recovered", "bad.json"); n != 1 {
				t.Errorf("%d recovery lines for bad.json, want 1:\n%s", n, h.logs.String())
			}
		})
	}
}
