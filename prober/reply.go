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

package prober

import (
	"time"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// replyBuf assembles a reply frame from reads that may split it. Each read
// asks only for the rest of the current frame, so the kernel timestamp a
// read returns belongs to the frame it completes. A frame's first 24 bytes
// (a whole 24-byte frame, or an extended frame's header) are kept; an
// extended frame's padding is read into pad and dropped.
type replyBuf struct {
	head    [wire.FrameSize]byte
	pending int // bytes of the current frame read so far
	length  int // the connection's frame length, 24 to 9000
	ext     bool
	pad     []byte // length-24 bytes; kept across connections of that length
}

// reset prepares the buffer for a new connection whose frames are length
// bytes long, extended frames if ext.
func (r *replyBuf) reset(length int, ext bool) {
	r.pending, r.length, r.ext = 0, length, ext
	if n := length - wire.FrameSize; len(r.pad) != n {
		r.pad = nil
		if n > 0 {
			r.pad = make([]byte, n)
		}
	}
}

// room is where the next read goes.
func (r *replyBuf) room() []byte {
	if r.pending < len(r.head) {
		return r.head[r.pending:]
	}
	return r.pad[r.pending-len(r.head) : r.length-len(r.head)]
}

// got takes n bytes read into room with kernel arrival time kernelNs (Unix
// ns, 0 if unknown): a completed frame is accounted by f, one whose magic,
// length or kind is wrong is an error.
//
// The prefix is checked before a frame is accounted, even one completed by
// this read: a 24-byte extended frame's header arrives whole, and its length
// must be the connection's as much as a longer frame's.
func (r *replyBuf) got(f *flow, n int, kernelNs int64) error {
	r.pending += n
	head := r.head[:min(r.pending, len(r.head))]
	if r.ext {
		if err := wire.CheckExtPrefix(head, wire.KindReply, uint16(r.length)); err != nil {
			return f.badReply(err)
		}
	} else if !wire.ValidPrefix(head) {
		return f.badReply(wire.ErrBadMagic)
	}
	if r.pending == r.length {
		r.pending = 0
		return f.account(r.head[:], time.Now(), kernelNs)
	}
	return nil
}
