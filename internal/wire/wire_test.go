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

func TestFrameBytes(t *testing.T) {
	f := Frame{Seq: 0x0102030405060708, UnixNano: 0x1112131415161718}
	want := []byte{
		'T', 'C', 'P', 'P', 'I', 'N', 'G', 0,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
	}
	got := make([]byte, FrameSize)
	f.Put(got)
	if !bytes.Equal(got, want) {
		t.Fatalf("Put = % x, want % x", got, want)
	}
	if app := f.Append(nil); !bytes.Equal(app, want) {
		t.Fatalf("Append = % x, want % x", app, want)
	}
	dec, err := Decode(want)
	if err != nil || dec != f {
		t.Fatalf("Decode = %+v, %v; want %+v", dec, err, f)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := Frame{Seq: 1, UnixNano: 2}.Append(nil)
	bad := bytes.Clone(good)
	bad[7] = 'X'
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrShortFrame},
		{"23 bytes", good[:23], ErrShortFrame},
		{"wrong magic", bad, ErrBadMagic},
		{"lowercase magic", append([]byte("tcpping\x00"), good[8:]...), ErrBadMagic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidPrefix(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"T", true},
		{"TCPP", true},
		{"TCPPING\x00", true},
		{"TCPPING\x00garbage-after-magic", true},
		{"X", false},
		{"TCPX", false},
		{"TCPPING!", false},
		{"GET / HTTP/1.1\r\n", false},
	}
	for _, tt := range tests {
		if got := ValidPrefix([]byte(tt.in)); got != tt.want {
			t.Errorf("ValidPrefix(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, FrameSize)
	for i := 0; b.Loop(); i++ {
		Frame{Seq: uint64(i), UnixNano: uint64(i)}.Put(buf)
	}
}

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	buf := Frame{Seq: 7, UnixNano: 9}.Append(nil)
	for b.Loop() {
		if _, err := Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}
