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

//go:build linux

package prober

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestKernelTimestampsSurviveAStalledReader proves replies are timed by the
// kernel: the prober's goroutine stalls for 200 ms after every send, so a
// reply that arrives in microseconds is read 200 ms late. With kernel
// timestamps the RTT stays in microseconds and, with a 100 ms timeout, the
// reply still counts as received; with user-space time the same reply is
// 200 ms "late". The timeout leaves the in-process echo server 100 ms to
// answer, so a loaded CI machine does not turn a slow echo into a failure.
//
// The kernel turns receive timestamping on host-wide, and lazily, when the
// first socket asks for it, and a reply that arrives before then carries no
// timestamp and is timed in user space (the fallback). The test keeps the
// host's timestamping on from before the prober dials, so every reply it
// checks must have taken the kernel path.
func TestKernelTimestampsSurviveAStalledReader(t *testing.T) {
	const stall = 200 * time.Millisecond
	tests := []struct {
		name        string
		kernel      bool
		wantKernel  bool
		wantFastRTT bool
	}{
		{"kernel timestamps", true, true, true},
		{"user-space time", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			holdRxTimestamps(t)
			srv := startServer(t, echoHandler)
			m := testModule(250*time.Millisecond, 100*time.Millisecond, false)
			m.KernelTimestamps = tt.kernel
			m.ReconnectAfter = 0
			p := New(Options{Name: "t", Address: srv.addr(), Module: m, NoSplay: true}, nil)
			p.more().hooks = &sendHooks{afterSend: func() { time.Sleep(stall) }}
			p.startOn(t.Context(), testEngine(t))
			t.Cleanup(p.Stop)
			waitFor(t, "5 completed probes", 10*time.Second, func() bool {
				s := p.Snapshot()
				return s.Received+s.Timeouts >= 5
			})
			s := p.Snapshot()
			if s.KernelTimestamps != tt.wantKernel {
				t.Errorf("kernel timestamps in use = %v, want %v", s.KernelTimestamps, tt.wantKernel)
			}
			if tt.wantFastRTT {
				if s.Received < 5 || s.Timeouts != 0 || s.Late != 0 {
					t.Errorf("received %d timeouts %d late %d: replies that arrived in time must count as received",
						s.Received, s.Timeouts, s.Late)
				}
				if s.LastRTT >= stall/2 || s.Histogram.Sum/float64(s.Histogram.Count) >= (stall/2).Seconds() {
					t.Errorf("last RTT %v, mean %vs: the reader's stall leaked into the RTT", s.LastRTT, s.Histogram.Sum/float64(s.Histogram.Count))
				}
				return
			}
			// In user space the stall is all we can see: each reply is
			// read 200 ms after the send, past its 100 ms deadline.
			if s.Received != 0 || s.Late < 4 || s.Timeouts < 4 {
				t.Errorf("received %d late %d timeouts %d: want every reply late", s.Received, s.Late, s.Timeouts)
			}
		})
	}
}

// holdRxTimestamps returns once the kernel stamps the TCP data a socket
// receives, and keeps it so until the test ends. Turning SO_TIMESTAMPNS on
// for the first socket of the host only schedules the switch
// (net_enable_timestamp defers it to a work queue), and TCP data that
// arrives before it happens carries no timestamp; with no socket asking,
// the switch goes off again. So one connection, dialed and read as the
// prober does, echoes a byte at a time until one comes back stamped, and
// stays open.
func holdRxTimestamps(t *testing.T) {
	t.Helper()
	srv := startServer(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
	d := net.Dialer{Control: socketControl(0, true, false)}
	c, err := d.Dial("tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rx, kernel, err := newReceiver(c, true)
	if !kernel {
		t.Fatalf("kernel receive timestamps refused: %v", err)
	}
	buf := make([]byte, 1)
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		_, kernelNs, err := rx.recv(buf, true)
		if err != nil {
			t.Fatal(err)
		}
		if kernelNs != 0 {
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the kernel stamped no received data in 5 s after SO_TIMESTAMPNS was set")
		}
	}
}
