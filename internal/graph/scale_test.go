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

package graph

import (
	"strings"
	"testing"
	"time"
)

func TestRTTAxis(t *testing.T) {
	for _, tt := range []struct {
		name   string
		max    float64 // seconds
		unit   string
		labels string
	}{
		{"WAN", 0.0123, "ms", "0 2.5 5 7.5 10 12.5 15"},
		{"round value", 0.01, "ms", "0 2 4 6 8 10 12"},
		{"LAN", 0.00042, "µs", "0 100 200 300 400 500"},
		{"loopback", 0.000031, "µs", "0 10 20 30 40"},
		{"slow", 2.2, "s", "0 0.5 1 1.5 2 2.5"},
		{"just under a second", 0.93, "s", "0 0.2 0.4 0.6 0.8 1"},
		{"no RTT", 0, "ms", "0 0.2 0.4 0.6 0.8 1 1.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newRTTAxis(tt.max)
			var labels []string
			for i := 0; i <= a.ticks; i++ {
				labels = append(labels, a.label(i))
			}
			if got := strings.Join(labels, " "); a.unitName != tt.unit || got != tt.labels {
				t.Errorf("ticks %q in %s, want %q in %s", got, a.unitName, tt.labels, tt.unit)
			}
			if a.top < tt.max || a.ticks < 4 || a.ticks > 6 {
				t.Errorf("axis to %v in %d ticks for %v", a.top, a.ticks, tt.max)
			}
		})
	}
}

func TestTimeTicks(t *testing.T) {
	for _, tt := range []struct {
		name     string
		from     time.Time
		span     time.Duration
		want     string
		wantStep time.Duration
	}{
		{"an hour on the hour", t0, time.Hour, "10:00 10:10 10:20 10:30 10:40 10:50 11:00", 10 * time.Minute},
		{"an hour from 10:07:30", t0.Add(7*time.Minute + 30*time.Second), time.Hour, "10:10 10:20 10:30 10:40 10:50 11:00", 10 * time.Minute},
		{"three hours from 09:07", t0.Add(-53 * time.Minute), 3 * time.Hour, "09:30 10:00 10:30 11:00 11:30 12:00", 30 * time.Minute},
		{"a day", t0, 24 * time.Hour, "12:00 15:00 18:00 21:00 00:00 03:00 06:00 09:00", 3 * time.Hour},
		{"five minutes", t0, 5 * time.Minute, "10:00 10:01 10:02 10:03 10:04 10:05", time.Minute},
		{"a non-UTC zone still labels UTC", t0.In(time.FixedZone("X", 5*3600+1800)), time.Hour, "10:00 10:10 10:20 10:30 10:40 10:50 11:00", 10 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			timeTicks(tt.from, tt.from.Add(tt.span), func(tm time.Time) { got = append(got, tm.UTC().Format("15:04")) })
			if strings.Join(got, " ") != tt.want || timeStep(tt.span) != tt.wantStep {
				t.Errorf("ticks %v every %v, want %s every %v", got, timeStep(tt.span), tt.want, tt.wantStep)
			}
		})
	}
}

func TestAppendRTT(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{23 * time.Microsecond, "23.0 µs"},
		{187 * time.Microsecond, "187 µs"},
		{ms(1.234), "1.23 ms"},
		{ms(83.31), "83.3 ms"},
		{ms(999.4), "999 ms"},
		{3 * time.Second, "3.00 s"},
		// Rounded into the next unit, or the next digit: still three.
		{999700 * time.Nanosecond, "1.00 ms"},
		{ms(999.6), "1.00 s"},
		{ms(9.996), "10.0 ms"},
		{ms(99.96), "100 ms"},
	} {
		if got := string(appendRTT(nil, tt.d)); got != tt.want {
			t.Errorf("appendRTT(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
