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

// Package sched keeps the engines' epoll workers on good terms with the Go
// runtime. A worker is a goroutine that spends its life in epoll_wait, a
// system call, and between calls runs only for microseconds. To the
// runtime's sysmon thread such a goroutine looks like one that never gives
// up its P: when a P has run the same goroutine for 10 ms without passing
// through the scheduler, sysmon preempts it and, as the goroutine is in a
// system call, takes its P away. The worker then has to win a P back after
// every wake-up for a while, and sysmon itself goes back to polling every
// 20 µs; together that cost more CPU than the echoes or probes. A worker
// therefore calls Yield every YieldEvery.
package sched

import (
	"time"
	_ "unsafe" // for go:linkname
)

// YieldEvery is how often a worker calls Yield: within sysmon's 10 ms
// preemption horizon, and as rarely as keeps it quiet.
const YieldEvery = 8 * time.Millisecond

// Yield passes the calling goroutine through the scheduler: it goes to the
// back of its own P's run queue and runs again once the goroutines queued
// there before it have had their turn, usually at once.
//
// runtime.Gosched would do, but it queues the goroutine on the global run
// queue and wakes an idle thread to look for work, which finds none or
// takes the goroutine over: a thread wake-up per yield, measured at about
// 0.5 µs per echo at 10 000 echoes/s. The runtime's own goyield, which
// sync.Mutex uses for its hand-offs, does the same without the wake-up.
// The runtime keeps it reachable by go:linkname (go.dev/issue/67401), and
// a Go release that dropped it would fail to link this package, not
// misbehave.
func Yield() { goyield() }

//go:linkname goyield runtime.goyield
func goyield()
