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

package prober

import (
	"context"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/go-kit/log/level"
)

// useEngine selects the epoll engine for probers started from now on. Only
// tests turn it off, to run the portable goroutine loop on Linux too
// (TCPPING_PROBER_LOOP=goroutine).
var useEngine = os.Getenv("TCPPING_PROBER_LOOP") != "goroutine"

// The engine runs probers without a goroutine each: a few workers, each
// owning an epoll set of non-blocking sockets and a timer heap of the
// probers it runs. A worker sleeps in epoll_wait until a reply arrives or
// its earliest prober falls due, and does the reads, writes and accounting
// itself. Against a goroutine per target this saves the Go scheduler's
// wake-ups (futex and netpoller calls) on every probe and every reply, and
// a goroutine stack per target. Dials still run in a transient goroutine
// through net.Dialer (DNS, source address, TOS); the connected socket is
// then handed to the worker.
type engine struct {
	workers []*worker
	next    atomic.Uint32

	mu sync.Mutex
	// watched holds the contexts probers were started with that are
	// not done yet: one watch per context, not per prober (a cancel
	// registration per prober would cost more than the prober).
	watched map[context.Context]struct{}
}

// watch stops every prober started with ctx when ctx is done. A prober
// added after that is stopped as it is added (see worker.commands).
func (e *engine) watch(ctx context.Context) {
	if ctx.Done() == nil {
		return
	}
	e.mu.Lock()
	_, ok := e.watched[ctx]
	if !ok {
		e.watched[ctx] = struct{}{}
	}
	e.mu.Unlock()
	if ok {
		return
	}
	context.AfterFunc(ctx, func() {
		e.mu.Lock()
		delete(e.watched, ctx)
		e.mu.Unlock()
		for _, w := range e.workers {
			w.post(command{op: opStopCtx, ctx: ctx})
		}
	})
}

// sharedEngine is started by the first prober and runs for the life of the
// process; idle workers block in epoll_wait and cost nothing.
var sharedEngine = sync.OnceValues(func() (*engine, error) {
	n := min(max(runtime.GOMAXPROCS(0)/2, 1), 8)
	e := &engine{watched: make(map[context.Context]struct{})}
	for range n {
		w, err := newWorker()
		if err != nil {
			return nil, err
		}
		e.workers = append(e.workers, w)
		go w.run()
	}
	return e, nil
})

// startEngine runs p on an engine worker, or in its own goroutine if the
// engine cannot start.
func (p *Prober) startEngine(ctx context.Context) bool {
	e, err := sharedEngine()
	if err != nil {
		level.Warn(p.logger()).Log("msg", "epoll engine unavailable, probing from a goroutine", "err", err)
		return false
	}
	w := e.workers[e.next.Add(1)%uint32(len(e.workers))]
	t := &task{w: w, ctx: ctx, fd: -1, slot: -1, hidx: -1}
	t.p = p
	p.done.Add(1)
	w.post(command{op: opAdd, t: t})
	e.watch(ctx)
	p.cancel = func() { w.post(command{op: opStop, t: t}) }
	return true
}
