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

//go:build unix

package echo

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// cpuClientEnv passes the load to the client process of BenchmarkEchoCPU:
// "ADDRESS CONNS RATE FRAMES LEN", LEN 0 for 24-byte frames, else the
// length of extended frames.
const cpuClientEnv = "ECHO_CPU_CLIENT"

// BenchmarkEchoCPU measures the echo server's CPU time per echo the way
// bench/run.sh measures the binary's: a separate client process (this test
// binary, run again as TestEchoCPUClient) keeps conns connections open and
// sends b.N frames spread evenly over time, rate frames per second in all,
// reading every echo. The server's process CPU time (getrusage: every
// thread, the Go runtime's included, and none of the client's) over the b.N
// echoes is reported as cpu-µs/echo. ns/op is about 1/rate and says nothing.
// workers sets the epoll workers on Linux (0: the default); ext, the length
// of extended frames the connections negotiate (0: 24-byte frames).
func BenchmarkEchoCPU(b *testing.B) {
	for _, bc := range []struct {
		name                      string
		conns, rate, workers, ext int
	}{
		{"conns=1000/rate=10000", 1000, 10000, 0, 0},
		{"conns=100/rate=1000", 100, 1000, 0, 0},
		{"conns=1000/rate=10000/workers=2", 1000, 10000, 2, 0},
		{"conns=1000/rate=10000/ext=64", 1000, 10000, 0, 64},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchEchoCPU(b, bc.conns, bc.rate, bc.workers, bc.ext)
		})
	}
}

func benchEchoCPU(b *testing.B, conns, rate, workers, ext int) {
	s, _ := startServer(b, Options{MaxConnections: conns, workers: workers}, nil)
	cmd := exec.Command(os.Args[0], "-test.run=^TestEchoCPUClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %d %d", cpuClientEnv, addr(b, s), conns, rate, b.N, ext))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close() // the client exits when its stdin closes
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	expect := func(want string) {
		b.Helper()
		for lines.Scan() {
			if lines.Text() == want {
				return
			}
		}
		b.Fatalf("client process ended before %q: %v", want, lines.Err())
	}
	expect("ready")
	waitConnections(b, s, float64(conns))

	frames0, cpu0 := testutil.ToFloat64(s.m.frames), processCPU(b)
	b.ResetTimer()
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		b.Fatal(err)
	}
	expect("done")
	b.StopTimer()
	// The server counts an echo once its write returns, which may be just
	// after the client has read it.
	counted := func() float64 { return testutil.ToFloat64(s.m.frames) - frames0 }
	waitFor(b, fmt.Sprintf("%d echoes counted", b.N), func() bool { return counted() >= float64(b.N) })
	cpu := processCPU(b) - cpu0
	echoes := counted()
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/echoes, "cpu-µs/echo")
}

// processCPU returns the user and system CPU time of this process.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestEchoCPUClient is the client process of BenchmarkEchoCPU, not a test.
// It connects, says "ready", waits for a line on stdin, sends the frames
// at the rate, spread over the connections in turn and over time in 1 ms
// steps (as bench/floor/pinger -s 1000 does), and says "done" when every
// echo is back. With a length, each connection negotiates extended frames
// before "ready" and sends requests of that length.
func TestEchoCPUClient(t *testing.T) {
	spec := os.Getenv(cpuClientEnv)
	if spec == "" {
		t.Skip("the client process of BenchmarkEchoCPU")
	}
	var address string
	var nconns, rate, total, ext int
	if _, err := fmt.Sscanf(spec, "%s %d %d %d %d", &address, &nconns, &rate, &total, &ext); err != nil {
		t.Fatalf("%s=%q: %v", cpuClientEnv, spec, err)
	}
	deadline := time.Now().Add(time.Minute + time.Duration(total/rate)*time.Second)
	conns := make([]net.Conn, nconns)
	for i := range conns {
		c := dial(t, address)
		if ext > 0 {
			negotiate(t, c)
		}
		_ = c.SetDeadline(deadline)
		conns[i] = c
	}
	f := frame(1)
	if ext > 0 {
		f = extRequest(ext, 1, 1)
	}
	var (
		received atomic.Int64
		done     = make(chan struct{})
		once     sync.Once
	)
	for _, c := range conns {
		go func() {
			buf := make([]byte, len(f))
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if received.Add(1) == int64(total) {
					once.Do(func() { close(done) })
				}
			}
		}()
	}
	fmt.Println("ready")
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return // the benchmark gave up
	}
	go func() {
		_, _ = io.Copy(io.Discard, in) // stdin closed: the benchmark is over
		os.Exit(0)
	}()

	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for sent := 0; sent < total; <-tick.C {
		due := min(total, int(time.Since(start).Seconds()*float64(rate))+1)
		for ; sent < due; sent++ {
			if _, err := conns[sent%nconns].Write(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case <-done:
		fmt.Println("done")
	case <-time.After(time.Until(deadline)):
		t.Fatalf("%d of %d echoes received", received.Load(), total)
	}
}
