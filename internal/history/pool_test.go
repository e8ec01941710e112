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
	"testing"
	"time"
)

// TestGarbageRecordersGiveTheirMemoryBack drops rounds of Recorders, as
// dynamic probers come and go, and checks that the Pool reuses their
// memory rather than taking more, and that a reused block starts empty.
func TestGarbageRecordersGiveTheirMemoryBack(t *testing.T) {
	const n = 500
	p := NewPool(3*time.Hour, time.Minute)
	fill := func(at time.Time) {
		for range n {
			r := p.NewRecorder()
			for k := range 5 {
				r.Reply(at.Add(time.Duration(k)*time.Minute), ms(9))
			}
		}
	}
	waitFree := func() {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			runtime.GC()
			p.mu.Lock()
			free := len(p.free)
			p.mu.Unlock()
			if free == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d garbage Recorders gave their memory back", free, n)
			}
			time.Sleep(time.Millisecond) // let the cleanup goroutine run
		}
	}
	fill(t0)
	waitFree()
	size := p.mem.Size()
	fill(t0.Add(time.Hour))
	waitFree()
	if got := p.mem.Size(); got != size {
		t.Errorf("the Pool holds %d bytes after a second round of %d Recorders, %d after the first", got, n, size)
	}

	r := p.NewRecorder()
	r.Reply(t0.Add(10*time.Minute), ms(1))
	r.Reply(t0.Add(13*time.Minute), ms(1))
	for i, w := range r.blk[:p.slots] {
		if w != 0 && i != ringIndex(t0.Add(10*time.Minute).Unix()/60, int64(p.slots)) {
			t.Fatalf("a reused block holds %#x at slot %d", w, i)
		}
	}
}
