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

package web

import (
	"fmt"
	"io"
	"time"

	"github.com/tcpping/tcpping_exporter/prober"
)

// writeDebug writes the state and recent events of the target of p as
// text, for /probe?debug=true: each of its flows in turn.
func writeDebug(w io.Writer, p *prober.Prober) {
	for i, f := range p.Flows() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeFlowDebug(w, f)
	}
}

// writeFlowDebug writes one prober's state and recent events.
func writeFlowDebug(w io.Writer, p *prober.Prober) {
	o := p.Options()
	s := p.Snapshot()
	kind := sourceOf(&o)
	if o.Module.Flows > 1 {
		fmt.Fprintf(w, "Prober %s (%s), flow %d of %d\n", o.Name, kind, o.Flow, o.Module.Flows)
	} else {
		fmt.Fprintf(w, "Prober %s (%s)\n", o.Name, kind)
	}
	fmt.Fprintf(w, "address:           %s\n", o.Address)
	fmt.Fprintf(w, "module:            %s\n", o.ModuleName)
	fmt.Fprintf(w, "state:             %s\n", s.State)
	fmt.Fprintf(w, "started:           %s\n", s.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "timeout in force:  %s (adaptive %v, min %s, max %s)\n", s.Timeout, o.Module.Adaptive, o.Module.MinTimeout, o.Module.MaxTimeout)
	fmt.Fprintf(w, "smoothed RTT:      %s\n", s.SRTT)
	fmt.Fprintf(w, "last RTT:          %s\n", s.LastRTT)
	fmt.Fprintf(w, "connect duration:  %s\n", s.ConnectDuration)
	fmt.Fprintf(w, "local address:     %s\n", s.LocalAddr)
	ts := "user-space time"
	if s.KernelTimestamps {
		ts = "kernel receive timestamps"
	}
	fmt.Fprintf(w, "reply timing:      %s\n", ts)
	ts = "the clock before the write"
	if s.KernelTxTimestamps {
		ts = "kernel transmit timestamps"
	}
	fmt.Fprintf(w, "send timing:       %s\n", ts)
	proto := "24-byte frames"
	if s.Extended {
		proto = fmt.Sprintf("extended, %d-byte frames", s.FrameLength)
	}
	fmt.Fprintf(w, "echo protocol:     %s\n", proto)
	fmt.Fprintf(w, "interval:          %s\n", o.Module.Interval)
	fmt.Fprintf(w, "sent %d, received %d, timeouts %d, in flight %d, late %d, dropped %d, unexpected %d\n",
		s.Sent, s.Received, s.Timeouts, s.InFlight, s.Late, s.Dropped, s.Unexpected)
	fmt.Fprintf(w, "timeouts in the last minute: %d\n", s.RecentTimeouts)
	lastErr := s.LastError
	if lastErr == "" {
		lastErr = "none"
	}
	fmt.Fprintf(w, "last error:        %s\n", lastErr)
	fmt.Fprintln(w, "\nRecent connection events:")
	events := p.Events()
	if len(events) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, e := range events {
		fmt.Fprintf(w, "  %s  %s\n", e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), e.Text)
	}
}
