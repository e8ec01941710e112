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

package sched

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestYieldRunsTheQueuedGoroutine checks that Yield really passes through
// the scheduler: with one P, a goroutine started before it runs during the
// first yield. Without a pass through the scheduler it would wait for
// sysmon's preemption, 10 ms later, long after the loop has ended.
func TestYieldRunsTheQueuedGoroutine(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var ran atomic.Bool
	go ran.Store(true)
	for range 3 {
		Yield()
		if ran.Load() {
			return
		}
	}
	t.Fatal("a goroutine queued on the same P did not run during 3 yields")
}
