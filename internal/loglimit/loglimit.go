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

// Package loglimit keeps events that a remote peer can repeat as fast as it
// likes (a rejected client, a failed handshake, a failing accept) from
// flooding the log: one line of a kind per Interval goes out at Warn, the
// others at Debug.
package loglimit

import (
	"sync/atomic"
	"time"
)

// Interval is the shortest time between two Warn lines of one kind.
const Interval = time.Second

// Limiter lets one event through per Interval. Its zero value is ready; it
// is safe for concurrent use and does not allocate.
type Limiter struct {
	next atomic.Int64 // Unix nanoseconds before which Allow reports false
}

// Allow reports whether an event at now may be logged, and if so starts a
// new interval.
func (l *Limiter) Allow(now time.Time) bool {
	next := l.next.Load()
	t := now.UnixNano()
	if t < next {
		return false
	}
	return l.next.CompareAndSwap(next, t+int64(Interval))
}
