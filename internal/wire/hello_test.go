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
	"testing"
)

// TestHelloBytes checks the HELLO against its layout written out by hand.
func TestHelloBytes(t *testing.T) {
	want := []byte{
		'T', 'C', 'P', 'P', 'I', 'N', 'G', 0,
		0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		'T', 'P', 'X', 'H', 'E', 'L', 'L', 'O',
	}
	if got := Hello().Append(nil); !bytes.Equal(got, want) {
		t.Fatalf("Hello = % x, want % x", got, want)
	}
	f, err := Decode(want)
	if err != nil || !f.IsHello() {
		t.Fatalf("Decode(HELLO) = %+v, %v; IsHello false", f, err)
	}
	if _, ok := ParseOffer(f); ok {
		t.Error("the HELLO reflected unchanged parses as an offer")
	}
}

// TestOfferBytes checks offers against their layout written out by hand.
func TestOfferBytes(t *testing.T) {
	tests := []struct {
		name  string
		offer Offer
		time  []byte // bytes 16-23
	}{
		{"9000, kernel receive times", Offer{MaxLen: 9000, Flags: OfferKernelRx}, []byte{'T', 'P', 'X', '1', 0x28, 0x23, 0x01, 0x00}},
		{"24, no flags", Offer{MaxLen: 24}, []byte{'T', 'P', 'X', '1', 0x18, 0x00, 0x00, 0x00}},
		{"reserved flags", Offer{MaxLen: 1500, Flags: 0x8002}, []byte{'T', 'P', 'X', '1', 0xDC, 0x05, 0x02, 0x80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := append([]byte{
				'T', 'C', 'P', 'P', 'I', 'N', 'G', 0,
				0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			}, tt.time...)
			if got := tt.offer.Frame().Append(nil); !bytes.Equal(got, want) {
				t.Fatalf("Frame = % x, want % x", got, want)
			}
			f, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if o, ok := ParseOffer(f); !ok || o != tt.offer {
				t.Fatalf("ParseOffer = %+v, %v; want %+v", o, ok, tt.offer)
			}
			if f.IsHello() {
				t.Error("an offer is a HELLO")
			}
		})
	}
}

func TestParseOfferRejects(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
	}{
		{"the HELLO", Hello()},
		{"an ordinary frame", Frame{Seq: 1, UnixNano: 1700000000000000000}},
		{"the marker on another sequence number", Frame{Seq: 7, UnixNano: Offer{MaxLen: 9000}.Frame().UnixNano}},
		{"a longest frame below 24", Offer{MaxLen: 23}.Frame()},
		{"a wrong marker", Frame{Seq: HelloSeq, UnixNano: Offer{MaxLen: 9000}.Frame().UnixNano + 1<<24}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if o, ok := ParseOffer(tt.f); ok {
				t.Errorf("ParseOffer(%+v) = %+v, true; want false", tt.f, o)
			}
		})
	}
}
