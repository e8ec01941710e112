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
	"maps"
	"reflect"
	"slices"
	"testing"
)

func TestParseEmpty(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty file", ""},
		{"only comments", "# nothing here\n\n# nor here\n"},
		{"empty document", "---\n"},
		{"null document", "~\n"},
		{"empty keys", "modules:\ntargets:\n"},
		{"empty collections", "modules: {}\ntargets: []\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v, want Default()", c)
			}
			if len(c.Targets) != 0 || len(c.Modules) != 1 {
				t.Errorf("got %d modules and %d targets, want the default module only", len(c.Modules), len(c.Targets))
			}
		})
	}
}

func TestParseModuleDefaults(t *testing.T) {
	slow := DefaultModule()
	slow.Interval = ms(5000)
	tests := []struct {
		name string
		data string
		want map[string]Module
	}{
		{
			name: "override default interval only",
			data: "modules:\n  default:\n    interval: 5s\n",
			want: map[string]Module{DefaultModuleName: slow},
		},
		{
			name: "empty module is the built-in one",
			data: "modules:\n  plain:\n",
			want: map[string]Module{DefaultModuleName: DefaultModule(), "plain": DefaultModule()},
		},
		{
			name: "empty value keeps the built-in value",
			data: "modules:\n  default:\n    interval: 5s\n    buckets:\n    timeout: ~\n",
			want: map[string]Module{DefaultModuleName: slow},
		},
		{
			name: "other modules ignore the file's default",
			data: "modules:\n  default:\n    interval: 5s\n  other:\n    tos: 0\n",
			want: map[string]Module{DefaultModuleName: slow, "other": DefaultModule()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Modules, tt.want) {
				t.Errorf("modules\n%+v\nwant\n%+v", c.Modules, tt.want)
			}
		})
	}
}

func TestParseMergeKeys(t *testing.T) {
	c, err := Load("testdata/merge.yml")
	if err != nil {
		t.Fatal(err)
	}
	base := DefaultModule()
	base.Interval = ms(2000)
	base.TOS = 8
	base.Buckets = []float64{0.01, 0.1, 1}
	fast := base
	fast.Interval = ms(100)
	fast.Buckets = slices.Clone(base.Buckets)
	many := base
	many.TOS = 1 // the earlier mapping of a merge list wins
	many.Buckets = slices.Clone(base.Buckets)
	shared := DefaultModule()
	shared.Buckets = slices.Clone(base.Buckets)
	want := map[string]Module{
		DefaultModuleName: DefaultModule(),
		"base":            base,
		"fast":            fast,
		"many":            many,
		"same":            base,
		"shared":          shared,
	}
	if !reflect.DeepEqual(c.Modules, want) {
		t.Errorf("modules\n%+v\nwant\n%+v", c.Modules, want)
	}
	wantTargets := []Target{
		{Name: "server1", Address: "10.0.0.1:4000", Module: "fast", Labels: map[string]string{"site": "ams"}},
		{Name: "server2", Address: "10.0.0.1:4000", Module: "fast", Labels: map[string]string{"site": "ams", "rack": "r1"}},
	}
	if !reflect.DeepEqual(c.Targets, wantTargets) {
		t.Errorf("targets\n%+v\nwant\n%+v", c.Targets, wantTargets)
	}
}

func TestParseSelfMerge(t *testing.T) {
	// An anchor may be merged into itself; that must neither hang nor fail.
	c, err := Parse([]byte("modules:\n  a: &a {tos: 3, <<: *a}\n  b: {<<: [*a, *a]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Modules["a"].TOS != 3 || c.Modules["b"].TOS != 3 {
		t.Errorf("tos = %d, %d; want 3, 3", c.Modules["a"].TOS, c.Modules["b"].TOS)
	}
}

func TestParseBucketsNotShared(t *testing.T) {
	data := "modules:\n  a: {}\n  b: {}\n  c: {buckets: &b [1, 2]}\n  d: {buckets: *b}\n"
	c, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, changed, other string }{
		{"built-in buckets", "a", "b"},
		{"built-in and default module", "a", DefaultModuleName},
		{"aliased buckets", "c", "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.Modules[tt.other].Buckets[0]
			c.Modules[tt.changed].Buckets[0] = 42
			if got := c.Modules[tt.other].Buckets[0]; got != before {
				t.Errorf("changing module %s's buckets changed module %s's: %v", tt.changed, tt.other, got)
			}
		})
	}
}

func TestKeySetsFromTags(t *testing.T) {
	tests := []struct {
		name string
		got  keySet
		want []string
	}{
		// Config.UnmarshalYAML handles exactly these keys.
		{"config", configKeys, []string{"discovery", "modules", "targets"}},
		{"module", moduleKeys, []string{
			"adaptive", "buckets", "dial_timeout", "dont_fragment", "echo_protocol", "flows", "interval",
			"ip_protocol", "ip_protocol_fallback", "kernel_timestamps", "max_reconnect_backoff", "max_timeout",
			"min_timeout", "native_histogram_bucket_factor", "payload_size", "reconnect_after",
			"reconnect_backoff", "reconnect_interval", "resolve_interval", "rto_margin", "source_ip_address",
			"timeout", "tos", "tx_timestamps",
		}},
		{"target", targetKeys, []string{"address", "labels", "module", "name"}},
		// Discovery.UnmarshalYAML handles exactly these keys.
		{"discovery", discoveryKeys, []string{
			"dns_sd_configs", "exclude_self", "file_sd_configs", "http_sd_configs", "module", "name",
			"peers", "relabel_configs",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slices.Sorted(maps.Keys(tt.got)); !slices.Equal(got, tt.want) {
				t.Errorf("keys %q, want %q", got, tt.want)
			}
		})
	}
}
