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
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
)

// pausingExtServer answers the HELLO with an offer of 9000-byte frames,
// then reads nothing for pause, long enough for the prober's send buffer
// and its own receive buffer to fill; then it closes resumed (once) and echoes
// every extended request as its reply. A request that breaks the layout
// (a desynchronised stream) ends the connection and counts in bad.
func pausingExtServer(pause time.Duration, resumed func(), bad *atomic.Int64) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, stop <-chan struct{}) {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if f, err := readFrame(c); err != nil || !bytes.Equal(f, testHello) {
			return
		}
		if _, err := c.Write(offerFrame(9000)); err != nil {
			return
		}
		pauseTimer := time.NewTimer(pause)
		defer pauseTimer.Stop()
		select {
		case <-pauseTimer.C:
		case <-stop:
			return
		}
		resumed()
		for {
			head := make([]byte, 24)
			if _, err := io.ReadFull(c, head); err != nil {
				return
			}
			l := int(binary.LittleEndian.Uint16(head[4:6]))
			if string(head[:4]) != "TPX1" || head[6] != 1 || l != 9000 {
				bad.Add(1)
				return
			}
			req := append(head, make([]byte, l-24)...)
			if _, err := io.ReadFull(c, req[24:]); err != nil {
				return
			}
			req[6] = 2
			if _, err := c.Write(req); err != nil {
				return
			}
		}
	}
}

// TestLongFramesWaitOutAPausedPeer: with payload_size 9000, a peer that
// stops reading for less than the timeout and then answers everything
// must cost the user nothing: no connection dropped, every probe sent
// before it resumed answered, the stream intact. The link may keep the
// rest of a frame the send buffer has no room for and write it within
// the timeout: the goroutine loop's write waits that long, and the
// engine once closed the connection at 384 queued bytes ("write: send
// buffer full"), less than one such frame.
func TestLongFramesWaitOutAPausedPeer(t *testing.T) {
	const pause = 1500 * time.Millisecond
	for _, tx := range []bool{false, true} {
		t.Run(fmt.Sprintf("tx_timestamps=%v", tx), func(t *testing.T) {
			resumedCh := make(chan struct{})
			var once sync.Once
			var bad atomic.Int64
			srv := startServerStop(t, pausingExtServer(pause, func() { once.Do(func() { close(resumedCh) }) }, &bad))
			m := longFrameModule(2*time.Millisecond, 3*time.Second, tx)
			_, snap := startProber(t, srv.addr(), m)
			resumeTimer := time.NewTimer(pause + 5*time.Second)
			defer resumeTimer.Stop()
			select {
			case <-resumedCh:
			case <-resumeTimer.C:
				t.Fatalf("the peer never resumed: %+v", snap())
			}
			n := snap().Sent
			waitFor(t, "the replies to the probes sent during the pause", 5*time.Second, func() bool {
				s := snap()
				return s.Received >= n || s.Dropped > 0
			})
			s := snap()
			t.Logf("sent %d received %d timeouts %d dropped %d last error %q", s.Sent, s.Received, s.Timeouts, s.Dropped, s.LastError)
			if s.FrameLength != 9000 {
				t.Errorf("%d-byte frames, want 9000", s.FrameLength)
			}
			if s.Dropped != 0 || s.Received < n {
				t.Errorf("dropped %d (last error %q), %d of the %d probes sent by the peer's resumption answered: the connection was lost while the peer paused %v, less than the timeout",
					s.Dropped, s.LastError, s.Received, n, pause)
			}
			if b := bad.Load(); b != 0 {
				t.Errorf("the peer read %d malformed requests: the stream was desynchronised", b)
			}
		})
	}
}

// longFrameModule is a module of 9000-byte frames at interval with a fixed
// timeout, that never gives a connection up for its timeouts.
func longFrameModule(interval, timeout time.Duration, tx bool) config.Module {
	m := testModule(interval, timeout, false)
	m.MaxTimeout = m.Timeout
	m.ReconnectAfter = 0
	m.PayloadSize = 9000
	m.TxTimestamps = tx
	return m
}
