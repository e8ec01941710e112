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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/tcpping/tcpping_exporter/internal/ping"
)

// pingCommand is the ping command's command line.
type pingCommand struct {
	cmd  *kingpin.CmdClause
	opts ping.Options
}

// addPingCommand adds `ping [flags] HOST:PORT` to app.
func addPingCommand(app *kingpin.Application) *pingCommand {
	pc := &pingCommand{opts: ping.Options{Interval: time.Second}}
	pc.cmd = app.Command("ping", "Probe one echo server from the command line, the way ping does: a line per reply, a summary on exit or Ctrl-C, the counts so far on Ctrl-\\ (SIGQUIT). Exit code 0 if any reply came back, 1 if none, 2 on a usage error.")
	pc.cmd.Flag("count", "Stop after COUNT probes, 1 or more (default: until interrupted).").Short('c').PlaceHolder("COUNT").SetValue((*probeCount)(&pc.opts.Count))
	pc.cmd.Flag("interval", "Time between probes, 1ms to 1000000s: seconds (0.2) or a duration (200ms).").Short('i').Default("1s").SetValue(&seconds{d: &pc.opts.Interval})
	pc.cmd.Flag("timeout", "Fixed time to wait for each reply, as -i (default: the exporter's adaptive timeout, 100ms to 3s).").Short('W').PlaceHolder("TIMEOUT").SetValue(&seconds{d: &pc.opts.Timeout})
	pc.cmd.Flag("ipv4", "Use IPv4 only: a DNS name's IPv4 address (default: its IPv6 address if it has one, else IPv4).").Short('4').BoolVar(&pc.opts.IPv4)
	pc.cmd.Flag("ipv6", "Use IPv6 only: a DNS name's IPv6 address.").Short('6').BoolVar(&pc.opts.IPv6)
	pc.cmd.Flag("json", "Print one JSON object per line.").BoolVar(&pc.opts.JSON)
	pc.cmd.Arg("host:port", "The echo server.").Required().StringVar(&pc.opts.Target)
	return pc
}

// run pings until the count is reached or SIGINT or SIGTERM, and returns
// the exit code. SIGQUIT (Ctrl-\) prints the counts so far, as ping(8)'s
// does, rather than Go's dump of goroutines and exit code 2.
func (pc *pingCommand) run(stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	status := make(chan os.Signal, 1)
	signal.Notify(status, syscall.SIGQUIT)
	defer signal.Stop(status)
	pc.opts.Stdout, pc.opts.Stderr, pc.opts.Status = stdout, stderr, status
	return ping.Run(ctx, pc.opts)
}

// maxCount is the most probes -c takes: ping(8)'s, LONG_MAX.
const maxCount = math.MaxInt64

// probeCount is -c. ping(8) reads it in decimal and refuses 0, which here
// would mean no count at all, a ping that runs until interrupted; kingpin's
// own Uint64 takes 0 and reads 010 as octal 8 and 0x10 as 16.
type probeCount uint64

// Set parses s: a decimal number from 1 to maxCount.
func (c *probeCount) Set(s string) error {
	// A negative number is a number, out of range.
	negative := strings.HasPrefix(s, "-")
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "-"), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%q: want a whole number of probes", s)
	}
	if err != nil || negative || n < 1 || n > maxCount {
		return fmt.Errorf("%q: out of range: 1 <= value <= %d", s, uint64(maxCount))
	}
	*c = probeCount(n)
	return nil
}

// String returns the count.
func (c *probeCount) String() string { return strconv.FormatUint(uint64(*c), 10) }

// The range of -i and -W, in either form. ping(8) reads both in whole
// milliseconds. Below one, -W used to mean, unsaid, the adaptive timeout
// that leaving -W out gives, and -i could not be kept; the top keeps a ping
// from waiting 11 days for its second probe or a reply.
const (
	minSeconds = 0.001
	maxSeconds = 1e6
)

// seconds is a duration flag that also takes plain seconds, as ping's -i
// and -W do, from minSeconds to maxSeconds either way.
type seconds struct{ d *time.Duration }

// Set parses s: seconds (0.2) or a Go duration (200ms).
func (v *seconds) Set(s string) error {
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if !(f >= minSeconds && f <= maxSeconds) { // NaN too
			return outOfRange(s)
		}
		d = time.Duration(math.Round(f * float64(time.Second)))
	} else if d, err = time.ParseDuration(s); err != nil {
		return fmt.Errorf("%q: want seconds (0.2) or a duration (200ms)", s)
	}
	if d < time.Duration(minSeconds*float64(time.Second)) || d > time.Duration(maxSeconds*float64(time.Second)) {
		return outOfRange(s)
	}
	*v.d = d
	return nil
}

// outOfRange is the error of a -i or -W value s out of its range.
func outOfRange(s string) error {
	return fmt.Errorf("%q: out of range: %s <= seconds <= %s", s,
		strconv.FormatFloat(minSeconds, 'f', -1, 64), strconv.FormatFloat(maxSeconds, 'f', -1, 64))
}

// String returns the duration.
func (v *seconds) String() string {
	if v.d == nil {
		return "0s"
	}
	return v.d.String()
}
