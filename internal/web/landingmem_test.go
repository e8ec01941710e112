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

package web

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/prober"
)

// smallBufListener gives each connection it accepts a small send buffer,
// so that a response larger than it waits for its client to read, until
// grow.
type smallBufListener struct {
	net.Listener
	made  *atomic.Int64 // the pages made by the server
	mu    sync.Mutex
	conns []*net.TCPConn
}

// countingWriter counts the Write calls of a handler in made.
type countingWriter struct {
	http.ResponseWriter
	made *atomic.Int64
}

func (w countingWriter) Write(b []byte) (int, error) {
	w.made.Add(1)
	return w.ResponseWriter.Write(b)
}

func (l *smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
		l.mu.Lock()
		l.conns = append(l.conns, tc)
		l.mu.Unlock()
	}
	return c, err
}

// grow gives the connections accepted so far a send buffer of the usual
// size, so that the responses are sent at the usual speed.
func (l *smallBufListener) grow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.SetWriteBuffer(1 << 20)
	}
}

// TestLandingPagesAtOnce sends many requests for the landing page of
// 1 000 targets at once from clients that do not read their answers yet,
// as a hung browser, a slow link or a flood of requests does. The
// exporter's memory must stay within a few pages: each request made its
// page, a megabyte here and tens of MB with 10 000 targets, and held it
// until its client took it, so 60 requests at once took an exporter of
// 10 000 targets from 170 MB to 760 MB resident. Every client that then
// reads gets its page.
func TestLandingPagesAtOnce(t *testing.T) {
	pool := history.NewPool(time.Hour, time.Minute)
	every := minuteLoss{}
	for m := 1; m <= 60; m++ {
		every[m] = float64(m%7+1) / 60
	}
	probers := make([]*prober.Prober, 1000)
	for i := range probers {
		probers[i] = pastProber(t, pool, fmt.Sprintf("target-%04d", i), fmt.Sprintf("10.0.%d.%d:4000", i/250, i%250),
			nil, time.Duration(i)*37*time.Microsecond, every)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// made counts the pages made: a page is written whole, in one Write.
	var made atomic.Int64
	h := pastLanding(t, list(probers...), pool.Span())
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(countingWriter{w, &made}, r)
	}))
	srv.Listener.Close()
	sl := &smallBufListener{Listener: l, made: &made}
	srv.Listener = sl
	srv.Start()
	t.Cleanup(srv.Close)

	check := func(s stalled) {
		t.Helper()
		for i, body := range s.read(t) {
			if rows := strings.Count(body, "<tr><td>"); rows != len(probers) {
				t.Errorf("client %d: %d bytes, %d rows; want every row", i, len(body), rows)
			}
		}
	}
	one := stalledLandings(t, sl, 1)
	check(one)
	const many = 24
	all := stalledLandings(t, sl, many)
	if all.made > maxLandings {
		t.Errorf("%d landing pages made and held for %d clients that do not read, want at most %d", all.made, many, maxLandings)
	}
	check(all)
	t.Logf("the heap grew by %d bytes for one request waiting for its client, by %d for %d", one.grown, all.grown, many)
	if all.grown > 8*one.grown {
		t.Errorf("with %d requests for the landing page waiting for their clients, the heap grew by %d bytes, %.1f times as much as for one; want at most 8 times",
			many, all.grown, float64(all.grown)/float64(one.grown))
	}
}

// stalled is requests whose clients have not read their answers.
type stalled struct {
	l     *smallBufListener
	conns []net.Conn
	made  int64  // the pages made for them, before any was read
	grown uint64 // how much the heap grew meanwhile
}

// stalledLandings sends n requests for the landing page to the server
// of l and reads nothing; it returns after a while, with how much the heap
// grew.
func stalledLandings(t *testing.T, l *smallBufListener, n int) stalled {
	t.Helper()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	start := l.made.Load()
	made := func() int64 { return l.made.Load() - start }
	s := stalled{l: l}
	for range n {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: exporter\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		s.conns = append(s.conns, c)
	}
	// Wait for the pages the server makes at once (of a slow, loaded
	// machine too: they are made at low priority), give it the time to
	// make more if it would, then see what they hold.
	first := min(int64(n), maxLandings)
	deadline := time.Now().Add(60 * time.Second)
	for made() < first {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the first %d pages made within 60 s", made(), first)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	h := heap()
	s.grown = h - min(h, base)
	s.made = made()
	return s
}

// read reads the answers, which must be 200, and returns their bodies.
func (s stalled) read(t *testing.T) []string {
	t.Helper()
	s.l.grow()
	bodies := make([]string, len(s.conns))
	var wg sync.WaitGroup
	for i, c := range s.conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("client %d: HTTP %d, %v", i, resp.StatusCode, err)
			}
			bodies[i] = string(body)
		})
	}
	wg.Wait()
	return bodies
}
