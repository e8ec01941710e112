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
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The servers in this file are written from DESIGN.md's byte layout alone,
// without the wire or echo packages, so they check wire compatibility.

var testMagic = []byte("TCPPING\x00")

// testHello is the first frame of a prober with echo_protocol auto, which
// asks for the extended protocol: the magic, sequence number 2^64-2
// (little-endian) and the time field "TPXHELLO". An original server
// reflects it like any frame.
var testHello = []byte("TCPPING\x00\xfe\xff\xff\xff\xff\xff\xff\xffTPXHELLO")

// testServer is a TCP server on 127.0.0.1 whose per-connection behaviour
// is a function. It counts accepted connections.
type testServer struct {
	ln       net.Listener
	accepted atomic.Int64
	stop     chan struct{} // closed when the test ends
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startServer(t *testing.T, handle func(c net.Conn)) *testServer {
	t.Helper()
	return startServerStop(t, func(c net.Conn, _ <-chan struct{}) { handle(c) })
}

// startServerStop is startServer for handlers that run until told to stop.
func startServerStop(t *testing.T, handle func(c net.Conn, stop <-chan struct{})) *testServer {
	t.Helper()
	return startServerAt(t, "127.0.0.1:0", handle)
}

// startServerAt is startServerStop listening on addr.
func startServerAt(t *testing.T, addr string, handle func(c net.Conn, stop <-chan struct{})) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln, stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c, s.stop)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

func (s *testServer) close() {
	close(s.stop)
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// readFrame reads one 24-byte frame and checks its magic by hand.
func readFrame(c net.Conn) ([]byte, error) {
	f := make([]byte, 24)
	if _, err := io.ReadFull(c, f); err != nil {
		return nil, err
	}
	if !bytes.Equal(f[:8], testMagic) {
		return nil, errors.New("bad magic from prober")
	}
	return f, nil
}

// readProbe reads the next probe frame from c as an original echo server
// would see it: a HELLO (the extended protocol's offer, under
// echo_protocol auto) is reflected, as the original server reflects any
// frame, and not returned.
func readProbe(c net.Conn) ([]byte, error) {
	for {
		f, err := readFrame(c)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(f, testHello) {
			if _, err := c.Write(f); err != nil {
				return nil, err
			}
			continue
		}
		return f, nil
	}
}

// lateThird echoes each probe at once but the third, which it answers
// 300 ms late.
func lateThird(c net.Conn) {
	for i := 1; ; i++ {
		f, err := readProbe(c)
		if err != nil {
			return
		}
		if i == 3 {
			time.Sleep(300 * time.Millisecond)
		}
		if _, err := c.Write(f); err != nil {
			return
		}
	}
}

// echoHandler reflects each frame unchanged.
func echoHandler(c net.Conn) {
	for {
		f, err := readFrame(c)
		if err != nil {
			return
		}
		if _, err := c.Write(f); err != nil {
			return
		}
	}
}

// delayedEchoHandler reflects each frame d after it arrived, in order,
// while reading on: frames pipeline.
func delayedEchoHandler(d time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		type item struct {
			f  []byte
			at time.Time
		}
		q := make(chan item, 1024)
		go func() {
			defer close(q)
			for {
				f, err := readFrame(c)
				if err != nil {
					return
				}
				q <- item{f, time.Now().Add(d)}
			}
		}()
		for it := range q {
			time.Sleep(time.Until(it.at))
			if _, err := c.Write(it.f); err != nil {
				return
			}
		}
	}
}

// startStalledPeer starts a server that answers a connection's HELLO with
// an offer of 9000-byte frames and then reads nothing more, with a 4 KiB
// receive buffer: a prober's writes of long frames soon block on it, or
// fill the engine's send queue.
func startStalledPeer(t *testing.T) *testServer {
	t.Helper()
	return startServerStop(t, func(c net.Conn, stop <-chan struct{}) {
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if f, err := readFrame(c); err != nil || !bytes.Equal(f, testHello) {
			return
		}
		if _, err := c.Write(offerFrame(9000)); err != nil {
			return
		}
		<-stop // stalled: reads nothing more
	})
}
