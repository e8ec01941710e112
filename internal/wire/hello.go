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

import "encoding/binary"

// The negotiation of the extended frame is made of 24-byte frames, so that
// an original peer sees nothing else. A client that wants extended frames
// sends the HELLO as its first frame: the magic, sequence number HelloSeq
// and, in the time field, the 8 ASCII bytes "TPXHELLO". The original client
// counts its sequence numbers up from 0 or 1 and sends a real Unix time, so
// it never sends a HELLO by accident. An original server reflects the HELLO
// unchanged; a server that speaks the extended frame answers the HELLO, and
// only when it is the connection's first frame, with an offer: the same
// magic and sequence number and, in the time field,
//
//	bytes 16–19  "TPX1"
//	bytes 20–21  the longest extended frame the server accepts, uint16 LE
//	bytes 22–23  capability flags, uint16 LE (OfferKernelRx)
//
// From the next frame on, that connection speaks extended frames in both
// directions.

const (
	// HelloSeq is the sequence number of the HELLO and of the offer.
	HelloSeq uint64 = 0xFFFFFFFFFFFFFFFE
	// HelloTime is the time field of the HELLO: "TPXHELLO" read as a
	// little-endian uint64.
	HelloTime uint64 = 0x4F4C4C4548585054
)

// OfferKernelRx is the offer's capability flag saying that the server
// stamps its replies with the kernel's receive time where it can (each
// reply still says whether it did: FlagKernelRx).
const OfferKernelRx uint16 = 1 << 0

// offerMarker starts the time field of an offer.
const offerMarker = ExtMagic

// Hello returns the frame a client sends first to ask for extended frames.
func Hello() Frame { return Frame{Seq: HelloSeq, UnixNano: HelloTime} }

// IsHello reports whether f is the HELLO.
func (f Frame) IsHello() bool { return f == Hello() }

// Offer is a server's answer to the HELLO: it speaks extended frames.
type Offer struct {
	// MaxLen is the longest extended frame the server accepts, in bytes.
	MaxLen uint16
	// Flags are the server's capabilities (OfferKernelRx); unknown bits
	// are reserved and must be ignored.
	Flags uint16
}

// Frame returns the 24-byte frame that carries o, the answer to a HELLO.
func (o Offer) Frame() Frame {
	var t [8]byte
	copy(t[:4], offerMarker)
	binary.LittleEndian.PutUint16(t[4:6], o.MaxLen)
	binary.LittleEndian.PutUint16(t[6:8], o.Flags)
	return Frame{Seq: HelloSeq, UnixNano: binary.LittleEndian.Uint64(t[:])}
}

// ParseOffer returns the offer f carries, and false if f is not an offer:
// the answer to a HELLO is either the HELLO itself, reflected by a server
// that only speaks 24-byte frames, or an offer. An offer of a longest frame
// below MinExtLen is no offer.
func ParseOffer(f Frame) (Offer, bool) {
	var t [8]byte
	binary.LittleEndian.PutUint64(t[:], f.UnixNano)
	if f.Seq != HelloSeq || string(t[:4]) != offerMarker {
		return Offer{}, false
	}
	o := Offer{MaxLen: binary.LittleEndian.Uint16(t[4:6]), Flags: binary.LittleEndian.Uint16(t[6:8])}
	if o.MaxLen < MinExtLen {
		return Offer{}, false
	}
	return o, true
}
