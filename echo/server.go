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

// Package echo implements the echo server: the far end of a prober's link.
// It accepts TCP connections, reads 24-byte frames (see internal/wire), checks
// their magic and writes each one back unchanged and in order. It is
// wire-compatible with the server of the original tcp_ping_prometheus. A
// client whose first frame is the HELLO is answered with an offer, and from
// then on speaks extended frames, whose replies carry the time the server
// received the request and how long it took to answer (stream.go).
//
// Two engines serve the connections (Options.Engine). On Linux, by default,
// one worker goroutine owns an epoll set and serves every connection's
// non-blocking socket with direct read(2) and write(2) calls
// (engine_epoll_linux.go, worker_linux.go), as a C server would: one
// goroutine per connection costs Go scheduler wake-ups for every frame, which
// were most of the server's CPU per echo. Elsewhere each connection has one
// goroutine and one fixed read buffer (engine_goroutine.go); that engine
// builds, and is tested, on Linux too.
// Either way both follow one timeout policy (timeouts.go): every write has a
// time limit and idle connections are closed; and the server counts what it
// does in the tcp_echo_server_* metrics.
package echo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tcpping/tcpping_exporter/internal/loglimit"
	"github.com/tcpping/tcpping_exporter/internal/netmatch"
)

const (
	// DefaultIdleTimeout is used when Options.IdleTimeout is 0. It is the
	// default of --echo.idle-timeout.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultWriteTimeout is used when Options.WriteTimeout is 0.
	DefaultWriteTimeout = 5 * time.Second

	// Accept retry backoff after a temporary error, as in net/http.
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

var (
	errNotAllowed = errors.New("remote address not in allowed networks")
	errLimit      = errors.New("connection limit reached")
	errClosed     = errors.New("echo server closed")
)

// Options configure a Server.
type Options struct {
	// ListenAddresses are the host:port addresses to listen on, e.g.
	// ":4000" or "127.0.0.1:0". At least one is required.
	ListenAddresses []string
	// MaxConnections caps the connections open at once; beyond it a new
	// connection is closed at once and counted (reason "limit"). 0 means
	// unlimited.
	MaxConnections int
	// IdleTimeout closes a connection that completes no frame for this
	// long (reason "idle"). 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// AllowedNetworks restricts the clients served; empty means any. A
	// connection from elsewhere is closed at once (reason "not_allowed").
	// IPv4-mapped IPv6 addresses, as a dual-stack listener reports IPv4
	// clients, match IPv4 prefixes.
	AllowedNetworks []netip.Prefix
	// WriteTimeout closes a connection whose echo cannot be written for this
	// long, typically because the client does not read (reason
	// "write_timeout"). 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Engine chooses how connections are served; the zero value,
	// EngineDefault, is the epoll engine on Linux and the goroutine engine
	// elsewhere. New refuses EngineEpoll where epoll is missing.
	Engine Engine

	// workers is the number of epoll workers on Linux; 0 means the
	// default. It is unexported: only benchmarks change it.
	workers int
}

// Server is an echo server. Build it with New, bind with Listen, run with
// Serve and stop with Shutdown.
type Server struct {
	opts     Options
	timeouts timeouts // the policy both engines apply, from opts
	logger   log.Logger
	m        *metrics

	rejectLog [numReasons]loglimit.Limiter
	acceptLog loglimit.Limiter

	done chan struct{}  // closed by Shutdown
	wg   sync.WaitGroup // accept loops and the engine's goroutines

	eng engine // serves admitted connections, as opts.Engine says
	// bigBufs lends bigBufs to connections in the middle of a long
	// extended frame.
	bigBufs sync.Pool

	mu        sync.Mutex
	closed    bool
	serving   bool
	listeners []net.Listener
	open      int // connections being served; MaxConnections caps it
}

// New returns a Server for opts after checking them, and registers its
// metrics on reg unless reg is nil. It does not listen yet.
func New(opts Options, logger log.Logger, reg prometheus.Registerer) (*Server, error) {
	opts, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = log.NewNopLogger()
	}
	s := &Server{
		opts:     opts,
		timeouts: timeouts{idle: opts.IdleTimeout, write: opts.WriteTimeout},
		logger:   log.With(logger, "component", "echo"),
		m:        newMetrics(),
		done:     make(chan struct{}),
	}
	s.bigBufs.New = newBigBuf
	if s.eng, err = newEngine(s); err != nil {
		return nil, err
	}
	if err := s.m.register(reg); err != nil {
		return nil, err
	}
	return s, nil
}

// checkOptions validates opts and returns a copy with defaults filled in and
// prefixes normalised, sharing no slice with the caller.
func checkOptions(opts Options) (Options, error) {
	if len(opts.ListenAddresses) == 0 {
		return opts, errors.New("no listen address")
	}
	for _, a := range opts.ListenAddresses {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return opts, fmt.Errorf("listen address %q: %w", a, err)
		}
	}
	switch {
	case opts.MaxConnections < 0:
		return opts, fmt.Errorf("max connections %d: must not be negative", opts.MaxConnections)
	case opts.IdleTimeout < 0:
		return opts, fmt.Errorf("idle timeout %s: must not be negative", opts.IdleTimeout)
	case opts.WriteTimeout < 0:
		return opts, fmt.Errorf("write timeout %s: must not be negative", opts.WriteTimeout)
	case opts.Engine < EngineDefault || opts.Engine > EngineEpoll:
		return opts, fmt.Errorf("engine %s: unknown", opts.Engine)
	}
	if opts.Engine == EngineDefault {
		opts.Engine = defaultEngine
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	opts.ListenAddresses = append([]string(nil), opts.ListenAddresses...)
	nets := make([]netip.Prefix, 0, len(opts.AllowedNetworks))
	for _, p := range opts.AllowedNetworks {
		if !p.IsValid() {
			return opts, fmt.Errorf("allowed network %q: invalid prefix", p)
		}
		nets = append(nets, netmatch.Prefix(p))
	}
	opts.AllowedNetworks = nets
	return opts, nil
}

// Listen binds every listen address. If one fails, it closes those already
// bound and returns an error naming the address. After it, Addrs is valid.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if s.listeners != nil {
		return errors.New("echo server already listening")
	}
	var lc net.ListenConfig // Go's defaults: TCP_NODELAY, keep-alive
	ls := make([]net.Listener, 0, len(s.opts.ListenAddresses))
	for _, a := range s.opts.ListenAddresses {
		l, err := lc.Listen(context.Background(), "tcp", a)
		if err != nil {
			for _, l := range ls {
				_ = l.Close()
			}
			// A *net.OpError already reads "listen tcp ADDR: …".
			if opErr := (*net.OpError)(nil); errors.As(err, &opErr) && opErr.Addr != nil {
				return err
			}
			return fmt.Errorf("listen on %s: %w", a, err)
		}
		ls = append(ls, l)
	}
	if err := s.eng.start(); err != nil {
		for _, l := range ls {
			_ = l.Close()
		}
		return err
	}
	s.listeners = ls
	for _, l := range ls {
		level.Info(s.logger).Log("msg", "echo server listening", "address", l.Addr())
	}
	return nil
}

// Addrs returns the bound addresses, in the order of
// Options.ListenAddresses, or nil before Listen.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	addrs := make([]net.Addr, 0, len(s.listeners))
	for _, l := range s.listeners {
		addrs = append(addrs, l.Addr())
	}
	if len(addrs) == 0 {
		return nil
	}
	return addrs
}

// Serve accepts connections on every listener until ctx is done or Shutdown
// is called, then shuts the server down and returns nil. If a listener fails
// for good it shuts the server down too and returns that error. It calls
// Listen first if that has not been done.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	listening := s.listeners != nil
	s.mu.Unlock()
	if !listening {
		if err := s.Listen(); err != nil {
			if errors.Is(err, errClosed) {
				return nil
			}
			return err
		}
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.serving {
		s.mu.Unlock()
		return errors.New("echo server already serving")
	}
	if err := s.eng.start(); err != nil {
		s.mu.Unlock()
		s.Shutdown()
		return err
	}
	s.serving = true
	errc := make(chan error, len(s.listeners))
	s.wg.Add(len(s.listeners))
	for _, l := range s.listeners {
		go func() {
			defer s.wg.Done()
			if err := s.acceptLoop(l); err != nil {
				errc <- err
			}
		}()
	}
	s.mu.Unlock()

	var err error
	select {
	case <-ctx.Done():
	case <-s.done:
	case err = <-errc:
	}
	s.Shutdown()
	return err
}

// Shutdown closes the listeners and every connection and waits for all the
// server's goroutines to exit. It may be called more than once, and
// concurrently with Serve.
func (s *Server) Shutdown() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		for _, l := range s.listeners {
			_ = l.Close()
			level.Info(s.logger).Log("msg", "echo server listener stopped", "address", l.Addr())
		}
		s.eng.stop()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// closing reports whether Shutdown has begun.
func (s *Server) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
