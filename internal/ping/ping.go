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

// Package ping is the `tcpping_exporter ping` command: it probes one echo
// server from the command line the way ping(8) does, with the exporter's
// own prober (the same frames, timestamps, timeouts and reconnections),
// and prints a line per outcome and, on exit or interrupt, the summary
// iputils' ping prints.
package ping

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/prober"
)

// Exit codes, as ping(8)'s.
const (
	ExitReplied = 0 // some probe was answered
	ExitNoReply = 1 // none was
	ExitUsage   = 2 // the command line is wrong
)

// Options are a ping's command line.
type Options struct {
	// Target is the echo server, host:port.
	Target string
	// Count stops after that many probes have their outcome; 0 runs
	// until the context ends.
	Count uint64
	// Interval is the time between probes.
	Interval time.Duration
	// Timeout is a fixed timeout per probe; 0 keeps the exporter's
	// adaptive one (RFC 6298, from the default module).
	Timeout time.Duration
	// IPv4 and IPv6 (-4, -6) allow only that address family, as
	// ip_protocol with ip_protocol_fallback off; neither keeps the
	// default module's (IPv6 preferred, IPv4 if the name has no IPv6
	// address).
	IPv4, IPv6 bool
	// JSON prints one JSON object per line instead of text.
	JSON bool
	// Stdout takes the probes' lines and the summary, Stderr the
	// connection's troubles and the status lines (text only: JSON puts
	// everything on Stdout).
	Stdout, Stderr io.Writer
	// Status, if set, asks for the counts so far: each value received
	// prints a status line and the ping goes on, as ping(8) does on
	// SIGQUIT (Ctrl-\).
	Status <-chan os.Signal
}

// Module returns the prober settings of o: the default module's, with
// o's interval, timeout and address family.
func (o *Options) Module() config.Module {
	m := config.DefaultModule()
	m.Interval = config.Duration(o.Interval)
	if o.IPv4 || o.IPv6 {
		m.IPProtocol, m.IPProtocolFallback = "ip6", false
		if o.IPv4 {
			m.IPProtocol = "ip4"
		}
	}
	if o.Timeout > 0 {
		m.Adaptive = false
		m.Timeout = config.Duration(o.Timeout)
		m.MinTimeout = min(m.MinTimeout, m.Timeout)
		m.MaxTimeout = max(m.MaxTimeout, m.Timeout)
	}
	return m
}

// Check returns why o cannot run, or nil.
func (o *Options) Check() error {
	if o.IPv4 && o.IPv6 {
		return errors.New("-4 and -6 exclude each other: give one, or neither for either family")
	}
	if err := config.ValidateAddress(o.Target); err != nil {
		return fmt.Errorf("%q: want HOST:PORT: %w", o.Target, err)
	}
	host, _, _ := net.SplitHostPort(o.Target)
	if ip, err := netip.ParseAddr(host); err == nil && (o.IPv4 || o.IPv6) {
		// As the prober dials it: an IPv4-mapped address is IPv4.
		if ip = ip.Unmap(); o.IPv4 && !ip.Is4() {
			return fmt.Errorf("-4: %s is an IPv6 address", ip)
		} else if o.IPv6 && ip.Is4() {
			return fmt.Errorf("-6: %s is an IPv4 address", ip)
		}
	}
	if o.Interval < time.Millisecond {
		return fmt.Errorf("-i %v: want at least 1ms", o.Interval)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("-W %v: must not be negative", o.Timeout)
	}
	return nil
}

// Run pings o.Target until o.Count probes have their outcome, ctx ends
// (Ctrl-C) or the peer turns out not to be an echo server, then prints the
// summary. It returns the exit code: ExitReplied if any probe was
// answered, in time or late, ExitNoReply if none was, ExitUsage if o is
// wrong.
func Run(ctx context.Context, o Options) int {
	if err := o.Check(); err != nil {
		fmt.Fprintf(o.Stderr, "tcpping_exporter ping: %s\n", err)
		return ExitUsage
	}
	s := newSession(&o)
	p := prober.New(prober.Options{
		Name: o.Target, Address: o.Target, ModuleName: "ping", Module: o.Module(),
		NoSplay: true, FromFirstProbe: true, MaxProbes: o.Count, OnResult: s.result,
	}, nil)
	s.start()
	p.Start(ctx)
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-s.done:
			running = false
		case <-o.Status:
			s.status(p.Snapshot())
		}
	}
	p.Stop()
	return s.finish(p.Snapshot())
}
