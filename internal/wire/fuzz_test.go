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
