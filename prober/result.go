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

	"github.com/go-kit/log/level"
)

// ResultKind says what a Result reports.
type ResultKind int

// The kinds of Result, in the order a connection meets them.
const (
	// ResultConnected: a connection is up; Remote and Local are its
	// addresses and RTT the handshake's duration.
	ResultConnected ResultKind = iota
	// ResultConnectFailed: a connection attempt failed, for Err.
	ResultConnectFailed
	// ResultReply: probe Seq was answered in time, after RTT.
	ResultReply
	// ResultTimeout: probe Seq was lost: no reply within its timeout, or
	// due with no connection to send it on, or in flight when the
	// connection was lost.
	ResultTimeout
	// ResultLate: a reply to probe Seq came after its timeout (which was
	// reported first).
	ResultLate
	// ResultBadReply: the peer sent bytes that are not an echo frame
	// (wrong magic): it is not an echo server. The connection is lost
	// next.
	ResultBadReply
	// ResultConnectionLost: the connection was closed, for Err.
	ResultConnectionLost
)

// Result is one outcome of a probe or of a connection, as the prober
// counts it: for Options.OnResult, which sees the probes one by one where
// a Snapshot sums them.
type Result struct {
	Kind ResultKind
	// Time is when the prober counted it.
	Time time.Time
	// Seq is the probe's sequence number (Reply, Timeout, Late), or the
	// last probe's sent before it (BadReply).
	Seq uint64
	// RTT is the probe's round trip (Reply) or the handshake's
	// (Connected).
	RTT time.Duration
	// Local and Remote are the connection's addresses (Connected).
	Local, Remote string
	// Err says why (ConnectFailed, ConnectionLost). For a Timeout it is
	// "" unless the probe was in flight when its connection was lost:
	// then it is why, as the ConnectionLost that follows says.
	Err string
}

// due reports whether probe pr is past its deadline at now.
func (pr probe) due(now time.Time) bool { return !now.Before(pr.deadline) }

// inFlightSeqs appends to dst the sequence numbers of the probes in
// flight, those due at now only if due is set.
func (s *state) inFlightSeqs(dst []uint64, now time.Time, due bool) []uint64 {
	for _, pr := range s.inflight {
		if !due || pr.due(now) {
			dst = append(dst, pr.seq)
		}
	}
	return dst
}

// report passes r to the prober's OnResult, if it has one, and logs a
// probe's outcome at debug level (--log.level=debug logs every probe).
// The caller must not hold p.mu: OnResult may take its time.
func (p *Prober) report(r Result) {
	if !p.opts.debugOff {
		switch r.Kind {
		case ResultReply:
			level.Debug(p.logger()).Log("msg", "probe answered", "seq", r.Seq, "rtt_seconds", r.RTT.Seconds())
		case ResultTimeout:
			level.Debug(p.logger()).Log("msg", "probe timed out", "seq", r.Seq)
		}
	}
	if p.x != nil && p.x.onResult != nil {
		p.x.onResult(r)
	}
}

// reports reports whether the prober reports its probes one by one: to
// OnResult, or to the debug log.
func (p *Prober) reports() bool { return (p.x != nil && p.x.onResult != nil) || !p.opts.debugOff }

// reportTimeouts reports the timeouts of seqs at now; lostWith, if not
// "", is why their connection was lost with them in flight.
func (p *Prober) reportTimeouts(now time.Time, seqs []uint64, lostWith string) {
	for _, seq := range seqs {
		p.report(Result{Kind: ResultTimeout, Time: now, Seq: seq, Err: lostWith})
	}
}

// lostSeqs returns the sequence numbers of the probes in flight (due at
// now only, if due is set) when the prober reports results, else nil: the
// probes a change is about to time out. The caller holds p.mu.
func (p *Prober) lostSeqs(now time.Time, due bool) []uint64 {
	if !p.reports() {
		return nil
	}
	return p.st.inFlightSeqs(nil, now, due)
}

// reportReply reports the reply to probe seq that the state took as res;
// timedOut is set if taking it also timed its probe out (it came after
// its deadline), rtt is the RTT it measured if it was in time.
func (p *Prober) reportReply(now time.Time, seq uint64, res replyResult, timedOut bool, rtt time.Duration) {
	if !p.reports() {
		return
	}
	switch res {
	case replyMatched:
		p.report(Result{Kind: ResultReply, Time: now, Seq: seq, RTT: rtt})
	case replyLate:
		if timedOut {
			p.report(Result{Kind: ResultTimeout, Time: now, Seq: seq})
		}
		p.report(Result{Kind: ResultLate, Time: now, Seq: seq})
	}
}
