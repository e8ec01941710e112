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
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestOneWaySeriesEndWithTheExtendedProtocol probes an echo server that
// speaks the extended protocol on its first connection, which it closes
// after 10 replies, and only 24-byte frames on the next (an original echo
// server took its place). The one-way series measure the extended
// connection; once the target's echo server speaks only 24-byte frames
// they are 0, as for a target that never spoke the extended protocol
// (docs/timing.md), not the last extended connection's, frozen.
func TestOneWaySeriesEndWithTheExtendedProtocol(t *testing.T) {
	var conns atomic.Int32
	ext := extServer(func(reply []byte, _ int) []byte { return reply })
	srv := startServer(t, func(c net.Conn) {
		if conns.Add(1) > 1 {
			echoHandler(c)
			return
		}
		done := make(chan struct{})
		go func() { defer close(done); ext(c) }()
		time.Sleep(300 * time.Millisecond) // 10 probes or more at 20 ms
		_ = c.Close()
		<-done
	})
	m := testModule(20*time.Millisecond, 500*time.Millisecond, false)
	_, snap := startProber(t, srv.addr(), m)
	waitFor(t, "extended replies", 5*time.Second, func() bool {
		s := snap()
		return s.Extended && s.Received >= 5 && s.ForwardJitter != 0 && s.ReverseJitter != 0
	})
	waitFor(t, "replies on a second connection, of 24-byte frames", 10*time.Second, func() bool {
		s := snap()
		return conns.Load() >= 2 && !s.Extended && s.Connected && s.LastProbeOK && s.Dropped >= 1
	})
	time.Sleep(200 * time.Millisecond)
	if s := snap(); s.ForwardDelay != 0 || s.ReverseDelay != 0 || s.ForwardJitter != 0 || s.ReverseJitter != 0 {
		t.Errorf("against a server of 24-byte frames: forward delay %v, reverse delay %v, forward jitter %v, reverse jitter %v; want 0",
			s.ForwardDelay, s.ReverseDelay, s.ForwardJitter, s.ReverseJitter)
	}
}
