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
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
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
	pc.cmd = app.Command("ping", "Probe one echo server from the command line, the way ping does: a line per reply, a summary on exit or Ctrl-C. Exit code 0 if any reply came back, 1 if none, 2 on a usage error.")
	pc.cmd.Flag("count", "Stop after COUNT probes (default: until interrupted).").Short('c').PlaceHolder("COUNT").Uint64Var(&pc.opts.Count)
	pc.cmd.Flag("interval", "Time between probes: seconds (0.2) or a duration (200ms).").Short('i').Default("1s").SetValue((*seconds)(&pc.opts.Interval))
	pc.cmd.Flag("timeout", "Fixed time to wait for each reply, as -i (default: the exporter's adaptive timeout, 100ms to 3s).").Short('W').PlaceHolder("TIMEOUT").SetValue((*seconds)(&pc.opts.Timeout))
	pc.cmd.Flag("json", "Print one JSON object per line.").BoolVar(&pc.opts.JSON)
	pc.cmd.Arg("host:port", "The echo server.").Required().StringVar(&pc.opts.Target)
	return pc
}

// run pings until the count is reached or SIGINT or SIGTERM, and returns
// the exit code.
func (pc *pingCommand) run(stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pc.opts.Stdout, pc.opts.Stderr = stdout, stderr
	return ping.Run(ctx, pc.opts)
}

// seconds is a duration flag that also takes plain seconds, as ping's -i
// and -W do.
type seconds time.Duration

// Set parses s: seconds (0.2) or a Go duration (200ms).
func (d *seconds) Set(s string) error {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f >= 0 && f <= 1e6) {
			return fmt.Errorf("%q: want seconds from 0 to 1000000", s)
		}
		*d = seconds(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want seconds (0.2) or a duration (200ms)", s)
	}
	*d = seconds(v)
	return nil
}

// String returns the duration.
func (d *seconds) String() string { return time.Duration(*d).String() }
