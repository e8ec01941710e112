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
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/sched"
	"github.com/tcpping/tcpping_exporter/internal/sockfd"
	"github.com/tcpping/tcpping_exporter/internal/wire"
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
	c := &econn{p: p, w: w, ctx: ctx, fd: -1, slot: -1, hidx: -1}
	p.done.Add(1)
	w.post(command{op: opAdd, c: c})
	e.watch(ctx)
	p.cancel = func() { w.post(command{op: opStop, c: c}) }
	return true
}

type op int

const (
	opAdd op = iota
	opStop
	opDialed
	opStopCtx
)

// command is how other goroutines talk to a worker.
type command struct {
	op op
	c  *econn
	r  dialResult
	fd int // the dialed socket, detached from r.conn
	// local and remote are the dialed connection's addresses.
	local, remote string
	ctx           context.Context // opStopCtx: the context that is done
}

// A worker wakes when its earliest prober falls due, with no slack, and
// serves every prober due by then. Waking up to 250 µs late to serve more
// probers per wake-up cost 35 % less CPU per probe at 10 000 probes/s, but
// the probes of a wake-up then left back to back and their replies queued
// behind each other at the echo server: at 10 000 targets a target's mean
// RTT grew with the number of others in its 250 µs (14.6 µs alone, 31 µs
// with seven), and the mean over all from about 16.5 to 24 µs. The exporter
// is there to measure the network, not its own bursts.

// wakeSlot marks the worker's eventfd in epoll event data.
const wakeSlot = -1

type worker struct {
	epfd, evfd int

	mu    sync.Mutex
	queue []command

	// Only the worker's goroutine touches what follows.
	probers []*econn // every prober of the worker not yet finished
	slots   []*econn // epoll event data holds the slot index
	gens    []int32  // and its generation, so stale events are ignored
	free    []int32
	timers  []*econn // min-heap on wake
	events  [128]unix.EpollEvent
	cmds    []command
	rx      rxScratch
	frame   [wire.FrameSize]byte // the probe being sent
	yielded time.Time            // when run last called sched.Yield
	// noPwait2 is set when the kernel lacks epoll_pwait2 (before 5.11):
	// sleeps are then rounded up to whole milliseconds.
	noPwait2 bool
}

func newWorker() (*worker, error) {
	epfd, evfd, err := sockfd.NewEpoll(wakeSlot)
	if err != nil {
		return nil, err
	}
	return &worker{epfd: epfd, evfd: evfd}, nil
}

// post queues a command and wakes the worker if the queue was empty (if it
// was not, a wake-up is already on its way).
func (w *worker) post(c command) {
	w.mu.Lock()
	wake := len(w.queue) == 0
	w.queue = append(w.queue, c)
	w.mu.Unlock()
	if wake {
		sockfd.Wake(w.evfd)
	}
}

func (w *worker) run() {
	for {
		now := time.Now()
		for len(w.timers) > 0 && !now.Before(w.timers[0].wake) {
			c := w.timers[0]
			c.onTimer(now)
			w.reschedule(c)
			now = time.Now()
		}
		timeout := time.Duration(-1)
		if len(w.timers) > 0 {
			timeout = w.timers[0].wake.Sub(now)
		}
		if now.Sub(w.yielded) >= sched.YieldEvery {
			w.yielded = now
			sched.Yield()
		}
		n := w.wait(timeout)
		if n == 0 {
			continue
		}
		now = time.Now()
		for i := range n {
			ev := &w.events[i]
			if ev.Fd == wakeSlot {
				w.commands(now)
				continue
			}
			c := w.slots[ev.Fd]
			if c == nil || w.gens[ev.Fd] != ev.Pad {
				continue // closed by an earlier event of this batch
			}
			if ev.Events&unix.EPOLLOUT != 0 {
				c.onWritable(now)
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 && c.fd >= 0 { // onWritable may have closed it
				c.onReadable(now)
			}
			w.reschedule(c)
		}
	}
}

// wait sleeps in epoll until an event or for timeout (< 0: no limit), with
// nanosecond resolution where the kernel has epoll_pwait2.
func (w *worker) wait(timeout time.Duration) int {
	for {
		var (
			n     uintptr
			errno unix.Errno
		)
		if !w.noPwait2 {
			var tsp *unix.Timespec
			if timeout >= 0 {
				ts := unix.NsecToTimespec(int64(timeout))
				tsp = &ts
			}
			n, _, errno = unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(w.epfd),
				uintptr(unsafe.Pointer(&w.events[0])), uintptr(len(w.events)),
				uintptr(unsafe.Pointer(tsp)), 0, 0)
			if errno == unix.ENOSYS {
				w.noPwait2 = true
				continue
			}
		} else {
			ms := -1
			if timeout >= 0 {
				ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
			}
			k, err := unix.EpollWait(w.epfd, w.events[:], ms)
			n = uintptr(max(k, 0))
			errno, _ = err.(unix.Errno)
		}
		switch errno {
		case 0:
			return int(n)
		case unix.EINTR:
			return 0
		default:
			panic("epoll_wait: " + errno.Error()) // EBADF, EFAULT, EINVAL: a bug
		}
	}
}

// commands runs the queued commands.
func (w *worker) commands(now time.Time) {
	sockfd.Drain(w.evfd)
	w.mu.Lock()
	w.cmds, w.queue = w.queue, w.cmds[:0]
	w.mu.Unlock()
	for i := range w.cmds {
		cmd := &w.cmds[i]
		c := cmd.c
		switch cmd.op {
		case opAdd:
			c.pidx = len(w.probers)
			w.probers = append(w.probers, c)
			c.init(c.p, now)
			c.plan()
			if c.ctx.Err() != nil {
				c.stop() // its context ended before it was added
			}
		case opStop:
			c.stop()
		case opDialed:
			c.dialed(now, cmd)
		case opStopCtx:
			// Backwards: a stopped prober's slot takes the last one,
			// which was already seen.
			for i := len(w.probers) - 1; i >= 0; i-- {
				if p := w.probers[i]; p.ctx == cmd.ctx {
					p.stop()
					w.reschedule(p)
				}
			}
			*cmd = command{}
			continue
		}
		w.reschedule(c)
		*cmd = command{}
	}
	if cap(w.cmds) > 1024 {
		w.cmds = nil // a burst of starts or stops is over: let it go
	}
}

// forget removes a finished prober from the worker.
func (w *worker) forget(c *econn) {
	last := len(w.probers) - 1
	w.probers[c.pidx] = w.probers[last]
	w.probers[c.pidx].pidx = c.pidx
	w.probers[last] = nil
	w.probers = w.probers[:last]
}

// register adds fd to the epoll set for c.
func (w *worker) register(c *econn, fd int) error {
	if len(w.free) == 0 {
		w.free = append(w.free, int32(len(w.slots)))
		w.slots = append(w.slots, nil)
		w.gens = append(w.gens, 0)
	}
	s := w.free[len(w.free)-1]
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: s, Pad: w.gens[s]}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	w.free = w.free[:len(w.free)-1]
	w.slots[s] = c
	c.slot = s
	return nil
}

// modify sets the events watched for c.
func (w *worker) modify(c *econn, events uint32) {
	ev := unix.EpollEvent{Events: events, Fd: c.slot, Pad: w.gens[c.slot]}
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

// unregister removes c's socket from the epoll set and frees its slot.
func (w *worker) unregister(c *econn) {
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	w.slots[c.slot] = nil
	w.gens[c.slot]++
	w.free = append(w.free, c.slot)
	c.slot = -1
}

// reschedule puts c at its place in the timer heap (out of it if it has
// no wake time).
func (w *worker) reschedule(c *econn) {
	switch {
	case c.wake.IsZero() && c.hidx >= 0:
		w.heapRemove(c.hidx)
	case c.wake.IsZero():
	case c.hidx < 0:
		c.hidx = len(w.timers)
		w.timers = append(w.timers, c)
		w.up(c.hidx)
	default:
		if !w.down(c.hidx) {
			w.up(c.hidx)
		}
	}
}

func (w *worker) heapRemove(i int) {
	h := w.timers
	last := len(h) - 1
	h[i].hidx = -1
	if i != last {
		h[i] = h[last]
		h[i].hidx = i
	}
	h[last] = nil
	w.timers = h[:last]
	if i != last {
		if !w.down(i) {
			w.up(i)
		}
	}
}

func (w *worker) less(i, j int) bool { return w.timers[i].wake.Before(w.timers[j].wake) }

func (w *worker) swap(i, j int) {
	h := w.timers
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}

func (w *worker) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !w.less(i, parent) {
			return
		}
		w.swap(i, parent)
		i = parent
	}
}

func (w *worker) down(i0 int) bool {
	i, n := i0, len(w.timers)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && w.less(r, l) {
			j = r
		}
		if !w.less(j, i) {
			break
		}
		w.swap(i, j)
		i = j
	}
	return i > i0
}
