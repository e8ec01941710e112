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

package sched

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkYield compares the CPU time of Yield and runtime.Gosched as an
// epoll worker uses them: after a 1 ms sleep in epoll_wait, while the
// process's other threads are parked. Gosched then wakes one of them to
// look for work; Yield does not. cpu-ns/op is the process's CPU time and
// switches/op its threads' context switches per sleep and yield, the
// sleep's own included.
func BenchmarkYield(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(epfd)
	events := make([]unix.EpollEvent, 1)
	for _, bm := range []struct {
		name  string
		yield func()
	}{
		{"Yield", Yield},
		{"Gosched", runtime.Gosched},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			before := usage(b)
			for b.Loop() {
				_, _ = unix.EpollWait(epfd, events, 1)
				bm.yield()
			}
			after := usage(b)
			cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
			switches := after.Nvcsw + after.Nivcsw - before.Nvcsw - before.Nivcsw
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(switches)/float64(b.N), "switches/op")
		})
	}
}

// usage is the process's resource usage, all its threads included.
func usage(b *testing.B) unix.Rusage {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru
}
