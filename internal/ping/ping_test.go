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

package ping

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/echo"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// ourEcho runs this project's echo server on 127.0.0.1 until the test
// ends and returns its address.
func ourEcho(t testing.TB) string {
	t.Helper()
	s, err := echo.New(echo.Options{ListenAddresses: []string{"127.0.0.1:0"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; s.Shutdown() })
	return s.Addrs()[0].String()
}

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// swallowEven echoes the odd probes of each connection and swallows the
// even ones, whose probes then time out.
func swallowEven(c net.Conn) {
	buf := make([]byte, 24)
	for i := 1; ; i++ {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if f, err := wire.Decode(buf); err == nil && f.IsHello() {
			i-- // the extended protocol's offer: reflected, as any frame, and not a probe
		} else if i%2 == 0 {
			continue
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// notEcho answers the first frame with an HTTP error, as a web server
// would, and waits for the client to go.
func notEcho(c net.Conn) {
	buf := make([]byte, 24)
	if _, err := io.ReadFull(c, buf); err != nil {
		return
	}
	_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	_, _ = c.Read(buf)
}

// echoThenGarbage echoes the HELLO and two probes, as an original server,
// then answers the third probe with bytes that are no frame.
func echoThenGarbage(c net.Conn) {
	buf := make([]byte, 24)
	for range 3 {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		return
	}
	_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	_, _ = io.Copy(io.Discard, c)
}

// echoThenClose echoes the HELLO and one probe, as an original server,
// then reads the next probe and closes the connection.
func echoThenClose(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 24)
	for range 2 {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
	_, _ = io.ReadFull(c, buf)
}

// banner greets each connection as a POP3 or FTP server does, with a line
// shorter than a frame, and waits for the client to go.
func banner(c net.Conn) {
	_, _ = c.Write([]byte("+OK ready\r\n"))
	_, _ = io.Copy(io.Discard, c)
}

// run pings with o, under a deadline, and returns the exit code and what
// went to stdout and stderr.
func run(t *testing.T, ctx context.Context, o Options) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var stdout, stderr testenv.Buffer
	o.Stdout, o.Stderr = &stdout, &stderr
	code := Run(ctx, o)
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("ping did not end:\n%s%s", stdout.String(), stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

// num parses a number the output printed.
func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var (
	replyLine = regexp.MustCompile(`^24 bytes from 127\.0\.0\.1:\d+: seq=(\d+) time=\d+\.\d{1,3} ms$`)
	rttLine   = regexp.MustCompile(`^rtt min/avg/max/mdev = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3}) ms$`)
)

func TestPing(t *testing.T) {
	for _, tt := range []struct {
		name     string
		addr     func(t testing.TB) string
		opts     Options
		code     int
		replies  int
		summary  string
		stdout   []string // lines that must be there
		stderr   string   // text that must be on stderr
		noRTTSum bool
		// onlyHeader: nothing but the header before the summary, and one
		// line on stderr (the peer that ended the ping)
		onlyHeader bool
	}{
		{name: "our echo server", addr: ourEcho, opts: Options{Count: 3, Interval: 20 * time.Millisecond},
			code: ExitReplied, replies: 3, summary: "3 probes transmitted, 3 received, 0% loss"},
		{name: "an original-style echo server", addr: testenv.EchoServer, opts: Options{Count: 3, Interval: 20 * time.Millisecond},
			code: ExitReplied, replies: 3, summary: "3 probes transmitted, 3 received, 0% loss"},
		{name: "every other probe lost", addr: func(t testing.TB) string { return testenv.Serve(t, swallowEven) },
			opts: Options{Count: 4, Interval: 20 * time.Millisecond, Timeout: 100 * time.Millisecond},
			code: ExitReplied, replies: 2, summary: "4 probes transmitted, 2 received, 50% loss",
			stdout: []string{"no reply: seq=2 (timeout)", "no reply: seq=4 (timeout)"}},
		{name: "closed port", addr: closedPort, opts: Options{Count: 2, Interval: 20 * time.Millisecond},
			code: ExitNoReply, summary: "2 probes transmitted, 0 received, 100% loss", noRTTSum: true,
			stdout: []string{"no reply: seq=1 (not connected)"}, stderr: "connection refused"},
		// The probe in flight is lost with its connection, long before
		// its timeout: not a timeout. With -c 2 it ends the ping, and
		// the line is all that says so.
		{name: "connection closed with a probe in flight", addr: func(t testing.TB) string { return testenv.Serve(t, echoThenClose) },
			opts: Options{Count: 2, Interval: 20 * time.Millisecond}, code: ExitReplied, replies: 1,
			summary: "2 probes transmitted, 1 received, 50% loss", stdout: []string{"no reply: seq=2 (connection lost)"}},
		{name: "not an echo server", addr: func(t testing.TB) string { return testenv.Serve(t, notEcho) },
			opts: Options{Count: 1000, Interval: 20 * time.Millisecond}, // ends at the first reply
			code: ExitNoReply, summary: "0 probes transmitted, 0 received", noRTTSum: true, onlyHeader: true,
			stderr: `is not a tcpping echo server: its reply does not start with the frame magic "TCPPING\x00"`},
		{name: "garbage for the third probe", addr: func(t testing.TB) string { return testenv.Serve(t, echoThenGarbage) },
			opts: Options{Count: 1000, Interval: 20 * time.Millisecond}, // ends at the garbage
			code: ExitReplied, replies: 2, summary: "3 probes transmitted, 2 received",
			stderr: `is not a tcpping echo server: its reply does not start with the frame magic "TCPPING\x00"`},
		{name: "a greeting shorter than a frame", addr: func(t testing.TB) string { return testenv.Serve(t, banner) },
			opts: Options{Count: 5, Interval: 20 * time.Millisecond}, // ends at the greeting
			code: ExitNoReply, summary: "0 probes transmitted, 0 received", noRTTSum: true, onlyHeader: true,
			stderr: `is not a tcpping echo server: its reply does not start with the frame magic "TCPPING\x00"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Target = tt.addr(t)
			code, stdout, stderr := run(t, context.Background(), o)
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if want := "TCPPING " + o.Target + ": 24 bytes per probe over one TCP connection"; lines[0] != want {
				t.Errorf("first line %q, want %q", lines[0], want)
			}
			replies := 0
			for _, l := range lines {
				if replyLine.MatchString(l) {
					replies++
				}
			}
			if replies != tt.replies {
				t.Errorf("%d reply lines, want %d", replies, tt.replies)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want+"\n") {
					t.Errorf("no line %q", want)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q", tt.stderr)
			}
			if tt.onlyHeader && (len(lines) < 3 || lines[1] != "" ||
				!strings.HasPrefix(lines[2], "--- ") || strings.Count(stderr, "\n") != 1) {
				t.Errorf("want only the header before the summary and one line on stderr")
			}
			i := strings.Index(stdout, "--- "+o.Target+" tcpping statistics ---\n")
			if i < 0 || !strings.Contains(stdout[i:], tt.summary) {
				t.Errorf("no summary with %q", tt.summary)
			}
			if m := rttLine.FindStringSubmatch(lines[len(lines)-1]); (m == nil) != tt.noRTTSum {
				t.Errorf("last line %q: want the RTT summary: %v", lines[len(lines)-1], !tt.noRTTSum)
			} else if m != nil && !(num(t, m[1]) <= num(t, m[2]) && num(t, m[2]) <= num(t, m[3])) {
				t.Errorf("rtt summary %q: want min ≤ avg ≤ max", m[0])
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

// TestPingInterrupted ends a ping without a count as Ctrl-C does, and
// checks that it still prints the summary of what it sent.
func TestPingInterrupted(t *testing.T) {
	addr := testenv.EchoServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testenv.Buffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, Options{Target: addr, Interval: 10 * time.Millisecond, Stdout: &stdout, Stderr: &stderr})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(stdout.String(), " bytes from ") < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("no 5 replies:\n%s%s", stdout.String(), stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ping did not end when interrupted")
	}
	out := stdout.String()
	m := regexp.MustCompile(`\n(\d+) probes transmitted, (\d+) received, [0-9.]+% loss\n`).FindStringSubmatch(out)
	if code != ExitReplied || m == nil || num(t, m[2]) < 5 || num(t, m[2]) > num(t, m[1]) {
		t.Fatalf("exit code %d, output:\n%s", code, out)
	}
	if !rttLine.MatchString(out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1 : len(out)-1]) {
		t.Errorf("no RTT summary last:\n%s", out)
	}
}

// TestPingJSON checks that --json prints nothing but JSON objects, one a
// line, with the replies and the summary.
func TestPingJSON(t *testing.T) {
	addr := testenv.Serve(t, swallowEven)
	code, stdout, stderr := run(t, context.Background(), Options{
		Target: addr, Count: 4, Interval: 20 * time.Millisecond, Timeout: 100 * time.Millisecond, JSON: true,
	})
	if code != ExitReplied || stderr != "" {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	types := map[string]int{}
	var summary map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		types[e["type"].(string)]++
		if _, err := time.Parse(time.RFC3339Nano, e["time"].(string)); err != nil {
			t.Errorf("line %q: time: %v", sc.Text(), err)
		}
		switch e["type"] {
		case "reply":
			if e["rtt_seconds"].(float64) <= 0 || e["from"] != addr || e["bytes"].(float64) != 24 {
				t.Errorf("reply %q", sc.Text())
			}
		case "summary":
			summary = e
		}
	}
	if types["connected"] != 1 || types["reply"] != 2 || types["lost"] != 2 || summary == nil {
		t.Fatalf("lines by type %v, want 1 connected, 2 replies, 2 lost, a summary:\n%s", types, stdout)
	}
	rtt, _ := summary["rtt"].(map[string]any)
	if summary["transmitted"].(float64) != 4 || summary["received"].(float64) != 2 || summary["loss_ratio"].(float64) != 0.5 ||
		rtt == nil || rtt["min_seconds"].(float64) > rtt["max_seconds"].(float64) {
		t.Errorf("summary %v", summary)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, o := range []Options{
		{Target: "no-port", Interval: time.Second},
		{Target: "127.0.0.1:0", Interval: time.Second},
		{Target: "127.0.0.1:4000", Interval: 0},
		{Target: "127.0.0.1:4000", Interval: time.Second, Timeout: -time.Second},
	} {
		code, stdout, stderr := run(t, context.Background(), o)
		if code != ExitUsage || stdout != "" || !strings.HasPrefix(stderr, "tcpping_exporter ping: ") {
			t.Errorf("%+v: exit code %d, stdout %q, stderr %q; want 2 and a reason", o, code, stdout, stderr)
		}
	}
}

func TestRTTStats(t *testing.T) {
	var r rttStats
	for _, ms := range []float64{1, 2, 3, 4} {
		r.add(time.Duration(ms * float64(time.Millisecond)))
	}
	// iputils: mdev = sqrt(mean(x²) − mean(x)²) = sqrt(7.5 − 6.25) ms.
	if r.min != time.Millisecond || r.max != 4*time.Millisecond || r.mean() != 0.0025 || r.mdev() < 0.00111803 || r.mdev() > 0.00111804 {
		t.Errorf("min %v max %v mean %v mdev %v", r.min, r.max, r.mean(), r.mdev())
	}
}

func TestMilliseconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Microsecond:     "0.045",
		1234 * time.Microsecond:   "1.23",
		12345 * time.Microsecond:  "12.3",
		123456 * time.Microsecond: "123",
		// ping(8)'s boundaries: a value that rounds up to the next
		// range is written as that range writes it.
		45600 * time.Nanosecond:  "0.045", // whole microseconds, truncated
		9996 * time.Microsecond:  "10.0",
		99960 * time.Microsecond: "100",
		99940 * time.Microsecond: "99.9",
	} {
		if got := ms(d); got != want {
			t.Errorf("ms(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestLossPercent checks the summary's loss as ping(8) writes it: six
// significant digits, so that a reply in 2001 probes is not 100 % loss
// and one loss in 2001 is not 0 %.
func TestLossPercent(t *testing.T) {
	for _, tt := range []struct {
		sent, recv uint64
		want       string
	}{
		{2001, 1, "99.95"},
		{2001, 2000, "0.049975"},
		{3, 2, "33.3333"},
		{4, 2, "50"},
		{2, 0, "100"},
		{3, 3, "0"},
		{0, 0, "0"},
	} {
		if got := lossPercent(tt.sent, tt.recv); got != tt.want {
			t.Errorf("%d sent, %d received: %q%% loss, want %q", tt.sent, tt.recv, got, tt.want)
		}
	}
}
