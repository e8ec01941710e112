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

package ping

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/wire"
	"github.com/tcpping/tcpping_exporter/prober"
)

// session prints one ping's outcomes as the prober reports them, and
// keeps what the summary needs.
type session struct {
	o    *Options
	done chan struct{} // closed when the ping must end

	mu        sync.Mutex
	connected bool
	remote    string // the echo server's address, once connected
	outcomes  uint64 // probes answered or lost
	ended     bool   // done is closed
	// lastSent is the last probe sent before the ping ended at a peer
	// that is no echo server; unsent counts the probe slots the prober
	// reported lost after that, which the summary leaves out.
	lastSent, unsent uint64
	rtt              rttStats   // for --json
	iputils          iputilsRTT // for the text summary
}

func newSession(o *Options) *session {
	return &session{o: o, done: make(chan struct{}), remote: o.Target}
}

// start prints the header.
func (s *session) start() {
	if !s.o.JSON {
		fmt.Fprintf(s.o.Stdout, "TCPPING %s: %d bytes per probe over one TCP connection\n", s.o.Target, wire.FrameSize)
	}
}

// result prints one outcome. It runs on the prober's goroutine.
func (s *session) result(r prober.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		// The ping has ended: nothing more is printed. The probes sent
		// before the end count in the summary, as ping(8) counts every
		// probe it sent; a probe slot that falls after it (the one a
		// failed HELLO's attempt opens, say) does not, or the summary
		// would count it or not as the race went.
		if r.Kind == prober.ResultTimeout && r.Seq > s.lastSent {
			s.unsent++
		}
		return
	}
	switch r.Kind {
	case prober.ResultConnected:
		s.connected, s.remote = true, r.Remote
		s.line(event{Type: "connected", Remote: r.Remote, Local: r.Local, Seconds: secs(r.RTT)},
			"connected to %s from %s in %s ms", r.Remote, r.Local, ms(r.RTT))
	case prober.ResultConnectFailed:
		s.trouble(event{Type: "connect_failed", Error: r.Err}, "cannot connect to %s: %s", s.o.Target, r.Err)
	case prober.ResultConnectionLost:
		s.connected = false
		s.trouble(event{Type: "connection_lost", Error: r.Err}, "connection to %s lost: %s", s.remote, r.Err)
	case prober.ResultBadReply:
		s.trouble(event{Type: "not_echo_server", Error: "reply without the frame magic"},
			"%s is not a tcpping echo server: its reply does not start with the frame magic %q", s.remote, wire.Magic)
		s.end(r.Seq)
	case prober.ResultReply:
		s.rtt.add(r.RTT)
		s.iputils.add(r.RTT)
		s.line(event{Type: "reply", Seq: r.Seq, Bytes: wire.FrameSize, From: s.remote, Seconds: secs(r.RTT)},
			"%d bytes from %s: seq=%d time=%s ms", wire.FrameSize, s.remote, r.Seq, ms(r.RTT))
		s.counted()
	case prober.ResultTimeout:
		why := "timeout"
		if r.Err != "" {
			why = "connection lost" // with the probe in flight, before its timeout
		} else if !s.connected {
			why = "not connected"
		}
		s.line(event{Type: "lost", Seq: r.Seq, Reason: why}, "no reply: seq=%d (%s)", r.Seq, why)
		s.counted()
	case prober.ResultLate:
		s.line(event{Type: "late", Seq: r.Seq, From: s.remote}, "late reply from %s: seq=%d (after its timeout)", s.remote, r.Seq)
	}
}

// counted notes a probe's outcome, and ends the ping after the last one.
func (s *session) counted() {
	s.outcomes++
	if s.o.Count > 0 && s.outcomes >= s.o.Count {
		s.end(math.MaxUint64) // the prober sends no more
	}
}

// end ends the ping once; lastSent is the last probe sent before.
func (s *session) end(lastSent uint64) {
	if !s.ended {
		s.ended, s.lastSent = true, lastSent
		close(s.done)
	}
}

// finish prints the summary from the prober's final counters and returns
// the exit code.
func (s *session) finish(snap prober.Snapshot) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	sent, recv := s.counts(snap)
	if s.o.JSON {
		s.json(s.totals("summary", sent, recv))
	} else {
		fmt.Fprintf(s.o.Stdout, "\n--- %s tcpping statistics ---\n", s.o.Target)
		fmt.Fprintf(s.o.Stdout, "%d probes transmitted, %d received%s\n", sent, recv, lossClause(sent, recv))
		if s.iputils.n > 0 {
			fmt.Fprintf(s.o.Stdout, "rtt min/avg/max/mdev = %s ms\n", s.iputils.summary())
		}
	}
	if recv > 0 {
		return ExitReplied
	}
	return ExitNoReply
}

// status prints the counts so far, as ping(8) does on SIGQUIT: on stderr,
// "received/transmitted probes, loss" and the RTTs, or as JSON.
func (s *session) status(snap prober.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return // the summary comes next
	}
	sent, recv := s.counts(snap)
	if s.o.JSON {
		s.json(s.totals("status", sent, recv))
		return
	}
	line := fmt.Sprintf("%d/%d probes%s", recv, sent, lossClause(sent, recv))
	if s.iputils.n > 0 {
		line += ", min/avg/max/mdev = " + s.iputils.summary() + " ms"
	}
	fmt.Fprintln(s.o.Stderr, line)
}

// counts returns the probes transmitted and received by snap. A late
// reply came back, though after its probe's timeout: ping(8) counts it
// received, and the loss is the probes never answered, as the exporter's
// loss is timeouts less late replies. The caller holds s.mu.
func (s *session) counts(snap prober.Snapshot) (sent, recv uint64) {
	return snap.Sent - s.unsent, snap.Received + snap.Late
}

// totals returns the JSON summary or status of sent and recv: with no
// loss_ratio if nothing was transmitted, as lossClause. The caller holds
// s.mu.
func (s *session) totals(typ string, sent, recv uint64) event {
	e := event{Type: typ, Target: s.o.Target, Transmitted: &sent, Received: &recv}
	if sent > 0 {
		loss := float64(sent-recv) / float64(sent)
		e.LossRatio = &loss
	}
	if s.rtt.n > 0 {
		e.RTT = &rttSummary{s.rtt.min.Seconds(), s.rtt.mean(), s.rtt.max.Seconds(), s.rtt.mdev()}
	}
	return e
}

// line prints a probe's or the connection's outcome to stdout.
func (s *session) line(e event, format string, args ...any) {
	if s.o.JSON {
		s.json(e)
		return
	}
	fmt.Fprintf(s.o.Stdout, format+"\n", args...)
}

// trouble prints a connection's trouble: to stderr as text, with the
// outcomes as JSON.
func (s *session) trouble(e event, format string, args ...any) {
	if s.o.JSON {
		s.json(e)
		return
	}
	fmt.Fprintf(s.o.Stderr, format+"\n", args...)
}

// json prints e as one line, stamped with the time.
func (s *session) json(e event) {
	e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(e) // an event always encodes
	b = append(b, '\n')
	_, _ = s.o.Stdout.Write(b)
}

// event is one line of --json output.
type event struct {
	Type    string   `json:"type"`
	Time    string   `json:"time"`
	Target  string   `json:"target,omitempty"`
	Seq     uint64   `json:"seq,omitempty"`
	Bytes   int      `json:"bytes,omitempty"`
	From    string   `json:"from,omitempty"`
	Remote  string   `json:"remote,omitempty"`
	Local   string   `json:"local,omitempty"`
	Seconds *float64 `json:"rtt_seconds,omitempty"` // a reply's RTT, a connection's handshake
	Reason  string   `json:"reason,omitempty"`
	Error   string   `json:"error,omitempty"`

	Transmitted *uint64     `json:"transmitted,omitempty"`
	Received    *uint64     `json:"received,omitempty"`
	LossRatio   *float64    `json:"loss_ratio,omitempty"`
	RTT         *rttSummary `json:"rtt,omitempty"`
}

// rttSummary is the summary's RTT statistics, in seconds.
type rttSummary struct {
	Min  float64 `json:"min_seconds"`
	Avg  float64 `json:"avg_seconds"`
	Max  float64 `json:"max_seconds"`
	Mdev float64 `json:"mdev_seconds"`
}

// secs returns d in seconds, for an event.
func secs(d time.Duration) *float64 {
	v := d.Seconds()
	return &v
}

// ms writes d in milliseconds as ping(8) does, from whole microseconds:
// three decimals below 1 ms (truncated), then two, then one from 9.995 ms,
// whole milliseconds from 99.95 ms (rounded), so that 99.96 ms reads 100,
// not 100.0.
func ms(d time.Duration) string {
	us := d.Microseconds()
	switch {
	case us >= 100000-50:
		return strconv.FormatInt((us+500)/1000, 10)
	case us >= 10000-5:
		return fmt.Sprintf("%d.%01d", (us+50)/1000, (us+50)%1000/100)
	case us >= 1000:
		return fmt.Sprintf("%d.%02d", (us+5)/1000, (us+5)%1000/10)
	}
	return fmt.Sprintf("%d.%03d", us/1000, us%1000)
}

// lossClause returns ", L% loss" for the summary and the status line, or
// nothing if nothing was transmitted: as ping(8)'s finish, which prints
// no loss then, since none can be worked out (and "0% loss" would read
// as a healthy path).
func lossClause(sent, recv uint64) string {
	if sent == 0 {
		return ""
	}
	return ", " + lossPercent(sent, recv) + "% loss"
}

// lossPercent writes the share of sent probes not received as ping(8)
// does: a float's %g, six significant digits, so that 1 lost of 2001
// reads 0.049975, not 0, and 1 received of 2001 reads 99.95, not 100.
func lossPercent(sent, recv uint64) string {
	if sent == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(float32(float64(sent-recv)*100/float64(sent))), 'g', 6, 64)
}
