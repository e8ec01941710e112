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
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/echo"
)

// hello, request and the offer are built by hand, as ExtEchoServer is.
func hello() []byte {
	return []byte(v1Magic + helloSeq + helloTime)
}

func request(l int, seq uint32, ns int64) []byte {
	b := make([]byte, l)
	copy(b, extMagic)
	binary.LittleEndian.PutUint16(b[4:6], uint16(l))
	b[6] = 1
	binary.LittleEndian.PutUint32(b[8:12], seq)
	binary.LittleEndian.PutUint64(b[16:24], uint64(ns))
	for i := 24; i < l; i++ {
		b[i] = byte(i) ^ byte(seq)
	}
	return b
}

func v1Frame(seq uint64) []byte {
	b := []byte(v1Magic + "0123456789abcdef")
	binary.LittleEndian.PutUint64(b[8:16], seq)
	return b
}

// startEcho runs the project's echo server on 127.0.0.1:0.
func startEcho(t *testing.T) string {
	t.Helper()
	s, err := echo.New(echo.Options{ListenAddresses: []string{"127.0.0.1:0"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	t.Cleanup(func() {
		s.Shutdown()
		if err := <-done; err != nil {
			t.Errorf("echo server: %v", err)
		}
	})
	return s.Addrs()[0].String()
}

// converse writes in, reads want bytes back and checks that the server
// then closes the connection (within 5 s) if closes, or keeps it open (for
// 200 ms, sending nothing more) if not.
func converse(t *testing.T, address string, in []byte, want int, closes bool) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", address, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(in); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, want)
	if n, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("%d of %d bytes back: %v", n, want, err)
	}
	wait := 200 * time.Millisecond
	if closes {
		wait = 5 * time.Second
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err = c.Read(make([]byte, 1))
	switch {
	case err == nil:
		t.Fatalf("%s: more than %d bytes came back", address, want)
	case closes && errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("%s: the connection is still open after a bad frame", address)
	case !closes && !errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("%s: the connection closed: %v", address, err)
	}
	return got
}

// masked returns the reply bytes with what only the server's clock and
// timestamping decide zeroed: the flags, the turnaround and the receive
// time of each extended reply after the offer, and the offer's flags.
func masked(b []byte, hasOffer bool, l int) []byte {
	b = bytes.Clone(b)
	if hasOffer && len(b) >= 24 {
		b[22], b[23] = 0, 0
		b = b[24:]
	}
	for f := b; len(f) >= l; f = f[l:] {
		f[7] = 0
		clear(f[12:24])
	}
	return b
}

// TestExtEchoSpeaksLikeEcho sends the same bytes to ExtEchoServer and to
// the project's echo server and checks that the same bytes come back, but
// for what the servers' clocks decide, and that both close on the same bad
// frames.
func TestExtEchoSpeaksLikeEcho(t *testing.T) {
	reqs := func(l, n int) []byte {
		var b []byte
		for i := range n {
			b = append(b, request(l, uint32(i), time.Now().UnixNano())...)
		}
		return b
	}
	tests := []struct {
		name   string
		in     []byte
		offer  bool
		l      int  // length of the extended frames
		want   int  // bytes back
		closes bool // and then the server closes the connection
	}{
		{"v1 frames", slices.Concat(v1Frame(1), v1Frame(2)), false, 24, 48, false},
		{"the HELLO after a v1 frame", slices.Concat(v1Frame(1), hello(), v1Frame(2)), false, 24, 72, false},
		{"extended, 24 bytes", slices.Concat(hello(), reqs(24, 3)), true, 24, 24 + 72, false},
		{"extended, 100 bytes", slices.Concat(hello(), reqs(100, 3)), true, 100, 24 + 300, false},
		{"extended, 9000 bytes", slices.Concat(hello(), reqs(9000, 2)), true, 9000, 24 + 18000, false},
		{"a bad v1 frame", slices.Concat(v1Frame(1), []byte("TCPPONG\x00")), false, 24, 24, true},
		{"another length", slices.Concat(hello(), reqs(100, 1), reqs(101, 1)), true, 100, 24 + 100, true},
		{"a length over 9000", slices.Concat(hello(), reqs(100, 1), request(9001, 1, 1)[:24]), true, 100, 24 + 100, true},
		{"a reply's kind", slices.Concat(hello(), reqs(100, 1), []byte("TPX1\x64\x00\x02")), true, 100, 24 + 100, true},
		{"a v1 frame after the HELLO", slices.Concat(hello(), reqs(100, 1), v1Frame(3)), true, 100, 24 + 100, true},
	}
	ours, theirs := ExtEchoServer(t, ExtEcho{}), startEcho(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := converse(t, ours, tt.in, tt.want, tt.closes)
			want := converse(t, theirs, tt.in, tt.want, tt.closes)
			if !bytes.Equal(masked(got, tt.offer, tt.l), masked(want, tt.offer, tt.l)) {
				t.Fatalf("ExtEchoServer and echo differ:\n% x\n% x", got, want)
			}
		})
	}
}

// exchange negotiates on a new connection to address, sends n requests of
// l bytes one at a time and returns, for each, the client's send and
// receive times and the reply.
type exchanged struct {
	sent, received int64 // client's clock, Unix ns
	reply          []byte
}

func exchange(t *testing.T, address string, l, n int) []exchanged {
	t.Helper()
	c, err := net.DialTimeout("tcp", address, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	offer := make([]byte, 24)
	if _, err := c.Write(hello()); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, offer); err != nil || string(offer[16:20]) != extMagic {
		t.Fatalf("no offer: % x, %v", offer, err)
	}
	out := make([]exchanged, n)
	for i := range out {
		e := &out[i]
		e.sent = time.Now().UnixNano()
		if _, err := c.Write(request(l, uint32(i), e.sent)); err != nil {
			t.Fatal(err)
		}
		e.reply = make([]byte, l)
		if _, err := io.ReadFull(c, e.reply); err != nil {
			t.Fatal(err)
		}
		e.received = time.Now().UnixNano()
	}
	return out
}

func (e exchanged) serverRx() int64 { return int64(binary.LittleEndian.Uint64(e.reply[16:24])) }

func (e exchanged) turnaround() time.Duration {
	return time.Duration(binary.LittleEndian.Uint32(e.reply[12:16]))
}

// TestExtEchoHold checks that each reply is held at least the time asked
// and says how long in its turnaround, as Replied does, and that the hold
// can be as exact as 20 µs: the least turnaround is within that of the
// hold. (Most are, but a reply whose server thread is descheduled in the
// hold, as on a loaded machine, is held, and says, longer.)
func TestExtEchoHold(t *testing.T) {
	for _, hold := range []time.Duration{0, 500 * time.Microsecond, 5 * time.Millisecond} {
		t.Run(hold.String(), func(t *testing.T) {
			const n = 21
			replied := make(chan time.Duration, n)
			a := ExtEchoServer(t, ExtEcho{Hold: hold, Replied: func(seq uint32, ta time.Duration) { replied <- ta }})
			var over []time.Duration
			for i, e := range exchange(t, a, 100, n) {
				ta := e.turnaround()
				if ta < hold {
					t.Errorf("reply %d: turnaround %v, under the hold %v", i, ta, hold)
				}
				if rtt := time.Duration(e.received - e.sent); rtt < ta {
					t.Errorf("reply %d: turnaround %v longer than the round trip %v", i, ta, rtt)
				}
				if r := <-replied; r != ta {
					t.Errorf("reply %d: turnaround %v, Replied says %v", i, ta, r)
				}
				over = append(over, ta-hold)
			}
			slices.Sort(over)
			t.Logf("turnaround over the hold: least %v, median %v, most %v", over[0], over[len(over)/2], over[len(over)-1])
			if over[0] > 20*time.Microsecond {
				t.Errorf("least turnaround %v over the hold, want at most 20µs", over[0])
			}
		})
	}
}

// TestExtEchoClockOffset checks that the server's receive times are its
// clock's, set off by the offset asked, while its turnarounds are not.
func TestExtEchoClockOffset(t *testing.T) {
	for _, offset := range []time.Duration{0, time.Hour, -3 * time.Second} {
		t.Run(offset.String(), func(t *testing.T) {
			for i, e := range exchange(t, ExtEchoServer(t, ExtEcho{ClockOffset: offset}), 24, 10) {
				rx := e.serverRx() - int64(offset)
				send := rx + int64(e.turnaround())
				if rx < e.sent || send > e.received {
					t.Errorf("reply %d: receive %d and send %d, less the offset, outside the exchange [%d, %d]", i, rx, send, e.sent, e.received)
				}
			}
		})
	}
}

// TestExtEchoMaxLen checks the offer of a shorter longest frame, and that
// a longer request closes the connection.
func TestExtEchoMaxLen(t *testing.T) {
	a := ExtEchoServer(t, ExtEcho{MaxLen: 1500})
	offer := slices.Concat([]byte(v1Magic+helloSeq+extMagic), []byte{0xDC, 0x05, 0, 0})
	got := converse(t, a, slices.Concat(hello(), request(1500, 1, 1)), 24+1500, false)
	if !bytes.Equal(got[:24], offer) {
		t.Fatalf("offer % x, want % x", got[:24], offer)
	}
	converse(t, a, slices.Concat(hello(), request(1501, 1, 1)), 24, true)
}
