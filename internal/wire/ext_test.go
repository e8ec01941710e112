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

package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"
)

// TestExtBytes checks Put and DecodeExt against the layout of the
// extended frame written out by hand.
func TestExtBytes(t *testing.T) {
	e := Ext{Len: 1400, Kind: KindReply, Flags: FlagKernelRx, Seq: 0x0A0B0C0D, Turnaround: 0x11223344, UnixNano: 0x1112131415161718}
	want := []byte{
		'T', 'P', 'X', '1',
		0x78, 0x05, // 1400
		2,    // reply
		0x01, // kernel receive time
		0x0D, 0x0C, 0x0B, 0x0A,
		0x44, 0x33, 0x22, 0x11,
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
	}
	got := bytes.Repeat([]byte{0xEE}, ExtHeaderSize+4)
	e.Put(got)
	if !bytes.Equal(got[:ExtHeaderSize], want) {
		t.Fatalf("Put = % x, want % x", got[:ExtHeaderSize], want)
	}
	if !bytes.Equal(got[ExtHeaderSize:], []byte{0xEE, 0xEE, 0xEE, 0xEE}) {
		t.Fatalf("Put wrote past the header: % x", got[ExtHeaderSize:])
	}
	dec, err := DecodeExt(want, KindReply)
	if err != nil || dec != e {
		t.Fatalf("DecodeExt = %+v, %v; want %+v", dec, err, e)
	}
	req := []byte{
		'T', 'P', 'X', '1', 0x28, 0x23, 1, 0,
		0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0,
		0x01, 0, 0, 0, 0, 0, 0, 0x80,
	}
	wantReq := Ext{Len: MaxExtLen, Kind: KindRequest, Seq: math.MaxUint32, UnixNano: 1<<63 | 1}
	if dec, err := DecodeExt(req, KindRequest); err != nil || dec != wantReq {
		t.Fatalf("DecodeExt(request) = %+v, %v; want %+v", dec, err, wantReq)
	}
}

func TestDecodeExtErrors(t *testing.T) {
	good := make([]byte, ExtHeaderSize)
	Ext{Len: 100, Kind: KindRequest, Seq: 1, UnixNano: 2}.Put(good)
	with := func(i int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[i:], v)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		kind Kind
		want error
	}{
		{"valid", good, KindRequest, nil},
		{"header only in part", good[:23], KindRequest, ErrShortFrame},
		{"empty", nil, KindRequest, ErrShortFrame},
		{"v1 magic", Frame{Seq: 1}.Append(nil), KindRequest, ErrBadMagic},
		{"lowercase magic", with(0, 't'), KindRequest, ErrBadMagic},
		{"length 23", with(4, 23, 0), KindRequest, ErrBadLength},
		{"length 24", with(4, 24, 0), KindRequest, nil},
		{"length 9000", with(4, 0x28, 0x23), KindRequest, nil},
		{"length 9001", with(4, 0x29, 0x23), KindRequest, ErrBadLength},
		{"length 0", with(4, 0, 0), KindRequest, ErrBadLength},
		{"length 65535", with(4, 0xFF, 0xFF), KindRequest, ErrBadLength},
		{"reply wanted", good, KindReply, ErrBadKind},
		{"kind 0", with(6, 0), KindRequest, ErrBadKind},
		{"kind 3", with(6, 3), KindRequest, ErrBadKind},
		{"unknown flags are not checked", with(7, 0xFF), KindRequest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeExt(tt.in, tt.kind)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeExt error = %v, want %v", err, tt.want)
			}
			if err != nil && e != (Ext{}) {
				t.Fatalf("DecodeExt returned %+v with error %v", e, err)
			}
			if len(tt.in) >= ExtHeaderSize {
				if got := ValidExtPrefix(tt.in, tt.kind, 0); got != (err == nil) {
					t.Errorf("ValidExtPrefix = %v, want %v", got, err == nil)
				}
			}
		})
	}
}

// TestValidExtPrefix checks CheckExtPrefix, and ValidExtPrefix with it.
func TestValidExtPrefix(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		kind   Kind
		length uint16
		want   error // of CheckExtPrefix
	}{
		{"empty", "", KindRequest, 0, nil},
		{"magic begun", "TP", KindRequest, 0, nil},
		{"magic", "TPX1", KindRequest, 0, nil},
		{"wrong first byte", "X", KindRequest, 0, ErrBadMagic},
		{"wrong fourth byte", "TPX2", KindRequest, 0, ErrBadMagic},
		{"v1 magic", "TCPPING\x00", KindRequest, 0, ErrBadMagic},
		{"half a length", "TPX1\xFF", KindRequest, 0, nil},
		{"length 24", "TPX1\x18\x00", KindRequest, 0, nil},
		{"length 23", "TPX1\x17\x00", KindRequest, 0, ErrBadLength},
		{"length 9001", "TPX1\x29\x23", KindRequest, 0, ErrBadLength},
		{"the connection's length", "TPX1\x18\x00", KindRequest, 24, nil},
		{"another length", "TPX1\x19\x00", KindRequest, 24, ErrBadLength},
		{"request", "TPX1\x18\x00\x01", KindRequest, 0, nil},
		{"reply where a request is wanted", "TPX1\x18\x00\x02", KindRequest, 0, ErrBadKind},
		{"reply", "TPX1\x18\x00\x02\x01", KindReply, 24, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckExtPrefix([]byte(tt.in), tt.kind, tt.length); got != tt.want {
				t.Errorf("CheckExtPrefix(%q, %d, %d) = %v, want %v", tt.in, tt.kind, tt.length, got, tt.want)
			}
			if got := ValidExtPrefix([]byte(tt.in), tt.kind, tt.length); got != (tt.want == nil) {
				t.Errorf("ValidExtPrefix(%q, %d, %d) = %v, want %v", tt.in, tt.kind, tt.length, got, tt.want == nil)
			}
		})
	}
}

func TestTurnaround(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want uint32
	}{
		{-time.Nanosecond, 0},
		{0, 0},
		{12345 * time.Nanosecond, 12345},
		{math.MaxUint32, math.MaxUint32},
		{math.MaxUint32 + 1, math.MaxUint32},
		{time.Hour, math.MaxUint32},
	}
	for _, tt := range tests {
		if got := Turnaround(tt.in); got != tt.want {
			t.Errorf("Turnaround(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestNoAllocations checks that the codec allocates nothing: the prober
// and the echo server call it for every frame.
func TestNoAllocations(t *testing.T) {
	buf := make([]byte, ExtHeaderSize)
	v1 := Frame{Seq: 1, UnixNano: 2}.Append(nil)
	hello := Hello().Append(nil)
	tests := map[string]func(){
		"Frame.Put":      func() { Frame{Seq: 3}.Put(buf) },
		"Decode":         func() { _, _ = Decode(v1) },
		"ValidPrefix":    func() { _ = ValidPrefix(v1) },
		"Ext.Put":        func() { Ext{Len: 24, Kind: KindRequest}.Put(buf) },
		"DecodeExt":      func() { _, _ = DecodeExt(buf, KindRequest) },
		"ValidExtPrefix": func() { _ = ValidExtPrefix(buf, KindRequest, 24) },
		"IsHello":        func() { f, _ := Decode(hello); _ = f.IsHello() },
		"Offer":          func() { _, _ = ParseOffer(Offer{MaxLen: MaxExtLen}.Frame()) },
	}
	for name, f := range tests {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

func BenchmarkExtPut(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, ExtHeaderSize)
	for i := 0; b.Loop(); i++ {
		Ext{Len: MaxExtLen, Kind: KindRequest, Seq: uint32(i), UnixNano: uint64(i)}.Put(buf)
	}
}

func BenchmarkDecodeExt(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, ExtHeaderSize)
	Ext{Len: MaxExtLen, Kind: KindReply, Seq: 7, UnixNano: 9}.Put(buf)
	for b.Loop() {
		if _, err := DecodeExt(buf, KindReply); err != nil {
			b.Fatal(err)
		}
	}
}
