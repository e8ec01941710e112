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
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// The extended frame, spoken on a connection once it is negotiated
// (hello.go), is L bytes long, 24 ≤ L ≤ 9000, the same L for every frame of
// a connection in both directions. Its 24-byte header, little-endian:
//
//	bytes  0–3   magic "TPX1"
//	bytes  4–5   L, uint16
//	byte   6     kind: 1 request (prober to echo), 2 reply
//	byte   7     flags: 0 in a request; in a reply FlagKernelRx
//	bytes  8–11  sequence number, uint32 (the low 32 bits of the prober's)
//	bytes 12–15  0 in a request; in a reply the turnaround, the server's
//	             send time minus its receive time in ns, saturating
//	bytes 16–23  a request's send time; a reply's server receive time
//	             (Unix ns, uint64)
//
// Bytes 24 to L-1 are padding: zeros in a request, the request's padding
// unchanged in its reply. The server's send time is the clock read just
// before the write that carries the reply (a packet cannot carry its own
// kernel transmit time), so the server's send path counts in the reverse
// direction.

const (
	// ExtMagic is the prefix every extended frame starts with.
	ExtMagic = "TPX1"
	// ExtMagicSize is the size of ExtMagic, in bytes.
	ExtMagicSize = 4
	// ExtHeaderSize is the size of an extended frame's header, in bytes.
	ExtHeaderSize = 24
	// MinExtLen is the shortest extended frame, in bytes: a header alone.
	MinExtLen = 24
	// MaxExtLen is the longest extended frame, in bytes, and the longest
	// the echo server offers.
	MaxExtLen = 9000
)

// Kind says which way an extended frame goes.
type Kind uint8

const (
	// KindRequest is a frame from the prober to the echo server.
	KindRequest Kind = 1
	// KindReply is the echo server's answer to a request.
	KindReply Kind = 2
)

// FlagKernelRx is the reply flag saying that the server receive time is
// the kernel's receive timestamp of the read that completed the request,
// not a clock read after that read.
const FlagKernelRx uint8 = 1 << 0

// ErrBadLength is returned for an extended frame whose length is outside
// [MinExtLen, MaxExtLen], or other than its connection's.
var ErrBadLength = errors.New("bad frame length")

// ErrBadKind is returned for an extended frame of the wrong kind.
var ErrBadKind = errors.New("bad frame kind")

// Ext is the header of one extended frame.
type Ext struct {
	// Len is the frame's length L in bytes, padding included.
	Len uint16
	// Kind is KindRequest or KindReply.
	Kind Kind
	// Flags are 0 in a request; a reply may set FlagKernelRx.
	Flags uint8
	// Seq is the low 32 bits of the prober's sequence number.
	Seq uint32
	// Turnaround is 0 in a request; in a reply, the time from the server's
	// receive to its send, in ns (see Turnaround).
	Turnaround uint32
	// UnixNano is a request's send time, or a reply's server receive time.
	UnixNano uint64
}

// Put encodes e's header into the first ExtHeaderSize bytes of b, which
// must be at least that long. The padding after it is the caller's.
func (e Ext) Put(b []byte) {
	_ = b[ExtHeaderSize-1] // one bounds check for the whole header
	copy(b[:ExtMagicSize], ExtMagic)
	binary.LittleEndian.PutUint16(b[4:6], e.Len)
	b[6] = byte(e.Kind)
	b[7] = e.Flags
	binary.LittleEndian.PutUint32(b[8:12], e.Seq)
	binary.LittleEndian.PutUint32(b[12:16], e.Turnaround)
	binary.LittleEndian.PutUint64(b[16:24], e.UnixNano)
}

// DecodeExt decodes the header of the extended frame at the start of b,
// which must hold the header but need not hold the padding. It fails with
// ErrShortFrame if b is shorter than the header, ErrBadMagic if the magic
// is wrong, ErrBadLength if the length is out of bounds and ErrBadKind if
// the frame is not of the kind wanted. Whether the length is the
// connection's is the caller's to check.
func DecodeExt(b []byte, kind Kind) (Ext, error) {
	if len(b) < ExtHeaderSize {
		return Ext{}, ErrShortFrame
	}
	if err := CheckExtPrefix(b[:ExtHeaderSize], kind, 0); err != nil {
		return Ext{}, err
	}
	return Ext{
		Len:        binary.LittleEndian.Uint16(b[4:6]),
		Kind:       Kind(b[6]),
		Flags:      b[7],
		Seq:        binary.LittleEndian.Uint32(b[8:12]),
		Turnaround: binary.LittleEndian.Uint32(b[12:16]),
		UnixNano:   binary.LittleEndian.Uint64(b[16:24]),
	}, nil
}

// ValidExtPrefix reports whether b (any length) could be the start of an
// extended frame of the given kind and, unless length is 0, of that
// length: it checks the magic, length and kind bytes that b holds, so that
// a reader can reject garbage from its first wrong byte (the length once
// both of its bytes are there).
func ValidExtPrefix(b []byte, kind Kind, length uint16) bool {
	return CheckExtPrefix(b, kind, length) == nil
}

// CheckExtPrefix is ValidExtPrefix that says what is wrong: nil if b could
// be the start of the frame, else ErrBadMagic, ErrBadLength or ErrBadKind
// for the first field of b that cannot be.
func CheckExtPrefix(b []byte, kind Kind, length uint16) error {
	n := min(len(b), ExtMagicSize)
	if string(b[:n]) != ExtMagic[:n] {
		return ErrBadMagic
	}
	if len(b) >= 6 {
		l := binary.LittleEndian.Uint16(b[4:6])
		if l < MinExtLen || l > MaxExtLen || (length != 0 && l != length) {
			return ErrBadLength
		}
	}
	if len(b) >= 7 && Kind(b[6]) != kind {
		return ErrBadKind
	}
	return nil
}

// Turnaround returns d in ns as a reply's turnaround field carries it: 0
// for a negative d (the clock stepped back), math.MaxUint32 (about 4.3 s)
// for anything longer.
func Turnaround(d time.Duration) uint32 {
	switch {
	case d < 0:
		return 0
	case d > math.MaxUint32:
		return math.MaxUint32
	default:
		return uint32(d)
	}
}
