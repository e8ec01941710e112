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

package echo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"
)

// kernelRxOK is the rxTimestamper of an engine that reads kernel receive
// timestamps.
type kernelRxOK struct{}

func (kernelRxOK) kernelRx() bool { return true }

// TestScanBytes runs scan on whole buffers and compares what it makes of
// them, byte for byte, with echoes written out by hand from EXTPROTO's
// layout (helloFrame, offerFrame, extRequest, extReply).
func TestScanBytes(t *testing.T) {
	const rx = 0x1112131415161718
	v1 := frames(1, 2)
	req := extRequest(100, 7, 42)
	tests := []struct {
		name      string
		in        []byte
		rx        rxTimestamper
		wantEnd   int
		wantOK    bool
		want      []byte // b[:end] after scan
		wantProto protocol
	}{
		{"v1 frames", v1, noKernelRx{}, 48, true, v1, protoV1},
		{"the HELLO", helloFrame(), noKernelRx{}, 24, true, offerFrame(0), protoExt},
		{"the HELLO, kernel timestamps", helloFrame(), kernelRxOK{}, 24, true, offerFrame(1), protoExt},
		{"the HELLO after a v1 frame", cat(v1[:24], helloFrame()), kernelRxOK{}, 48, true, cat(v1[:24], helloFrame()), protoV1},
		{"the HELLO and a request", cat(helloFrame(), req), noKernelRx{}, 124, true, cat(offerFrame(0), extReply(req, 1, 0, rx)), protoExt},
		{"the HELLO and half a request", cat(helloFrame(), req[:50]), noKernelRx{}, 24, true, offerFrame(0), protoExt},
		{"the HELLO and a v1 frame", cat(helloFrame(), v1[:24]), noKernelRx{}, 24, false, offerFrame(0), protoExt},
		{"half the HELLO", helloFrame()[:12], noKernelRx{}, 0, true, nil, protoFirst},
		{"a bad first frame", []byte("GET / HTTP/1.1\r\n"), noKernelRx{}, 0, false, nil, protoFirst},
		{"HELLO's sequence number, another time", cat(helloFrame()[:16], []byte("TPXHELL0")), noKernelRx{}, 24, true, cat(helloFrame()[:16], []byte("TPXHELL0")), protoV1},
		{"HELLO's time, another sequence number", cat(frame(3)[:16], []byte("TPXHELLO")), noKernelRx{}, 24, true, cat(frame(3)[:16], []byte("TPXHELLO")), protoV1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st stream
			b := bytes.Clone(tt.in)
			end, ok := st.scan(b, rx, tt.rx)
			if end != tt.wantEnd || ok != tt.wantOK || st.proto != tt.wantProto {
				t.Fatalf("scan = %d, %v, protocol %d; want %d, %v, %d", end, ok, st.proto, tt.wantEnd, tt.wantOK, tt.wantProto)
			}
			st.stampAt(b[:end], rx)
			if !bytes.Equal(b[:end], tt.want) {
				t.Fatalf("echoes:\n got % x\nwant % x", b[:end], tt.want)
			}
		})
	}
}

// TestScanExtended runs scan on a connection that negotiated, across reads.
func TestScanExtended(t *testing.T) {
	const rx = 1_700_000_000_123_456_789
	r1, r2, r3 := extRequest(100, 1, 11), extRequest(100, 2, 22), extRequest(100, 3, 33)
	with := func(b []byte, i int, v ...byte) []byte {
		b = bytes.Clone(b)
		copy(b[i:], v)
		return b
	}
	tests := []struct {
		name    string
		reads   [][]byte // each read's new bytes
		wantOK  bool
		wantOut []byte // every echo, the turnaround stamped with a send time of rx+500
	}{
		{"one request", [][]byte{r1}, true, extReply(r1, 1, 500, rx)},
		{"three in one read", [][]byte{cat(r1, r2, r3)}, true, cat(extReply(r1, 1, 500, rx), extReply(r2, 1, 500, rx), extReply(r3, 1, 500, rx))},
		{"byte by byte", splitEvery(r1, 1), true, extReply(r1, 1, 500, rx)},
		{"split in the length", [][]byte{r1[:5], r1[5:], r2}, true, cat(extReply(r1, 1, 500, rx), extReply(r2, 1, 500, rx))},
		{"a request and a half, then the rest", [][]byte{cat(r1, r2[:50]), r2[50:]}, true, cat(extReply(r1, 1, 500, rx), extReply(r2, 1, 500, rx))},
		{"bad magic", [][]byte{cat(r1, []byte("TPX2"))}, false, extReply(r1, 1, 500, rx)},
		{"bad magic at its first byte", [][]byte{r1, []byte("X")}, false, extReply(r1, 1, 500, rx)},
		{"a v1 frame", [][]byte{r1, frame(1)}, false, extReply(r1, 1, 500, rx)},
		{"another length", [][]byte{r1, extRequest(101, 2, 22)[:6]}, false, extReply(r1, 1, 500, rx)},
		{"length 9001", [][]byte{with(r1, 4, 0x29, 0x23)[:6]}, false, nil},
		{"length 23", [][]byte{with(r1, 4, 23, 0)[:6]}, false, nil},
		{"a reply", [][]byte{r1, with(r2, 6, 2)[:7]}, false, extReply(r1, 1, 500, rx)},
		{"flags are not checked", [][]byte{with(r1, 7, 0xFF)}, true, extReply(r1, 1, 500, rx)},
	}
	var pool sync.Pool
	pool.New = newBigBuf
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := stream{proto: protoExt}
			small := make([]byte, readBufferSize)
			var out []byte
			ok := true
			for _, read := range tt.reads {
				buf, have := st.readBuf(small)
				total := have + copy(buf[have:], read)
				var end int
				end, ok = st.scan(buf[:total], rx, noKernelRx{})
				st.stampAt(buf[:end], rx+500)
				out = append(out, buf[:end]...)
				if !ok {
					break
				}
				st.keep(buf[end:total], &pool)
			}
			if ok != tt.wantOK {
				t.Errorf("scan ok = %v, want %v", ok, tt.wantOK)
			}
			if !bytes.Equal(out, tt.wantOut) {
				t.Errorf("echoes:\n got % x\nwant % x", out, tt.wantOut)
			}
		})
	}
}

// TestScanClockAfterRead checks that a read without a kernel timestamp is
// stamped with the clock read after it, and its replies say so.
func TestScanClockAfterRead(t *testing.T) {
	st := stream{proto: protoExt}
	b := cat(extRequest(24, 1, 1), extRequest(24, 2, 2))
	before := time.Now().UnixNano()
	end, ok := st.scan(b, 0, noKernelRx{})
	after := time.Now().UnixNano()
	if end != 48 || !ok {
		t.Fatalf("scan = %d, %v; want 48, true", end, ok)
	}
	for i := range 2 {
		r := b[24*i : 24*(i+1)]
		rx := int64(binary.LittleEndian.Uint64(r[16:24]))
		if rx < before || rx > after || r[7] != 0 {
			t.Errorf("reply %d: receive time %d (want in [%d, %d]), flags %#x (want 0)", i, rx, before, after, r[7])
		}
	}
	st.stamp(b[:end])
	if ta := binary.LittleEndian.Uint32(b[12:16]); time.Duration(ta) > time.Since(time.Unix(0, before)) {
		t.Errorf("turnaround %d ns, longer than the test", ta)
	}
}

func TestStampSaturates(t *testing.T) {
	st := stream{proto: protoExt, extLen: 24}
	tests := []struct {
		name         string
		rx, send     int64
		wantTurnbout uint32
	}{
		{"1.5 µs", 1000, 2500, 1500},
		{"the clock stepped back", 5000, 4000, 0},
		{"5 s", 0, 5e9, 1<<32 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := extReply(extRequest(24, 1, 1), 1, 0, uint64(tt.rx))
			st.stampAt(r, tt.send)
			if got := binary.LittleEndian.Uint32(r[12:16]); got != tt.wantTurnbout {
				t.Errorf("turnaround = %d, want %d", got, tt.wantTurnbout)
			}
		})
	}
}

// TestLongFrameBuffer checks that a connection holds a bigBuf only while a
// partial frame too long for its own room is pending, and that frames longer
// than the engine's read buffer come back whole.
func TestLongFrameBuffer(t *testing.T) {
	var pool sync.Pool
	pool.New = newBigBuf
	st := stream{proto: protoExt}
	small := make([]byte, readBufferSize)
	reqs := cat(extRequest(9000, 1, 1), extRequest(9000, 2, 2))
	var out []byte
	for len(reqs) > 0 {
		buf, have := st.readBuf(small)
		n := copy(buf[have:], reqs)
		reqs = reqs[n:]
		end, ok := st.scan(buf[:have+n], 5, noKernelRx{})
		if !ok {
			t.Fatal("scan refused a good request")
		}
		out = append(out, buf[:end]...)
		st.keep(buf[end:have+n], &pool)
		if want := st.have > uint16(len(st.part)); (st.big != nil) != want {
			t.Fatalf("%d bytes pending, bigBuf held %v; want %v", st.have, st.big != nil, want)
		}
	}
	if st.have != 0 || st.big != nil {
		t.Fatalf("after two whole frames: %d bytes pending, bigBuf held %v", st.have, st.big != nil)
	}
	want := cat(extReply(extRequest(9000, 1, 1), 1, 0, 5), extReply(extRequest(9000, 2, 2), 1, 0, 5))
	if !bytes.Equal(out, want) {
		t.Fatal("the replies of two 9000-byte requests differ from the requests as the layout says")
	}
}

// TestScanAllocatesNothing checks that the step allocates nothing per read,
// in either protocol.
func TestScanAllocatesNothing(t *testing.T) {
	var pool sync.Pool
	pool.New = newBigBuf
	v1 := frames(1, 10)
	ext := cat(extRequest(100, 1, 1), extRequest(100, 2, 2))
	small := make([]byte, readBufferSize)
	for _, tt := range []struct {
		name string
		st   stream
		in   []byte
	}{{"v1", stream{proto: protoV1}, v1}, {"extended", stream{proto: protoExt}, ext}} {
		st := tt.st
		allocs := testing.AllocsPerRun(100, func() {
			buf, have := st.readBuf(small)
			n := copy(buf[have:], tt.in[:150]) // ends in a partial frame
			end, _ := st.scan(buf[:have+n], 1, noKernelRx{})
			st.stamp(buf[:end])
			st.keep(buf[end:have+n], &pool)
			buf, have = st.readBuf(small)
			n = copy(buf[have:], tt.in[150:])
			end, _ = st.scan(buf[:have+n], 1, noKernelRx{})
			st.stamp(buf[:end])
			st.keep(buf[end:have+n], &pool)
			st.proto, st.extLen = tt.st.proto, 0
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per read, want 0", tt.name, allocs)
		}
	}
}

func BenchmarkScanExt(b *testing.B) {
	for _, l := range []int{24, 1400} {
		b.Run(fmt.Sprintf("len=%d", l), func(b *testing.B) {
			reqs := bytes.Repeat(extRequest(l, 1, 1), max(1, readBufferSize/l))
			buf := make([]byte, len(reqs))
			b.ReportAllocs()
			b.SetBytes(int64(len(reqs)))
			for b.Loop() {
				copy(buf, reqs)
				st := stream{proto: protoExt}
				if end, ok := st.scan(buf, 1, noKernelRx{}); end != len(buf) || !ok {
					b.Fatal("bad scan")
				}
				st.stamp(buf)
			}
		})
	}
}
