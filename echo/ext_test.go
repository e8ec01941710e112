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

// The tests in this file speak the extended protocol to a real server over
// loopback, with frames built by hand from EXTPROTO's layout (helloFrame,
// extRequest in helpers_test.go), in the run of each engine.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// wantOfferFlags is the offer the engine under test makes: the epoll engine
// stamps kernel receive times, the goroutine engine does not.
func wantOfferFlags(tb testing.TB) uint16 {
	if testEngine(tb) == EngineEpoll {
		return 1
	}
	return 0
}

// negotiate sends the HELLO on c and checks the offer that comes back.
func negotiate(tb testing.TB, c net.Conn) {
	tb.Helper()
	if _, err := c.Write(helloFrame()); err != nil {
		tb.Fatalf("write HELLO: %v", err)
	}
	got := make([]byte, 24)
	if _, err := io.ReadFull(c, got); err != nil {
		tb.Fatalf("read offer: %v", err)
	}
	if want := offerFrame(wantOfferFlags(tb)); !bytes.Equal(got, want) {
		tb.Fatalf("answer to the HELLO = % x, want the offer % x", got, want)
	}
}

// extSent is the time window of an exchange on the client's clock: a
// reply's server receive and send times must fall inside it.
type extSent struct{ before, after int64 }

// checkReply checks that rep is the reply to req as EXTPROTO lays it out,
// sent in the window w, and returns whether its receive time is the
// kernel's.
func checkReply(req, rep []byte, w extSent) (kernel bool, err error) {
	switch {
	case len(rep) != len(req):
		return false, fmt.Errorf("reply of %d bytes to a request of %d", len(rep), len(req))
	case !bytes.Equal(rep[:6], req[:6]) || !bytes.Equal(rep[8:12], req[8:12]) || !bytes.Equal(rep[24:], req[24:]):
		return false, fmt.Errorf("reply differs from the request outside kind, flags and times:\n got % x\nwant % x", rep, req)
	case rep[6] != 2:
		return false, fmt.Errorf("reply kind %d, want 2", rep[6])
	case rep[7]&^1 != 0:
		return false, fmt.Errorf("reply flags %#x, want only bit 0", rep[7])
	}
	rx := int64(binary.LittleEndian.Uint64(rep[16:24]))
	send := rx + int64(binary.LittleEndian.Uint32(rep[12:16]))
	if rx < w.before || send > w.after {
		return false, fmt.Errorf("server received at %d and sent at %d, outside the exchange [%d, %d] (turnaround %d ns)",
			rx, send, w.before, w.after, send-rx)
	}
	return rep[7] == 1, nil
}

// extExchange writes the requests as the chunks say (each chunk one write,
// pause after each), reads every reply and checks them; it returns how many
// carried a kernel receive time.
func extExchange(tb testing.TB, c net.Conn, reqs [][]byte, chunkSize int, pause time.Duration) (kernel int) {
	tb.Helper()
	all := cat(reqs...)
	w := extSent{before: time.Now().UnixNano()}
	for _, chunk := range splitEvery(all, chunkSize) {
		if _, err := c.Write(chunk); err != nil {
			tb.Fatalf("write: %v", err)
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	got := make([]byte, len(all))
	if _, err := io.ReadFull(c, got); err != nil {
		tb.Fatalf("read replies: %v", err)
	}
	w.after = time.Now().UnixNano()
	for i, req := range reqs {
		k, err := checkReply(req, got[:len(req)], w)
		if err != nil {
			tb.Fatalf("request %d of %d bytes: %v", i, len(req), err)
		}
		if k {
			kernel++
		}
		got = got[len(req):]
	}
	return kernel
}

// TestExtendedFrames negotiates and exchanges extended frames of every
// length class (a header alone, under and over the read buffer, the
// longest), pipelined and split at awkward places.
func TestExtendedFrames(t *testing.T) {
	tests := []struct {
		name   string
		length int
		count  int // requests, in one go
		chunk  int // bytes per write; 0: all at once
		pause  time.Duration
	}{
		{"24 bytes", 24, 1, 0, 0},
		{"24 bytes, pipelined", 24, 100, 0, 0},
		{"24 bytes, byte by byte", 24, 2, 1, time.Millisecond},
		{"100 bytes, split in the header", 100, 3, 5, time.Millisecond},
		{"1400 bytes, pipelined", 1400, 10, 0, 0},
		{"2040 bytes, the read buffer", readBufferSize, 3, 0, 0},
		{"2041 bytes, over the read buffer", readBufferSize + 1, 3, 0, 0},
		{"9000 bytes", 9000, 1, 0, 0},
		{"9000 bytes, pipelined", 9000, 20, 0, 0},
		{"9000 bytes, in 1000-byte writes", 9000, 3, 1000, time.Millisecond},
		{"9000 bytes, in 7-byte writes", 9000, 1, 7, 0},
	}
	s, _ := startServer(t, Options{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr(t, s))
			negotiate(t, c)
			reqs := make([][]byte, tt.count)
			for i := range reqs {
				reqs[i] = extRequest(tt.length, uint32(i)+1, uint64(time.Now().UnixNano()))
			}
			chunk := tt.chunk
			if chunk == 0 {
				chunk = tt.length * tt.count
			}
			extExchange(t, c, reqs, chunk, tt.pause)
			// and the connection goes on
			extExchange(t, c, [][]byte{extRequest(tt.length, 1<<31, 5)}, tt.length, 0)
		})
	}
}

// TestKernelReceiveTimes checks which replies carry the kernel's receive
// time: on the epoll engine they come to (the kernel turns timestamping on
// lazily, so the first ones may not), on the goroutine engine none does.
func TestKernelReceiveTimes(t *testing.T) {
	s, _ := startServer(t, Options{}, nil)
	c := dial(t, addr(t, s))
	negotiate(t, c)
	const most = 200
	kernel, sent := 0, 0
	for ; sent < most && kernel < 10; sent++ {
		kernel += extExchange(t, c, [][]byte{extRequest(64, uint32(sent), 1)}, 64, 0)
		time.Sleep(time.Millisecond)
	}
	switch testEngine(t) {
	case EngineEpoll:
		if kernel < 10 {
			t.Errorf("%d of %d replies carry a kernel receive time, want them to come to", kernel, sent)
		}
	default:
		if kernel != 0 {
			t.Errorf("%d of %d replies claim a kernel receive time on the %s engine", kernel, sent, testEngine(t))
		}
	}
	t.Logf("%s engine: %d of %d replies with a kernel receive time", testEngine(t), kernel, sent)
}

// TestExtendedBadFrames checks that a bad extended frame closes the
// connection as a bad magic does: what came before is answered, the bad
// frame is not, and bad_magic is counted.
func TestExtendedBadFrames(t *testing.T) {
	good := extRequest(100, 1, 1)
	with := func(b []byte, i int, v ...byte) []byte {
		b = bytes.Clone(b)
		copy(b[i:], v)
		return b
	}
	tests := []struct {
		name string
		bad  []byte
		err  string // the cause the server logs: README's "bad magic, length or kind"
	}{
		{"wrong magic", with(good, 0, 'T', 'P', 'X', '2'), "bad magic"},
		{"a v1 frame", frame(2), "bad magic"},
		{"the HELLO again", helloFrame(), "bad magic"},
		{"length 9001", with(extRequest(9001, 2, 2), 0), "bad frame length"},
		{"length 23, header cut", with(good, 4, 23, 0)[:23], "bad frame length"},
		{"length 65535", with(good, 4, 0xFF, 0xFF), "bad frame length"},
		{"another length than the first", extRequest(101, 2, 2), "bad frame length"},
		{"a reply", with(good, 6, 2), "bad frame kind"},
		{"kind 0", with(good, 6, 0), "bad frame kind"},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), "bad magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			s, _ := startServer(t, Options{}, logs.logger())
			c := dial(t, addr(t, s))
			negotiate(t, c)
			extExchange(t, c, [][]byte{good}, len(good), 0)
			if _, err := c.Write(cat(good, tt.bad)); err != nil {
				t.Fatal(err)
			}
			w := extSent{before: 0, after: time.Now().Add(testTimeout).UnixNano()}
			got := readUntilClosed(t, c)
			if len(got) != len(good) {
				t.Fatalf("got %d bytes back, want the %d of the good request's reply alone", len(got), len(good))
			}
			if _, err := checkReply(good, got, w); err != nil {
				t.Fatal(err)
			}
			// The label keeps DESIGN's bad_magic; the log says which field.
			waitRejected(t, s, reasonBadMagic, 1)
			line := logs.waitLine(t, `msg="connection closed"`)
			if want := fmt.Sprintf("err=%q", tt.err); !strings.Contains(line, want) {
				t.Errorf("log line %s, want %s", line, want)
			}
		})
	}
}

// TestExtendedFrameCount checks that frames_total counts the offer and each
// reply once.
func TestExtendedFrameCount(t *testing.T) {
	s, _ := startServer(t, Options{}, nil)
	c := dial(t, addr(t, s))
	negotiate(t, c)
	reqs := [][]byte{extRequest(9000, 1, 1), extRequest(9000, 2, 2), extRequest(9000, 3, 3)}
	extExchange(t, c, reqs, 9000*3, 0)
	waitFor(t, "4 frames counted", func() bool { return testutil.ToFloat64(s.m.frames) == 4 })
}

// TestExtendedIdleMemory checks that a connection that negotiated and
// exchanged the longest frames costs, once idle, what a connection of the
// original protocol costs: the long frames' buffer is not kept.
func TestExtendedIdleMemory(t *testing.T) {
	const conns = 300
	s, _ := startServer(t, Options{MaxConnections: 3 * conns}, nil)
	a := addr(t, s)
	open := func(extended bool, wantOpen float64) (perConn float64) {
		before := heapAndStacks()
		for i := range conns {
			c := dial(t, a)
			if extended {
				negotiate(t, c)
				extExchange(t, c, [][]byte{extRequest(9000, uint32(i), 1)}, 9000, 0)
			} else {
				roundTrip(t, c, uint64(i))
			}
		}
		waitConnections(t, s, wantOpen)
		return float64(heapAndStacks()-before) / conns
	}
	open(false, conns) // the server's tables grow to their size
	v1 := open(false, 2*conns)
	ext := open(true, 3*conns)
	t.Logf("%s engine: %.0f bytes per idle v1 connection, %.0f per idle extended connection (client and server ends)", testEngine(t), v1, ext)
	if ext-v1 > 1024 {
		t.Errorf("an idle extended connection costs %.0f bytes more than a v1 one, want at most 1024 (a long frame's buffer is %d)", ext-v1, bigBufSize)
	}
}

// heapAndStacks returns the heap and goroutine stack memory in use after
// two collections (the second frees what sync.Pools held).
func heapAndStacks() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// BenchmarkEchoExtFrame measures one extended frame's round trip through
// the server, as BenchmarkEchoFrame does for 24-byte frames.
func BenchmarkEchoExtFrame(b *testing.B) {
	for _, l := range []int{24, 1400, 9000} {
		b.Run(fmt.Sprintf("len=%d", l), func(b *testing.B) {
			s, _ := startServer(b, Options{}, nil)
			c := dial(b, addr(b, s))
			_ = c.SetDeadline(time.Now().Add(time.Hour))
			negotiate(b, c)
			out, in := extRequest(l, 1, 1), make([]byte, l)
			b.ReportAllocs()
			b.SetBytes(int64(l))
			for b.Loop() {
				if _, err := c.Write(out); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
