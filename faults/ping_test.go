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
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestPingUnreachable runs `tcpping_exporter ping` in the prober's
// namespace against an echo address whose packets are dropped and one
// with no route, and checks that it says why it cannot connect, counts
// the probes due meanwhile as lost and exits 1.
func TestPingUnreachable(t *testing.T) {
	requireSuite(t)
	tp := newTopo(t, "u")
	tp.setRules(t, "tcp dport 4002 drop", "")
	for _, tt := range []struct {
		name, addr, why string
	}{
		{"blackholed", echoV4 + ":4002", "i/o timeout"},
		{"no route", "10.233.99.1:4000", "network is unreachable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "ip", "netns", "exec", tp.prober, binary, "ping", "-c", "2", "-i", "0.2", tt.addr)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit %v, want code 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			if want := "cannot connect to " + tt.addr + ": "; !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), tt.why) {
				t.Errorf("stderr %q, want %q and %q", stderr.String(), want, tt.why)
			}
			for _, want := range []string{"no reply: seq=1 (not connected)\n", "no reply: seq=2 (not connected)\n", "2 probes transmitted, 0 received, 100% loss\n"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}
