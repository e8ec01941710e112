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
	"encoding/binary"
	"sync"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// protocol is what a connection speaks (internal/wire: hello.go, ext.go).
type protocol uint8

const (
	// protoFirst: no frame is complete yet, and the first may be the HELLO.
	protoFirst protocol = iota
	// protoV1: 24-byte frames, each written back unchanged; for good, as the
	// server never switches mid-stream.
	protoV1
	// protoExt: the first frame was the HELLO, answered with an offer;
	// every frame after it is an extended request.
	protoExt
)

// bigBufSize is the size of the buffer that holds a partial extended frame
// too long for stream.part: the longest partial frame and a read after it,
// rounded up to an allocation size class.
const bigBufSize = 12 << 10

// bigBuf holds a connection's partial frame while it does not fit in
// stream.part. The server lends them from a pool (Server.bigBufs), so that
// a connection holds one only while a long frame is arriving.
type bigBuf [bigBufSize]byte

// newBigBuf is the New function of Server.bigBufs.
func newBigBuf() any { return new(bigBuf) }

// stream is one connection's frames as the server sees them: the protocol
// the connection speaks and the partial frame its last read ended with. Both
// engines keep one per connection and take the same step for every read
// (readBuf, the read, scan, stamp just before the write, keep), so the
// protocol is written once, here.
type stream struct {
	big    *bigBuf // the partial frame when it does not fit in part, else nil
	extLen uint16  // L of the connection's extended frames; 0 until known
	have   uint16  // bytes of the partial frame, in part or big
	proto  protocol
	// kernelRx: extended, and the engine reads the kernel's receive
	// timestamp with each read.
	kernelRx bool
	// lead is how many bytes of an offer, which heads the echoes being
	// written, are not written yet (countWritten).
	lead uint8
	// bad is what was wrong with the bytes after the last whole frame, as
	// an index in frameFaults: 0 while they can still start a frame.
	bad  uint8
	part [wire.FrameSize - 1]byte // the partial frame, when it fits
}

// rxTimestamper is the engine's side of a connection that negotiates.
type rxTimestamper interface {
	// kernelRx turns the kernel's receive timestamps on for the connection
	// and reports whether the engine reads them with every read from now
	// on.
	kernelRx() bool
}

// noKernelRx is the rxTimestamper of an engine that times reads by the
// clock after them.
type noKernelRx struct{}

func (noKernelRx) kernelRx() bool { return false }

// readBuf returns the buffer the connection's next read goes into, with the
// partial frame in its first have bytes and the read's room after them. If
// the partial frame is in a bigBuf, that is the buffer. Else it is small,
// the engine's own buffer of at least readBufferSize bytes, with the
// partial frame copied in and room for at most readBufferSize more.
func (st *stream) readBuf(small []byte) (buf []byte, have int) {
	have = int(st.have)
	if st.big != nil {
		return st.big[:], have
	}
	copy(small, st.part[:have])
	return small[:min(len(small), have+readBufferSize)], have
}

// keep saves rest, the bytes of the read buffer after the last whole
// frame, as the partial frame, once the echoes before it are written or
// copied. A partial frame too long for part stays in (or moves to) a
// bigBuf; the bigBuf goes back to pool when the partial frame fits in part
// again.
func (st *stream) keep(rest []byte, pool *sync.Pool) {
	st.have = uint16(len(rest))
	if len(rest) <= len(st.part) {
		copy(st.part[:], rest)
		st.release(pool)
		return
	}
	if st.big == nil {
		st.big = pool.Get().(*bigBuf)
	}
	copy(st.big[:], rest) // rest may be in st.big: copy moves it to the front
}

// release gives back the connection's bigBuf, if it has one: it has no
// partial frame in it, or is closing.
func (st *stream) release(pool *sync.Pool) {
	if st.big != nil {
		pool.Put(st.big)
		st.big = nil
	}
}

// frameFaults are the faults of a frame that end its connection (README,
// "The wire format": a bad magic, length or kind), as stream.bad numbers
// them. The engines log them; all count as bad_magic (DESIGN.md).
var frameFaults = [...]error{nil, wire.ErrBadMagic, wire.ErrBadLength, wire.ErrBadKind}

// badFrame returns nil, or what was wrong with the frame at which scan
// stopped: wire.ErrBadMagic, wire.ErrBadLength or wire.ErrBadKind.
func (st *stream) badFrame() error { return frameFaults[st.bad] }

// scan is the frame-handling step, the one both engines take between a
// read and the write of its echoes: b is the connection's partial frame
// followed by what the read returned. It returns the length of the longest
// prefix of b made of whole frames, turned into the echoes to write back
// (stamp finishes them just before the write), and false if the bytes after
// that prefix cannot start a frame: a wrong magic, or for an extended frame
// a length out of bounds or other than the connection's, or a wrong kind,
// each detected from its first wrong byte. Then badFrame says which.
//
// A 24-byte frame is written back unchanged, except the HELLO when it is
// the connection's first frame: it is answered with an offer (rx asks the
// engine whether it will read kernel receive timestamps), and the frames
// after it are extended requests, each answered with its reply in place.
// rxNs is the kernel's receive timestamp of the read (Unix ns), or 0 if it
// has none: then the clock is read at the first reply that needs it, right
// after the read.
func (st *stream) scan(b []byte, rxNs int64, rx rxTimestamper) (end int, ok bool) {
	end, bad := st.scanFaults(b, rxNs, rx)
	for i, f := range frameFaults {
		if f == bad {
			st.bad = uint8(i)
		}
	}
	return end, bad == nil
}

// scanFaults is scan, returning nil or the fault of the bytes after the
// whole frames.
func (st *stream) scanFaults(b []byte, rxNs int64, rx rxTimestamper) (end int, bad error) {
	switch st.proto {
	case protoV1:
		return magicFault(scanFrames(b))
	case protoFirst:
		if len(b) < wire.FrameSize || !wire.ValidPrefix(b[:wire.FrameSize]) {
			return magicFault(0, wire.ValidPrefix(b))
		}
		if f, _ := wire.Decode(b); !f.IsHello() {
			st.proto = protoV1
			return magicFault(scanFrames(b))
		}
		st.negotiate(b[:wire.FrameSize], rx)
		end = wire.FrameSize
	}
	n, bad := st.scanExt(b[end:], rxNs)
	return end + n, bad
}

// magicFault turns scanFrames' result into scanFaults': the only fault of
// a 24-byte frame is its magic.
func magicFault(end int, ok bool) (int, error) {
	if !ok {
		return end, wire.ErrBadMagic
	}
	return end, nil
}

// scanFrames returns the length of the longest prefix of b made of whole
// 24-byte frames with a valid magic, and false if the bytes after that
// prefix cannot start a frame (a wrong magic, detected from its first wrong
// byte). It is scan for a connection that speaks the original protocol,
// whose echoes are the bytes read.
func scanFrames(b []byte) (end int, ok bool) {
	for len(b)-end >= wire.FrameSize {
		if !wire.ValidPrefix(b[end : end+wire.FrameSize]) {
			return end, false
		}
		end += wire.FrameSize
	}
	return end, wire.ValidPrefix(b[end:])
}

// negotiate answers the HELLO in hello with an offer, in place, and
// switches the connection to extended frames.
func (st *stream) negotiate(hello []byte, rx rxTimestamper) {
	offer := wire.Offer{MaxLen: wire.MaxExtLen}
	if rx.kernelRx() {
		st.kernelRx = true
		offer.Flags |= wire.OfferKernelRx
	}
	offer.Frame().Put(hello)
	st.proto = protoExt
	st.lead = wire.FrameSize
}

// scanExt is scan for extended requests: it turns every whole one in b
// into its reply, but for the turnaround, which stamp writes.
func (st *stream) scanExt(b []byte, rxNs int64) (end int, bad error) {
	var flags uint8
	if rxNs != 0 {
		flags = wire.FlagKernelRx
	}
	for {
		f := b[end:]
		if bad := wire.CheckExtPrefix(f[:min(len(f), 7)], wire.KindRequest, st.extLen); bad != nil {
			return end, bad
		}
		if len(f) < 6 {
			return end, nil
		}
		if st.extLen == 0 {
			st.extLen = binary.LittleEndian.Uint16(f[4:6])
		}
		if len(f) < int(st.extLen) {
			return end, nil
		}
		if rxNs == 0 {
			rxNs = time.Now().UnixNano()
		}
		f[6] = byte(wire.KindReply)
		f[7] = flags
		binary.LittleEndian.PutUint64(f[16:24], uint64(rxNs))
		end += int(st.extLen)
	}
}

// stamp writes the turnaround into the replies among echoes, the echoes
// scan returned, just before the write that carries them: the server's send
// time is the clock read here. It does nothing, and reads no clock, on a
// connection that speaks the original protocol.
func (st *stream) stamp(echoes []byte) {
	if st.proto == protoExt && st.extLen != 0 {
		st.stampAt(echoes, time.Now().UnixNano())
	}
}

// stampAt is stamp with the send time sendNs (Unix ns).
func (st *stream) stampAt(echoes []byte, sendNs int64) {
	l := int(st.extLen)
	if st.proto != protoExt || l == 0 {
		return
	}
	for f := echoes[st.lead:]; len(f) >= l; f = f[l:] {
		rxNs := int64(binary.LittleEndian.Uint64(f[16:24]))
		binary.LittleEndian.PutUint32(f[12:16], wire.Turnaround(time.Duration(sendNs-rxNs)))
	}
}

// frameSize is the length of the connection's frames after any offer.
func (st *stream) frameSize() int {
	if st.extLen != 0 {
		return int(st.extLen)
	}
	return wire.FrameSize
}
