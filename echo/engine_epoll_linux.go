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

package echo

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/sockfd"
)

// defaultWorkers is the number of epoll workers. One is the cheapest per
// echo: with two, each epoll_wait returns fewer events, both threads sleep
// and wake, and the CPU per echo rose from about 5.5µs to 8-12µs (1,000
// connections at 10,000 frames/s on 2 cores, against bench/floor/pinger;
// BenchmarkEchoCPU shows the same). One worker echoes far more frames per
// second than the probers this server is built for send.
const defaultWorkers = 1

// defaultEngine is the engine of Options.Engine's zero value: epoll.
const defaultEngine = EngineEpoll

// epollEngine serves every connection from one worker goroutine that owns
// an epoll set and makes direct read(2) and write(2) calls on non-blocking
// sockets (worker_linux.go; the package comment says why). Accept stays in
// Go (acceptLoop); each admitted connection is taken out of Go's netpoller
// (detach) and handed in turn to a worker, which owns it from then on.
type epollEngine struct {
	s       *Server
	workers []*worker
	next    atomic.Uint32 // round robin over workers
}

func newEpollEngine(s *Server) (engine, error) {
	return &epollEngine{s: s}, nil
}

// start creates the workers' epoll sets and starts their goroutines; s.mu
// is held. It may be called again and then does nothing.
func (e *epollEngine) start() error {
	if e.workers != nil {
		return nil
	}
	s := e.s
	n := s.opts.workers
	if n <= 0 {
		n = defaultWorkers
	}
	ws := make([]*worker, 0, n)
	for range n {
		w, err := newWorker(s)
		if err != nil {
			for _, w := range ws {
				w.closeFDs()
			}
			return fmt.Errorf("start epoll worker: %w", err)
		}
		ws = append(ws, w)
	}
	e.workers = ws
	s.wg.Add(len(ws))
	for _, w := range ws {
		go w.run()
	}
	return nil
}

// stop asks every worker to close its connections and exit; s.mu is held.
// Shutdown waits for them through s.wg.
func (e *epollEngine) stop() {
	for _, w := range e.workers {
		w.stop()
	}
}

// serve hands an admitted connection to a worker, which owns its slot from
// now on.
func (e *epollEngine) serve(c net.Conn) {
	remote := c.RemoteAddr()
	fd, err := sockfd.Detach(c)
	if err != nil {
		e.s.unserved(remote, err)
		return
	}
	ws := e.workers
	w := ws[int(e.next.Add(1)%uint32(len(ws)))]
	w.add(&conn{fd: fd, remote: remote})
}

// handoff is the part of a worker that other goroutines touch: connections
// handed to it and the request to stop, behind a mutex, and an eventfd to
// wake it. The eventfd is written only under mu and while the worker has
// not stopped, since the worker closes it once stopped is set. It is
// written when the queue goes from empty to not, so at most once between
// two takeQueue calls.
type handoff struct {
	mu       sync.Mutex
	queue    []*conn // handed over, not yet in the epoll set
	stopping bool    // Shutdown asked the worker to exit
	stopped  bool    // the worker has exited or is exiting: it takes no more
}

// add hands c to the worker, or closes it if the worker has stopped.
func (w *worker) add(c *conn) {
	w.h.mu.Lock()
	if w.h.stopped {
		w.h.mu.Unlock()
		w.s.unserved(c.remote, nil)
		_ = unix.Close(c.fd)
		return
	}
	if len(w.h.queue) == 0 {
		sockfd.Wake(w.evfd)
	}
	w.h.queue = append(w.h.queue, c)
	w.h.mu.Unlock()
}

// stop asks the worker to close its connections and exit.
func (w *worker) stop() {
	w.h.mu.Lock()
	if !w.h.stopped && !w.h.stopping {
		w.h.stopping = true
		sockfd.Wake(w.evfd)
	}
	w.h.mu.Unlock()
}

// takeQueue empties the eventfd and returns the connections handed over
// since the last call (in w.spare), and whether the worker must stop.
func (w *worker) takeQueue() (stop bool) {
	sockfd.Drain(w.evfd)
	w.h.mu.Lock()
	w.spare, w.h.queue = w.h.queue, w.spare[:0]
	stop = w.h.stopping
	w.h.mu.Unlock()
	return stop
}

// exit closes every connection of the worker, and those still queued for it,
// without counting them as rejected, then its epoll set and eventfd.
func (w *worker) exit() {
	for len(w.conns) > 0 {
		w.close(w.conns[len(w.conns)-1], reasonNone, nil)
	}
	w.h.mu.Lock()
	w.h.stopped = true
	queued := w.h.queue
	w.h.queue = nil
	w.h.mu.Unlock()
	for _, c := range queued {
		w.s.unserved(c.remote, nil)
		_ = unix.Close(c.fd)
	}
	w.closeFDs()
}

// closeFDs closes the worker's epoll set and eventfd.
func (w *worker) closeFDs() {
	_ = unix.Close(w.epfd)
	_ = unix.Close(w.evfd)
}
