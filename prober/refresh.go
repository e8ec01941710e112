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

// Fresh connections: what keeps a long-lived connection from hiding what a
// new one would meet. resolve_interval re-resolves a target given by DNS
// name and replaces the connection when its peer is no longer among the
// answers; reconnect_interval replaces it on a period, so the handshake
// (and the DNS lookup of the dial) is exercised and timed again.
//
// A replacement is planned, not a loss: it waits until the probe sent
// after it was asked for has its answer (or timed out), closes the
// connection with nothing in flight, and dials at once, so the next probe,
// an interval later less the round trip, normally goes on the new
// connection. Once that probe is sent the old connection takes no more:
// where the round trip is longer than the interval, a probe slot that
// falls while it waits for the probes in flight is skipped, as is one
// that falls while the replacement is still being dialed (its handshake
// and, with echo_protocol auto, its HELLO's round trip): neither sent nor
// counted, since nothing was lost. No
// probe goes unaccounted: sent == received + timeouts +
// in_flight holds throughout. It is not counted in tcp_echo_dropped_total,
// which counts failures; a failed dial of the replacement is counted there
// as any failed attempt is, and the new handshake sets
// tcp_echo_connect_duration_seconds. A connection that never empties its
// probes in flight (every probe times out, reconnect_after 0) is replaced
// anyway once the longest timeout plus an interval has passed; its probes
// in flight then time out, as they would have.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/go-kit/log/level"
)

// refresh is a flow's state for fresh connections.
type refresh struct {
	// host is the target's host when it is a DNS name, else "".
	host string
	// peer is the address the current connection reached.
	peer netip.Addr
	// resolveAt is when the host is next re-resolved, reconnectAt when
	// the next planned reconnect falls due; zero when off.
	resolveAt, reconnectAt time.Time
	// replaceFrom, if set, is when a replacement of the connection was
	// asked for, and replaceWhy why.
	replaceFrom time.Time
	replaceWhy  replaceReason
	// replacing: the connection was closed by a replacement whose dial
	// has not ended; probe slots skip rather than count as lost.
	replacing bool
	// resolveFailing: the last re-resolution failed; later failures log
	// at debug.
	resolveFailing bool
	// lastSent is when the latest probe was sent.
	lastSent time.Time
	// lookup is the re-resolution in progress, if any.
	lookup *lookup
}

// replaceReason is why a connection is to be replaced: a small number
// rather than its text, which keeps a task within its size class
// (TestTaskSize); why gives the text.
type replaceReason uint8

const (
	replaceNone replaceReason = iota
	// replaceInterval: reconnect_interval has passed.
	replaceInterval
	// replaceUnresolved: the connected address is no longer among the
	// target's DNS answers.
	replaceUnresolved
)

// why returns the text of the reason the connection is replaced.
func (r *refresh) why() string {
	switch r.replaceWhy {
	case replaceInterval:
		return "reconnect_interval"
	case replaceUnresolved:
		return "address " + r.peer.String() + " no longer resolved"
	}
	return ""
}

// lookup is a re-resolution running in a goroutine of its own: DNS
// lookups block, and neither loop may. The flow reads the result once
// done is closed.
type lookup struct {
	cancel context.CancelFunc
	done   chan struct{}
	addrs  []netip.Addr
	err    error
}

// initRefresh notes whether the target's host is a DNS name.
func (f *flow) initRefresh() { f.refresh.host = dnsHost(f.p.opts.Address) }

// dnsHost returns the host of address (host:port) if it is a DNS name, or
// "" if it is an IP address.
func dnsHost(address string) string {
	host, _, err := net.SplitHostPort(address)
	if _, perr := netip.ParseAddr(host); err != nil || perr == nil {
		return ""
	}
	return host
}

// refreshConnected schedules the refreshes of a new connection to remote
// (host:port), made at now.
func (f *flow) refreshConnected(now time.Time, remote string) {
	r := &f.refresh
	r.peer = netip.Addr{}
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		r.peer = ap.Addr().Unmap()
	}
	r.replaceFrom, r.replaceWhy = time.Time{}, replaceNone
	r.reconnectAt, r.resolveAt = time.Time{}, time.Time{}
	if d := f.p.mod.ReconnectInterval.D(); d > 0 {
		r.reconnectAt = now.Add(d)
	}
	if d := f.p.mod.ResolveInterval.D(); d > 0 && r.host != "" {
		r.resolveAt = now.Add(d)
	}
}

// replaceLimit is how long a replacement waits for the probes in flight
// to end before it goes ahead anyway: the longest timeout, and an interval.
func (f *flow) replaceLimit() time.Duration {
	m := f.p.mod
	t := m.Timeout.D()
	if m.Adaptive {
		t = m.MaxTimeout.D()
	}
	return t + m.Interval.D()
}

// replaceReady reports whether a replacement asked for may go ahead at
// now: the probe sent since it was asked for has ended and nothing is in
// flight, or it has waited replaceLimit.
func (f *flow) replaceReady(now time.Time, inFlight bool) bool {
	r := &f.refresh
	if r.replaceFrom.IsZero() {
		return false
	}
	return (!inFlight && f.replaceDraining()) || !now.Before(r.replaceFrom.Add(f.replaceLimit()))
}

// replaceDraining reports whether the connection is being replaced and
// has sent the probe it waits for: it sends no more, and waits for the
// probes in flight to end.
func (f *flow) replaceDraining() bool {
	r := &f.refresh
	return !r.replaceFrom.IsZero() && !r.lastSent.Before(r.replaceFrom)
}

// refreshWake returns when the refreshes next need the loop while
// connected: a replacement that is ready (at once) or will be forced, a
// planned reconnect or a re-resolution falling due; zero if none.
func (f *flow) refreshWake(inFlight bool) time.Time {
	r := &f.refresh
	var w time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (w.IsZero() || t.Before(w)) {
			w = t
		}
	}
	if !r.replaceFrom.IsZero() {
		if !inFlight && f.replaceDraining() {
			earlier(r.replaceFrom)
		}
		earlier(r.replaceFrom.Add(f.replaceLimit()))
	}
	earlier(r.reconnectAt)
	if r.lookup == nil {
		earlier(r.resolveAt)
	}
	return w
}

// stepRefresh does the refreshes due at now while connected: it asks for
// a planned reconnect, starts a re-resolution or takes its answer, and
// replaces the connection when that is asked for and ready. It reports
// whether it closed the connection.
func (f *flow) stepRefresh(now time.Time) bool {
	r := &f.refresh
	if !r.reconnectAt.IsZero() && !now.Before(r.reconnectAt) {
		r.reconnectAt = time.Time{}
		f.askReplace(now, replaceInterval)
	}
	if r.lookup != nil {
		select {
		case <-r.lookup.done:
			f.resolved(now, r.lookup.addrs, r.lookup.err)
			r.lookup = nil
		default:
		}
	}
	if r.lookup == nil && !r.resolveAt.IsZero() && !now.Before(r.resolveAt) {
		r.resolveAt = time.Time{}
		f.startLookup()
	}
	if r.replaceFrom.IsZero() {
		return false
	}
	if _, inFlight := f.nextDeadline(); !f.replaceReady(now, inFlight) {
		return false
	}
	f.replace(now, r.why())
	return true
}

// askReplace asks for the connection to be replaced, for why, unless that
// is already asked.
func (f *flow) askReplace(now time.Time, why replaceReason) {
	r := &f.refresh
	if r.replaceFrom.IsZero() {
		r.replaceFrom, r.replaceWhy = now, why
	}
}

// startLookup re-resolves the host in a goroutine that the prober's Stop
// waits for (drop cancels it), bounded by dial_timeout.
func (f *flow) startLookup() {
	ctx, cancel := context.WithTimeout(context.Background(), f.p.mod.DialTimeout.D())
	lk := &lookup{cancel: cancel, done: make(chan struct{})}
	f.refresh.lookup = lk
	host := f.refresh.host
	f.p.done.Add(1) // the loop's own count is held: Stop cannot have returned
	go func() {
		defer f.p.done.Done()
		defer cancel()
		lk.addrs, lk.err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		close(lk.done)
	}()
}

// resolved takes the answer of a re-resolution: if the connection's peer
// is not among the addresses, the connection is to be replaced. A name
// that no longer exists is an answer with no address; a lookup that
// failed (timeout, SERVFAIL) says nothing about the peer, and the
// connection stays.
func (f *flow) resolved(now time.Time, addrs []netip.Addr, err error) {
	r := &f.refresh
	r.resolveAt = now.Add(f.p.mod.ResolveInterval.D())
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		lvl := level.Warn
		if r.resolveFailing {
			lvl = level.Debug
		}
		r.resolveFailing = true
		lvl(f.p.logger()).Log("msg", "re-resolving the target failed; the connection stays", "err", err)
		return
	}
	if r.resolveFailing {
		r.resolveFailing = false
		level.Info(f.p.logger()).Log("msg", "re-resolving the target works again")
	}
	if slices.ContainsFunc(addrs, func(a netip.Addr) bool { return a.Unmap() == r.peer }) {
		return
	}
	level.Info(f.p.logger()).Log("msg", "connected address no longer among the target's DNS answers, reconnecting",
		"remote_addr", r.peer)
	f.askReplace(now, replaceUnresolved)
}

// replace closes the connection, without counting it lost, and dials
// again at once.
func (f *flow) replace(now time.Time, why string) {
	f.sampleRetransmits(now)
	f.link.release()
	f.link = nil
	f.reply = replyBuf{}
	f.cancelLookup()
	f.reconnecting(now, why)
	f.refresh.replacing = true
	f.redialAt = now
	f.backoff = f.p.mod.ReconnectBackoff.D()
}

// cancelLookup ends a re-resolution in progress: its connection is gone.
func (f *flow) cancelLookup() {
	if lk := f.refresh.lookup; lk != nil {
		lk.cancel()
		f.refresh.lookup = nil
	}
	f.refresh.resolveAt, f.refresh.reconnectAt = time.Time{}, time.Time{}
	f.refresh.replaceFrom, f.refresh.replaceWhy = time.Time{}, replaceNone
}
