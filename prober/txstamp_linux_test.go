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
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestKernelTxTimestampsSurviveADelayedWrite proves probes are timed by
// the kernel's transmit timestamp: the prober's goroutine is held 30 ms
// between the clock read of each send and its write. With tx_timestamps
// the RTT stays far below the hold; with the clock read it includes it.
// Both echo protocols are tried, and frames longer than 24 bytes: the
// HELLO's 24 bytes and the frame length set every key.
func TestKernelTxTimestampsSurviveADelayedWrite(t *testing.T) {
	const hold = 30 * time.Millisecond
	original := func(t *testing.T) string { return startServer(t, echoHandler).addr() }
	extended := func(t *testing.T) string { return testenv.ExtEchoServer(t, testenv.ExtEcho{}) }
	tests := []struct {
		name    string
		tx      bool
		proto   string
		payload int
		server  func(t *testing.T) string
		fastTx  bool
	}{
		{"kernel transmit timestamps, v1", true, config.EchoProtocolV1, 24, original, true},
		{"kernel transmit timestamps, HELLO first", true, config.EchoProtocolAuto, 24, original, true},
		{"kernel transmit timestamps, 1400-byte extended frames", true, config.EchoProtocolAuto, 1400, extended, true},
		{"clock read before the write", false, config.EchoProtocolAuto, 24, original, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			holdRxTimestamps(t)
			m := testModule(100*time.Millisecond, 500*time.Millisecond, false)
			m.TxTimestamps = tt.tx
			m.EchoProtocol = tt.proto
			m.PayloadSize = tt.payload
			p := New(Options{Name: "t", Address: tt.server(t), Module: m, NoSplay: true}, nil)
			p.more().hooks = &sendHooks{beforeWrite: func() { time.Sleep(hold) }}
			p.startOn(t.Context(), testEngine(t))
			t.Cleanup(p.Stop)
			waitFor(t, "5 replies", 10*time.Second, func() bool { return p.Snapshot().Received >= 5 })
			s := p.Snapshot()
			if s.FrameLength != tt.payload {
				t.Errorf("%d-byte frames, want %d", s.FrameLength, tt.payload)
			}
			if s.KernelTxTimestamps != tt.tx {
				t.Errorf("kernel transmit timestamps in use = %v, want %v", s.KernelTxTimestamps, tt.tx)
			}
			if s.Timeouts != 0 || s.Late != 0 {
				t.Errorf("timeouts %d late %d, want 0", s.Timeouts, s.Late)
			}
			mean := time.Duration(s.Histogram.Sum / float64(s.Histogram.Count) * 1e9)
			if tt.fastTx {
				if s.LastRTT >= hold/2 || mean >= hold/2 {
					t.Errorf("last RTT %v, mean %v: the %v between the clock read and the write leaked into the RTT", s.LastRTT, mean, hold)
				}
				return
			}
			if s.LastRTT < hold || mean < hold {
				t.Errorf("last RTT %v, mean %v: want at least the %v hold, timed from the clock read", s.LastRTT, mean, hold)
			}
		})
	}
}

// TestTxTimestampsOfAStalledPeer: with tx_timestamps on and 9000-byte
// frames, a peer that stops reading (a 4 KB receive buffer, never read)
// lets a frame leave after its write returned, whenever it opens its
// window a little, and the frame's transmit timestamp then reaches the
// socket's error queue while the loop waits for replies with its send
// buffer full. A user saw the connection counted as dropped with last
// error "read: not pollable", again and again, on the goroutine loop:
// Go's netpoller fails a read woken by EPOLLERR alone. The probes must
// time out instead, on a connection that stays up, as on the engine.
func TestTxTimestampsOfAStalledPeer(t *testing.T) {
	srv := startStalledPeer(t)
	m := longFrameModule(2*time.Millisecond, 2*time.Second, true)
	_, snap := startProber(t, srv.addr(), m)
	waitFor(t, "9000-byte frames", 5*time.Second, func() bool { return snap().FrameLength == 9000 })
	// Well short of the timeout: every probe is still in flight.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) && snap().Dropped == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	s := snap()
	t.Logf("sent %d in flight %d timeouts %d dropped %d last error %q", s.Sent, s.InFlight, s.Timeouts, s.Dropped, s.LastError)
	if !s.KernelTxTimestamps {
		t.Errorf("kernel transmit timestamps not in use")
	}
	if s.Dropped != 0 || !s.Connected || s.LastError != "" {
		t.Errorf("dropped %d, connected %v, last error %q: the connection to a stalled peer was lost before any probe timed out",
			s.Dropped, s.Connected, s.LastError)
	}
}

func TestParseTxStamp(t *testing.T) {
	tsSpace := unix.CmsgSpace(int(unsafe.Sizeof(unix.ScmTimestamping{})))
	errSpace := unix.CmsgSpace(int(unsafe.Sizeof(unix.SockExtendedErr{})) + unix.SizeofSockaddrInet4)
	stamp := func(ns int64) []byte {
		b := make([]byte, tsSpace)
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = unix.SOL_SOCKET, unix.SCM_TIMESTAMPING
		h.SetLen(unix.CmsgLen(int(unsafe.Sizeof(unix.ScmTimestamping{}))))
		(*unix.ScmTimestamping)(unsafe.Pointer(&b[unix.CmsgLen(0)])).Ts[0] = unix.NsecToTimespec(ns)
		return b
	}
	recverr := func(level, typ int32, e unix.SockExtendedErr) []byte {
		b := make([]byte, errSpace)
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = level, typ
		h.SetLen(unix.CmsgLen(int(unsafe.Sizeof(e)) + unix.SizeofSockaddrInet4))
		*(*unix.SockExtendedErr)(unsafe.Pointer(&b[unix.CmsgLen(0)])) = e
		return b
	}
	sent := unix.SockExtendedErr{Errno: uint32(unix.ENOMSG), Origin: unix.SO_EE_ORIGIN_TIMESTAMPING, Info: unix.SCM_TSTAMP_SND, Data: 1047}
	acked := sent
	acked.Info = unix.SCM_TSTAMP_ACK
	icmp := unix.SockExtendedErr{Errno: uint32(unix.EMSGSIZE), Origin: unix.SO_EE_ORIGIN_ICMP, Data: 1400}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	const ns = 1_700_000_000_123_456_789
	tests := []struct {
		name    string
		oob     []byte
		wantKey uint32
		wantNs  int64
	}{
		{"IPv4 transmit timestamp", cat(stamp(ns), recverr(unix.SOL_IP, unix.IP_RECVERR, sent)), 1047, ns},
		{"IPv6 transmit timestamp", cat(stamp(ns), recverr(unix.SOL_IPV6, unix.IPV6_RECVERR, sent)), 1047, ns},
		{"error first", cat(recverr(unix.SOL_IP, unix.IP_RECVERR, sent), stamp(ns)), 1047, ns},
		{"acknowledgement timestamp", cat(stamp(ns), recverr(unix.SOL_IP, unix.IP_RECVERR, acked)), 0, 0},
		{"ICMP error", recverr(unix.SOL_IP, unix.IP_RECVERR, icmp), 0, 0},
		{"timestamp without its key", stamp(ns), 0, 0},
		{"truncated", cat(stamp(ns), recverr(unix.SOL_IP, unix.IP_RECVERR, sent))[:tsSpace+8], 0, 0},
		{"empty", nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, got := parseTxStamp(tt.oob)
			if key != tt.wantKey || got != tt.wantNs {
				t.Errorf("key %d, ns %d; want %d, %d", key, got, tt.wantKey, tt.wantNs)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { parseTxStamp(tests[0].oob) }); n != 0 {
		t.Errorf("parseTxStamp allocates %v times per call", n)
	}
}
