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

// Package wire encodes and decodes the frames that the prober sends and the
// echo server answers. The 24-byte frame (Frame) is the one of the original
// tcp_ping_prometheus, so both ends interoperate with it:
//
//	bytes  0–7   magic "TCPPING\x00"
//	bytes  8–15  sequence number, uint64 little-endian
//	bytes 16–23  sender's Unix time in nanoseconds, uint64 little-endian
//
// A connection may switch to the extended frame (Ext, ext.go) when the
// client's first frame is the HELLO and the server answers it with an offer
// (hello.go); an original peer never sees anything but 24-byte frames.
package wire

import (
	"encoding/binary"
	"errors"
)

// FrameSize is the size of one frame on the wire, in bytes.
const FrameSize = 24

// MagicSize is the size of the magic prefix, in bytes.
const MagicSize = 8

// Magic is the prefix every frame starts with.
const Magic = "TCPPING\x00"

// ErrBadMagic is returned when a frame does not start with Magic.
var ErrBadMagic = errors.New("bad magic")

// ErrShortFrame is returned when fewer than FrameSize bytes are decoded.
var ErrShortFrame = errors.New("short frame")

// Frame is one decoded echo frame.
type Frame struct {
	// Seq is the sender's sequence number.
	Seq uint64
	// UnixNano is the sender's wall-clock time when it sent the frame.
	UnixNano uint64
}

// Put encodes f into the first FrameSize bytes of b, which must be at least
// that long.
func (f Frame) Put(b []byte) {
	_ = b[FrameSize-1] // one bounds check for the whole frame
	copy(b[:MagicSize], Magic)
	binary.LittleEndian.PutUint64(b[8:16], f.Seq)
	binary.LittleEndian.PutUint64(b[16:24], f.UnixNano)
}

// Append appends the encoding of f to b.
func (f Frame) Append(b []byte) []byte {
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint64(b, f.Seq)
	return binary.LittleEndian.AppendUint64(b, f.UnixNano)
}

// Decode decodes the frame at the start of b. It fails with ErrShortFrame if b
// holds less than one frame and with ErrBadMagic if the magic is wrong.
func Decode(b []byte) (Frame, error) {
	if len(b) < FrameSize {
		return Frame{}, ErrShortFrame
	}
	if string(b[:MagicSize]) != Magic {
		return Frame{}, ErrBadMagic
	}
	return Frame{
		Seq:      binary.LittleEndian.Uint64(b[8:16]),
		UnixNano: binary.LittleEndian.Uint64(b[16:24]),
	}, nil
}

// ValidPrefix reports whether b (any length) could be the start of a frame,
// that is whether its first min(len(b), MagicSize) bytes match Magic. It lets
// a reader reject garbage without waiting for a whole frame.
func ValidPrefix(b []byte) bool {
	n := min(len(b), MagicSize)
	return string(b[:n]) == Magic[:n]
}
