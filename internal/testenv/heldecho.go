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

package testenv

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// HeldEcho configures HeldEchoServer: an original-protocol echo server
// that answers each frame a while after it arrived, as a long path would.
type HeldEcho struct {
	// Hold returns how long to hold the next frame between its arrival
	// and its echo; nil holds none. It is called from the connection's
	// reading goroutine. The echoes stay in the order of their frames, as
	// TCP keeps it: an echo whose hold would end before the previous
	// one's waits for it.
	Hold func() time.Duration
	// Drop, if not 0, is the sequence number (bytes 8–15, LE) of a frame
	// the server reads and never answers.
	Drop uint64
	// Dropped, if set, is called with the arrival time of the frame Drop
	// (the clock after the read that completed it), from the connection's
	// reading goroutine.
	Dropped func(arrived time.Time)
	// Written, if set, is called after each echo is written, with how long
	// after the end of its hold the write returned: what the server's own
	// scheduling added to the hold. It is called from the connection's
	// writing goroutine.
	Written func(late time.Duration)
}

// HeldEchoServer runs an echo server that reflects 24-byte frames, HELLO
// included, unchanged and in order, each after its hold: unlike
// ExtEchoServer, which holds a connection's next read until its reply is
// written, it keeps reading while replies wait, so that a client may
// pipeline probes at an interval shorter than the hold. It checks no
// magic. It returns the server's address.
func HeldEchoServer(t testing.TB, opts HeldEcho) string {
	t.Helper()
	return Serve(t, func(c net.Conn) { opts.serve(c) })
}

// heldFrame is a frame waiting for the end of its hold.
type heldFrame struct {
	b       [24]byte
	release time.Time
}

// serve reads frames from c and hands them, with the time each may be
// echoed, to a writer that waits for it; both end when c fails.
func (o HeldEcho) serve(c net.Conn) {
	defer c.Close()
	// Room for 100 s of frames at 1 ms intervals with a hold under 1 s:
	// the reader never waits for the writer.
	queue := make(chan heldFrame, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.write(c, queue)
	}()
	defer func() { <-done }()
	defer close(queue)
	var last time.Time
	for {
		var f heldFrame
		if _, err := io.ReadFull(c, f.b[:]); err != nil {
			return
		}
		arrived := time.Now()
		if o.Drop != 0 && binary.LittleEndian.Uint64(f.b[8:16]) == o.Drop {
			if o.Dropped != nil {
				o.Dropped(arrived)
			}
			continue
		}
		f.release = arrived
		if o.Hold != nil {
			f.release = arrived.Add(o.Hold())
		}
		if f.release.Before(last) {
			f.release = last // in order, as TCP keeps them
		}
		last = f.release
		queue <- f
	}
}

// write echoes each frame of queue once its hold has ended; after a failed
// write it drains queue so that the reader never blocks.
func (o HeldEcho) write(c net.Conn, queue <-chan heldFrame) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	failed := false
	for f := range queue {
		if failed {
			continue
		}
		if d := time.Until(f.release); d > 0 {
			timer.Reset(d)
			<-timer.C
		}
		if _, err := c.Write(f.b[:]); err != nil {
			failed = true
			_ = c.Close() // the reader's next read fails too
			continue
		}
		if o.Written != nil {
			o.Written(time.Since(f.release))
		}
	}
}
