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

package config

import (
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want time.Duration
		err  string // substring of the error; "" for none
	}{
		{"seconds", "1s", time.Second, ""},
		{"milliseconds", "250ms", 250 * time.Millisecond, ""},
		{"compound", "1h30m", 90 * time.Minute, ""},
		{"quoted", `"2s"`, 2 * time.Second, ""},
		{"negative parses, Validate rejects it", "-1s", -time.Second, ""},
		{"bare number", "5", 0, "want a duration"},
		{"quoted bare number", `"5"`, 0, `bad duration "5"`},
		{"float", "1.5", 0, "want a duration"},
		{"bad unit", "5x", 0, `bad duration "5x"`},
		{"empty string", `""`, 0, "bad duration"},
		{"list", "[1s]", 0, "want a duration"},
		{"mapping", "{s: 1}", 0, "want a duration"},
		{"bool", "true", 0, "want a duration"},
		{"overflow", "3000000h", 0, "bad duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Duration
			err := yaml.Unmarshal([]byte(tt.yaml), &d)
			if tt.err != "" {
				wantErr(t, err, tt.err, "line 1")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.D() != tt.want {
				t.Errorf("got %v, want %v", d, tt.want)
			}
		})
	}
}

func TestDurationMarshal(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Second, "1s\n"},
		{100 * time.Millisecond, "100ms\n"},
		{90 * time.Second, "1m30s\n"},
		{0, "0s\n"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			out, err := yaml.Marshal(Duration(tt.d))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("Marshal = %q, want %q", out, tt.want)
			}
			var back Duration
			if err := yaml.Unmarshal(out, &back); err != nil || back.D() != tt.d {
				t.Errorf("round trip gave %v, %v", back, err)
			}
		})
	}
}
