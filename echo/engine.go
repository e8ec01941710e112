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
)

// Engine is how a Server serves the connections it admits. The engines
// behave alike on the wire, in the metrics and in their limits and
// timeouts; they differ in what an echo costs and in where they run.
type Engine int

const (
	// EngineDefault is the zero value: EngineEpoll on Linux, EngineGoroutine
	// elsewhere.
	EngineDefault Engine = iota
	// EngineGoroutine serves each connection from a goroutine of its own,
	// with blocking reads and writes under deadlines. It runs everywhere.
	EngineGoroutine
	// EngineEpoll serves every connection from one worker goroutine that
	// owns an epoll set and makes direct read(2) and write(2) calls, which
	// costs less CPU per echo. It runs on Linux only.
	EngineEpoll
)

// String returns the engine's name: "default", "goroutine" or "epoll".
func (e Engine) String() string {
	switch e {
	case EngineDefault:
		return "default"
	case EngineGoroutine:
		return "goroutine"
	case EngineEpoll:
		return "epoll"
	default:
		return fmt.Sprintf("Engine(%d)", int(e))
	}
}

// engine serves the connections a Server admits. The Server calls start and
// stop with its mutex held; the engine's goroutines are counted in its
// WaitGroup, for Shutdown to wait for.
type engine interface {
	// start prepares the engine to serve. It may be called again and then
	// does nothing.
	start() error
	// stop closes every connection and makes the engine's goroutines exit.
	stop()
	// serve takes on an admitted connection: from now on the engine owns
	// c and its slot, which it releases once c is closed.
	serve(c net.Conn)
}

// newEngine returns the engine opts.Engine names, which checkOptions has
// resolved and checked.
func newEngine(s *Server) (engine, error) {
	switch s.opts.Engine {
	case EngineGoroutine:
		return newGoroutineEngine(s), nil
	case EngineEpoll:
		return newEpollEngine(s)
	default:
		return nil, fmt.Errorf("engine %s: unknown", s.opts.Engine)
	}
}
