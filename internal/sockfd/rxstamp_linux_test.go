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

package sockfd

import (
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsg builds one control message of level and type with data, as the
// kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestParseTimestampNS(t *testing.T) {
	ts := unix.NsecToTimespec(1_700_000_000_123_456_789)
	tsBytes := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
	stamp := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsBytes)
	other := cmsg(unix.SOL_IP, unix.IP_TOS, []byte{0x10})
	overlong := append([]byte(nil), stamp...)
	(*unix.Cmsghdr)(unsafe.Pointer(&overlong[0])).SetLen(len(stamp) + 1)
	tests := []struct {
		name string
		oob  []byte
		want int64
	}{
		{"none", nil, 0},
		{"the timestamp", stamp, 1_700_000_000_123_456_789},
		{"after another message", append(append([]byte(nil), other...), stamp...), 1_700_000_000_123_456_789},
		{"another message only", other, 0},
		{"cut short", stamp[:len(stamp)-4], 0},
		{"a header claiming more than there is", overlong, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseTimestampNS(tt.oob); got != tt.want {
				t.Errorf("ParseTimestampNS = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestParseTimestampNSFromKernel reads a real segment with recvmsg on a
// socket with SO_TIMESTAMPNS and checks that the time parsed is between
// the send and the read.
func TestParseTimestampNSFromKernel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	cli, err := net.DialTimeout("tcp", l.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	srv, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	fd, err := Detach(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		t.Fatal(err)
	}
	// The kernel turns timestamping on lazily: the first segments may
	// carry none.
	buf, oob := make([]byte, 16), make([]byte, TimestampOOBSize)
	for i := range 100 {
		before := time.Now().UnixNano()
		if _, err := cli.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		var oobn int
		for {
			_, oobn, _, _, err = unix.Recvmsg(fd, buf, oob, 0)
			if err != unix.EAGAIN {
				break
			}
			time.Sleep(time.Millisecond)
		}
		after := time.Now().UnixNano()
		if err != nil {
			t.Fatal(err)
		}
		if ns := ParseTimestampNS(oob[:oobn]); ns != 0 {
			if ns < before || ns > after {
				t.Fatalf("kernel timestamp %d outside [%d, %d]", ns, before, after)
			}
			t.Logf("segment %d carried a kernel timestamp %v after the write began", i, time.Duration(ns-before))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no segment of 100 carried a kernel timestamp")
}
