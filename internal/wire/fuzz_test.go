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
	"testing"
)

// FuzzDecode checks Decode and ValidPrefix against the byte layout of
// DESIGN.md on any input: no panic, exactly one outcome per input, and
// every decoded frame re-encodes to the bytes it came from. The seed corpus
// is in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add(Frame{Seq: 1, UnixNano: 2}.Append(nil))
	f.Add([]byte(Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		prefixOK := ValidPrefix(b)
		n := min(len(b), MagicSize)
		if want := string(b[:n]) == Magic[:n]; prefixOK != want {
			t.Fatalf("ValidPrefix(% x) = %v, want %v", b, prefixOK, want)
		}
		fr, err := Decode(b)
		switch {
		case len(b) < FrameSize:
			if !errors.Is(err, ErrShortFrame) {
				t.Fatalf("Decode of %d bytes: err %v, want ErrShortFrame", len(b), err)
			}
		case string(b[:MagicSize]) != Magic:
			if !errors.Is(err, ErrBadMagic) || prefixOK {
				t.Fatalf("Decode(% x): err %v, ValidPrefix %v; want ErrBadMagic and false", b[:FrameSize], err, prefixOK)
			}
		default:
			if err != nil || !prefixOK {
				t.Fatalf("Decode(% x): err %v, ValidPrefix %v; want a frame", b[:FrameSize], err, prefixOK)
			}
			if got := fr.Append(nil); !bytes.Equal(got, b[:FrameSize]) {
				t.Fatalf("Append(Decode(% x)) = % x", b[:FrameSize], got)
			}
			put := make([]byte, FrameSize)
			fr.Put(put)
			if !bytes.Equal(put, b[:FrameSize]) {
				t.Fatalf("Put(Decode(% x)) = % x", b[:FrameSize], put)
			}
		}
		if err != nil && fr != (Frame{}) {
			t.Fatalf("Decode returned %+v with error %v", fr, err)
		}
	})
}

// FuzzFrameRoundTrip checks that every frame survives Append and Decode.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add(uint64(0), uint64(0))
	f.Add(^uint64(0), uint64(1)<<63)
	f.Fuzz(func(t *testing.T, seq, ns uint64) {
		in := Frame{Seq: seq, UnixNano: ns}
		b := in.Append(nil)
		if len(b) != FrameSize || !ValidPrefix(b) {
			t.Fatalf("Append(%+v) = % x", in, b)
		}
		out, err := Decode(b)
		if err != nil || out != in {
			t.Fatalf("Decode(Append(%+v)) = %+v, %v", in, out, err)
		}
	})
}

// FuzzDecodeExt checks DecodeExt and ValidExtPrefix against the header
// layout of the extended frame on any input and wanted kind: no panic,
// exactly one outcome per input, ValidExtPrefix agreeing with a check
// written from the layout and never accepting what a shorter prefix
// refused, and every decoded header re-encoding to the bytes it came from.
// The seed corpus is in testdata/fuzz/FuzzDecodeExt.
func FuzzDecodeExt(f *testing.F) {
	valid := make([]byte, MaxExtLen)
	Ext{Len: MaxExtLen, Kind: KindRequest, Seq: 1, UnixNano: 2}.Put(valid)
	f.Add(valid[:ExtHeaderSize], uint8(KindRequest), uint16(0))
	f.Add(valid, uint8(KindReply), uint16(MaxExtLen))
	f.Add([]byte(ExtMagic), uint8(KindRequest), uint16(24))
	f.Add(Hello().Append(nil), uint8(KindRequest), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, kindByte uint8, length uint16) {
		kind := Kind(kindByte)
		// What the layout says, byte by byte.
		want := true
		for i := 0; i < len(b) && i < ExtMagicSize; i++ {
			want = want && b[i] == ExtMagic[i]
		}
		if len(b) >= 6 {
			l := int(b[4]) | int(b[5])<<8
			want = want && l >= 24 && l <= 9000 && (length == 0 || l == int(length))
		}
		if len(b) >= 7 {
			want = want && b[6] == kindByte
		}
		if got := ValidExtPrefix(b, kind, length); got != want {
			t.Fatalf("ValidExtPrefix(% x, %d, %d) = %v, want %v", b, kind, length, got, want)
		}
		for k := range min(len(b), ExtHeaderSize) {
			if !ValidExtPrefix(b[:k], kind, length) && want {
				t.Fatalf("ValidExtPrefix refuses % x but accepts % x", b[:k], b)
			}
		}

		e, err := DecodeExt(b, kind)
		switch {
		case len(b) < ExtHeaderSize:
			if !errors.Is(err, ErrShortFrame) {
				t.Fatalf("DecodeExt of %d bytes: err %v, want ErrShortFrame", len(b), err)
			}
		case err == nil:
			if !ValidExtPrefix(b, kind, 0) {
				t.Fatalf("DecodeExt(% x) accepted what ValidExtPrefix refuses", b[:ExtHeaderSize])
			}
			put := make([]byte, ExtHeaderSize)
			e.Put(put)
			if !bytes.Equal(put, b[:ExtHeaderSize]) {
				t.Fatalf("Put(DecodeExt(% x)) = % x", b[:ExtHeaderSize], put)
			}
		default:
			if ValidExtPrefix(b, kind, 0) {
				t.Fatalf("DecodeExt(% x): %v, but ValidExtPrefix accepts it", b[:ExtHeaderSize], err)
			}
			if e != (Ext{}) {
				t.Fatalf("DecodeExt returned %+v with error %v", e, err)
			}
		}
	})
}

// FuzzOffer checks that every 24-byte frame is at most one of the HELLO
// and an offer, and that an offer re-encodes to the frame it came from.
func FuzzOffer(f *testing.F) {
	f.Add(HelloSeq, HelloTime)
	f.Add(HelloSeq, Offer{MaxLen: MaxExtLen, Flags: OfferKernelRx}.Frame().UnixNano)
	f.Add(uint64(1), uint64(1700000000000000000))
	f.Fuzz(func(t *testing.T, seq, ns uint64) {
		fr := Frame{Seq: seq, UnixNano: ns}
		o, ok := ParseOffer(fr)
		if ok && fr.IsHello() {
			t.Fatalf("%+v is both the HELLO and an offer", fr)
		}
		if ok && (o.Frame() != fr || o.MaxLen < MinExtLen) {
			t.Fatalf("ParseOffer(%+v) = %+v, which encodes to %+v", fr, o, o.Frame())
		}
		if !ok && o != (Offer{}) {
			t.Fatalf("ParseOffer(%+v) returned %+v with false", fr, o)
		}
	})
}
