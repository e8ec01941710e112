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
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// testTimeout bounds every blocking step of a test. It is generous because
// the tests run under -race on small machines.
const testTimeout = 10 * time.Second

// engineFlag names the engine of every server the tests start, empty for
// the platform's default. TestGoroutineEngine sets it in the child process
// in which it runs the tests again. It is test-only: the product chooses
// through Options.Engine alone.
var engineFlag = flag.String("echo.engine", "", "engine of the servers under test: goroutine or epoll; empty for the platform's default")

// testEngine returns the engine the tests run against, as Options.Engine
// resolves it.
func testEngine(tb testing.TB) Engine {
	tb.Helper()
	switch *engineFlag {
	case "":
		return defaultEngine
	case EngineGoroutine.String():
		return EngineGoroutine
	case EngineEpoll.String():
		return EngineEpoll
	}
	tb.Fatalf("-echo.engine=%q: want goroutine or epoll", *engineFlag)
	return EngineDefault
}

// testOptions returns opts with the engine under test, unless they name one.
func testOptions(tb testing.TB, opts Options) Options {
	tb.Helper()
	if opts.Engine == EngineDefault {
		opts.Engine = testEngine(tb)
	}
	return opts
}

// frame builds the frame with sequence number seq by hand from the byte
// layout of DESIGN.md ("Wire format"), deliberately without the wire package,
// so the tests check the server against the contract and not against itself.
func frame(seq uint64) []byte {
	b := make([]byte, 24)
	copy(b[0:8], "TCPPING\x00")
	binary.LittleEndian.PutUint64(b[8:16], seq)
	binary.LittleEndian.PutUint64(b[16:24], uint64(time.Now().UnixNano()))
	return b
}

// frames concatenates frames first, first+1, … first+n-1.
func frames(first uint64, n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, frame(first+uint64(i))...)
	}
	return b
}

// helloFrame builds the HELLO by hand from EXTPROTO's layout: the 24-byte
// frame with sequence number 2^64-2 and the time field "TPXHELLO".
func helloFrame() []byte {
	b := make([]byte, 24)
	copy(b[0:8], "TCPPING\x00")
	binary.LittleEndian.PutUint64(b[8:16], 0xFFFFFFFFFFFFFFFE)
	copy(b[16:24], "TPXHELLO")
	return b
}

// offerFrame builds by hand the offer our server answers the HELLO with: the
// HELLO's magic and sequence number, then "TPX1", the longest frame (9000)
// and the capability flags, each uint16 little-endian.
func offerFrame(flags uint16) []byte {
	b := helloFrame()
	copy(b[16:20], "TPX1")
	binary.LittleEndian.PutUint16(b[20:22], 9000)
	binary.LittleEndian.PutUint16(b[22:24], flags)
	return b
}

// extRequest builds by hand an extended request of l bytes: "TPX1", l, kind
// 1, flags 0, seq, 0, the send time ns, then padding. The padding is a
// pattern rather than zeros, so that the tests see it come back unchanged.
func extRequest(l int, seq uint32, ns uint64) []byte {
	b := make([]byte, l)
	copy(b[0:4], "TPX1")
	binary.LittleEndian.PutUint16(b[4:6], uint16(l))
	b[6] = 1
	binary.LittleEndian.PutUint32(b[8:12], seq)
	binary.LittleEndian.PutUint64(b[16:24], ns)
	for i := 24; i < l; i++ {
		b[i] = byte(i*7) + byte(seq)
	}
	return b
}

// extReply builds by hand the reply to req: req with kind 2, the flags, the
// turnaround (ns) and the server receive time rx.
func extReply(req []byte, flags uint8, turnaround uint32, rx uint64) []byte {
	b := bytes.Clone(req)
	b[6] = 2
	b[7] = flags
	binary.LittleEndian.PutUint32(b[12:16], turnaround)
	binary.LittleEndian.PutUint64(b[16:24], rx)
	return b
}

// cat concatenates byte slices into a new one.
func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// startServer starts a server on 127.0.0.1:0 (unless opts names addresses)
// with metrics on a fresh registry, and stops it at cleanup, checking that
// Serve returned nil.
func startServer(tb testing.TB, opts Options, logger log.Logger) (*Server, *prometheus.Registry) {
	tb.Helper()
	if len(opts.ListenAddresses) == 0 {
		opts.ListenAddresses = []string{"127.0.0.1:0"}
	}
	if logger == nil {
		logger = log.NewNopLogger()
	}
	reg := prometheus.NewRegistry()
	s, err := New(testOptions(tb, opts), logger, reg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	if err := s.Listen(); err != nil {
		tb.Fatalf("Listen: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(context.Background()) }()
	tb.Cleanup(func() {
		s.Shutdown()
		select {
		case err := <-errc:
			if err != nil {
				tb.Errorf("Serve = %v, want nil", err)
			}
		case <-time.After(testTimeout):
			tb.Error("Serve did not return after Shutdown")
		}
	})
	return s, reg
}

// addr returns the server's first bound address as host:port.
func addr(tb testing.TB, s *Server) string {
	tb.Helper()
	addrs := s.Addrs()
	if len(addrs) == 0 {
		tb.Fatal("server has no address")
	}
	return addrs[0].String()
}

// dial connects to address with every read and write under testTimeout, and
// closes the connection at cleanup.
func dial(tb testing.TB, address string) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", address, testTimeout)
	if err != nil {
		tb.Fatalf("dial %s: %v", address, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		tb.Fatalf("set deadline: %v", err)
	}
	return c
}

// exchange writes one frame on c and checks that the same bytes come back.
func exchange(c net.Conn, seq uint64) error {
	out := frame(seq)
	if _, err := c.Write(out); err != nil {
		return fmt.Errorf("write frame %d: %w", seq, err)
	}
	in := make([]byte, len(out))
	if _, err := io.ReadFull(c, in); err != nil {
		return fmt.Errorf("read echo of frame %d: %w", seq, err)
	}
	if !bytes.Equal(in, out) {
		return fmt.Errorf("echo of frame %d = % x, want % x", seq, in, out)
	}
	return nil
}

// roundTrip is exchange for the test goroutine.
func roundTrip(tb testing.TB, c net.Conn, seq uint64) {
	tb.Helper()
	if err := exchange(c, seq); err != nil {
		tb.Fatal(err)
	}
}

// readUntilClosed reads c until the server closes it and returns what came
// back. A read that times out instead fails the test.
func readUntilClosed(tb testing.TB, c net.Conn) []byte {
	tb.Helper()
	var got []byte
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			tb.Fatalf("connection still open after %s (read %d bytes)", testTimeout, len(got))
		}
		return got // io.EOF, or a reset if we had sent unread bytes
	}
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// rejected returns tcp_echo_server_rejected_total for r.
func rejected(s *Server, r reason) float64 {
	return testutil.ToFloat64(s.m.rejected[r])
}

// waitRejected waits until the rejected counter for r reaches want.
func waitRejected(tb testing.TB, s *Server, r reason, want float64) {
	tb.Helper()
	waitFor(tb, fmt.Sprintf("rejected_total{reason=%q} == %v", r, want), func() bool {
		return rejected(s, r) == want
	})
}

// waitConnections waits until the connections gauge reaches want.
func waitConnections(tb testing.TB, s *Server, want float64) {
	tb.Helper()
	waitFor(tb, fmt.Sprintf("connections == %v", want), func() bool {
		return testutil.ToFloat64(s.m.connections) == want
	})
}

// logBuffer keeps the lines a server logs, in logfmt, for a test to read.
type logBuffer struct{ testenv.Buffer }

// logger returns a logger that writes every level into b.
func (b *logBuffer) logger() log.Logger { return log.NewLogfmtLogger(b) }

// waitLine waits until a logged line contains substr and returns the first
// such line.
func (b *logBuffer) waitLine(tb testing.TB, substr string) string {
	tb.Helper()
	var line string
	waitFor(tb, "a log line with "+substr, func() bool {
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.Contains(l, substr) {
				line = l
				return true
			}
		}
		return false
	})
	return line
}
