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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// runPing runs `tcpping_exporter ping args...` to completion, under a
// deadline, and returns its exit code, stdout and stderr.
func runPing(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"ping"}, args...)...)
	var stdout, stderr testenv.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ping %v did not end:\n%s%s", args, stdout.String(), stderr.String())
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// ownEchoServer runs the binary as an echo server only and returns its
// echo address once it accepts connections.
func ownEchoServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.Port(t))
	startBinary(t, dir, "--config.file="+writeFile(t, dir, "tcpping.yml", "targets: []\n"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(testenv.Port(t)), "--echo.listen-address="+addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo server at %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	pingReply   = regexp.MustCompile(`(?m)^24 bytes from (127\.0\.0\.1:\d+): seq=(\d+) time=\d+\.\d{1,3} ms$`)
	pingSummary = regexp.MustCompile(`(?m)^--- (\S+) tcpping statistics ---\n(\d+) probes transmitted, (\d+) received(?:, ([0-9.]+)% loss)?\n`)
	pingRTT     = regexp.MustCompile(`(?m)^rtt min/avg/max/mdev = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms\n\z`)
)

func TestPingCommand(t *testing.T) {
	closed := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		return addr
	}
	notEcho := func(t *testing.T) string {
		return testenv.Serve(t, func(c net.Conn) {
			buf := make([]byte, 24)
			if _, err := io.ReadFull(c, buf); err == nil {
				_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
			}
			_, _ = c.Read(buf)
		})
	}
	for _, tt := range []struct {
		name    string
		addr    func(t *testing.T) string
		args    []string
		code    int
		replies int
		summary string // transmitted, received, loss
		stderr  string
	}{
		{"our echo server", ownEchoServer, []string{"-c", "3", "-i", "0.1"}, 0, 3, "3 3 0", ""},
		{"an original-style echo server", func(t *testing.T) string { return testenv.EchoServer(t) },
			[]string{"-c", "3", "-i", "100ms", "-W", "1"}, 0, 3, "3 3 0", ""},
		{"closed port", closed, []string{"-c", "2", "-i", "0.1"}, 1, 0, "2 0 100", ": connect: connection refused\n"},
		{"not an echo server", notEcho, []string{"-c", "1000", "-i", "0.05"}, 1, 0, "", "is not a tcpping echo server: its reply does not start with the frame magic"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr(t)
			code, stdout, stderr := runPing(t, append(tt.args, addr)...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if !strings.HasPrefix(stdout, "TCPPING "+addr+": 24 bytes per probe over one TCP connection\n") {
				t.Errorf("no header line")
			}
			replies := pingReply.FindAllStringSubmatch(stdout, -1)
			if len(replies) != tt.replies {
				t.Errorf("%d reply lines, want %d", len(replies), tt.replies)
			}
			for i, m := range replies {
				if m[1] != addr || m[2] != strconv.Itoa(i+1) {
					t.Errorf("reply line %q: want from %s, seq=%d", m[0], addr, i+1)
				}
			}
			m := pingSummary.FindStringSubmatch(stdout)
			if m == nil || m[1] != addr || (tt.summary != "" && strings.Join(m[2:], " ") != tt.summary) {
				t.Errorf("summary %q, want %q transmitted, received, loss", m, tt.summary)
			}
			if got := pingRTT.MatchString(stdout); got != (tt.replies > 0) {
				t.Errorf("RTT summary line last: %v, want %v", got, tt.replies > 0)
			}
			if !strings.Contains(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

// TestPingSIGINT interrupts a ping that has no count, as Ctrl-C does, and
// checks that it prints its summary and exits 0.
func TestPingSIGINT(t *testing.T) {
	addr := testenv.EchoServer(t)
	p := startPing(t, "-i", "0.05", addr)
	p.replies(5)
	text, err := p.interrupt()
	m := pingSummary.FindStringSubmatch(text)
	if err != nil || p.cmd.ProcessState.ExitCode() != 0 || m == nil || !pingRTT.MatchString(text) {
		t.Fatalf("exit %v; output:\n%s\nstderr:\n%s", err, text, p.stderr.String())
	}
	sent, _ := strconv.Atoi(m[2])
	recv, _ := strconv.Atoi(m[3])
	if recv < 5 || sent < recv || sent > recv+1 {
		t.Errorf("summary %q: want at least the 5 replies seen, and at most one probe in flight at the interrupt", m[0])
	}
}

func TestPingJSON(t *testing.T) {
	addr := testenv.EchoServer(t)
	code, stdout, stderr := runPing(t, "--json", "-c", "3", "-i", "0.05", addr)
	if code != 0 || stderr != "" {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var e struct {
			Type        string   `json:"type"`
			Seq         int      `json:"seq"`
			RTT         *float64 `json:"rtt_seconds"`
			Transmitted *int     `json:"transmitted"`
			Received    *int     `json:"received"`
			LossRatio   *float64 `json:"loss_ratio"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", line, err)
		}
		types = append(types, e.Type)
		switch e.Type {
		case "reply":
			if e.RTT == nil || *e.RTT <= 0 || e.Seq != len(types)-1 {
				t.Errorf("reply %q", line)
			}
		case "summary":
			if *e.Transmitted != 3 || *e.Received != 3 || *e.LossRatio != 0 {
				t.Errorf("summary %q", line)
			}
		}
	}
	if got := strings.Join(types, " "); got != "connected reply reply reply summary" {
		t.Errorf("lines %s, want connected, 3 replies, summary", got)
	}
}

func TestPingUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"127.0.0.1"},
		{"127.0.0.1:99999"},
		{"-c", "many", "127.0.0.1:1"},
		{"-i", "0", "127.0.0.1:1"},
		{"-i", "soon", "127.0.0.1:1"},
		{"-W", "-1", "127.0.0.1:1"},
		{"--bogus", "127.0.0.1:1"},
		{"127.0.0.1:1", "127.0.0.1:2"},
		{"foo!bar:1"}, // neither an IP address nor a DNS name: nothing is resolved
		{"[localhost]:1"},
		{"[fe80::1]:1"}, // link-local with no zone: connect(2) would say "invalid argument"
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			code, stdout, stderr := runPing(t, args...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "tcpping_exporter") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit code %d, stdout %q, stderr %q; want 2, nothing, one line of reason", code, stdout, stderr)
			}
		})
	}
}

// TestPingFlagRanges gives each flag of the ping command values out of its
// range, as iputils' ping(8) refuses `-c 0` or `-W -1`: each is a usage
// error (exit code 2, nothing on standard output) on one line that names
// the flag, and nothing is probed. A value at the edge of a range runs.
func TestPingFlagRanges(t *testing.T) {
	for _, tt := range []struct {
		args []string
		flag string
	}{
		{[]string{"-c", "0"}, "-c, --count"},
		{[]string{"--count=-1"}, "-c, --count"},
		{[]string{"--count=9223372036854775808"}, "-c, --count"},
		{[]string{"-c", "0x10"}, "-c, --count"},
		{[]string{"-c", "1_0"}, "-c, --count"},
		{[]string{"-c", "1.5"}, "-c, --count"},
		{[]string{"-i", "0"}, "-i, --interval"},
		{[]string{"-i", "0.0009"}, "-i, --interval"},
		{[]string{"-i", "900us"}, "-i, --interval"},
		{[]string{"-i", "1000001"}, "-i, --interval"},
		{[]string{"-i", "1000001s"}, "-i, --interval"},
		{[]string{"--interval=-1"}, "-i, --interval"},
		{[]string{"-i", "nan"}, "-i, --interval"},
		{[]string{"-W", "0"}, "-W, --timeout"},
		{[]string{"-W", "0s"}, "-W, --timeout"},
		{[]string{"-W", "0.0009"}, "-W, --timeout"},
		{[]string{"-W", "1000001"}, "-W, --timeout"},
		{[]string{"-W", "300h"}, "-W, --timeout"},
		{[]string{"--timeout=-1"}, "-W, --timeout"},
		{[]string{"-W", "inf"}, "-W, --timeout"},
		// A negative value as its own argument: kingpin took it for a
		// flag, and said only "expected argument for flag '-c'".
		{[]string{"-c", "-1"}, "-c, --count"},
		{[]string{"--count", "-1"}, "-c, --count"},
		{[]string{"-i", "-1"}, "-i, --interval"},
		{[]string{"-i", "-0.5"}, "-i, --interval"},
		{[]string{"-W", "-1"}, "-W, --timeout"},
		{[]string{"-W", "-1s"}, "-W, --timeout"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// A closed port: a value taken by mistake shows as a ping
			// that runs, and fails, rather than as a usage error.
			code, stdout, stderr := runPing(t, append(tt.args, "127.0.0.1:1")...)
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "tcpping_exporter") ||
				strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.flag+": ") {
				t.Errorf("exit code %d, stdout %q, stderr %q; want 2, nothing, one line naming %s", code, stdout, stderr, tt.flag)
			}
		})
	}
	// The edges of the ranges, against a closed port: each runs and ends
	// after its count.
	for _, tt := range []struct {
		args []string
		sent string
	}{
		{[]string{"-c", "1", "-i", "0.001", "-W", "0.001"}, "1"},
		{[]string{"-c", "1", "-i", "1000000", "-W", "1000000s"}, "1"},
		{[]string{"-c", "010", "-i", "1ms"}, "10"}, // decimal, as ping(8) reads it: not octal 8
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runPing(t, append(tt.args, "127.0.0.1:1")...)
			m := pingSummary.FindStringSubmatch(stdout)
			if code != 1 || m == nil || m[2] != tt.sent {
				t.Errorf("exit code %d, summary %q; want 1 and %s probes transmitted\nstdout:\n%s\nstderr:\n%s", code, m, tt.sent, stdout, stderr)
			}
		})
	}
}

// TestPingBoolFlagValue gives --json a value, which kingpin does not take:
// it used to read the value as the HOST:PORT argument and report the real
// one as unexpected, naming neither the flag nor what to write instead.
func TestPingBoolFlagValue(t *testing.T) {
	for _, arg := range []string{"--json=true", "--json=false", "--no-json=1"} {
		t.Run(arg, func(t *testing.T) {
			code, stdout, stderr := runPing(t, arg, "-c", "1", "127.0.0.1:1")
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 ||
				!strings.Contains(stderr, "--json: ") || !strings.Contains(stderr, "--no-json") {
				t.Errorf("exit code %d, stdout %q, stderr %q; want 2, nothing, one line naming --json and --no-json", code, stdout, stderr)
			}
		})
	}
}

// TestPingNameSaysWhichAddress pings a target given by a DNS name
// (localhost, from /etc/hosts) on a closed port: the name may have
// addresses of both families, and ip_protocol picks one, so the reason a
// connection failed names the address that was tried. A target given by
// its address is already named in the line.
func TestPingNameSaysWhichAddress(t *testing.T) {
	if ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip4", "localhost"); err != nil || len(ips) == 0 || !ips[0].IsLoopback() {
		testenv.Unavailable(t, "localhost has no IPv4 loopback address: %v %v", ips, err)
	}
	port := testenv.Port(t)
	code, stdout, stderr := runPing(t, "-c", "1", "localhost:"+strconv.Itoa(port))
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	want := regexp.MustCompile(`^cannot connect to localhost:` + strconv.Itoa(port) + `: (127\.0\.0\.1|\[::1\]):` + strconv.Itoa(port) + `: connect: connection refused\n`)
	if !want.MatchString(stderr) {
		t.Errorf("stderr %q, want it to match %s\nstdout:\n%s", stderr, want, stdout)
	}
}

// TestPingFamilyFlags checks -4 and -6, ping(8)'s: they choose the address
// family of a DNS name's address, IPv4 or IPv6 only. localhost has only
// 127.0.0.1 (from /etc/hosts): -4 reaches the echo server there, and -6
// finds no address to connect to. An IP address of the other family, or
// both flags, is a usage error.
func TestPingFamilyFlags(t *testing.T) {
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", "localhost")
	if err != nil || len(ips) == 0 || slices.ContainsFunc(ips, func(a netip.Addr) bool { return !a.Unmap().Is4() }) {
		testenv.Unavailable(t, "localhost does not resolve to IPv4 addresses only: %v %v", ips, err)
	}
	echo := ownEchoServer(t)
	_, port, _ := net.SplitHostPort(echo)
	name := "localhost:" + port

	t.Run("-4 to a name", func(t *testing.T) {
		code, stdout, stderr := runPing(t, "-4", "-c", "1", name)
		connected := regexp.MustCompile(`(?m)^connected to ` + regexp.QuoteMeta(echo) + ` from 127\.0\.0\.1:\d+ in `)
		m := pingSummary.FindStringSubmatch(stdout)
		if code != 0 || !connected.MatchString(stdout) || m == nil || m[3] != "1" || stderr != "" {
			t.Errorf("exit code %d, summary %q, stderr %q; want 0, connected to %s, 1 received, nothing on stderr\nstdout:\n%s",
				code, m, stderr, echo, stdout)
		}
	})
	t.Run("-6 to a name with no IPv6 address", func(t *testing.T) {
		code, stdout, stderr := runPing(t, "-6", "-c", "1", name)
		want := "cannot connect to " + name + ": resolve localhost: no IPv6 address"
		if code != 1 || !strings.HasPrefix(stderr, want) {
			t.Errorf("exit code %d, stderr %q; want 1 and %q\nstdout:\n%s", code, stderr, want, stdout)
		}
	})
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-4", "[::1]:" + port}, `-4: ::1 is an IPv6 address`},
		{[]string{"--ipv4", "[::1]:" + port}, `-4: ::1 is an IPv6 address`},
		{[]string{"-6", echo}, `-6: 127.0.0.1 is an IPv4 address`},
		{[]string{"-6", "[::ffff:127.0.0.1]:" + port}, `-6: 127.0.0.1 is an IPv4 address`},
		{[]string{"-4", "-6", name}, "-4 and -6 exclude each other"},
		{[]string{"-46", name}, "-4 and -6 exclude each other"},
		{[]string{"--ipv4=true", name}, "--ipv4: a boolean flag takes no value"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runPing(t, append([]string{"-c", "1"}, tt.args...)...)
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit code %d, stdout %q, stderr %q; want 2, nothing, one line saying %q", code, stdout, stderr, tt.want)
			}
		})
	}
}
