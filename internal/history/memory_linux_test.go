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

package history

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/procfs"
)

// TestMemoryPerTarget fills the history of 10 000 targets for the
// default 3 h of one-minute slots at a probe a second, and checks what
// that adds to the process: at most 2 KiB per target (issue 16). It
// counts the resident set (the off-heap blocks, paged in as they are
// written) plus the growth of the live Go heap once more, for the
// headroom the GC keeps above it (GOGC=100 lets the heap reach twice
// what is live before it collects).
func TestMemoryPerTarget(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory makes the resident set meaningless")
	}
	const targets = 10_000
	const probes = 3*3600 + 60 // every slot of the ring, and the reservoir, used
	rss0, heap0 := footprint(t)

	pool := NewPool(3*time.Hour, time.Minute)
	recs := make([]*Recorder, targets) // what probers hold: a pointer each
	for i := range recs {
		recs[i] = pool.NewRecorder()
	}
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < targets; i += workers {
				for s := range probes {
					at := t0.Add(time.Duration(s) * time.Second)
					if (s+i)%50 == 0 {
						recs[i].Lost(at)
					} else {
						recs[i].Reply(at, time.Millisecond+time.Duration((i*7919+s*104729)%5000)*time.Microsecond)
					}
				}
			}
		})
	}
	wg.Wait()

	rss1, heap1 := footprint(t)
	pts := recs[targets-1].Snapshot(nil, t0, t0.Add(probes*time.Second))
	runtime.KeepAlive(recs)
	if len(pts) != 180 || pts[0].Sent != 60 || pts[0].Lost == 0 || pts[0].RTT[P50] == 0 {
		t.Fatalf("the last target's history is %d points, the first %+v; want 180 full ones", len(pts), pts[0])
	}
	rss := float64(rss1-rss0) / targets
	heap := float64(heap1-heap0) / targets
	t.Logf("per target: %.0f bytes resident, of which %.0f on the Go heap; %.0f counting the GC's headroom", rss, heap, rss+heap)
	if rss+heap > 2048 {
		t.Errorf("history takes %.0f bytes per target (%.0f resident, %.0f on the heap), want at most 2048", rss+heap, rss, heap)
	}
}

// footprint returns the process's resident set and live Go heap, in
// bytes, after a full collection whose freed memory went back to the
// system.
func footprint(t *testing.T) (rss, heap int64) {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	self, err := procfs.Self()
	if err != nil {
		t.Fatal(err)
	}
	st, err := self.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return int64(st.ResidentMemory()), int64(ms.HeapAlloc)
}
