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

package ping

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// replyTimes pings addr with --json and returns when each reply was
// printed, by sequence number.
func replyTimes(t *testing.T, addr string, count uint64, iv time.Duration) map[uint64]time.Time {
	t.Helper()
	code, stdout, stderr := run(t, context.Background(), Options{Target: addr, Count: count, Interval: iv, JSON: true})
	if code != ExitReplied {
		t.Fatalf("exit code %d:\n%s%s", code, stdout, stderr)
	}
	times := map[uint64]time.Time{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var e struct {
			Type string
			Time time.Time
			Seq  uint64
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if e.Type == "reply" {
			times[e.Seq] = e.Time
		}
	}
	for seq := uint64(1); seq <= count; seq++ {
		if times[seq].IsZero() {
			t.Fatalf("no reply to probe %d:\n%s", seq, stdout)
		}
	}
	return times
}

// TestIntervalFromFirstProbe checks that -i is the time from one probe to
// the next from the first on, as ping(8)'s is: the second probe goes one
// interval after the first, not at the next instant of a grid fixed by the
// host and the target, which falls from half an interval to one and a half
// after it. The first ping finds where that grid would be; the second
// starts so that its first probe goes just after the middle of the grid's
// interval, where the grid's next instant is the furthest off.
func TestIntervalFromFirstProbe(t *testing.T) {
	const iv = 400 * time.Millisecond
	addr := ourEcho(t)
	grid := replyTimes(t, addr, 3, iv)[2]
	wait := (iv/2 + 30*time.Millisecond - time.Since(grid)%iv + iv) % iv
	time.Sleep(wait)
	times := replyTimes(t, addr, 2, iv)
	if gap := times[2].Sub(times[1]); gap < iv-100*time.Millisecond || gap > iv+100*time.Millisecond {
		t.Errorf("-i %v: the second reply came %v after the first, want about %v", iv, gap, iv)
	}
}
