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
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// The extended echo protocol, client side (the bytes are in internal/wire
// and the README's wire format section). With echo_protocol auto, a new
// connection's first frame is the HELLO, a 24-byte frame an original echo
// server reflects unchanged; an echo server of this exporter answers it
// with an offer, and from then on both directions carry extended frames of
// one length. The HELLO is not a probe: it counts in no counter, and the
// connection is not handed to its loop before the answer is in.

// connProto is what a connection speaks, as its dial negotiated it.
type connProto struct {
	// ext: the echo server took the HELLO and offered extended frames.
	ext   bool
	offer wire.Offer
	// hello is the number of bytes written before the first probe: the
	// HELLO's 24, or 0. Transmit timestamp keys count them.
	hello uint32
}

// negotiate sends the HELLO on c and reads the answer, within timeout or
// until ctx ends. An error means the connection is unusable.
func negotiate(ctx context.Context, c net.Conn, timeout time.Duration) (connProto, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(longAgo) })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(timeout))
	var b [wire.FrameSize]byte
	wire.Hello().Put(b[:])
	if _, err := c.Write(b[:]); err != nil {
		return connProto{}, fmt.Errorf("hello: %w", err)
	}
	// Both answers, the HELLO and an offer, start with the frame magic: a
	// peer whose first bytes are anything else (a greeting shorter than
	// a frame, say) is no echo server, without waiting for a whole frame.
	for n := 0; n < len(b); {
		m, err := c.Read(b[n:])
		if n += m; !wire.ValidPrefix(b[:n]) {
			return connProto{}, fmt.Errorf("answer to the hello: %w", wire.ErrBadMagic)
		}
		if err == io.EOF && n > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && n < len(b) {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				return connProto{}, fmt.Errorf("hello: no answer within %v", timeout)
			}
			return connProto{}, fmt.Errorf("hello: %w", err)
		}
	}
	_ = c.SetDeadline(time.Time{})
	f, err := wire.Decode(b[:])
	if err != nil {
		return connProto{}, fmt.Errorf("answer to the hello: %w", err)
	}
	if f.IsHello() {
		return connProto{hello: wire.FrameSize}, nil // an original server
	}
	o, ok := wire.ParseOffer(f)
	if !ok {
		return connProto{}, fmt.Errorf("answer to the hello: neither the hello nor an offer: %w", wire.ErrBadMagic)
	}
	return connProto{ext: true, offer: o, hello: wire.FrameSize}, nil
}

// frameLength returns the length of the frames a connection that speaks
// proto carries for module m: payload_size where the echo server took the
// HELLO (at most the longest frame it offered), else 24 bytes.
func frameLength(m *config.Module, proto connProto) int {
	if !proto.ext {
		return wire.FrameSize
	}
	return max(min(m.PayloadSize, int(proto.offer.MaxLen)), wire.MinExtLen)
}

// useProto sets the flow up for the frames its new connection speaks,
// and says once per target, as the timestamp fallbacks do, when they are
// not the module's payload_size.
func (f *flow) useProto(proto connProto) {
	n := frameLength(f.p.mod, proto)
	f.ext = proto.ext
	f.long = n > wire.FrameSize
	if f.long && len(f.big) != n {
		f.big = make([]byte, n) // zeros after the header: the padding
	}
	f.reply.reset(n, proto.ext)
	if want := f.p.mod.PayloadSize; n != want {
		lvl := level.Info
		if f.shortFrames {
			lvl = level.Debug
		}
		f.shortFrames = true
		why := "the echo server speaks 24-byte frames only"
		if proto.ext {
			why = fmt.Sprintf("the echo server takes frames of %d bytes at most", proto.offer.MaxLen)
		}
		lvl(f.p.logger()).Log("msg", fmt.Sprintf("probing with %d-byte frames instead of payload_size %d", n, want), "err", why)
	}
}

// out returns the probe frame being sent.
func (f *flow) out() []byte {
	if f.long {
		return f.big
	}
	return f.frame[:]
}

// encode writes the frame of probe seq, sent at the Unix time sentNs,
// into f.out(): a 24-byte frame, or an extended request whose padding
// stays zero.
func (f *flow) encode(seq uint64, sentNs int64) {
	out := f.out()
	if !f.ext {
		wire.Frame{Seq: seq, UnixNano: uint64(sentNs)}.Put(out)
		return
	}
	wire.Ext{Len: uint16(len(out)), Kind: wire.KindRequest, Seq: uint32(seq), UnixNano: uint64(sentNs)}.Put(out)
}
