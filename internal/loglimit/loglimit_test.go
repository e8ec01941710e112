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

package loglimit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	var l Limiter
	t0 := time.Unix(1_000_000, 0)
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{
		{0, true},
		{time.Millisecond, false},
		{Interval - 1, false},
		{Interval, true},
		{Interval + Interval/2, false},
		{3 * Interval, true},
	} {
		if got := l.Allow(t0.Add(tt.at)); got != tt.want {
			t.Errorf("Allow at +%v = %v, want %v", tt.at, got, tt.want)
		}
	}
}
