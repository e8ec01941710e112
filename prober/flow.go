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
	"errors"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/wire"
)

// retransmitSampleEvery bounds how often TCP_INFO is read (and it is read
// again when a connection closes): a syscall per probe would cost a
// measurable share of a probe's CPU, and retransmission counts need not be
// fresher than a scrape interval or two.
const retransmitSampleEvery = 5 * time.Second

// maxDrain bounds the reads of one drain: a peer that floods replies must
// not keep the loop from its schedule (or the engine from other probers).
const maxDrain = 64

// errStopping is a link's send cut short because the prober is stopping:
// the connection is dropped, not counted lost.
var errStopping = errors.New("prober stopping")

// link is one connection as a loop reads and writes it: the I/O in which
// the loops differ. The goroutine loop's link (connLink) blocks through
// Go's netpoller; the Linux engine's (task) is a non-blocking socket in an
// epoll set. Only the flow's goroutine calls it.
type link interface {
	// recv reads reply bytes into buf. With block it waits, until the
	// loop's read deadline, for at least one byte (a link whose loop
	// waits elsewhere never blocks); without, it returns errWouldBlock
	// when nothing is ready. io.EOF means the peer closed the
	// connection. kernelNs is the kernel's receive time of the data
	// (Unix ns), or 0 if unknown.
	recv(buf []byte, block bool) (n int, kernelNs int64, err error)
	// send writes a probe's frame, stamped at sent with the given
	// timeout. A link that cannot write it all at once may keep the
	// rest and write it within timeout. An error means the connection
	// is unusable: a partial frame would desynchronise the stream;
	// errStopping, that the write was cut short because the prober is
	// stopping.
	send(frame []byte, sent time.Time, timeout time.Duration) error
	// txStamp takes one entry off the socket's error queue: a kernel
	// transmit timestamp's key and time (Unix ns; 0 for an entry that is
	// not one), or errWouldBlock when the queue is empty.
	txStamp() (key uint32, ns int64, err error)
	// retransmits returns the kernel's count of TCP retransmissions on
	// the connection, if the platform has one.
	retransmits() (uint64, bool)
	// release closes the socket.
	release()
}

// attempt is the end of a connection attempt, as a loop hands it to its
// flow: the new connection, ready for probes, or why there is none.
type attempt struct {
	link          link // nil if err is set
	handshake     time.Duration
	local, remote string
	// kernel reports whether replies carry kernel receive timestamps;
	// kernelErr says why not when they were wanted. tx and txErr say the
	// same of the kernel's transmit timestamps.
	kernel    bool
	kernelErr error
	tx        bool
	txErr     error
	// proto is what the connection speaks.
	proto connProto
	err   error
}

// flow is the probe core both loops drive: one connection of a prober at
// a time, the schedule that paces it, and every change it makes to the
// prober's measured state (see record.go). A loop waits, dials and does
// the I/O through a link; the flow decides what is due and accounts for
// it. Only the loop's goroutine touches a flow; the prober's mutex guards
// the state that scrapes read. A step that concerns one connection (a
// second flow per target, the send time from the socket's error queue, a
// longer reply) belongs here and in link, once for both loops.
type flow struct {
	p *Prober
	schedule
	link  link // nil while disconnected
	reply replyBuf
	tx    txClock
	// The probe frame being sent (out) is frame for 24-byte frames, big
	// for longer ones (long); ext says whether they are extended frames.
	frame [wire.FrameSize]byte
	long  bool
	ext   bool
	// failing: the last dial failed; later failures log at debug.
	failing bool
	// userTime, userTxTime and shortFrames: a connection has fallen back
	// to user-space time for replies, for sends, or to frames shorter than
	// payload_size; later ones log at debug.
	userTime, userTxTime, shortFrames bool
	// port is the source port to dial from again (flows > 1), or 0.
	port uint16
	big  []byte
	// refresh keeps the connection fresh (refresh.go).
	refresh refresh
}

// init prepares the flow of p, which starts at now.
func (f *flow) init(p *Prober, now time.Time) {
	f.p = p
	f.schedule.init(p, now)
	f.initRefresh()
	level.Debug(p.logger()).Log("msg", "prober starting", "first_dial", f.redialAt)
}

// wake returns when the flow must next act: while connected, its next
// probe or the earliest deadline of the probes in flight; while not, its
// next probe slot or dial. It is zero if there is nothing to wait for.
func (f *flow) wake() time.Time {
	if f.link == nil {
		return f.wakeDisconnected()
	}
	w := f.nextTick
	due, inFlight := f.nextDeadline()
	if inFlight && due.Before(w) {
		w = due
	}
	if r := f.refreshWake(inFlight); !r.IsZero() && r.Before(w) {
		w = r
	}
	return w
}

// step does what has fallen due by now. It reports whether a connection
// attempt must start: the loop dials its own way and hands the outcome to
// dialed.
func (f *flow) step(now time.Time) (dial bool) {
	if f.link != nil {
		f.stepConnected(now)
		if f.link != nil {
			return false
		}
		// Closed: a planned replacement dials at once.
	}
	return f.stepDisconnected(now)
}

// stepDisconnected counts the probe due with no connection, if one is
// (a planned replacement's dial skips it instead: refresh.go), and reports whether the backoff allows a dial now.
func (f *flow) stepDisconnected(now time.Time) (dial bool) {
	dial = f.dialDue(now)
	if dial {
		f.dialing = true
		f.setStatus(StateConnecting)
	}
	if f.tickDue(now) {
		if f.refresh.replacing {
			f.skip(now, f.p)
		} else {
			f.sendDisconnected(now)
			f.tick(now, f.p)
		}
	}
	return dial
}

// stepConnected times out the probes past their deadline and sends the
// probe due, if one is.
func (f *flow) stepConnected(now time.Time) {
	if due, inFlight := f.nextDeadline(); inFlight && !now.Before(due) && f.expireDue(now) {
		return
	}
	if f.stepRefresh(now) {
		return
	}
	if !now.Before(f.nextTick) && f.readBeforeProbe(now) {
		if f.replaceDraining() {
			// The connection is being replaced: it waits for the
			// probes in flight, and the slot is skipped (refresh.go).
			f.skip(now, f.p)
			return
		}
		// The next slot counts from the probe's send, not from now: the
		// read before it (a peer that floods) can take longer than half
		// an interval, and the next probe must not follow a late one
		// closer than that, or more than MaxInFlight could be in flight.
		// A probe whose write failed took its slot too: it counts as
		// sent, and timed out with the connection.
		sent, _ := f.probe(now)
		f.tick(sent, f.p)
	}
}

// readBeforeProbe reads the replies already waiting, if a probe is in
// flight, before the next probe's frame is written. A reply left unread
// when the next one arrives shares its socket buffer with it (TCP merges a
// segment into the unread one before it in the receive queue), and the
// kernel then gives the merged buffer the later arrival time: the waiting
// reply's RTT would grow by up to an interval. That happens when the loop
// runs late by more than an interval while the timeout is longer than it,
// so that no deadline made it read first. It reports false if the
// connection was closed.
func (f *flow) readBeforeProbe(now time.Time) bool {
	if _, inFlight := f.nextDeadline(); !inFlight {
		return true
	}
	if f.expireDue(now) {
		return false
	}
	if h := f.p.hooks(); h != nil && h.afterRead != nil {
		h.afterRead()
	}
	return true
}

// expireDue times out probes whose deadline has passed. Replies already
// waiting in the socket are read first: one that arrived in time must not
// be counted as a timeout because the loop ran late. Reading takes time (a
// peer that floods takes maxDrain frames), so the deadlines are then
// checked at the clock's time once read, if later than now: a probe must
// not be sent while one past its deadline still counts in flight. It
// reports whether the connection was closed.
func (f *flow) expireDue(now time.Time) bool {
	if err := f.receive(maxDrain, false); err != nil {
		f.readFailed(now, err)
		return true
	}
	if t := time.Now(); t.After(now) {
		now = t
	}
	if why := f.expire(now); why != "" {
		f.closeConn(now, why)
		return true
	}
	return false
}

// probe sends one frame, and returns when (the clock read before its
// write). ok is false if the connection was lost.
func (f *flow) probe(now time.Time) (sent time.Time, ok bool) {
	if f.retransDue(now) {
		f.sampleRetransmits(now)
	}
	sent, timeout := f.stamp()
	f.refresh.lastSent = sent
	if h := f.p.hooks(); h != nil && h.beforeWrite != nil {
		h.beforeWrite()
	}
	if err := f.link.send(f.out(), sent, timeout); err != nil {
		if errors.Is(err, errStopping) {
			f.drop()
		} else {
			f.closeConn(time.Now(), opText("write", err))
		}
		return sent, false
	}
	if f.tx.on {
		f.tx.sent(len(f.out()))
		f.drainTx()
	}
	if h := f.p.hooks(); h != nil && h.afterSend != nil {
		h.afterSend()
	}
	return sent, true
}

// receive reads replies, at most reads times, each read one frame or the
// rest of one, so the kernel timestamp it returns belongs to the frame it
// completes. With block the first read waits (until the read deadline)
// and is the only one; without, receive stops when nothing is left. An
// error means the connection is unusable.
func (f *flow) receive(reads int, block bool) error {
	for range reads {
		n, kernelNs, err := f.link.recv(f.reply.room(), block)
		if n > 0 {
			if err := f.reply.got(f, n, kernelNs); err != nil {
				return err
			}
		}
		switch {
		case err == errWouldBlock:
			return nil
		case err != nil:
			return err
		case block:
			return nil
		}
	}
	return nil
}

// readFailed closes the connection after a failed receive.
func (f *flow) readFailed(now time.Time, err error) { f.closeConn(now, describeReadErr(err)) }

// dialed takes the end of a connection attempt.
func (f *flow) dialed(now time.Time, a attempt) {
	f.dialing = false
	f.refresh.replacing = false
	f.attemptEnded(now)
	if a.err != nil {
		f.dialFailed(now, a.err)
		return
	}
	f.link = a.link
	f.useProto(a.proto)
	f.tx = txClock{on: a.tx, written: a.proto.hello}
	f.keepPort(now, a.local)
	f.connected(now, a)
	f.refreshConnected(now, a.remote)
}

// dialAbandoned takes the end of a connection attempt made while the
// prober was stopping: the loop closes its connection unused, and nothing
// is counted.
func (f *flow) dialAbandoned() { f.dialing = false }

// closeConn drops the connection, counts it lost and schedules a redial.
func (f *flow) closeConn(now time.Time, why string) {
	f.sampleRetransmits(now)
	f.link.release()
	f.link = nil
	f.cancelLookup()
	f.connLost(now, why)
}

// drop closes the connection, if any, without counting it lost: the
// prober is stopping.
func (f *flow) drop() {
	f.cancelLookup()
	if f.link != nil {
		f.link.release()
		f.link = nil
	}
}

// finished marks the prober stopped, once its loop has let go of it.
func (f *flow) finished() {
	f.p.mu.Lock()
	f.p.st.stop()
	f.p.mu.Unlock()
	level.Debug(f.p.logger()).Log("msg", "prober stopped")
}
