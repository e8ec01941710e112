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
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// resultLog collects what a prober reports through OnResult.
type resultLog struct {
	mu  sync.Mutex
	all []Result
}

func (l *resultLog) add(r Result) {
	l.mu.Lock()
	l.all = append(l.all, r)
	l.mu.Unlock()
}

// results returns what was reported so far.
func (l *resultLog) results() []Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

// count returns how many results of kind k were reported.
func (l *resultLog) count(k ResultKind) int {
	n := 0
	for _, r := range l.results() {
		if r.Kind == k {
			n++
		}
	}
	return n
}

// startObserved starts a prober of addr with a history and OnResult, on
// the loop under test, stopped when the test ends.
func startObserved(t *testing.T, addr string, opts Options) (*Prober, *resultLog) {
	t.Helper()
	l := &resultLog{}
	opts.Name, opts.Address, opts.ModuleName, opts.NoSplay = "t", addr, "test", true
	opts.OnResult = l.add
	if opts.History == nil {
		opts.History = history.NewPool(time.Hour, time.Minute).NewRecorder()
	}
	p := New(opts, nil)
	p.startOn(context.Background(), testEngine(t))
	t.Cleanup(p.Stop)
	return p, l
}

// dropEvery returns a handler that echoes every probe but each n-th,
// which it swallows: that probe times out.
func dropEvery(n int) func(net.Conn) {
	return func(c net.Conn) {
		for i := 1; ; i++ {
			f, err := readProbe(c)
			if err != nil {
				return
			}
			if i%n == 0 {
				continue
			}
			if _, err := c.Write(f); err != nil {
				return
			}
		}
	}
}

// sumHistory returns the probes sent and lost in p's history of the last
// hour, and how many slots had replies with a median.
func sumHistory(p *Prober) (sent, lost, medians int) {
	now := time.Now()
	for _, pt := range p.History(nil, now.Add(-time.Hour), now.Add(time.Minute)) {
		sent += pt.Sent
		lost += pt.Lost
		if pt.Timed() {
			medians++
		}
	}
	return sent, lost, medians
}

// TestResultsAndHistoryFollowTheCounters runs a prober against a server
// that swallows every fourth frame, and checks that OnResult reported
// each probe once, with the outcome the counters have, and that the
// history holds the same replies and losses.
func TestResultsAndHistoryFollowTheCounters(t *testing.T) {
	srv := startServer(t, dropEvery(4))
	mod := testModule(10*time.Millisecond, 500*time.Millisecond, false)
	mod.ReconnectAfter = 0 // the swallowed probes must not end the connection
	p, log := startObserved(t, srv.addr(), Options{Module: mod})
	waitFor(t, "40 replies", 10*time.Second, func() bool { return log.count(ResultReply) >= 40 })
	p.Stop()
	s := p.Snapshot()

	rs := log.results()
	if rs[0].Kind != ResultConnected || rs[0].Remote != srv.addr() || rs[0].RTT <= 0 {
		t.Fatalf("first result %+v, want connected to %s with a handshake time", rs[0], srv.addr())
	}
	seen := map[uint64]ResultKind{}
	for _, r := range rs[1:] {
		switch r.Kind {
		case ResultReply, ResultTimeout:
			if _, dup := seen[r.Seq]; dup {
				t.Errorf("probe %d reported twice", r.Seq)
			}
			seen[r.Seq] = r.Kind
			if r.Kind == ResultReply && (r.RTT <= 0 || r.RTT > 500*time.Millisecond) {
				t.Errorf("probe %d: RTT %v, want within the 500ms timeout", r.Seq, r.RTT)
			}
			if want := r.Seq%4 == 0; (r.Kind == ResultTimeout) != want {
				t.Errorf("probe %d: %v; the server swallows every 4th", r.Seq, r.Kind)
			}
		case ResultLate:
		default:
			t.Errorf("unexpected result %+v on a steady connection", r)
		}
	}
	var replies, timeouts uint64
	// Every probe has its result, but those still in flight at Stop.
	for seq := range seen {
		if seq == 0 || seq > s.Sent {
			t.Errorf("result for probe %d of %d sent", seq, s.Sent)
		}
	}
	if uint64(len(seen)) != s.Sent-uint64(s.InFlight) {
		t.Errorf("results for %d probes; %d sent, %d in flight at the end", len(seen), s.Sent, s.InFlight)
	}
	for _, k := range seen {
		if k == ResultReply {
			replies++
		} else {
			timeouts++
		}
	}
	if replies != s.Received || timeouts != s.Timeouts {
		t.Errorf("reported %d replies and %d timeouts, counted %d and %d", replies, timeouts, s.Received, s.Timeouts)
	}

	sent, lost, medians := sumHistory(p)
	if uint64(sent) != s.Received+s.Timeouts || uint64(lost) != s.Timeouts-s.Late {
		t.Errorf("history: %d sent, %d lost; counters: %d received, %d timeouts, %d late", sent, lost, s.Received, s.Timeouts, s.Late)
	}
	if medians == 0 {
		t.Error("history has no slot with a median RTT")
	}
}

// TestResultsOfConnectionTrouble checks what OnResult and the history see
// when there is no echo server to talk to: a closed port, a peer that
// answers with something else than frames, a peer that closes the
// connection with probes in flight.
func TestResultsOfConnectionTrouble(t *testing.T) {
	t.Run("closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		p, log := startObserved(t, addr, Options{Module: testModule(20*time.Millisecond, 50*time.Millisecond, false)})
		waitFor(t, "a failed dial and 5 probes due", 10*time.Second, func() bool {
			return log.count(ResultConnectFailed) >= 1 && log.count(ResultTimeout) >= 5
		})
		p.Stop()
		rs := log.results()
		if rs[0].Kind != ResultConnectFailed || rs[0].Err == "" {
			t.Errorf("first result %+v, want a failed connection attempt with its reason", rs[0])
		}
		s := p.Snapshot()
		sent, lost, _ := sumHistory(p)
		if s.Received != 0 || uint64(lost) != s.Timeouts || sent != lost || uint64(log.count(ResultTimeout)) != s.Timeouts {
			t.Errorf("history %d sent %d lost, %d timeouts reported; counters %+v", sent, lost, log.count(ResultTimeout), s)
		}
	})
	// A peer that answers with something else than frames: under
	// echo_protocol auto it is the HELLO's answer, and the connection
	// attempt fails; under v1 it is a probe's, and the connection is lost.
	notEcho := func(c net.Conn) {
		if _, err := readFrame(c); err == nil {
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		}
		_, _ = c.Read(make([]byte, 1))
	}
	for _, tc := range []struct {
		proto string
		then  ResultKind
	}{{config.EchoProtocolAuto, ResultConnectFailed}, {config.EchoProtocolV1, ResultConnectionLost}} {
		t.Run("not an echo server, "+tc.proto, func(t *testing.T) {
			srv := startServer(t, notEcho)
			m := testModule(20*time.Millisecond, time.Second, false)
			m.EchoProtocol = tc.proto
			_, log := startObserved(t, srv.addr(), Options{Module: m})
			waitFor(t, "a bad reply and its end", 10*time.Second, func() bool { return log.count(tc.then) >= 1 })
			rs := log.results()
			i := slices.IndexFunc(rs, func(r Result) bool { return r.Kind == ResultBadReply })
			j := slices.IndexFunc(rs, func(r Result) bool { return r.Kind == tc.then })
			if i < 0 || j < i || rs[j].Err == "" {
				t.Errorf("results %+v: want a bad reply, then %v with its reason", rs, tc.then)
			}
		})
	}
	t.Run("peer closes with probes in flight", func(t *testing.T) {
		srv := startServer(t, func(c net.Conn) {
			for range 3 {
				if _, err := readProbe(c); err != nil {
					return
				}
			}
		})
		p, log := startObserved(t, srv.addr(), Options{Module: testModule(10*time.Millisecond, time.Second, false)})
		waitFor(t, "the connection lost", 10*time.Second, func() bool { return log.count(ResultConnectionLost) >= 1 })
		p.Stop()
		rs := log.results()
		j := slices.IndexFunc(rs, func(r Result) bool { return r.Kind == ResultConnectionLost })
		var lostFirst []uint64
		for _, r := range rs[:j] {
			if r.Kind == ResultTimeout {
				lostFirst = append(lostFirst, r.Seq)
			}
		}
		if len(lostFirst) < 3 {
			t.Errorf("%d probes reported lost before the connection, want the 3 or more in flight: %+v", len(lostFirst), rs)
		}
		s := p.Snapshot()
		if _, lost, _ := sumHistory(p); uint64(lost) != s.Timeouts || uint64(log.count(ResultTimeout)) != s.Timeouts {
			t.Errorf("history lost %d, reported %d; counted %d timeouts", lost, log.count(ResultTimeout), s.Timeouts)
		}
	})
}

// TestMaxProbes checks that a prober with MaxProbes sends that many
// probes, then stays connected for their replies and sends no more.
func TestMaxProbes(t *testing.T) {
	var mu sync.Mutex
	frames := 0
	srv := startServer(t, func(c net.Conn) {
		for {
			f, err := readProbe(c)
			if err != nil {
				return
			}
			mu.Lock()
			frames++
			mu.Unlock()
			time.Sleep(30 * time.Millisecond) // replies come after the next probe is due
			if _, err := c.Write(f); err != nil {
				return
			}
		}
	})
	p, log := startObserved(t, srv.addr(), Options{Module: testModule(10*time.Millisecond, time.Second, false), MaxProbes: 3})
	waitFor(t, "3 replies", 5*time.Second, func() bool { return log.count(ResultReply) == 3 })
	time.Sleep(100 * time.Millisecond) // ten more intervals
	mu.Lock()
	n := frames
	mu.Unlock()
	s := p.Snapshot()
	if n != 3 || s.Sent != 3 || s.Received != 3 || !s.Connected {
		t.Errorf("server read %d frames; prober sent %d, received %d, connected %v; want 3, 3, 3, connected", n, s.Sent, s.Received, s.Connected)
	}
}

// TestMaxProbesAcrossPlannedReconnects checks that the probe slots a
// planned reconnect skips (refresh.go) are not counted among MaxProbes:
// the prober still sends MaxProbes probes, and each gets its outcome.
// `ping -c N` waits for N outcomes, and waited forever when a
// re-resolution of its target's name replaced the connection.
func TestMaxProbesAcrossPlannedReconnects(t *testing.T) {
	const want = 20
	addr := testenv.HeldEchoServer(t, testenv.HeldEcho{Hold: func() time.Duration { return 25 * time.Millisecond }})
	m := testModule(10*time.Millisecond, time.Second, false)
	m.ReconnectInterval = config.Duration(60 * time.Millisecond)
	p, log := startObserved(t, addr, Options{Module: m, MaxProbes: want})
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if log.count(ResultReply)+log.count(ResultTimeout) >= want {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // ten more intervals
	if s := p.Snapshot(); s.Sent != want || s.Received+s.Timeouts != want || log.count(ResultReply) != int(s.Received) {
		t.Errorf("sent %d, received %d, timed out %d, %d replies reported: want %d sent and answered or timed out", s.Sent, s.Received, s.Timeouts, log.count(ResultReply), want)
	}
}
