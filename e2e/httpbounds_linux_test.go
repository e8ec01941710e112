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

package e2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHugeRequestHeadersDoNotBloat opens 300 HTTP connections that each
// send a megabyte of request headers and never end them, as anyone who
// can reach the port can. Until the header timeout closes them, the
// exporter holds what each connection sent it of its headers: its
// resident memory must not grow by a megabyte per connection.
func TestHugeRequestHeadersDoNotBloat(t *testing.T) {
	const (
		clients = 300
		sent    = 1 << 20 // bytes of headers per client, at most
	)
	dir := t.TempDir()
	p, web, _ := startSelf(t, dir)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
	waitMetric(t, http.DefaultClient, url, "tcpping_exporter_config_last_reload_successful", nil, 1)
	pid := p.cmd.Process.Pid
	before := residentBytes(t, pid, "VmRSS:")

	line := "X-Padding: " + strings.Repeat("a", 4000) + "\r\n"
	block := "GET /metrics HTTP/1.1\r\nHost: x\r\n" + strings.Repeat(line, sent/len(line))
	address := fmt.Sprintf("127.0.0.1:%d", web)
	refused := 0
	for i := range clients {
		c, err := net.DialTimeout("tcp", address, 5*time.Second)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(block)); err != nil {
			refused++ // the server answered and closed before taking it all
		}
	}
	// The server reads what the kernel holds for it at its own pace; well
	// within the 10s header timeout it has read it all.
	time.Sleep(4 * time.Second)
	grew := residentBytes(t, pid, "VmHWM:") - before
	t.Logf("%d clients sent up to %d KiB of headers each (%d cut short by the server): resident memory peaked %.1f MiB higher",
		clients, sent>>10, refused, float64(grew)/(1<<20))
	if grew > 100<<20 {
		t.Errorf("resident memory peaked %.1f MiB higher for %d clients holding unfinished headers, want under 100 MiB",
			float64(grew)/(1<<20), clients)
	}
}

// residentBytes returns the resident memory of process pid that field of
// its /proc status gives: VmRSS now, VmHWM at its peak.
func residentBytes(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", field, v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestHTTPConnectionsAreCapped opens far more HTTP connections than
// --web.max-connections allows and sends nothing on them, as anyone who
// can reach the port can, as fast as the header timeout closes them.
// The HTTP server shares the process's file descriptors with the echo
// server and the probers: it must close the connections beyond the cap
// at once, not hold a descriptor for each, and give every slot back when
// its client goes.
func TestHTTPConnectionsAreCapped(t *testing.T) {
	const (
		capped  = 50
		clients = 400
	)
	p, web, _ := startSelf(t, t.TempDir(), "--web.max-connections="+strconv.Itoa(capped))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
	// Connected to itself: both ends of that connection are open before
	// the count of descriptors starts.
	waitMetric(t, http.DefaultClient, url, "tcp_echo_received_total", map[string]string{"target": "self"}, 1)
	http.DefaultClient.CloseIdleConnections()
	pid := p.cmd.Process.Pid
	before := openFiles(t, pid)

	address := fmt.Sprintf("127.0.0.1:%d", web)
	conns := make([]net.Conn, 0, clients)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = conns[:0]
	}
	t.Cleanup(closeAll)
	for i := range clients {
		c, err := net.DialTimeout("tcp", address, 5*time.Second)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	// The last one is beyond the cap: closed at once, long before the
	// 10s header timeout would close it.
	last := conns[len(conns)-1]
	_ = last.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := last.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a connection beyond the cap: read %d bytes, %v; want it closed at once", n, err)
	}
	held := openFiles(t, pid) - before
	t.Logf("%d idle connections with --web.max-connections=%d: the exporter holds %d more descriptors", clients, capped, held)
	if held > capped+10 {
		t.Errorf("the exporter holds %d more descriptors for %d idle connections, want at most %d (the cap and a few)", held, clients, capped+10)
	}
	if n := strings.Count(p.stderr.String(), `msg="connection rejected"`); n == 0 || n > 10 {
		t.Errorf("%d log lines about rejected connections for %d of them in about a second, want 1 to 10 (rate-limited)", n, clients-capped)
	}

	// Every slot comes back when its client goes: with capped-1 idle
	// connections open, a scrape still gets the last slot; with capped,
	// it does not.
	closeAll()
	for deadline := time.Now().Add(10 * time.Second); openFiles(t, pid) > before; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("10s after its clients closed them, the exporter still holds %d more descriptors", openFiles(t, pid)-before)
		}
	}
	for range capped - 1 {
		c, err := net.DialTimeout("tcp", address, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if _, _, err := scrape(client, url); err != nil {
		t.Errorf("scrape with %d of %d connections held: %v", capped-1, capped, err)
	}
	c, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, c)
	if _, _, err := scrape(client, url); err == nil {
		t.Errorf("scrape with all %d connections held: answered, want the connection closed", capped)
	}
}

// openFiles returns the number of file descriptors process pid has open.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}
