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
	"syscall"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// readBufferSize is the most one read takes in while a connection's partial
// frame is short: 85 frames of 24 bytes, far more than a prober keeps in
// flight. It is also the most the server writes back at once, and so the
// most it holds for a client that does not read, unless the connection
// speaks long extended frames (stream.readBuf). The goroutine per connection
// engine allocates it for every connection (10,000 connections cost about
// 20 MiB); the epoll engine reads into one buffer per worker and allocates
// it for a connection only once a write falls short.
const readBufferSize = 85 * wire.FrameSize

// countWritten counts the frames that a write of n bytes completed, out of
// left bytes of st's echoes that end on a frame boundary: an offer, if one
// heads them (st.lead), and then frames of st.frameSize(). The rest of a
// frame begun by an earlier write counts when its last byte is written.
func (s *Server) countWritten(st *stream, left, n int) {
	k := 0
	if lead := int(st.lead); lead > 0 {
		if n < lead {
			st.lead -= uint8(n)
			return
		}
		k, left, n, st.lead = 1, left-lead, n-lead, 0
	}
	fs := st.frameSize()
	k += (left+fs-1)/fs - (left-n+fs-1)/fs
	if k > 0 {
		s.m.frames.Add(float64(k))
	}
}

// logClosed logs the end of a connection: at Warn, rate-limited, when the
// server closed a misbehaving client, else at Debug.
func (s *Server) logClosed(r reason, remote net.Addr, err error) {
	if errors.Is(err, io.EOF) {
		err = nil
	}
	// The goroutine engine's read and write errors name the connection's
	// addresses around the system call's error; the epoll engine's are
	// that error alone. Log it alone, as the line does not depend on the
	// engine and remote_addr already names the client.
	var (
		op    *net.OpError
		errno syscall.Errno
	)
	if errors.As(err, &op) && errors.As(op.Err, &errno) {
		err = errno
	}
	if (r == reasonBadMagic || r == reasonWriteTimeout) && s.rejectLog[r].Allow(time.Now()) {
		level.Warn(s.logger).Log("msg", "connection closed", "remote_addr", remote, "err", err)
		return
	}
	if err == nil {
		level.Debug(s.logger).Log("msg", "connection closed", "remote_addr", remote)
		return
	}
	level.Debug(s.logger).Log("msg", "connection closed", "remote_addr", remote, "err", err)
}
