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
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// TestAbsurdOffers checks what the prober makes of extended echo servers
// offering absurd longest frames, and capability flags it does not know:
// an offer below 24 bytes is no offer, and the connection attempt fails;
// one above 9000 bytes, or with unknown flags, is taken as far as the
// prober's payload_size and 9000 go.
func TestAbsurdOffers(t *testing.T) {
	tests := []struct {
		maxLen, flags uint16
		wantLen       int // 0: no connection
	}{
		{0, 0, 0},
		{23, 0, 0},
		{24, 0xFFFF, 24},
		{9001, 0xFFFE, 1400},
		{math.MaxUint16, 0, 1400},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d bytes, flags %#x", tt.maxLen, tt.flags), func(t *testing.T) {
			offer := offerFrame(tt.maxLen)
			binary.LittleEndian.PutUint16(offer[22:24], tt.flags)
			srv := startServer(t, extServerOffering(offer, func(r []byte, _ int) []byte { return r }))
			m := testModule(20*time.Millisecond, 200*time.Millisecond, false)
			m.PayloadSize = 1400
			_, snap := startProber(t, srv.addr(), m)
			if tt.wantLen == 0 {
				waitFor(t, "3 failed attempts", 10*time.Second, func() bool { return snap().Dropped >= 3 })
				s := snap()
				if s.Received != 0 || s.Connected || !strings.Contains(s.LastError, "answer to the hello") {
					t.Errorf("offer of %d bytes: received %d, connected %v, last error %q; want the attempts to fail",
						tt.maxLen, s.Received, s.Connected, s.LastError)
				}
				return
			}
			waitFor(t, "10 replies", 10*time.Second, func() bool { return snap().Received >= 10 })
			s := snap()
			if !s.Extended || s.FrameLength != tt.wantLen || s.Dropped != 0 || s.Unexpected != 0 {
				t.Errorf("maxLen %d: extended %v frame %d dropped %d unexpected %d; want %d-byte frames",
					tt.maxLen, s.Extended, s.FrameLength, s.Dropped, s.Unexpected, tt.wantLen)
			}
		})
	}
}

// TestHalfClosingServer probes a server that answers three probes, then
// shuts its side of the connection down and goes on reading: the prober
// must take the end of the stream as the connection's, and redial.
func TestHalfClosingServer(t *testing.T) {
	srv := startServerStop(t, func(c net.Conn, stop <-chan struct{}) {
		for range 3 {
			f, ok := hostileRead(c)
			if !ok {
				return
			}
			_, _ = c.Write(f)
		}
		_ = c.(*net.TCPConn).CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(io.Discard, c)
	})
	snap, stop := hostileProbe(t, srv.addr(), hostileModule())
	s := hostileWait(t, "3 connections", snap, func(s Snapshot) bool { return s.Dropped >= 2 && s.Received >= 6 })
	stop()
	if !strings.Contains(s.LastError, "closed by peer") || srv.accepted.Load() < 2 {
		t.Errorf("last error %q, %d connections: a half-closed connection must be dropped and redialed",
			s.LastError, srv.accepted.Load())
	}
}

// TestExtendedFloodingServer is TestFloodingServer with 9000-byte extended
// frames, each read in two parts: a flood of unsolicited replies neither
// stops the schedule nor keeps Stop from returning.
func TestExtendedFloodingServer(t *testing.T) {
	const floodFor = 3 * time.Second
	flood := make([]byte, 0, 64*9000)
	for i := range 64 {
		r := make([]byte, 9000)
		wire.Ext{Len: 9000, Kind: wire.KindReply, Seq: 1<<31 + uint32(i)}.Put(r)
		flood = append(flood, r...)
	}
	srv := startServerStop(t, func(c net.Conn, stop <-chan struct{}) {
		if f, err := readFrame(c); err != nil || !bytes.Equal(f, testHello) {
			return
		}
		if _, err := c.Write(offerFrame(9000)); err != nil {
			return
		}
		go func() { _, _ = io.Copy(io.Discard, c) }()
		for end := time.Now().Add(floodFor); time.Now().Before(end); {
			select {
			case <-stop:
				return
			default:
			}
			_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			if _, err := c.Write(flood); err != nil && !isTimeoutErr(err) {
				return
			}
		}
	})
	m := hostileModule()
	m.EchoProtocol = config.EchoProtocolAuto
	m.PayloadSize = 9000
	m.ReconnectAfter = 0 // keep the flooded connection
	snap, stop := hostileProbe(t, srv.addr(), m)
	first, mid, span := midFlood(t, snap, floodFor)
	stop() // while the flood still runs: hostileProbe bounds its time
	due := uint64(span / m.Interval.D())
	t.Logf("in %v: sent %d (%d due), unexpected %d", span.Round(time.Millisecond), mid.Sent-first.Sent, due, mid.Unexpected)
	if !mid.Extended || mid.FrameLength != 9000 || mid.Received != 0 || mid.Unexpected == 0 {
		t.Errorf("extended %v, %d-byte frames, received %d, unexpected %d: want 9000-byte frames, the flood unexpected",
			mid.Extended, mid.FrameLength, mid.Received, mid.Unexpected)
	}
	if got := mid.Sent - first.Sent; got < due/2 {
		t.Errorf("%d probes sent in %v under a flood, %d due: the flood stalled the schedule", got, span, due)
	}
}
