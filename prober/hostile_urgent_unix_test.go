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

package prober

import (
	"net"
	"syscall"
	"testing"
)

// TestUrgentDataBetweenFrames probes a server that sends a byte of TCP
// urgent data after each reply. Out of band, it is not part of the
// stream: every probe is answered, nothing is unexpected, and the
// connection stays.
func TestUrgentDataBetweenFrames(t *testing.T) {
	srv := startServerStop(t, func(c net.Conn, stop <-chan struct{}) {
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			return
		}
		for {
			f, ok := hostileRead(c)
			if !ok {
				return
			}
			if _, err := c.Write(f); err != nil {
				return
			}
			_ = raw.Write(func(fd uintptr) bool {
				_ = syscall.Sendto(int(fd), []byte("!"), syscall.MSG_OOB, nil)
				return true
			})
		}
	})
	snap, stop := hostileProbe(t, srv.addr(), hostileModule())
	s := hostileWait(t, "20 replies", snap, func(s Snapshot) bool { return s.Received >= 20 })
	stop()
	if s.Timeouts != 0 || s.Unexpected != 0 || s.Dropped != 0 {
		t.Errorf("timeouts %d unexpected %d dropped %d: urgent data is not part of the stream", s.Timeouts, s.Unexpected, s.Dropped)
	}
}
