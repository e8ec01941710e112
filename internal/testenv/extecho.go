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
	"math"
	"net"
	"testing"
	"time"
)

// ExtEcho configures ExtEchoServer: an echo server whose replies the test
// can hold, and whose clock it can set off.
type ExtEcho struct {
	// Hold is how long the server holds each extended reply: it reads the
	// clock after the read that completes a request, waits until Hold has
	// passed on it (sleeping, then spinning the last 2 ms, so it overshoots
	// by a microsecond, not by a timer's slack) and writes the reply with
	// the turnaround it measured, as the real server does. A reply whose
	// server was descheduled in the hold, as happens on a loaded machine,
	// reports the longer turnaround it had: compare with Hold the least
	// turnaround, or each with what Replied reports.
	Hold time.Duration
	// ClockOffset is added to every receive time the server writes, as if
	// its clock ran that far ahead of the client's; the turnaround, a
	// difference of two readings of the same clock, is unaffected.
	ClockOffset time.Duration
	// MaxLen is the longest frame the server offers and accepts; 0 means
	// 9000.
	MaxLen uint16
	// Replied, if set, is called after each extended reply is written,
	// with its sequence number and the turnaround it carries, from the
	// connection's goroutine.
	Replied func(seq uint32, turnaround time.Duration)
}

// ExtEchoServer runs an echo server that speaks the extended protocol of
// issue 14 (README, "The wire format"), written from its byte layout alone,
// without the project's wire and echo packages, so that a prober tested
// against it is tested against the layout. A client whose first frame is
// the HELLO gets an offer (capability flags 0: receive times are the clock
// after the read) and then a reply to each extended request; any other
// client gets its 24-byte frames back unchanged. A bad frame closes the
// connection. It returns the server's address.
func ExtEchoServer(t testing.TB, opts ExtEcho) string {
	t.Helper()
	if opts.MaxLen == 0 {
		opts.MaxLen = 9000
	}
	return Serve(t, func(c net.Conn) { opts.serve(c) })
}

const (
	v1Magic  = "TCPPING\x00"
	extMagic = "TPX1"
	// helloSeq and helloTime make the HELLO: the magic, sequence number
	// 2^64-2 (uint64 LE) and the time field "TPXHELLO".
	helloSeq  = "\xfe\xff\xff\xff\xff\xff\xff\xff"
	helloTime = "TPXHELLO"
	// spinFor is the end of a hold that ExtEcho spins rather than sleeps.
	spinFor = 2 * time.Millisecond
)

// serve answers one connection until it fails or sends a bad frame.
func (o ExtEcho) serve(c net.Conn) {
	defer c.Close()
	// The magic, length and kind are checked once their bytes are in (the
	// 8 of a 24-byte frame's magic, the first 7 of an extended frame), so
	// that a bad frame closes the connection without waiting for the rest.
	first := make([]byte, 24)
	if !readCheck(c, first[:8], func() bool { return string(first[:8]) == v1Magic }) {
		return
	}
	if _, err := io.ReadFull(c, first[8:]); err != nil {
		return
	}
	if string(first[8:16]) != helloSeq || string(first[16:24]) != helloTime {
		if _, err := c.Write(first); err == nil {
			echoV1(c)
		}
		return
	}
	// The offer: "TPX1", the longest frame and the flags, uint16 LE each.
	copy(first[16:20], extMagic)
	binary.LittleEndian.PutUint16(first[20:22], o.MaxLen)
	binary.LittleEndian.PutUint16(first[22:24], 0)
	if _, err := c.Write(first); err != nil {
		return
	}
	o.echoExt(c)
}

// echoV1 reflects 24-byte frames until c fails or a frame's magic is wrong.
func echoV1(c net.Conn) {
	f := make([]byte, 24)
	for {
		if !readCheck(c, f[:8], func() bool { return string(f[:8]) == v1Magic }) {
			return
		}
		if _, err := io.ReadFull(c, f[8:]); err != nil {
			return
		}
		if _, err := c.Write(f); err != nil {
			return
		}
	}
}

// echoExt answers extended requests until c fails or a request is bad: a
// wrong magic, a length out of [24, MaxLen] or other than the first
// request's, a kind other than 1.
func (o ExtEcho) echoExt(c net.Conn) {
	buf := make([]byte, o.MaxLen)
	length := 0
	for {
		l := 0
		ok := readCheck(c, buf[:7], func() bool {
			l = int(binary.LittleEndian.Uint16(buf[4:6]))
			return string(buf[:4]) == extMagic && l >= 24 && l <= int(o.MaxLen) &&
				(length == 0 || l == length) && buf[6] == 1
		})
		if !ok {
			return
		}
		length = l
		if _, err := io.ReadFull(c, buf[7:l]); err != nil {
			return
		}
		rx := time.Now()
		send := o.hold(rx)
		ta := turnaround(send.Sub(rx))
		buf[6], buf[7] = 2, 0
		binary.LittleEndian.PutUint32(buf[12:16], ta)
		binary.LittleEndian.PutUint64(buf[16:24], uint64(rx.UnixNano()+int64(o.ClockOffset)))
		if _, err := c.Write(buf[:l]); err != nil {
			return
		}
		if o.Replied != nil {
			o.Replied(binary.LittleEndian.Uint32(buf[8:12]), time.Duration(ta))
		}
	}
}

// hold waits until o.Hold has passed since rx and returns the clock
// reading that found it passed: the reply's send time.
func (o ExtEcho) hold(rx time.Time) time.Time {
	if o.Hold > spinFor {
		time.Sleep(o.Hold - spinFor - time.Since(rx))
	}
	for {
		// A busy wait without yielding: another goroutine given the
		// processor could keep it past the end of the hold.
		if now := time.Now(); now.Sub(rx) >= o.Hold {
			return now
		}
	}
}

// readCheck reads exactly len(b) bytes into b and reports whether that
// worked and check, run on them, holds.
func readCheck(c net.Conn, b []byte, check func() bool) bool {
	_, err := io.ReadFull(c, b)
	return err == nil && check()
}

// turnaround is d in ns, saturating at 0 and 2^32-1 as the layout says.
func turnaround(d time.Duration) uint32 {
	return uint32(min(max(d, 0), math.MaxUint32))
}
