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
	"errors"
	"math"
	"time"
)

// idleGrace is how long a connection found idle still has to complete a
// frame before it is closed (see timeouts).
const idleGrace = 100 * time.Millisecond

// The causes logged for a connection the policy closes, one per reason
// check returns (timeoutCause).
var (
	errIdle         = errors.New("idle timeout")
	errWriteTimeout = errors.New("write timeout")
)

// timeoutCause is the cause both engines log for a connection the policy
// closed for r, reasonIdle or reasonWriteTimeout, whatever error the
// engine's own wait ended with.
func timeoutCause(r reason) error {
	if r == reasonIdle {
		return errIdle
	}
	return errWriteTimeout
}

// timeouts is the policy that closes connections whose client went quiet or
// stopped reading its echoes. Both engines follow it through check; they
// differ only in how they wait for the time check returns (a read or write
// deadline, or the epoll worker's sweep).
//
// Idleness is counted in frames, not bytes, so a client that trickles a
// frame a byte at a time (slowloris) holds its slot no longer than a silent
// one. And it is the client's idleness, not the server's: a connection whose
// echoes are being written is not idle, and its idle time starts when the
// write ends. When the idle deadline has passed, the connection gets
// idleGrace more, in which the server reads once more, before it is closed:
// the server may itself have been what stalled (a stopped process) while the
// client's frames waited in the socket.
//
// An echo that cannot be written for the write timeout, typically because
// the client does not read, closes the connection.
type timeouts struct {
	idle  time.Duration // Options.IdleTimeout
	write time.Duration // Options.WriteTimeout
}

// connTimes is what the timeout policy knows of one connection. Times are on
// the clock of the engine that serves it: a monotonic duration since an
// epoch the engine chooses.
type connTimes struct {
	// lastFrame is when the connection last completed a frame and its echo
	// was written in full, or when it opened.
	lastFrame time.Duration
	// writeStart is when the write of echoes under way began.
	writeStart time.Duration
	// graceUntil is when the grace read ends, once graced.
	graceUntil time.Duration
	writing    bool // echoes are being written: the connection is not idle
	graced     bool // the idle deadline passed and the grace read is on
}

// openedAt returns the times of a connection that opened at now: its idle
// time counts from then.
func openedAt(now time.Duration) connTimes {
	return connTimes{lastFrame: now}
}

// writeBegan records that a write of echoes began at now and is not done.
func (t *connTimes) writeBegan(now time.Duration) {
	t.writing, t.writeStart = true, now
}

// echoed records that every frame completed so far was echoed in full, the
// last byte written at now. Time spent writing was the server's, not the
// client's idleness, so idleness counts from now.
func (t *connTimes) echoed(now time.Duration) {
	t.lastFrame, t.writing, t.graced = now, false, false
}

// check applies the policy to a connection at now. It returns the times
// updated (the grace read begins when the idle deadline is first found
// passed), why to close the connection, reasonIdle or reasonWriteTimeout,
// or reasonNone to keep it, and then when to check it again: until then no
// deadline of the connection passes, unless an event records something new.
// It does no I/O and reads no clock.
func (p timeouts) check(t connTimes, now time.Duration) (connTimes, reason, time.Duration) {
	switch {
	case t.writing:
		if now-t.writeStart >= p.write {
			return t, reasonWriteTimeout, 0
		}
		return t, reasonNone, addSat(t.writeStart, p.write)
	case now-t.lastFrame < p.idle:
		return t, reasonNone, addSat(t.lastFrame, p.idle)
	case !t.graced:
		t.graced, t.graceUntil = true, now+idleGrace
		return t, reasonNone, t.graceUntil
	case now >= t.graceUntil:
		return t, reasonIdle, 0
	default:
		return t, reasonNone, t.graceUntil
	}
}

// addSat returns at+d, or the largest time.Duration if that overflows: a
// timeout near it (--echo.idle-timeout=2562047h) is a deadline that never
// comes, not one that wrapped around into the past. at and d are not
// negative.
func addSat(at, d time.Duration) time.Duration {
	if d > math.MaxInt64-at {
		return math.MaxInt64
	}
	return at + d
}
