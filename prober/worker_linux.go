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
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sched"
	"github.com/tcpping/tcpping_exporter/internal/sockfd"
)

type op int

const (
	opAdd op = iota
	opStop
	opDialed
	opStopCtx
	opQuit
)

// command is how other goroutines talk to a worker.
type command struct {
	op op
	t  *task
	r  dialResult
	fd int // the dialed socket, detached from r.conn
	// local and remote are the dialed connection's addresses.
	local, remote string
	ctx           context.Context // opStopCtx: the context that is done
}

// wakeSlot marks the worker's eventfd in epoll event data.
const wakeSlot = -1

// worker is one goroutine of the engine, with its epoll set and the tasks
// it runs.
type worker struct {
	epfd, evfd int

	mu    sync.Mutex
	queue []command
	// closed: the worker has exited and closed its descriptors; commands
	// posted since are dropped.
	closed bool

	// Only the worker's goroutine touches what follows.
	tasks    []*task // every task of the worker not yet finished
	slots    []*task // epoll event data holds the slot index
	gens     []int32 // and its generation, so stale events are ignored
	free     []int32
	timers   []*task // min-heap on wakeAt
	events   [128]unix.EpollEvent
	cmds     []command
	quitting bool // asked to quit: it exits when its last task is done
	rx       rxScratch
	tx       txScratch
	yielded  time.Time // when run last called sched.Yield
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
// was not, a wake-up is already on its way). After the worker has exited,
// post does nothing.
func (w *worker) post(c command) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	wake := len(w.queue) == 0
	w.queue = append(w.queue, c)
	if wake {
		sockfd.Wake(w.evfd) // under the lock: the worker closes evfd under it
	}
}

// run is the worker's goroutine. It returns when it was asked to quit and
// its last task is done, having closed its epoll set.
func (w *worker) run() {
	defer w.close()
	for !w.quitting || len(w.tasks) > 0 {
		now := time.Now()
		for len(w.timers) > 0 && !now.Before(w.timers[0].wakeAt) {
			t := w.timers[0]
			t.onTimer(now)
			w.reschedule(t)
			now = time.Now()
		}
		timeout := time.Duration(-1)
		if len(w.timers) > 0 {
			timeout = w.timers[0].wakeAt.Sub(now)
		}
		if now.Sub(w.yielded) >= sched.YieldEvery {
			w.yielded = now
			sched.Yield()
		}
		if n := w.wait(timeout); n > 0 {
			w.dispatch(n, time.Now())
		}
	}
}

// dispatch serves the n events epoll returned.
func (w *worker) dispatch(n int, now time.Time) {
	for i := range n {
		ev := &w.events[i]
		if ev.Fd == wakeSlot {
			w.commands(now)
			continue
		}
		t := w.slots[ev.Fd]
		if t == nil || w.gens[ev.Fd] != ev.Pad {
			continue // closed by an earlier event of this batch
		}
		if ev.Events&unix.EPOLLOUT != 0 {
			t.onWritable(now)
		}
		in := ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0
		if ev.Events&unix.EPOLLERR != 0 && t.fd >= 0 && !t.onError() {
			in = true // the socket's own error: the read reports it
		}
		if in && t.fd >= 0 { // onWritable may have closed it
			t.onReadable(now)
		}
		w.reschedule(t)
	}
}

// close closes the epoll set and the eventfd, once the worker has exited.
func (w *worker) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.queue = nil
	_ = unix.Close(w.epfd)
	_ = unix.Close(w.evfd)
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
		switch cmd.op {
		case opAdd:
			w.add(cmd.t, now)
		case opStop:
			cmd.t.end()
		case opDialed:
			cmd.t.adopt(now, cmd)
		case opStopCtx:
			w.endAll(func(t *task) bool { return t.ctx == cmd.ctx })
		case opQuit:
			w.quitting = true
			w.endAll(func(*task) bool { return true })
		}
		if cmd.t != nil {
			w.reschedule(cmd.t)
		}
		*cmd = command{}
	}
	if cap(w.cmds) > 1024 {
		w.cmds = nil // a burst of starts or stops is over: let it go
	}
}

// add takes on a new task.
func (w *worker) add(t *task, now time.Time) {
	t.pidx = int32(len(w.tasks))
	w.tasks = append(w.tasks, t)
	t.init(t.p, now)
	t.plan()
	if w.quitting || t.ctx.Err() != nil {
		t.end() // its context ended, or the engine stopped, before it was added
	}
}

// endAll ends every task that match selects.
func (w *worker) endAll(match func(*task) bool) {
	// Backwards: an ended task's place takes the last one, which was
	// already seen.
	for i := len(w.tasks) - 1; i >= 0; i-- {
		if t := w.tasks[i]; match(t) {
			t.end()
			w.reschedule(t)
		}
	}
}

// forget removes a finished task from the worker.
func (w *worker) forget(t *task) {
	last := len(w.tasks) - 1
	w.tasks[t.pidx] = w.tasks[last]
	w.tasks[t.pidx].pidx = t.pidx
	w.tasks[last] = nil
	w.tasks = w.tasks[:last]
}

// register adds fd to the epoll set for t.
func (w *worker) register(t *task, fd int) error {
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
	w.slots[s] = t
	t.slot = s
	return nil
}

// modify sets the events watched for t.
func (w *worker) modify(t *task, events uint32) {
	ev := unix.EpollEvent{Events: events, Fd: t.slot, Pad: w.gens[t.slot]}
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, t.fd, &ev)
}

// unregister removes t's socket from the epoll set and frees its slot.
func (w *worker) unregister(t *task) {
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, t.fd, nil)
	w.slots[t.slot] = nil
	w.gens[t.slot]++
	w.free = append(w.free, t.slot)
	t.slot = -1
}
