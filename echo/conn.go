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
	"errors"
	"io"
	"net"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// readBufferSize is the most one read takes in: 85 frames, far more than a
// prober keeps in flight. It is also the most the server writes back at once
// and so the most it holds for a client that does not read. The goroutine
// per connection engine allocates it for every connection (10,000
// connections cost about 20 MiB); the epoll engine reads into one buffer per
// worker and allocates it for a connection only once a write falls short.
const readBufferSize = 85 * wire.FrameSize

// scanFrames returns the length of the longest prefix of b made of whole
// frames with a valid magic, and false if the bytes after that prefix cannot
// start a frame (a wrong magic, detected from its first wrong byte).
//
// It is the frame-handling step, the one both engines take between a read
// and the write of its echoes: b is what the connection's last partial frame
// and the read hold, and b[:end] is written back as it is. Anything a reply
// must carry beyond the client's bytes belongs here, not in an engine.
func scanFrames(b []byte) (end int, ok bool) {
	for len(b)-end >= wire.FrameSize {
		if !wire.ValidPrefix(b[end : end+wire.FrameSize]) {
			return end, false
		}
		end += wire.FrameSize
	}
	return end, wire.ValidPrefix(b[end:])
}

// countWritten counts the frames a write of n bytes completed, out of left
// bytes that end on a frame boundary (the rest of a frame begun by an earlier
// write counts when its last byte is written).
func (s *Server) countWritten(left, n int) {
	const fs = wire.FrameSize
	if k := (left+fs-1)/fs - (left-n+fs-1)/fs; k > 0 {
		s.m.frames.Add(float64(k))
	}
}

// logClosed logs the end of a connection: at Warn, rate-limited, when the
// server closed a misbehaving client, else at Debug.
func (s *Server) logClosed(r reason, remote net.Addr, err error) {
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if (r == reasonBadMagic || r == reasonWriteTimeout) && s.rejectLog[r].allow(time.Now()) {
		level.Warn(s.logger).Log("msg", "connection closed", "remote_addr", remote, "err", err)
		return
	}
	if err == nil {
		level.Debug(s.logger).Log("msg", "connection closed", "remote_addr", remote)
		return
	}
	level.Debug(s.logger).Log("msg", "connection closed", "remote_addr", remote, "err", err)
}
