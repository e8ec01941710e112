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

package lowprio

import (
	"runtime"

	"golang.org/x/sys/unix"
)

func run(fn func() error) error {
	type result struct {
		err      error
		panic    any
		panicked bool
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the goroutine's end ends the thread, so no other
		// goroutine ever runs at this priority.
		runtime.LockOSThread()
		// If the kernel refuses, the work runs at normal priority: better
		// than not serving it.
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), Nice)
		r := result{panicked: true}
		defer func() {
			if r.panicked {
				r.panic = recover()
			}
			done <- r
		}()
		r.err = fn()
		r.panicked = false
	}()
	r := <-done
	if r.panicked {
		panic(r.panic)
	}
	return r.err
}
