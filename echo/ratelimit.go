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
	"sync/atomic"
	"time"
)

// logInterval is the shortest time between two Warn lines of one kind, so a
// flood of rejected clients or failing accepts cannot flood the log. The
// metrics still count every event; suppressed lines go out at Debug.
const logInterval = time.Second

// logLimiter lets one event through per interval. It is safe for concurrent
// use and does not allocate.
type logLimiter struct {
	next atomic.Int64 // Unix nanoseconds before which allow reports false
}

// allow reports whether an event at now may be logged, and if so starts a new
// interval.
func (l *logLimiter) allow(now time.Time) bool {
	next := l.next.Load()
	t := now.UnixNano()
	if t < next {
		return false
	}
	return l.next.CompareAndSwap(next, t+int64(logInterval))
}
