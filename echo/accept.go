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
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/internal/netmatch"
)

// acceptLoop accepts on l until Shutdown (nil) or a permanent error.
// Temporary errors, such as running out of file descriptors, are retried
// with a backoff from 5ms doubling to 1s, as net/http does.
func (s *Server) acceptLoop(l net.Listener) error {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err == nil {
			delay = 0
			s.admit(c)
			continue
		}
		if s.closing() {
			return nil
		}
		if !temporary(err) {
			return fmt.Errorf("accept on %s: %w", l.Addr(), err)
		}
		delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
		if s.acceptLog.Allow(time.Now()) {
			level.Warn(s.logger).Log("msg", "accept failed, retrying", "address", l.Addr(), "err", err)
		}
		retry.Reset(delay)
		select {
		case <-retry.C:
		case <-s.done:
			return nil
		}
	}
}

// temporary reports whether an accept error is worth retrying: resource
// exhaustion (EMFILE, ENFILE, ENOBUFS, ENOMEM), interruptions and timeouts,
// and errors of the one new connection (ECONNABORTED, ECONNRESET and, on
// Linux, the network errors pendingNetError lists).
func temporary(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Temporary() || errno == syscall.ENOBUFS || errno == syscall.ENOMEM ||
			errno == syscall.ECONNABORTED || errno == syscall.ECONNRESET || pendingNetError(errno)
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// admit applies the access checks to a new connection and, if it passes,
// takes a slot for it and hands it to the engine, which counts it once it
// has taken it on (served) or gives the slot back if it cannot (unserved).
// Refused connections are counted before they are closed.
func (s *Server) admit(c net.Conn) {
	if !s.allowed(c.RemoteAddr()) {
		s.refuse(c, reasonNotAllowed, errNotAllowed)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.Close()
		return
	}
	if limit := s.opts.MaxConnections; limit > 0 && s.open >= limit {
		s.mu.Unlock()
		s.refuse(c, reasonLimit, errLimit)
		return
	}
	s.open++
	s.mu.Unlock()
	s.eng.serve(c)
}

// served counts a connection the engine has taken on: it is accepted, and
// open until the engine releases it. The engine calls it before it reads
// from the connection, so before a client sees any echo.
func (s *Server) served(remote net.Addr) {
	s.m.accepted.Inc()
	s.m.connections.Inc()
	level.Debug(s.logger).Log("msg", "connection opened", "remote_addr", remote)
}

// unserved gives back the slot of a connection admitted but closed before
// the engine took it on: by Shutdown (err nil), or because the engine could
// not set it up (err), most likely for want of file descriptors or kernel
// memory. Such a connection is counted nowhere: it was not served, and no
// reason of tcp_echo_server_rejected_total is the process's limits (the
// same want of descriptors, one accept earlier, fails the accept, which is
// not counted either). A failure is logged, rate-limited as accept errors.
func (s *Server) unserved(remote net.Addr, err error) {
	s.freeSlot()
	if err == nil {
		return
	}
	if s.acceptLog.Allow(time.Now()) {
		level.Warn(s.logger).Log("msg", "cannot serve connection", "remote_addr", remote, "err", err)
	} else {
		level.Debug(s.logger).Log("msg", "cannot serve connection", "remote_addr", remote, "err", err)
	}
}

// refuse counts, logs (rate-limited) and closes a connection refused at
// accept.
func (s *Server) refuse(c net.Conn, r reason, err error) {
	s.m.reject(r)
	if s.rejectLog[r].Allow(time.Now()) {
		level.Warn(s.logger).Log("msg", "connection rejected", "remote_addr", c.RemoteAddr(), "err", err)
	} else {
		level.Debug(s.logger).Log("msg", "connection rejected", "remote_addr", c.RemoteAddr(), "err", err)
	}
	_ = c.Close()
}

// release gives back the slot of a connection served (counted by served),
// as it is closed. The engines call it before they close the socket, so a client
// that sees the server end its connection can connect again at once, at
// MaxConnections, and the gauge has already dropped. The slot is freed
// before the gauge drops, so a client that sees the gauge fall can connect
// again at once too.
func (s *Server) release() {
	s.freeSlot()
	s.m.connections.Dec()
}

// freeSlot gives back the slot admit took.
func (s *Server) freeSlot() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
}

// allowed reports whether a client at addr may be served.
func (s *Server) allowed(addr net.Addr) bool {
	if len(s.opts.AllowedNetworks) == 0 {
		return true
	}
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	// The rule of --probe.allowed-target too: the address without its
	// zone, an IPv4-mapped address as its IPv4 address.
	return netmatch.Contains(s.opts.AllowedNetworks, ta.AddrPort().Addr())
}
