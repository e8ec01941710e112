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
	"net/http"
	"time"
)

// defaultWriteStallTimeout is how long a response waits for a client that
// takes none of it. Prometheus reads a scrape as fast as it comes; a
// client that stops reading for this long is gone or hostile, and the
// scrape it holds (one of maxScrapes, with its memory and thread) is
// needed by others.
const defaultWriteStallTimeout = 30 * time.Second

// stallGuard closes the connection of a client that stops reading its
// response. A whole-response deadline (http.Server.WriteTimeout) would
// also cut /probe's wait for a new prober's first result and a large
// scrape over a slow link; this one allows each write stall seconds from
// when it starts, however long the response takes in all.
type stallGuard struct {
	next  http.Handler
	stall time.Duration
}

func (g stallGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A deadline stays on the connection after its response: the one an
	// earlier request of this connection left must not cut this one's
	// (nor what the server writes for it by itself, a 100 Continue).
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(g.stall))
	g.next.ServeHTTP(stallWriter{ResponseWriter: w, rc: rc, stall: g.stall}, r)
	// What the handler left in the server's buffer goes out after it
	// returns: it gets stall seconds too.
	_ = rc.SetWriteDeadline(time.Now().Add(g.stall))
}

// stallWriter gives each write to the connection stall seconds.
type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (s stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.stall))
	return s.ResponseWriter.Write(p)
}

func (s stallWriter) WriteHeader(code int) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.stall))
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets an http.ResponseController reach the server's writer.
func (s stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
