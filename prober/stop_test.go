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
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// TestStopWhileWriteBlocked stops a prober whose peer has stopped reading:
// 9000-byte frames every millisecond against a 4 KB receive buffer fill
// the send buffer, and the goroutine loop's write blocks, for up to the
// timeout. Stop must not wait that long: it ends the connection at once,
// on both loops, and a stop is not a lost connection.
func TestStopWhileWriteBlocked(t *testing.T) {
	const timeout = 5 * time.Second
	for _, tx := range []bool{false, true} {
		t.Run(fmt.Sprintf("tx_timestamps=%v", tx), func(t *testing.T) {
			srv := startStalledPeer(t)
			p := New(Options{Name: "t", Address: srv.addr(), ModuleName: "test",
				Module: longFrameModule(time.Millisecond, timeout, tx), NoSplay: true}, nil)
			// A write that has not returned for a while is blocked. The
			// engine's writes never block: it keeps what the send
			// buffer has no room for, which more bytes than any send
			// buffer holds (tcp_wmem's 4 MB) make certain.
			var mu sync.Mutex
			var writing time.Time // zero when no write is under way
			var writes atomic.Int64
			p.more().hooks = &sendHooks{
				beforeWrite: func() {
					writes.Add(1)
					mu.Lock()
					writing = time.Now()
					mu.Unlock()
				},
				afterSend: func() {
					mu.Lock()
					writing = time.Time{}
					mu.Unlock()
				},
			}
			blocked := func() bool {
				mu.Lock()
				defer mu.Unlock()
				return !writing.IsZero() && time.Since(writing) > 300*time.Millisecond
			}
			p.startOn(t.Context(), testEngine(t))
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					p.Stop()
				}
			})
			waitFor(t, "the send buffer full", 4*time.Second, func() bool {
				return blocked() || writes.Load()*9000 > 8<<20
			})
			if s := p.Snapshot(); s.FrameLength != 9000 || s.Dropped != 0 {
				t.Fatalf("%d-byte frames, dropped %d (last error %q): want 9000-byte frames on a connection that stays up",
					s.FrameLength, s.Dropped, s.LastError)
			}
			start := time.Now()
			p.Stop()
			stopped = true
			took := time.Since(start)
			s := p.Snapshot()
			t.Logf("write blocked %v, %d writes; Stop took %v; sent %d dropped %d last error %q",
				blocked(), writes.Load(), took, s.Sent, s.Dropped, s.LastError)
			if took > 2*time.Second {
				t.Errorf("Stop took %v with a write blocked on a stalled peer: it waited for the %v timeout", took, timeout)
			}
			if s.Dropped != 0 || s.State != StateStopped {
				t.Errorf("after Stop: dropped %d (last error %q), state %v; want no connection lost, stopped",
					s.Dropped, s.LastError, s.State)
			}
		})
	}
}

// TestFirstResultClosesAtStop stops a prober before its first result (its
// HELLO is never answered): FirstResult, asked before and after, is
// closed, so that no one waits on for a result that cannot come.
func TestFirstResultClosesAtStop(t *testing.T) {
	srv := startServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	mod := testModule(time.Second, 20*time.Second, false)
	mod.MaxTimeout = config.Duration(20 * time.Second)
	p := New(Options{Name: "t", Address: srv.addr(), ModuleName: "test", Module: mod, NoSplay: true}, nil)
	p.startOn(t.Context(), testEngine(t))
	t.Cleanup(p.Stop)
	first := p.FirstResult()
	waitFor(t, "the connection", 5*time.Second, func() bool { return srv.accepted.Load() == 1 })
	p.Stop()
	for i, c := range []<-chan struct{}{first, p.FirstResult()} {
		select {
		case <-c:
		default:
			t.Errorf("FirstResult asked %s the stop: not closed", []string{"before", "after"}[i])
		}
	}
	if s := p.Snapshot(); s.State != StateStopped || s.Results != 0 {
		t.Errorf("state %v with %d results, want stopped with none", s.State, s.Results)
	}
}
