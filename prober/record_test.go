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

package prober

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
)

// TestUserTimeFallbackLoggedOnce checks that a prober whose sockets refuse
// kernel timestamps, of replies or of probes, says so at info level on its
// first connection only: each reconnect would otherwise repeat it, and
// later ones go to debug.
func TestUserTimeFallbackLoggedOnce(t *testing.T) {
	tests := []struct {
		name    string
		refuse  func(a *attempt, err error)
		logLine string
	}{
		{"receive timestamps", func(a *attempt, err error) { a.kernelErr = err }, "kernel receive timestamps unavailable"},
		{"transmit timestamps", func(a *attempt, err error) { a.txErr = err }, "kernel transmit timestamps unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := log.NewLogfmtLogger(log.NewSyncWriter(&buf))
			p := New(Options{Name: "t", Address: "127.0.0.1:1", Module: testModule(time.Second, time.Second, false)}, logger)
			f := flow{p: p}
			refused := errors.New("setsockopt: operation not supported")
			for range 3 {
				a := attempt{handshake: time.Millisecond, local: "127.0.0.1:2", remote: "127.0.0.1:1"}
				tt.refuse(&a, refused)
				f.connected(time.Now(), a)
			}
			f.connected(time.Now(), attempt{handshake: time.Millisecond, local: "127.0.0.1:2", remote: "127.0.0.1:1", kernel: true, tx: true})
			var info, debug int
			for _, line := range strings.Split(buf.String(), "\n") {
				if !strings.Contains(line, tt.logLine) {
					continue
				}
				if !strings.Contains(line, "operation not supported") {
					t.Errorf("fallback line without its reason: %s", line)
				}
				switch {
				case strings.Contains(line, "level=info"):
					info++
				case strings.Contains(line, "level=debug"):
					debug++
				}
			}
			if info != 1 || debug != 2 {
				t.Errorf("fallback logged %d times at info and %d at debug over 3 connections, want 1 and 2:\n%s", info, debug, buf.String())
			}
		})
	}
}
