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

package web

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/loglimit"
)

// ConnLimit caps the HTTP connections open at once
// (--web.max-connections): beyond it a new connection is closed as soon
// as it is accepted, as the echo server does beyond
// --echo.max-connections. The HTTP server shares the process's file
// descriptors with the echo server and the probers; without a cap, a
// client that opens connections as fast as the header timeout closes
// them holds every descriptor, and no prober can dial nor echo client
// connect. Its ConnState method is the http.Server's ConnState hook, so
// the cap holds on every listener exporter-toolkit opens (addresses,
// systemd sockets), TLS or not.
type ConnLimit struct {
	max      int64 // 0: no cap
	open     atomic.Int64
	rejected sync.Map // net.Conn: closed by the cap, not yet reported closed
	logger   log.Logger
	limit    loglimit.Limiter
}

// NewConnLimit returns a ConnLimit of max connections; 0 means no cap.
func NewConnLimit(max int, logger log.Logger) *ConnLimit {
	return &ConnLimit{max: int64(max), logger: logger}
}

// ConnState counts a connection from its StateNew to its StateClosed (or
// StateHijacked), and closes a new one that would exceed the cap; the
// server then sees it fail and reports it closed. Rejected connections
// do not count: a burst of them does not keep out a client that comes
// while they are being closed.
func (l *ConnLimit) ConnState(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		if n := l.open.Add(1); l.max > 0 && n > l.max {
			l.open.Add(-1)
			l.rejected.Store(c, struct{}{})
			l.reject(c)
		}
	case http.StateClosed, http.StateHijacked:
		if _, ok := l.rejected.LoadAndDelete(c); !ok {
			l.open.Add(-1)
		}
	}
}

// reject logs (rate-limited, as the echo server logs the connections it
// refuses) and closes a connection beyond the cap.
func (l *ConnLimit) reject(c net.Conn) {
	lvl := level.Debug
	if l.limit.Allow(time.Now()) {
		lvl = level.Warn
	}
	lvl(l.logger).Log("msg", "connection rejected", "remote_addr", c.RemoteAddr(),
		"err", fmt.Sprintf("%d connections open (--web.max-connections)", l.max))
	_ = c.Close()
}
