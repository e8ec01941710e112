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
	"net"
	"regexp"
	"testing"
	"time"
)

// TestCloseLogs checks, in the run of each engine, that every way a
// connection ends is counted once under its reason and logged in the same
// words: the line a user reads must not depend on the engine.
func TestCloseLogs(t *testing.T) {
	bad := frame(2)
	copy(bad, "TCPPONG\x00")
	tests := []struct {
		name   string
		opts   Options
		client func(t *testing.T, c net.Conn)
		reason reason // counted once; reasonNone: nothing counted
		line   string // the log line, after remote_addr=…
	}{
		{"client closes", Options{}, func(t *testing.T, c net.Conn) {
			roundTrip(t, c, 1)
			_ = c.Close()
		}, reasonNone, ``},
		{"client resets", Options{}, func(t *testing.T, c net.Conn) {
			roundTrip(t, c, 1)
			if err := c.(*net.TCPConn).SetLinger(0); err != nil {
				t.Fatal(err)
			}
			_ = c.Close()
		}, reasonNone, ` err="connection reset by peer"`},
		{"bad magic", Options{}, func(t *testing.T, c net.Conn) {
			roundTrip(t, c, 1)
			if _, err := c.Write(bad); err != nil {
				t.Fatal(err)
			}
			readUntilClosed(t, c)
		}, reasonBadMagic, ` err="bad magic"`},
		{"idle", Options{IdleTimeout: 200 * time.Millisecond}, func(t *testing.T, c net.Conn) {
			readUntilClosed(t, c)
		}, reasonIdle, ` err="idle timeout"`},
		{"write timeout", Options{WriteTimeout: 200 * time.Millisecond}, func(t *testing.T, c net.Conn) {
			chunk := frames(1, 4096)
			for { // until the server closes it; dial's deadline bounds it
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}, reasonWriteTimeout, ` err="write timeout"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			s, _ := startServer(t, tt.opts, logs.logger())
			c := dial(t, addr(t, s))
			tt.client(t, c)
			line := logs.waitLine(t, `msg="connection closed"`)
			level := "debug"
			if tt.reason == reasonBadMagic || tt.reason == reasonWriteTimeout {
				level = "warn"
			}
			want := `^level=` + level + ` component=echo msg="connection closed" remote_addr=127\.0\.0\.1:\d+` +
				regexp.QuoteMeta(tt.line) + `$`
			if !regexp.MustCompile(want).MatchString(line) {
				t.Errorf("log line\n%s\nwant one matching\n%s", line, want)
			}
			waitConnections(t, s, 0)
			for r := reasonNone + 1; r < numReasons; r++ {
				want := 0.0
				if r == tt.reason {
					want = 1
				}
				if got := rejected(s, r); got != want {
					t.Errorf("rejected_total{reason=%q} = %v, want %v", r, got, want)
				}
			}
		})
	}
}
