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

// Package prober keeps one long-lived TCP connection per target (per flow,
// with flows above 1) and sends an echo frame on it every interval: the
// original 24-byte frame, or with the extended protocol a frame of the
// module's payload_size. It measures each frame's round trip, counts
// timeouts, late replies and connection drops, and keeps an RFC 6298
// adaptive timeout. Probers are read through Snapshot only; this
// package knows nothing of HTTP or Prometheus.
package prober

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/history"
)

// Options identify a prober and carry its settings.
type Options struct {
	// Name is the target's name (the static target's name; for dynamic
	// probers the address).
	Name string
	// Address is host:port of the echo server.
	Address string
	// ModuleName and Module are the module's name and settings.
	ModuleName string
	Module     config.Module
	// Labels are the target's extra labels. They must not be modified
	// after New.
	Labels map[string]string
	// Dynamic marks probers started by /probe rather than by the config.
	Dynamic bool
	// Discovered marks probers of targets that discovery found rather
	// than static targets of the config.
	Discovered bool
	// NoSplay dials at once instead of waiting for the prober's slot in
	// the interval (see Prober.phase). The first probe is sent when the
	// connection is up either way; later ones keep to the slot.
	NoSplay bool
	// FromFirstProbe puts the probes after the first a whole number of
	// intervals after it, as ping(8)'s are (the ping command), rather
	// than in the prober's slot, which falls anywhere from half an
	// interval to one and a half after it.
	FromFirstProbe bool
	// History, if set, records the prober's replies and losses for the
	// graphs (see History); the prober takes it over, and a kept prober
	// keeps it. Options returns it unset.
	History *history.Recorder
	// OnResult, if set, is called with each probe's and connection's
	// outcome, in order, from the goroutine that runs the prober and
	// outside its lock: it must return quickly.
	OnResult func(Result)
	// MaxProbes, if not 0, is how many probes the prober sends; it stays
	// connected after the last, for the replies, until it is stopped.
	MaxProbes uint64
	// Flow is the prober's flow among its target's Module.Flows, 0 to
	// Module.Flows-1. Each flow of a target is a prober of its own, with
	// its own connection from its own source port, counters, histogram,
	// timeout and reconnection; the Manager makes a target's flows
	// together (see Prober.Flows).
	Flow int

	// shared, set by the Manager, is a copy of Module that every prober
	// of the module keeps instead of a copy each.
	shared *config.Module
	// debugOff, set by the Manager from ManagerOptions.DebugOff.
	debugOff bool
}

// identity is what a prober keeps of its Options besides the module.
type identity struct {
	Name, Address, ModuleName string
	Labels                    map[string]string
	Dynamic                   bool
	NoSplay, FromFirstProbe   bool
	// debugOff: debug messages are not logged (ManagerOptions.DebugOff),
	// so the prober skips those it would log per reply.
	debugOff bool
	Flow     int32
}

// State is a prober's connection state.
type State int

// Connection states.
const (
	StateConnecting State = iota
	StateConnected
	StateBackoff
	StateStopped
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateBackoff:
		return "backoff"
	default:
		return "stopped"
	}
}

// Snapshot is a copy of a prober's state at one moment. It holds no
// pointer into live state, except the immutable Labels and bucket bounds.
type Snapshot struct {
	Sent, Received, Timeouts, Late, Dropped, Retransmits uint64
	// Unexpected counts replies that matched no probe: duplicates, unknown
	// sequence numbers.
	Unexpected uint64
	// InFlight is the number of probes sent and awaiting their reply or
	// timeout; Sent == Received + Timeouts + InFlight always holds.
	InFlight  int
	Connected bool
	State     State
	// LastRTT is the most recent RTT, SRTT the smoothed RTT and Timeout
	// the timeout in force now.
	LastRTT, SRTT, Timeout time.Duration
	// ConnectDuration is the TCP handshake time of the current (or last)
	// connection.
	ConnectDuration time.Duration
	// LocalAddr is the local address of the current (or last) connection.
	LocalAddr string
	// KernelTimestamps reports whether the current (or last) connection
	// times replies by the kernel's receive timestamp, KernelTxTimestamps
	// whether it times probes by the kernel's transmit timestamp.
	KernelTimestamps, KernelTxTimestamps bool
	// Extended reports whether the current (or last) connection speaks
	// the extended protocol; FrameLength is its frames' length in bytes.
	Extended    bool
	FrameLength int
	// LastProbeOK reports whether the most recent completed probe was
	// answered in time.
	LastProbeOK bool
	// Results counts completed probes and failed connection attempts; it
	// is zero until the prober has a first result.
	Results   uint64
	LastError string
	// RecentTimeouts is the number of timeouts in the last minute.
	RecentTimeouts uint64
	Histogram      HistogramSnapshot
	// Jitter is the RTT's RFC 3550 jitter.
	Jitter time.Duration
	// From extended replies only (0 otherwise): Turnaround holds the
	// echo server's times from receiving a probe to sending its reply;
	// ForwardJitter and ReverseJitter are the RFC 3550 jitters of each
	// direction's one-way transit, which need no synchronized clocks;
	// ForwardDelay and ReverseDelay the last transits themselves, the
	// difference of the two hosts' clocks: meaningful only when these
	// are synchronized.
	Turnaround                   HistogramSnapshot
	ForwardJitter, ReverseJitter time.Duration
	ForwardDelay, ReverseDelay   time.Duration
	Started                      time.Time
}

// sendHooks are functions tests run within a probe's send. afterSend runs
// after each probe is written: it stands for the loop's goroutine being
// descheduled at the worst moment. beforeWrite, likewise, runs between the
// clock read of a probe's send and its write, and afterRead between the
// read of waiting replies before a probe and the probe's clock read (a
// flood makes that read long).
type sendHooks struct {
	afterSend, beforeWrite, afterRead func()
}

// Prober probes one target. A Manager makes, starts and stops the probers
// of the exporter; a prober used on its own is made with New, started with
// Start and stopped with Stop.
type Prober struct {
	opts identity
	// discovered is Options.Discovered: where the target comes from, which
	// the Manager changes on a kept prober whose target moved between the
	// config and discovery (a target is its name, address, labels and
	// module, not where it is listed).
	discovered atomic.Bool
	// mod is the module's settings, shared by the probers of a module
	// when the Manager made them: 10,000 copies cost 1.5 MB.
	mod *config.Module
	// base is the logger New was given: the prober's own context
	// (logger) is built per message rather than kept, as probers log
	// rarely and 10,000 kept contexts cost 2 MB.
	base log.Logger
	// phase places the prober's probes on the grid of instants t with
	// t ≡ phase (mod interval), in Unix time: a hash of its identity and
	// of the host it runs on, so thousands of targets are spread over the
	// interval however their connections come and go, a target keeps its
	// slot across reconnections and restarts on the same host, and the
	// exporters of a fleet that all probe one echo server do not all send
	// at once. The flows of a target are offset from each other by
	// interval/flows (flowPhase). With Options.FromFirstProbe it is the
	// first probe's instant instead, set by the prober's loop.
	phase uint64
	// x is what few probers have; nil for most.
	x *extra

	mu   sync.Mutex
	st   state
	hist *history.Recorder // Options.History; nil keeps none

	cancel context.CancelFunc
	done   sync.WaitGroup // the prober's loop, until it has exited
}

// extra is what few probers have, kept out of Prober: a Prober stays
// within 512 bytes, the largest of Go's allocation size classes without a
// per-object header (TestProberSize), and each of 10,000 targets has one.
// It is set before the prober starts and not modified after.
type extra struct {
	// maxProbes and onResult are Options.MaxProbes and OnResult.
	maxProbes uint64
	onResult  func(Result)
	// flows are the probers of every flow of a target of several, in
	// flow order, p among them: set by the Manager before they start,
	// shared by them and never modified.
	flows []*Prober
	// hooks, if set (by tests), run at chosen points of a probe's send.
	hooks *sendHooks
}

// more returns p's extra, made if p has none; only before p starts.
func (p *Prober) more() *extra {
	if p.x == nil {
		p.x = new(extra)
	}
	return p.x
}

// maxProbes returns Options.MaxProbes, 0 for no limit.
func (p *Prober) maxProbes() uint64 {
	if p.x == nil {
		return 0
	}
	return p.x.maxProbes
}

// hooks returns the test hooks of p's sends, or nil.
func (p *Prober) hooks() *sendHooks {
	if p.x == nil {
		return nil
	}
	return p.x.hooks
}

// New returns a prober for opts. It does not start probing.
func New(opts Options, logger log.Logger) *Prober {
	if logger == nil {
		logger = log.NewNopLogger()
		opts.debugOff = true // nothing to log to
	}
	mod := opts.shared
	if mod == nil || !mod.Equal(opts.Module) {
		mod = new(config.Module)
		*mod = opts.Module
	}
	p := &Prober{
		opts: identity{Name: opts.Name, Address: opts.Address, ModuleName: opts.ModuleName,
			Labels: opts.Labels, Dynamic: opts.Dynamic, NoSplay: opts.NoSplay, FromFirstProbe: opts.FromFirstProbe,
			Flow: int32(opts.Flow), debugOff: opts.debugOff},
		mod:  mod,
		base: logger,
		hist: opts.History,
	}
	p.discovered.Store(opts.Discovered)
	if opts.MaxProbes > 0 || opts.OnResult != nil {
		x := p.more()
		x.maxProbes, x.onResult = opts.MaxProbes, opts.OnResult
	}
	p.phase = flowPhase(phaseOf(hostname, opts.Name, opts.Address), opts.Flow, mod.Flows, mod.Interval.D())
	p.st.init(mod)
	return p
}

// logger returns the prober's logger: base with the prober's identity.
func (p *Prober) logger() log.Logger {
	l := log.With(p.base, "component", "prober", "target", p.opts.Name,
		"address", p.opts.Address, "module", p.opts.ModuleName)
	if p.mod.Flows > 1 {
		l = log.With(l, "flow", p.opts.Flow)
	}
	return l
}

// Options returns the options the prober was created with, but for
// History and OnResult, which belong to this prober alone.
func (p *Prober) Options() Options {
	o := p.opts
	return Options{Name: o.Name, Address: o.Address, ModuleName: o.ModuleName, Module: *p.mod,
		Labels: o.Labels, Dynamic: o.Dynamic, Discovered: p.discovered.Load(), NoSplay: o.NoSplay, FromFirstProbe: o.FromFirstProbe, Flow: int(o.Flow), MaxProbes: p.maxProbes(), shared: p.mod,
		debugOff: o.debugOff}
}

// Start runs the prober in a goroutine of its own, the portable loop,
// until ctx is done or Stop is called. It is for a prober used on its own:
// the probers a Manager makes run on the loop its options choose
// (ManagerOptions.Loop), by default the Linux epoll engine.
func (p *Prober) Start(ctx context.Context) { p.startOn(ctx, nil) }

// startOn starts p on e, or in a goroutine of its own if e is nil.
func (p *Prober) startOn(ctx context.Context, e *engine) {
	if e != nil {
		e.start(ctx, p)
		return
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		p.run(ctx)
	}()
}

// Stop stops probing, closes the connection and waits until every
// goroutine of the prober has exited.
func (p *Prober) Stop() {
	if p.cancel != nil {
		p.cancel()
		p.done.Wait()
	}
}

// FirstResult is closed when the prober has its first result (a reply, a
// timeout or a failed connection attempt), or when it has stopped without
// one: a reload stopped it, say. Its State then tells which.
func (p *Prober) FirstResult() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.st.results > 0 || p.st.status == StateStopped {
		return closed
	}
	if p.st.first == nil {
		p.st.first = make(chan struct{})
	}
	return p.st.first
}

// closed is a closed channel.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Snapshot returns a copy of the prober's current state: what a scrape
// needs, nothing more.
func (p *Prober) Snapshot() Snapshot {
	var s Snapshot
	p.SnapshotInto(&s)
	return s
}

// SnapshotInto is Snapshot into s, reusing the histogram slices s already
// has: a scrape that keeps its snapshots allocates nothing per prober once
// warm, and the prober's lock is held only for the copy.
func (p *Prober) SnapshotInto(s *Snapshot) {
	now := time.Now()
	p.mu.Lock()
	p.st.snapshot(now, s, p.mod)
	p.mu.Unlock()
}

// Events returns the recent connection events, oldest first, for the
// debug page.
func (p *Prober) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.recentEvents()
}
