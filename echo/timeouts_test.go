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
	"testing"
	"time"
)

func TestTimeoutsCheck(t *testing.T) {
	const (
		idle = 10 * time.Second
		wt   = 3 * time.Second
		t0   = 7 * time.Second // when the connection's last event happened
	)
	p := timeouts{idle: idle, write: wt}
	graced := connTimes{lastFrame: t0, graced: true, graceUntil: t0 + idle + idleGrace}
	tests := []struct {
		name       string
		times      connTimes
		now        time.Duration
		wantReason reason
		wantNext   time.Duration // when the connection is kept
		wantGrace  time.Duration // graceUntil afterwards; 0: not graced
	}{
		{"just opened", openedAt(t0), t0, reasonNone, t0 + idle, 0},
		{"before the idle deadline", openedAt(t0), t0 + idle - 1, reasonNone, t0 + idle, 0},
		{"idle deadline passed: the grace read begins", openedAt(t0), t0 + idle, reasonNone, t0 + idle + idleGrace, t0 + idle + idleGrace},
		{"found idle late: the grace counts from now", openedAt(t0), t0 + time.Hour, reasonNone, t0 + time.Hour + idleGrace, t0 + time.Hour + idleGrace},
		{"in the grace", graced, t0 + idle + idleGrace - 1, reasonNone, t0 + idle + idleGrace, t0 + idle + idleGrace},
		{"grace over", graced, t0 + idle + idleGrace, reasonIdle, 0, t0 + idle + idleGrace},
		{"write under way", connTimes{writing: true, writeStart: t0}, t0 + wt - 1, reasonNone, t0 + wt, 0},
		{"write timeout", connTimes{writing: true, writeStart: t0}, t0 + wt, reasonWriteTimeout, 0, 0},
		{"a write under way past the idle deadline is not idleness", connTimes{lastFrame: t0, writing: true, writeStart: t0 + idle - 1}, t0 + idle + 1, reasonNone, t0 + idle - 1 + wt, 0},
		{"a graced connection that writes", connTimes{lastFrame: t0, graced: true, graceUntil: t0 + idle + idleGrace, writing: true, writeStart: t0 + idle + 1}, t0 + idle + idleGrace, reasonNone, t0 + idle + 1 + wt, t0 + idle + idleGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, r, next := p.check(tt.times, tt.now)
			if r != tt.wantReason {
				t.Errorf("reason = %s, want %s", r, tt.wantReason)
			}
			if r == reasonNone && next != tt.wantNext {
				t.Errorf("next check at %v, want %v", next, tt.wantNext)
			}
			grace := time.Duration(0)
			if got.graced {
				grace = got.graceUntil
			}
			if grace != tt.wantGrace {
				t.Errorf("grace until %v, want %v", grace, tt.wantGrace)
			}
			if got.lastFrame != tt.times.lastFrame || got.writing != tt.times.writing || got.writeStart != tt.times.writeStart {
				t.Errorf("check changed the connection's events: %+v, was %+v", got, tt.times)
			}
		})
	}
}

// timeoutStep is one event of a connection's life, or a check of the policy
// (do == "check") and what it must find.
type timeoutStep struct {
	at         time.Duration
	do         string // "write", "echoed" or "check"
	wantReason reason
	wantNext   time.Duration
}

// TestTimeoutsSequence drives the policy as an engine does, through the
// events of a connection's life and the checks between them.
func TestTimeoutsSequence(t *testing.T) {
	const (
		idle = time.Second
		wt   = 5 * time.Second
		s    = time.Second
	)
	p := timeouts{idle: idle, write: wt}
	tests := []struct {
		name  string
		steps []timeoutStep
	}{
		{"silent client: idle after the grace", []timeoutStep{
			{idle, "check", reasonNone, idle + idleGrace},
			{idle + idleGrace, "check", reasonIdle, 0},
		}},
		{"active client stays open", []timeoutStep{
			{s / 2, "echoed", 0, 0},
			{idle, "check", reasonNone, s/2 + idle},
			{idle + s/4, "echoed", 0, 0},
			{s/2 + idle, "check", reasonNone, idle + s/4 + idle},
		}},
		{"a frame in the grace keeps it open", []timeoutStep{
			{idle, "check", reasonNone, idle + idleGrace},
			{idle + idleGrace/2, "echoed", 0, 0},
			{idle + idleGrace, "check", reasonNone, idle + idleGrace/2 + idle},
			{idle + idleGrace/2 + idle, "check", reasonNone, idle + idleGrace/2 + idle + idleGrace},
			{idle + idleGrace/2 + idle + idleGrace, "check", reasonIdle, 0},
		}},
		{"time blocked writing is not idleness", []timeoutStep{
			{s / 10, "write", 0, 0},
			{idle, "check", reasonNone, s/10 + wt},
			{4 * s, "echoed", 0, 0},
			{4*s + idle - 1, "check", reasonNone, 4*s + idle},
			{4*s + idle, "check", reasonNone, 4*s + idle + idleGrace},
		}},
		{"a client that does not read", []timeoutStep{
			{s, "write", 0, 0},
			{s + wt - 1, "check", reasonNone, s + wt},
			{s + wt, "check", reasonWriteTimeout, 0},
		}},
		{"each write has its own timeout", []timeoutStep{
			{s, "write", 0, 0},
			{s + wt - 1, "echoed", 0, 0},
			{s + wt, "write", 0, 0},
			{s + 2*wt - 1, "check", reasonNone, s + 2*wt},
			{s + 2*wt, "check", reasonWriteTimeout, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openedAt(0)
			for i, st := range tt.steps {
				switch st.do {
				case "write":
					c.writeBegan(st.at)
				case "echoed":
					c.echoed(st.at)
				case "check":
					var r reason
					var next time.Duration
					c, r, next = p.check(c, st.at)
					if r != st.wantReason || (r == reasonNone && next != st.wantNext) {
						t.Fatalf("step %d, check at %v = %s, next %v; want %s, next %v",
							i, st.at, r, next, st.wantReason, st.wantNext)
					}
				default:
					t.Fatalf("step %d: unknown event %q", i, st.do)
				}
			}
		})
	}
}
