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

package prober

// maxIdleWakes bounds the wake-ups in a row, while the netpoller refuses a
// connection's reads, that find neither a transmit timestamp nor a byte to
// read: past it the refusal is not the error queue's, and it ends the
// connection rather than spin.
const maxIdleWakes = 8

// serveErrQueue serves the goroutine loop's connection while Go's
// netpoller refuses its reads. With tx_timestamps, a frame that leaves
// after its write returned (the peer's receive window was closed) has its
// stamp put on the socket's error queue while the loop waits in its read.
// If the socket is not writable then, epoll reports EPOLLERR alone, and the
// netpoller fails that read with "not pollable", and every read after it
// until an event other than EPOLLERR alone (the socket readable or
// writable again; runtime netpollcheckerr). The engine drains the queue on
// EPOLLERR (task.onError); so does this, giving each stamp to its probe. It
// then reads what has arrived without waiting, which reports the socket's
// own error if it has one, and waits on the socket through a waiter of its
// own (errWait) until it is readable, has another stamp, or the read
// deadline passes. The loop then reads as usual again, and comes back here
// while the netpoller still refuses. cause is the refused read's error.
func (l *loop) serveErrQueue(c *connLink, cause error) error {
	got := c.got
	stamps := l.drainTx()
	if err := l.receive(maxDrain, false); err != nil {
		return err
	}
	switch {
	case stamps || c.got != got || !c.woke:
		c.idle = 0
	case c.idle >= maxIdleWakes:
		return cause
	default:
		c.idle++
	}
	woke, err := c.waitErrQueue()
	c.woke = woke
	return err
}

// notPollable reports whether err is the netpoller's refusal of a read
// after epoll reported EPOLLERR alone: internal/poll.ErrNotPollable, which
// is not exported, by its text.
func notPollable(err error) bool { return errText(err) == "not pollable" }
