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
	"runtime"
	"strings"
	"testing"
)

func TestEngineOption(t *testing.T) {
	epollWant := "epoll"
	if runtime.GOOS != "linux" {
		epollWant = "error: engine epoll: not available on " + runtime.GOOS
	}
	tests := []struct {
		name   string
		engine Engine
		want   string // the engine chosen, or "error: " and a part of the error
	}{
		{"default", EngineDefault, defaultEngine.String()},
		{"goroutine", EngineGoroutine, "goroutine"},
		{"epoll", EngineEpoll, epollWant},
		{"unknown", EngineEpoll + 1, "error: engine Engine(3): unknown"},
		{"negative", -1, "error: engine Engine(-1): unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Options{ListenAddresses: []string{"127.0.0.1:0"}, Engine: tt.engine}, nil, nil)
			if wantErr, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), wantErr) {
					t.Fatalf("New error = %v, want one containing %q", err, wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := engineName(s); got != tt.want {
				t.Errorf("engine = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestEngineUnderTest checks that the servers the tests start run the
// engine chosen for the run (-echo.engine), so that a run meant for one
// engine cannot pass by testing the other.
func TestEngineUnderTest(t *testing.T) {
	s, _ := startServer(t, Options{}, nil)
	if got, want := engineName(s), testEngine(t).String(); got != want {
		t.Fatalf("the server runs the %s engine, want %s", got, want)
	}
	roundTrip(t, dial(t, addr(t, s)), 1)
}

// engineName names the engine that serves s from its type, not from the
// options that asked for it: "goroutine" for *goroutineEngine.
func engineName(s *Server) string {
	name := fmt.Sprintf("%T", s.eng)
	name = strings.TrimPrefix(name, "*echo.")
	return strings.TrimSuffix(name, "Engine")
}
