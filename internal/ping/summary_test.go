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
	"context"
	"encoding/json"
	"io"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// summaryOf returns the RTT line of the summary of replies after rtts.
func summaryOf(rtts []time.Duration) string {
	var stdout testenv.Buffer
	s := newSession(&Options{Target: "127.0.0.1:4000", Stdout: &stdout, Stderr: io.Discard})
	for i, d := range rtts {
		s.result(prober.Result{Kind: prober.ResultReply, Seq: uint64(i + 1), RTT: d})
	}
	n := uint64(len(rtts))
	s.finish(prober.Snapshot{Sent: n, Received: n})
	out := strings.TrimSuffix(stdout.String(), "\n")
	return out[strings.LastIndex(out, "\n")+1:]
}

// TestRTTSummaryAsPing checks the summary's RTT line against values
// worked out by hand the way iputils' ping(8) works them out (release
// 20221126, Debian 12's; ping/ping_common.c, gather_statistics and
// finish): each RTT in whole microseconds, truncated; the sum and the sum
// of squares kept in doubles; avg = sum/n and the variance
// (sum² − sum·sum/n)/n (sum²/n − avg·avg from a sum of INT_MAX µs),
// each truncated to whole microseconds; mdev its integer square root by
// ping's own Newton iteration, which answers k for k² − 1; every value
// written as ms with three decimals, truncated.
func TestRTTSummaryAsPing(t *testing.T) {
	us := func(v ...int64) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Microsecond
		}
		return d
	}
	for _, tt := range []struct {
		name string
		rtts []time.Duration
		want string
	}{
		{"one reply", us(312), "0.312/0.312/0.312/0.000"},
		// sum 10000, squares 3e7: var (3e7 − 2.5e7)/4 = 1250000,
		// sqrt 1118.03.
		{"whole milliseconds", us(1000, 2000, 3000, 4000), "1.000/2.500/4.000/1.118"},
		// 45.6 µs and 45.9 µs are 45 µs each: nothing is rounded up.
		{"nanoseconds truncated", []time.Duration{45600, 45900}, "0.045/0.045/0.045/0.000"},
		// avg 201/2 = 100.5 → 100; var (20201 − 40401/2)/2 = 0.25 → 0.
		{"avg and mdev truncated", us(100, 101), "0.100/0.100/0.101/0.000"},
		// var (745 − 2209/3)/3 = 2.89 → 2, mdev 1 (whole-µs
		// arithmetic, (745 − 736)/3 = 3, would give 2).
		{"variance from doubles", us(14, 15, 18), "0.014/0.015/0.018/0.001"},
		// avg 3004/3 = 1001.3 → 1001; var (3008016 − 9024016/3)/3 =
		// 3.56 → 3, whose llsqrt is 2, not 1.
		{"ping's integer square root", us(1000, 1000, 1004), "1.000/1.001/1.004/0.002"},
		// sum 101551: avg 25387.75 → 25387; squares 9993623725: var
		// (9993623725 − 10312605601/4)/4 = 1853868081.19 → 1853868081,
		// sqrt 43056.55 → 43056.
		{"mixed", us(312, 1234, 45, 99960), "0.045/25.387/99.960/43.056"},
		// sum 2^31 + 2^10 ≥ INT_MAX: var (2^61 + 2^41 + 2^20)/2 −
		// (2^30 + 2^9)² = 2^18, mdev 2^9.
		{"sum past INT_MAX", us(1<<30, 1<<30+1<<10), "1073741.824/1073742.336/1073742.848/0.512"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := summaryOf(tt.rtts), "rtt min/avg/max/mdev = "+tt.want+" ms"; got != want {
				t.Errorf("%v:\n got %q\nwant %q", tt.rtts, got, want)
			}
		})
	}
}

// TestRTTSummaryOfRealReplies runs a ping against our echo server on
// loopback and checks that its summary is ping(8)'s summary of the reply
// times it printed: below 1 ms a line shows the whole microseconds, which
// are all the summary may use. A run with a reply of 1 ms or more, whose
// line is rounded, is run again.
func TestRTTSummaryOfRealReplies(t *testing.T) {
	addr := ourEcho(t)
	times := regexp.MustCompile(`(?m)^24 bytes from \S+: seq=\d+ time=(\d+\.\d+) ms$`)
	for range 5 {
		code, stdout, stderr := run(t, context.Background(), Options{Target: addr, Count: 5, Interval: 20 * time.Millisecond})
		if code != ExitReplied {
			t.Fatalf("exit code %d:\n%s%s", code, stdout, stderr)
		}
		var rtts []time.Duration
		for _, m := range times.FindAllStringSubmatch(stdout, -1) {
			whole, frac, _ := strings.Cut(m[1], ".")
			if whole != "0" || len(frac) != 3 {
				rtts = nil
				break
			}
			rtts = append(rtts, time.Duration(num(t, frac))*time.Microsecond)
		}
		if rtts == nil {
			t.Logf("a reply of 1 ms or more, run again:\n%s", stdout)
			continue
		}
		got := strings.TrimSuffix(stdout, "\n")
		got = got[strings.LastIndex(got, "\n")+1:]
		if want := summaryOf(rtts); got != want {
			t.Errorf("summary %q, want %q, ping(8)'s of the replies printed:\n%s", got, want, stdout)
		}
		return
	}
	t.Fatal("no run with every reply under 1 ms")
}

// TestLateRepliesAreReceived pings an echo server that answers every
// probe after its timeout: the probes are timed out, then answered. A
// late reply came back, as ping(8) counts one, and as the exporter's loss
// (timeouts less late replies) has it: the summary counts it received,
// the loss is the probes never answered, and the exit code says that a
// reply came back. A late reply has no RTT (the prober does not time a
// reply after its timeout), so there is no RTT line.
func TestLateRepliesAreReceived(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		frames := 0 // the first is the HELLO, answered at once
		addr := testenv.HeldEchoServer(t, testenv.HeldEcho{Hold: func() time.Duration {
			if frames++; frames == 1 {
				return 0
			}
			return 150 * time.Millisecond
		}})
		code, stdout, stderr := run(t, context.Background(), Options{
			Target: addr, Count: 3, Interval: 300 * time.Millisecond, Timeout: 50 * time.Millisecond, JSON: asJSON,
		})
		late := strings.Count(stdout, "late reply from ")
		if asJSON {
			late = strings.Count(stdout, `"type":"late"`)
		}
		var sent, recv uint64
		var loss float64
		if asJSON {
			i := strings.Index(stdout, `{"type":"summary"`)
			if i < 0 {
				t.Fatalf("no summary:\n%s", stdout)
			}
			var s struct {
				Transmitted, Received uint64
				LossRatio             float64 `json:"loss_ratio"`
			}
			if err := json.Unmarshal([]byte(strings.TrimSpace(stdout[i:])), &s); err != nil {
				t.Fatal(err)
			}
			sent, recv, loss = s.Transmitted, s.Received, s.LossRatio
		} else {
			m := regexp.MustCompile(`(\d+) probes transmitted, (\d+) received, (\S+)% loss`).FindStringSubmatch(stdout)
			if m == nil {
				t.Fatalf("no summary:\n%s", stdout)
			}
			sent, recv, loss = uint64(num(t, m[1])), uint64(num(t, m[2])), num(t, m[3])/100
			if rttLine.MatchString(stdout) || strings.Contains(stdout, "rtt min/avg") {
				t.Errorf("an RTT line for replies that have no RTT:\n%s", stdout)
			}
		}
		// The third probe's reply may come after the ping has ended, and on a
		// loaded machine the second's too.
		if late < 1 || sent != 3 || recv != uint64(late) || math.Abs(loss-float64(sent-recv)/float64(sent)) > 1e-6 || code != ExitReplied {
			t.Errorf("json %v: %d late replies; summary %d sent, %d received, loss %v; exit code %d; want the late replies received, loss the rest, exit code %d:\n%s%s",
				asJSON, late, sent, recv, loss, code, ExitReplied, stdout, stderr)
		}
	}
}

// TestNothingTransmitted ends pings before their first probe, at a peer
// that is not an echo server: nothing was transmitted, so nothing was
// lost either, and the summary says no loss at all, as ping(8)'s finish
// prints none when it transmitted nothing. It used to say "0% loss"
// (loss_ratio 0 with --json), which reads as a healthy path.
func TestNothingTransmitted(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		addr := testenv.Serve(t, notEcho)
		code, stdout, stderr := run(t, context.Background(), Options{Target: addr, Count: 5, Interval: 20 * time.Millisecond, JSON: asJSON})
		ok := strings.HasSuffix(stdout, "\n0 probes transmitted, 0 received\n")
		if asJSON {
			var s map[string]any
			i := strings.Index(stdout, `{"type":"summary"`)
			ok = i >= 0 && json.Unmarshal([]byte(stdout[i:]), &s) == nil && s["transmitted"] == 0.0
			if _, has := s["loss_ratio"]; has {
				ok = false
			}
		}
		if code != ExitNoReply || !ok {
			t.Errorf("json %v: exit code %d, want %d and a summary of nothing transmitted with no loss:\n%s%s", asJSON, code, ExitNoReply, stdout, stderr)
		}
	}
}
