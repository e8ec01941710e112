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
	"runtime"
	"sync"
	"sync/atomic"
)

// engineSupported reports whether this platform has the epoll engine.
const engineSupported = true

// engine runs probers without a goroutine each: a few workers, each
// owning an epoll set of non-blocking sockets and a timer heap of the
// probers it runs. A worker sleeps in epoll_wait until a reply arrives or
// its earliest prober falls due, and does the reads, writes and accounting
// itself. Against a goroutine per target this saves the Go scheduler's
// wake-ups (futex and netpoller calls) on every probe and every reply, and
// a goroutine stack per target. Dials still run in a transient goroutine
// through net.Dialer (DNS, source address, TOS); the connected socket is
// then handed to the worker.
//
// A worker wakes when its earliest prober falls due, with no slack, and
// serves every prober due by then. Waking up to 250 µs late to serve more
// probers per wake-up cost 35 % less CPU per probe at 10 000 probes/s, but
// the probes of a wake-up then left back to back and their replies queued
// behind each other at the echo server: at 10 000 targets a target's mean
// RTT grew with the number of others in its 250 µs (14.6 µs alone, 31 µs
// with seven), and the mean over all from about 16.5 to 24 µs. The exporter
// is there to measure the network, not its own bursts.
//
// A Manager creates its engine and stops it (see ManagerOptions.Loop);
// idle workers block in epoll_wait and cost nothing.
type engine struct {
	workers []*worker
	next    atomic.Uint32
	running sync.WaitGroup // the workers' goroutines

	mu      sync.Mutex
	stopped bool
	// watched holds the contexts probers were started with that are not
	// done yet, each with the function that stops watching it: one watch
	// per context, not per prober (a cancel registration per prober
	// would cost more than the prober).
	watched map[context.Context]func() bool
}

// newEngine starts an engine with a worker per two CPUs, at most eight.
func newEngine() (*engine, error) {
	n := min(max(runtime.GOMAXPROCS(0)/2, 1), 8)
	e := &engine{watched: make(map[context.Context]func() bool)}
	for range n {
		w, err := newWorker()
		if err != nil {
			e.stop()
			return nil, err
		}
		e.workers = append(e.workers, w)
		e.running.Go(w.run)
	}
	return e, nil
}

// start runs p on one of the engine's workers until ctx is done or p.Stop
// is called. Once the engine is stopped, start does nothing: p never
// runs, and its Stop returns at once.
func (e *engine) start(ctx context.Context, p *Prober) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	w := e.workers[e.next.Add(1)%uint32(len(e.workers))]
	t := &task{flow: flow{p: p}, w: w, ctx: ctx, fd: -1, slot: -1, hidx: -1}
	p.done.Add(1)
	w.post(command{op: opAdd, t: t})
	e.watch(ctx)
	p.cancel = func() { w.post(command{op: opStop, t: t}) }
}

// watch stops every prober started with ctx when ctx is done. A prober
// added after that is stopped as it is added (see worker.add). The caller
// holds e.mu.
func (e *engine) watch(ctx context.Context) {
	if ctx.Done() == nil {
		return
	}
	if _, ok := e.watched[ctx]; ok {
		return
	}
	e.watched[ctx] = context.AfterFunc(ctx, func() {
		e.mu.Lock()
		delete(e.watched, ctx)
		e.mu.Unlock()
		for _, w := range e.workers {
			w.post(command{op: opStopCtx, ctx: ctx})
		}
	})
}

// stop ends every prober still on the engine and returns when the
// workers have exited, their last dials returned and their sockets and
// epoll sets closed.
func (e *engine) stop() {
	e.mu.Lock()
	first := !e.stopped
	e.stopped = true
	watched := e.watched
	e.watched = nil
	e.mu.Unlock()
	if first {
		for _, unwatch := range watched {
			unwatch()
		}
		for _, w := range e.workers {
			w.post(command{op: opQuit})
		}
	}
	e.running.Wait()
}
