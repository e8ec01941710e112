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

package discovery

// The Runner runs Prometheus' discoverers directly (discovery.Config's
// NewDiscoverer and the Discoverer's Run), not through discovery.Manager:
// the manager merges every provider's groups and hides which one sent what
// and which one failed, which is what "keeps its last good targets, logs
// once per failure streak, shows in metrics" needs. It keeps what the
// manager does for us: one discoverer per config item, reused across
// reloads when the item is unchanged; groups kept per Source; the manager's
// prometheus_sd_* metrics.

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/tcpping/tcpping_exporter/config"
)

// timing is when the Runner publishes.
type timing struct {
	// quiet is how long the sources must be still before a change is
	// published, so that a burst (a file rewritten in several writes, a
	// DNS refresh of several names) makes one update.
	quiet time.Duration
	// maxDelay bounds the wait for quiet: a change is published at most
	// this long after it arrived, even while others keep coming.
	maxDelay time.Duration
	// gate is how long an entry whose sources a reload replaced keeps its
	// previous targets while the new sources have not answered yet, so
	// that its probers do not stop and start again.
	gate time.Duration
	// stopWait bounds how long Run, stopping, waits for the discoverers
	// to return (see stop).
	stopWait time.Duration
}

// defaultTiming is the Runner's timing; tests shorten it.
func defaultTiming() timing {
	return timing{quiet: 500 * time.Millisecond, maxDelay: 5 * time.Second, gate: 10 * time.Second,
		stopWait: 500 * time.Millisecond}
}

// Options configure a Runner.
type Options struct {
	// Logger receives the Runner's own log lines: failures (once per
	// streak), recoveries, changes; main passes its logger with
	// component=discovery. Nil discards them.
	Logger log.Logger
	// SlogHandler receives what Prometheus' discovery code logs, every
	// record at debug level (main passes the handler of its slog bridge).
	// Nil discards it.
	SlogHandler slog.Handler
	// Registerer gets the Runner's metrics and Prometheus' prometheus_sd_*
	// metrics. Required.
	Registerer prometheus.Registerer
	// OnUpdate receives every entry's targets whenever they change. It is
	// called from one goroutine at a time (Run's, or ApplyConfig's caller),
	// never concurrently, and the Runner waits for it; it must not call
	// ApplyConfig.
	OnUpdate func(Update)
	// Self describes this exporter for exclude_self and peers.
	Self Self
}

// Self describes this exporter for exclude_self and peers.
type Self struct {
	// EchoPorts are the ports the echo server listens on; none when it is
	// off.
	EchoPorts []uint16
	// MeshID places this exporter on the peers ring when its own echo
	// address is not among the targets (--mesh.id, by default the host
	// name).
	MeshID string
	// InterfaceAddrs returns this host's addresses; nil means
	// net.InterfaceAddrs. It is called on every recomputation, so that
	// addresses that come and go are seen.
	InterfaceAddrs func() ([]net.Addr, error)
}

// Update is the result of discovery at one moment: what the consumer
// reconciles its probers to.
type Update struct {
	// Seq increases with every update, so that a consumer that gets
	// updates from two goroutines (Run's and a reload's) can drop an older
	// one.
	Seq uint64
	// Entries has one element per discovery entry, in config order.
	Entries []Entry
}

// Entry is what one discovery entry probes.
type Entry struct {
	// Name is the entry's name.
	Name string
	// Targets are the entry's targets after relabeling, exclude_self and
	// peers, without those an earlier entry has (same module and address),
	// sorted by name, address, module. A static target with the same
	// module and address wins over them; that is for the consumer to do.
	Targets []config.Target
}

// Targets returns the targets of every entry, in entry order. No two have
// the same module and address.
func (u Update) Targets() []config.Target {
	var out []config.Target
	for _, e := range u.Entries {
		out = append(out, e.Targets...)
	}
	return out
}

// ErrRunTwice is returned by a second call of Runner.Run: a Runner runs
// once.
var ErrRunTwice = errors.New("discovery: Run was already called; a Runner runs once")

// Runner runs the discovery entries of the config. Create it with New,
// call Run in its own goroutine, and ApplyConfig with each loaded config.
type Runner struct {
	logger   log.Logger
	handler  slog.Handler
	onUpdate func(Update)
	self     Self
	metrics  *metrics
	timing   timing
	// active is whether the config last applied has discovery entries:
	// Prometheus' prometheus_sd_* metrics show only while it has.
	active atomic.Bool

	// pubMu serialises publication, so that updates reach OnUpdate in the
	// order they were computed.
	pubMu sync.Mutex

	mu        sync.Mutex // guards what follows
	cfg       *config.Config
	entries   []*entry
	ran       bool            // Run was called
	runCtx    context.Context // Run's context; nil when Run is not running
	discs     sync.WaitGroup  // the discoverers' goroutines
	recv      sync.WaitGroup  // the goroutines that take their updates
	wake      chan struct{}   // tells Run that something changed
	dirtyAt   time.Time       // first unpublished change, or zero
	dirtyLast time.Time       // latest unpublished change
	last      []Entry         // the last published entries
	seq       uint64
}

// entry is one discovery entry and its sources.
type entry struct {
	cfg     config.Discovery
	sources []*source
	// gateUntil is when the entry stops waiting for new sources to answer.
	gateUntil time.Time
	// own is the entry's targets as last computed, before the removal of
	// those an earlier entry has.
	own []config.Target
	// standIn holds the last good groups of the sources a reload replaced,
	// which stand in until every new source has had a good refresh
	// (fresh), however long they fail: a source whose config changed
	// during an outage keeps its last good targets as a failing one does.
	standIn []*targetgroup.Group
	fresh   []*source
	// rejected counts the targets rejected at the last publication, by
	// reason: a rise is logged at Warn.
	rejected map[string]int
}

// standingIn returns the stand-in groups while a new source of e has not
// had a good refresh, and lets them go once every one has (a file source
// whose globs match no file has: see answeredNone).
func (e *entry) standingIn() []*targetgroup.Group {
	for _, s := range e.fresh {
		if !s.good && !s.removed && !s.answeredNone() {
			return e.standIn
		}
	}
	e.standIn, e.fresh = nil, nil
	return nil
}

// New returns a Runner with no entries and registers its metrics on
// opts.Registerer.
func New(opts Options) (*Runner, error) {
	if opts.Registerer == nil || opts.OnUpdate == nil {
		return nil, errors.New("discovery: Registerer and OnUpdate are required")
	}
	r := &Runner{
		logger:   opts.Logger,
		handler:  opts.SlogHandler,
		onUpdate: opts.OnUpdate,
		self:     opts.Self,
		timing:   defaultTiming(),
		cfg:      config.Default(),
		wake:     make(chan struct{}, 1),
	}
	m, err := newMetrics(opts.Registerer, r.active.Load)
	if err != nil {
		return nil, err
	}
	r.metrics = m
	if r.logger == nil {
		r.logger = log.NewNopLogger()
	}
	if r.handler == nil {
		r.handler = slog.DiscardHandler
	}
	if r.self.InterfaceAddrs == nil {
		r.self.InterfaceAddrs = net.InterfaceAddrs
	}
	r.self.EchoPorts = slices.Clone(r.self.EchoPorts)
	m.manager.FailedConfigs.Set(0)
	return r, nil
}

// Run runs the discoverers and publishes changes until ctx is done, then
// stops them: it returns once no update can reach OnUpdate any more (see
// stop). A Runner runs once: a second call, while
// the first runs or after it returned, returns ErrRunTwice at once
// (Prometheus' discoverers are not made to run twice, nor two at a time).
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ran {
		r.mu.Unlock()
		return ErrRunTwice
	}
	r.ran = true
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.runCtx = runCtx
	for _, e := range r.entries {
		for _, s := range e.sources {
			r.start(s)
		}
	}
	r.mu.Unlock()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		next := r.nextDeadline()
		r.mu.Unlock()
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			r.stop(cancel)
			return nil
		case <-r.wake:
		case <-timer.C:
			r.tick(time.Now())
		}
	}
}

// start runs the discoverer of s and a goroutine that hands its updates to
// the Runner; r.mu is held and Run is running.
func (r *Runner) start(s *source) {
	ctx, cancel := context.WithCancel(r.runCtx)
	s.cancel = cancel
	// Unbuffered: a discoverer logs a failure before it sends the update
	// of the same refresh, and the send ends only once this goroutine has
	// taken the update, so the Runner sees the log first. The other order
	// is not kept: after a send, the discoverer's next log may reach the
	// Runner before receive has run for the update it sent.
	up := make(chan []*targetgroup.Group)
	r.discs.Add(1)
	r.recv.Add(1)
	go func() {
		defer r.discs.Done()
		s.disc.Run(ctx, up)
		if ctx.Err() == nil {
			r.stopped(s)
		}
	}()
	go func() {
		defer r.recv.Done()
		for {
			select {
			case tgs := <-up:
				r.receive(s, tgs)
			case <-ctx.Done():
				return
			}
		}
	}()
}

// markDirty records a change at now and wakes Run; r.mu is held.
func (r *Runner) markDirty(now time.Time) {
	if r.dirtyAt.IsZero() {
		r.dirtyAt = now
	}
	r.dirtyLast = now
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// nextDeadline returns when Run has work next: publishing a change, an
// entry's gate ending, a file failure expiring; r.mu is held.
func (r *Runner) nextDeadline() time.Time {
	next := time.Now().Add(time.Hour)
	earlier := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if !r.dirtyAt.IsZero() {
		earlier(r.publishAt())
	}
	for _, e := range r.entries {
		if e.waiting(time.Now()) {
			earlier(e.gateUntil)
		}
		for _, s := range e.sources {
			earlier(s.nextExpiry())
		}
	}
	return next
}

// tick does what is due at now: expire file failures, end gates, publish.
func (r *Runner) tick(now time.Time) {
	r.mu.Lock()
	for _, e := range r.entries {
		if !e.gateUntil.IsZero() && !now.Before(e.gateUntil) {
			e.gateUntil = time.Time{}
			r.markDirty(now)
		}
		for _, s := range e.sources {
			if ts := s.expire(now); len(ts) > 0 {
				r.logTransitions(s, ts)
				r.markDirty(now)
			}
		}
	}
	due := !r.dirtyAt.IsZero() && !now.Before(r.publishAt())
	r.mu.Unlock()
	if due {
		r.pubMu.Lock()
		r.publish(now)
		r.pubMu.Unlock()
	}
}

// publishAt returns when the pending change is published: once the
// sources have been quiet for r.timing.quiet, or r.timing.maxDelay after it
// came; r.mu is held and a change is pending.
func (r *Runner) publishAt() time.Time {
	return minTime(r.dirtyLast.Add(r.timing.quiet), r.dirtyAt.Add(r.timing.maxDelay))
}

// waiting reports whether e still waits for new sources to answer.
func (e *entry) waiting(now time.Time) bool {
	if e.gateUntil.IsZero() || !now.Before(e.gateUntil) {
		return false
	}
	for _, s := range e.sources {
		if !s.reported && !s.answeredNone() {
			return true
		}
	}
	return false
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
