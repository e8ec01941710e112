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

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// turnarounds records the turnaround of each reply an ExtEchoServer
// writes, by sequence number.
type turnarounds struct {
	mu sync.Mutex
	by map[uint32]time.Duration
}

func (r *turnarounds) add(seq uint32, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = map[uint32]time.Duration{}
	}
	r.by[seq] = d
}

// upTo returns the sum and the least of the turnarounds of replies 1 to
// n, and whether all of them were written.
func (r *turnarounds) upTo(n uint64) (sum, least time.Duration, all bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	least = time.Hour
	for seq := uint32(1); uint64(seq) <= n; seq++ {
		d, ok := r.by[seq]
		if !ok {
			return 0, 0, false
		}
		sum += d
		least = min(least, d)
	}
	return sum, least, true
}

// TestExtendedProtocolSeparatesTheServersTime probes an extended echo
// server that holds each reply 5 ms (and, in one case, whose clock runs
// 1.5 s ahead). The turnaround the prober records is the server's own,
// which is within 20 µs of the hold at its least; the hold is in the RTT
// and in neither one-way delay; the clock offset shifts the forward delay
// by itself and the reverse by its opposite, and stays out of the
// jitters.
func TestExtendedProtocolSeparatesTheServersTime(t *testing.T) {
	const hold = 5 * time.Millisecond
	tests := []struct {
		name   string
		offset time.Duration
	}{
		{"synchronized clocks", 0},
		{"the server's clock 1.5 s ahead", 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec turnarounds
			addr := testenv.ExtEchoServer(t, testenv.ExtEcho{Hold: hold, ClockOffset: tt.offset, Replied: rec.add})
			// A fixed timeout far above the hold: on a loaded machine the
			// adaptive one can time out a reply the server held long, and
			// the replies received would not be those numbered 1 to n.
			_, snap := startProber(t, addr, testModule(20*time.Millisecond, 500*time.Millisecond, false))
			var sum, least time.Duration
			waitFor(t, "20 replies, all reported by the server", 10*time.Second, func() bool {
				s := snap()
				var all bool
				sum, least, all = rec.upTo(s.Received)
				return s.Received >= 20 && all && s.Turnaround.Count == s.Received
			})
			s := snap()
			if !s.Extended || s.FrameLength != 24 {
				t.Fatalf("extended %v, frames of %d bytes: want the extended protocol with 24-byte frames", s.Extended, s.FrameLength)
			}
			if s.Timeouts != 0 {
				t.Fatalf("%d timeouts: the replies received are not those numbered 1 to %d", s.Timeouts, s.Received)
			}
			sum, least, _ = rec.upTo(s.Received)
			if got := time.Duration(s.Turnaround.Sum * 1e9); got < sum-time.Microsecond || got > sum+time.Microsecond {
				t.Errorf("turnarounds sum to %v, the server's to %v (received %d timeouts %d late %d, count %d)", got, sum, s.Received, s.Timeouts, s.Late, s.Turnaround.Count)
			}
			if least < hold || least > hold+20*time.Microsecond {
				t.Errorf("least turnaround %v, want within 20µs of the %v hold", least, hold)
			}
			if s.LastRTT < hold || s.Histogram.Sum < float64(s.Histogram.Count)*hold.Seconds() {
				t.Errorf("last RTT %v, RTT sum %vs: the hold must be in every RTT", s.LastRTT, s.Histogram.Sum)
			}
			// On one host the true transits are well under the hold. The
			// delays are the last probe's, and the test server stamps its
			// receive time in user space, where a loaded machine can stall
			// it past that: look at the probes that follow, for up to 5 s,
			// until one is quiet. An offset applied wrongly misplaces them
			// all.
			quiet := func(s Snapshot) bool {
				fwd, rev := s.ForwardDelay-tt.offset, s.ReverseDelay+tt.offset
				return fwd >= 0 && fwd < hold/2 && rev >= 0 && rev < hold/2
			}
			for deadline := time.Now().Add(5 * time.Second); !quiet(s) && time.Now().Before(deadline); {
				time.Sleep(25 * time.Millisecond)
				s = snap()
			}
			if fwd := s.ForwardDelay - tt.offset; fwd < 0 || fwd >= hold/2 {
				t.Errorf("forward delay %v, want %v plus a transit under %v", s.ForwardDelay, tt.offset, hold/2)
			}
			if rev := s.ReverseDelay + tt.offset; rev < 0 || rev >= hold/2 {
				t.Errorf("reverse delay %v, want %v plus a transit under %v", s.ReverseDelay, -tt.offset, hold/2)
			}
			// The offset, had it leaked into a transit even once, would
			// make its jitter at least 1.5 s / 16 ≈ 94 ms. The test server
			// stamps its receive time in user space, so a goroutine stalled
			// by a loaded machine adds its stall to one transit: a 100 ms
			// stall makes a jitter of 6 ms. TestTimingOfExtendedReplies
			// checks the jitters to the µs on exact times.
			if leak := 40 * time.Millisecond; s.ForwardJitter >= leak || s.ReverseJitter >= leak {
				t.Errorf("jitter forward %v reverse %v: the clock offset leaked into them", s.ForwardJitter, s.ReverseJitter)
			}
		})
	}
}

// TestPayloadSizeFallsBack probes with payload_size 1400 an extended
// server that takes 1000-byte frames at most, and an original server: the
// frames are 1000 and 24 bytes long, and each prober says so once, at info
// level, however often it reconnects.
func TestPayloadSizeFallsBack(t *testing.T) {
	// closeAfter serves 3 frames of a connection then closes it, so the
	// prober reconnects.
	closeAfter := func(serve func(net.Conn)) func(net.Conn) {
		return func(c net.Conn) {
			r := &limitedConn{Conn: c, left: 3}
			serve(r)
		}
	}
	tests := []struct {
		name      string
		addr      func(t *testing.T) string
		wantExt   bool
		wantLen   int
		wantInLog string
	}{
		{"extended server taking 1000 bytes", func(t *testing.T) string {
			return testenv.ExtEchoServer(t, testenv.ExtEcho{MaxLen: 1000})
		}, true, 1000, "probing with 1000-byte frames instead of payload_size 1400"},
		{"original server", func(t *testing.T) string {
			return startServer(t, closeAfter(echoHandler)).addr()
		}, false, 24, "probing with 24-byte frames instead of payload_size 1400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf testenv.Buffer
			m := testModule(20*time.Millisecond, 500*time.Millisecond, true)
			m.PayloadSize = 1400
			p := New(Options{Name: "t", Address: tt.addr(t), Module: m, NoSplay: true}, log.NewLogfmtLogger(&buf))
			p.startOn(t.Context(), testEngine(t))
			t.Cleanup(p.Stop)
			want := uint64(10)
			if !tt.wantExt {
				want = 3 // connections
			}
			waitFor(t, "replies", 10*time.Second, func() bool {
				s := p.Snapshot()
				return s.Received >= 10 && (tt.wantExt || s.Dropped >= want)
			})
			s := p.Snapshot()
			if s.Extended != tt.wantExt || s.FrameLength != tt.wantLen {
				t.Errorf("extended %v, %d-byte frames; want %v, %d", s.Extended, s.FrameLength, tt.wantExt, tt.wantLen)
			}
			var info, debug int
			for _, line := range strings.Split(buf.String(), "\n") {
				switch {
				case !strings.Contains(line, tt.wantInLog):
				case strings.Contains(line, "level=info"):
					info++
				case strings.Contains(line, "level=debug"):
					debug++
				}
			}
			if info != 1 || s.Dropped > 0 && debug < 1 {
				t.Errorf("logged %d times at info, %d at debug over %d connections; want once at info:\n%s", info, debug, s.Dropped+1, buf.String())
			}
		})
	}
}

// limitedConn reads only left frames' worth of 24-byte reads, then EOF.
type limitedConn struct {
	net.Conn
	left int
	n    int
}

func (c *limitedConn) Read(b []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(b[:min(len(b), 24-c.n)])
	c.n += n
	if c.n == 24 {
		c.n = 0
		c.left--
	}
	return n, err
}

// offerFrame is the answer to the HELLO of an extended server taking
// frames of up to maxLen bytes, by its bytes.
func offerFrame(maxLen uint16) []byte {
	f := append([]byte(nil), testHello...)
	copy(f[16:20], "TPX1")
	binary.LittleEndian.PutUint16(f[20:22], maxLen)
	binary.LittleEndian.PutUint16(f[22:24], 0)
	return f
}

// extServer answers the HELLO with an offer and each extended request
// with a reply that change may alter (it gets the reply and the request's
// sequence number), until the connection fails.
func extServer(change func(reply []byte, n int) []byte) func(net.Conn) {
	return extServerOffering(offerFrame(9000), change)
}

// extServerOffering is extServer answering the HELLO with offer.
func extServerOffering(offer []byte, change func(reply []byte, n int) []byte) func(net.Conn) {
	return func(c net.Conn) {
		f, err := readFrame(c)
		if err != nil || !bytes.Equal(f, testHello) {
			return
		}
		if _, err := c.Write(offer); err != nil {
			return
		}
		for n := 1; ; n++ {
			head := make([]byte, 24)
			if _, err := io.ReadFull(c, head); err != nil {
				return
			}
			l := int(binary.LittleEndian.Uint16(head[4:6]))
			if string(head[:4]) != "TPX1" || head[6] != 1 || l < 24 {
				return
			}
			req := append(head, make([]byte, l-24)...)
			if _, err := io.ReadFull(c, req[24:]); err != nil {
				return
			}
			req[6] = 2
			binary.LittleEndian.PutUint64(req[16:24], uint64(time.Now().UnixNano()))
			if _, err := c.Write(change(req, n)); err != nil {
				return
			}
		}
	}
}

// TestHostileExtendedReplies checks what the prober makes of extended
// replies that break the layout: a wrong magic, kind or length ends the
// connection and counts as unexpected; a sequence number never sent counts
// as unexpected and the connection goes on.
func TestHostileExtendedReplies(t *testing.T) {
	tests := []struct {
		name      string
		change    func(r []byte, n int) []byte
		wantClose bool
		wantErr   string // the last error, if the connection closes
	}{
		{"wrong magic", func(r []byte, n int) []byte {
			if n == 3 {
				copy(r, "TPX2")
			}
			return r
		}, true, "reply: bad magic"},
		{"request kind", func(r []byte, n int) []byte {
			if n == 3 {
				r[6] = 1
			}
			return r
		}, true, "reply: bad frame kind"},
		{"another length", func(r []byte, n int) []byte {
			if n == 3 {
				binary.LittleEndian.PutUint16(r[4:6], 48)
				return append(r, make([]byte, 24)...)
			}
			return r
		}, true, "reply: bad frame length"},
		{"unknown sequence number", func(r []byte, n int) []byte {
			if n == 3 {
				binary.LittleEndian.PutUint32(r[8:12], 0xDEADBEEF)
			}
			return r
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, extServer(tt.change))
			m := testModule(20*time.Millisecond, 300*time.Millisecond, false)
			m.PayloadSize = 100
			m.ReconnectAfter = 0
			_, snap := startProber(t, srv.addr(), m)
			waitFor(t, "an unexpected reply and 5 received", 10*time.Second, func() bool {
				s := snap()
				return s.Unexpected >= 1 && s.Received >= 5
			})
			s := snap()
			if !s.Extended || s.FrameLength != 100 {
				t.Errorf("extended %v, %d-byte frames; want true, 100", s.Extended, s.FrameLength)
			}
			if closed := srv.accepted.Load() > 1; closed != tt.wantClose {
				t.Errorf("%d connections: closed = %v, want %v (dropped %d, last error %q)",
					srv.accepted.Load(), closed, tt.wantClose, s.Dropped, s.LastError)
			}
			if tt.wantClose && !strings.HasSuffix(s.LastError, tt.wantErr) {
				t.Errorf("last error %q, want it to end in %q", s.LastError, tt.wantErr)
			}
		})
	}
}

// TestHelloUnanswered checks the connection attempt of a prober whose
// HELLO gets no answer in time, or an answer that is neither the HELLO
// nor an offer: it fails and counts as dropped, the connection is closed,
// and probes fall due as they do while disconnected.
func TestHelloUnanswered(t *testing.T) {
	tests := []struct {
		name    string
		handle  func(net.Conn)
		wantErr string
	}{
		{"no answer", stallHandler, "hello: no answer within"},
		{"a probe's echo for an answer", func(c net.Conn) {
			if _, err := readFrame(c); err == nil {
				_, _ = c.Write(append(append([]byte(nil), testMagic...), make([]byte, 16)...))
				_, _ = io.Copy(io.Discard, c)
			}
		}, "answer to the hello"},
		{"garbage", func(c net.Conn) {
			if _, err := readFrame(c); err == nil {
				_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
				_, _ = io.Copy(io.Discard, c)
			}
		}, "answer to the hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.handle)
			m := testModule(20*time.Millisecond, 50*time.Millisecond, false)
			_, snap := startProber(t, srv.addr(), m)
			waitFor(t, "3 attempts", 10*time.Second, func() bool { return snap().Dropped >= 3 && srv.accepted.Load() >= 3 })
			s := snap()
			if s.Received != 0 || s.Sent == 0 || s.Timeouts != s.Sent || s.Connected {
				t.Errorf("sent %d received %d timeouts %d connected %v: want probes sent and timed out while not connected",
					s.Sent, s.Received, s.Timeouts, s.Connected)
			}
			if !strings.Contains(s.LastError, tt.wantErr) {
				t.Errorf("last error %q, want it to say %q", s.LastError, tt.wantErr)
			}
		})
	}
}

// TestV1SendsNoHello checks that echo_protocol v1 probes an extended
// server with 24-byte frames from the first.
func TestV1SendsNoHello(t *testing.T) {
	addr := testenv.ExtEchoServer(t, testenv.ExtEcho{})
	m := testModule(20*time.Millisecond, 500*time.Millisecond, true)
	m.EchoProtocol = config.EchoProtocolV1
	_, snap := startProber(t, addr, m)
	waitFor(t, "5 replies", 10*time.Second, func() bool { return snap().Received >= 5 })
	if s := snap(); s.Extended || s.FrameLength != 24 || s.Turnaround.Count != 0 {
		t.Errorf("extended %v, %d-byte frames, %d turnarounds: want 24-byte frames only", s.Extended, s.FrameLength, s.Turnaround.Count)
	}
}
