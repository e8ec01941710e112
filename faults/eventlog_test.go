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

//go:build linux

package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// eventLog accumulates a prober's connection events from its debug page,
// which only shows the most recent few.
type eventLog struct {
	e               *exporter
	module, address string
	seen            map[event]bool
	all             []event
}

func newEventLog(e *exporter, module, address string) *eventLog {
	return &eventLog{e: e, module: module, address: address, seen: map[event]bool{}}
}

func (l *eventLog) poll(t *testing.T) {
	t.Helper()
	evs, err := l.e.events(l.module, l.address)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if !l.seen[ev] {
			l.seen[ev] = true
			l.all = append(l.all, ev)
		}
	}
}

// find returns the time of the first event at or after from whose text
// starts with prefix.
func (l *eventLog) find(prefix string, from time.Time) time.Time {
	for _, ev := range l.all {
		if !ev.at.Before(from.Truncate(time.Millisecond)) && strings.HasPrefix(ev.text, prefix) {
			return ev.at
		}
	}
	return time.Time{}
}

func (l *eventLog) String() string {
	var b strings.Builder
	for _, ev := range l.all {
		fmt.Fprintf(&b, "  %s  %s\n", ev.at.Format("15:04:05.000"), ev.text)
	}
	return b.String()
}

// checkBackoff checks the reconnect attempts after the connection was
// declared dead at lost: attempt k+1 starts no sooner than backoff b_k
// after attempt k failed (b_0 = reconnect_backoff, doubling up to
// max_reconnect_backoff, up to 25 % jitter added), and each attempt
// through the blackhole fails after dial_timeout. So consecutive failures
// are at least b_k + dial_timeout apart, and not much more than
// 1.25 b_k + dial_timeout.
func checkBackoff(t *testing.T, evs *eventLog, lost time.Time) int {
	t.Helper()
	var fails []time.Time
	for _, ev := range evs.all {
		if ev.at.After(lost) && strings.HasPrefix(ev.text, "connect failed") {
			fails = append(fails, ev.at)
		}
	}
	if len(fails) < 3 {
		t.Errorf("%d failed attempts in the blackhole, want at least 3; events:\n%s", len(fails), evs)
		return len(fails)
	}
	const slack = 15 * time.Millisecond // event times are truncated to ms
	prev, b := lost, reconnectBackoff
	var got []string
	for i, f := range fails {
		gap := f.Sub(prev)
		// The upper bound only catches a schedule gone wrong; it is
		// generous for a loaded machine.
		lo, hi := b+dialTimeout-slack, b+b/4+dialTimeout+time.Second
		got = append(got, fmt.Sprintf("%v (backoff %v)", gap.Round(time.Millisecond), b))
		if gap < lo {
			t.Errorf("attempt %d failed %v after the previous event: faster than backoff %v + dial_timeout %v",
				i+1, gap, b, dialTimeout)
		}
		if gap > hi {
			t.Errorf("attempt %d failed %v after the previous event, want at most %v", i+1, gap, hi)
		}
		prev, b = f, min(2*b, maxReconnectBackoff)
	}
	t.Logf("blackhole: reconnect attempts failed at these gaps (each includes the %v dial timeout): %s",
		dialTimeout, strings.Join(got, ", "))
	return len(fails)
}
