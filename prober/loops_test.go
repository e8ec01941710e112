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

package prober

import (
	"flag"
	"testing"
)

// loopFlag is the loop this process's tests run probers on. On Linux,
// TestBothLoops runs the tests again on the other one.
var loopFlag = flag.String("prober.loop", defaultTestLoop().String(),
	"the loop the prober tests run probers on: engine or goroutine")

func defaultTestLoop() Loop {
	if engineSupported {
		return LoopEngine
	}
	return LoopGoroutine
}

// testLoop returns the loop under test, as -prober.loop names it.
func testLoop(t testing.TB) Loop {
	t.Helper()
	switch *loopFlag {
	case LoopEngine.String():
		if !engineSupported {
			t.Fatal("-prober.loop=engine: this platform has no epoll engine")
		}
		return LoopEngine
	case LoopGoroutine.String():
		return LoopGoroutine
	}
	t.Fatalf("-prober.loop=%q: want engine or goroutine", *loopFlag)
	return 0
}

// testEngine returns the engine that probers under test run on, stopped
// when the test ends (after the probers the test stops in its cleanup),
// or nil when the tests run the goroutine loop. Start probers on it with
// startOn.
func testEngine(t testing.TB) *engine {
	t.Helper()
	if testLoop(t) != LoopEngine {
		return nil
	}
	e, err := newEngine()
	if err != nil {
		t.Fatalf("epoll engine: %v", err)
	}
	t.Cleanup(e.stop)
	return e
}

// newTestManager returns a Manager whose probers run on the loop under
// test, stopped when the test ends.
func newTestManager(t testing.TB, opts ManagerOptions) *Manager {
	t.Helper()
	opts.Loop = testLoop(t)
	m := NewManager(t.Context(), opts, nil)
	t.Cleanup(m.Stop)
	if (m.engine != nil) != (opts.Loop == LoopEngine) {
		t.Fatalf("Manager for the %v loop has an engine: %v", opts.Loop, m.engine != nil)
	}
	return m
}
