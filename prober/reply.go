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
// read returns belongs to the frame it completes.
type replyBuf struct {
	buf     [wire.FrameSize]byte
	pending int // bytes of a partial frame in buf
}

// room is where the next read goes.
func (r *replyBuf) room() []byte { return r.buf[r.pending:] }

// got takes n bytes read into room with kernel arrival time kernelNs (Unix
// ns, 0 if unknown): a completed frame is accounted by f, a wrong magic is
// an error.
func (r *replyBuf) got(f *flow, n int, kernelNs int64) error {
	r.pending += n
	if r.pending == wire.FrameSize {
		r.pending = 0
		return f.account(r.buf[:], time.Now(), kernelNs)
	}
	if !wire.ValidPrefix(r.buf[:r.pending]) {
		return f.badMagic()
	}
	return nil
}
