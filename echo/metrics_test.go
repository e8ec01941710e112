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
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tcpping/tcpping_exporter/internal/loglimit"
)

const metricsHeader = `# HELP tcp_echo_server_accepted_total Total number of echo server connections accepted and served.
# TYPE tcp_echo_server_accepted_total counter
tcp_echo_server_accepted_total %d
# HELP tcp_echo_server_connections Number of echo server connections open now.
# TYPE tcp_echo_server_connections gauge
tcp_echo_server_connections %d
# HELP tcp_echo_server_frames_total Total number of frames the echo server reflected.
# TYPE tcp_echo_server_frames_total counter
tcp_echo_server_frames_total %d
# HELP tcp_echo_server_rejected_total Total number of echo server connections refused or closed by the server, by reason.
# TYPE tcp_echo_server_rejected_total counter
tcp_echo_server_rejected_total{reason="bad_magic"} %d
tcp_echo_server_rejected_total{reason="idle"} 0
tcp_echo_server_rejected_total{reason="limit"} 0
tcp_echo_server_rejected_total{reason="not_allowed"} 0
tcp_echo_server_rejected_total{reason="write_timeout"} 0
`

func TestMetrics(t *testing.T) {
	s, reg := startServer(t, Options{}, nil)

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	// Every series exists, at 0, from the start.
	if err := testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(metricsHeader, 0, 0, 0, 0))); err != nil {
		t.Fatal(err)
	}

	c := dial(t, addr(t, s))
	for i := range 5 {
		roundTrip(t, c, uint64(i))
	}
	if got := testutil.ToFloat64(s.m.connections); got != 1 {
		t.Errorf("connections = %v, want 1", got)
	}
	_ = c.Close()
	waitConnections(t, s, 0)

	bad := dial(t, addr(t, s))
	roundTrip(t, bad, 1)
	if _, err := bad.Write([]byte("nope")); err != nil {
		t.Fatal(err)
	}
	readUntilClosed(t, bad)
	waitConnections(t, s, 0)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(metricsHeader, 2, 0, 6, 1))); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterTwice checks that a registration conflict is an error from New.
func TestRegisterTwice(t *testing.T) {
	_, reg := startServer(t, Options{}, nil)
	if _, err := New(Options{ListenAddresses: []string{":0"}}, nil, reg); err == nil {
		t.Fatal("second New on one registry succeeded")
	}
}

// lineCounter is a logger that counts lines by message and level.
type lineCounter struct {
	mu    sync.Mutex
	lines map[string]int // "level msg"
}

func (l *lineCounter) Log(kv ...any) error {
	var lvl, msg string
	for i := 0; i+1 < len(kv); i += 2 {
		switch kv[i] {
		case level.Key():
			lvl = fmt.Sprint(kv[i+1])
		case "msg":
			msg = fmt.Sprint(kv[i+1])
		}
	}
	l.mu.Lock()
	l.lines[lvl+" "+msg]++
	l.mu.Unlock()
	return nil
}

func (l *lineCounter) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[key]
}

func TestRejectLogIsRateLimited(t *testing.T) {
	const clients = 50
	logs := &lineCounter{lines: map[string]int{}}
	nets := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	s, _ := startServer(t, Options{AllowedNetworks: nets}, logs)
	start := time.Now()
	for range clients {
		readUntilClosed(t, dial(t, addr(t, s)))
	}
	waitRejected(t, s, reasonNotAllowed, clients)
	elapsed := time.Since(start)

	warns, debugs := logs.count("warn connection rejected"), logs.count("debug connection rejected")
	if limit := int(elapsed/loglimit.Interval) + 1; warns < 1 || warns > limit {
		t.Errorf("%d Warn lines for %d rejections in %s, want 1 to %d", warns, clients, elapsed, limit)
	}
	if warns+debugs != clients {
		t.Errorf("%d Warn + %d Debug lines, want %d in all", warns, debugs, clients)
	}
}

var _ log.Logger = (*lineCounter)(nil)
