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
	"testing"
	"time"

	"github.com/prometheus/procfs"
)

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

func rssOf(pid int) (float64, error) {
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return 0, err
	}
	st, err := proc.Stat()
	return float64(st.ResidentMemory()), err
}
