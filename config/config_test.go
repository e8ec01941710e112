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
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultModuleIndependent(t *testing.T) {
	tests := []struct {
		name string
		a, b func() []float64
	}{
		{"DefaultModule", func() []float64 { return DefaultModule().Buckets }, func() []float64 { return DefaultModule().Buckets }},
		{"DefaultBuckets", DefaultBuckets, DefaultBuckets},
		{"Default", func() []float64 { return Default().Modules[DefaultModuleName].Buckets }, func() []float64 { return DefaultModule().Buckets }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.a(), tt.b()
			a[0] = 42
			if b[0] == 42 {
				t.Error("two calls share bucket storage")
			}
			if c := tt.b(); c[0] == 42 {
				t.Error("a later call sees an earlier change")
			}
		})
	}
}

func TestDefaultValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	b := DefaultBuckets()
	if len(b) != 16 || b[0] != 0.0001 || math.Abs(b[15]-3.2768) > 1e-12 {
		t.Errorf("DefaultBuckets() = %v, want 100µs doubling to 3.2768s", b)
	}
}

func TestModuleFor(t *testing.T) {
	fast := DefaultModule()
	fast.Interval = Duration(100 * time.Millisecond)
	c := &Config{Modules: map[string]Module{DefaultModuleName: DefaultModule(), "fast": fast}}
	tests := []struct {
		module string
		want   Module
		ok     bool
	}{
		{"", DefaultModule(), true},
		{DefaultModuleName, DefaultModule(), true},
		{"fast", fast, true},
		{"nope", Module{}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("module %q", tt.module), func(t *testing.T) {
			got, ok := c.ModuleFor(Target{Name: "a", Address: "a:1", Module: tt.module})
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("ModuleFor = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMaxInFlight(t *testing.T) {
	const maxDuration = Duration(math.MaxInt64)
	tests := []struct {
		name                          string
		interval, timeout, maxTimeout time.Duration
		adaptive                      bool
		want                          int
	}{
		{"fixed timeout equal to interval", time.Second, time.Second, 3 * time.Second, false, 2},
		{"adaptive uses max_timeout", time.Second, time.Second, 3 * time.Second, true, 4},
		{"rounds up", 300 * time.Millisecond, time.Second, 3 * time.Second, false, 5},
		{"timeout shorter than interval", time.Second, 100 * time.Millisecond, time.Second, false, 2},
		{"no overflow near the largest duration", time.Duration(maxDuration - 1), time.Duration(maxDuration), time.Duration(maxDuration), true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := DefaultModule()
			m.Interval, m.Timeout, m.MaxTimeout, m.Adaptive = Duration(tt.interval), Duration(tt.timeout), Duration(tt.maxTimeout), tt.adaptive
			if got := m.MaxInFlight(); got != tt.want {
				t.Errorf("MaxInFlight() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLabelNames(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
		want    []string
	}{
		{"no targets", nil, nil},
		{"no labels", []Target{{Name: "a"}, {Name: "b"}}, nil},
		{"sorted union, each once", []Target{
			{Name: "a", Labels: map[string]string{"site": "ams", "rack": "r1"}},
			{Name: "b"},
			{Name: "c", Labels: map[string]string{"site": "fra", "owner": "x"}},
		}, []string{"owner", "rack", "site"}},
		{"flow with a target of flows > 1", []Target{
			{Name: "a", Labels: map[string]string{"site": "ams"}},
			{Name: "b", Module: "ecmp"},
		}, []string{"flow", "site"}},
		// With flows 1 everywhere nothing changes: a module of flows 4
		// that no target uses adds nothing, and "flow" is a target's own
		// extra label as any other.
		{"no flow label without a target of flows > 1", []Target{
			{Name: "a", Labels: map[string]string{"site": "ams"}},
		}, []string{"site"}},
		{"a target's own flow label", []Target{
			{Name: "a", Labels: map[string]string{"flow": "north"}},
		}, []string{"flow"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ecmp := DefaultModule()
			ecmp.Flows = 4
			c := &Config{Modules: map[string]Module{DefaultModuleName: DefaultModule(), "ecmp": ecmp}, Targets: tt.targets}
			if got := c.LabelNames(); !slices.Equal(got, tt.want) {
				t.Errorf("LabelNames() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	good, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	merged, err := Load("testdata/merge.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    *Config
	}{
		{"default", Default()},
		{"good.yml", good},
		{"merge.yml", merged},
		{"awkward strings", &Config{
			Modules: map[string]Module{DefaultModuleName: DefaultModule(), "true": DefaultModule(), "~": DefaultModule(), "<<": DefaultModule(), "a: b": DefaultModule()},
			Targets: []Target{
				{Name: "null", Address: "[::1]:4000", Module: "<<", Labels: map[string]string{"site": "", "rack": "'\"\n#", "x": "yes"}},
				{Name: "- x", Address: "host:4000", Module: "~", Labels: map[string]string{"e": "ü\u2028\ufeff"}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := tt.c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out)
			if err != nil {
				t.Fatalf("re-parse: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(back, tt.c) {
				t.Errorf("round trip changed the config:\n%s\ngot  %+v\nwant %+v", out, back, tt.c)
			}
		})
	}
}

func TestYAMLFormat(t *testing.T) {
	c, err := Parse([]byte("modules:\n  zeta: {}\n  alpha: {interval: 90s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	tests := []struct{ name, want string }{
		{"durations as strings", "    interval: 1m30s\n"},
		{"short durations", "    min_timeout: 100ms\n"},
		{"buckets in flow style", "    buckets: [0.0001, 0.0002, "},
		{"two-space indent", "\n  alpha:\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(s, tt.want) {
				t.Errorf("YAML() lacks %q:\n%s", tt.want, s)
			}
		})
	}
	t.Run("modules in name order", func(t *testing.T) {
		a, d, z := strings.Index(s, "  alpha:"), strings.Index(s, "  default:"), strings.Index(s, "  zeta:")
		if a < 0 || !(a < d && d < z) {
			t.Errorf("modules out of order:\n%s", s)
		}
	})
}

func TestProbeKey(t *testing.T) {
	// A prober is keyed by (module, address): a target that names no
	// module has the default module's key, so a static target without a
	// module wins over a discovered one of module default.
	tests := []struct {
		name string
		a, b Target
		same bool
	}{
		{"no module is the default module", Target{Name: "a", Address: "h:1"}, Target{Name: "b", Address: "h:1", Module: DefaultModuleName}, true},
		{"name and labels do not count", Target{Name: "a", Address: "h:1", Labels: map[string]string{"x": "y"}}, Target{Name: "b", Address: "h:1"}, true},
		{"other module", Target{Address: "h:1", Module: "fast"}, Target{Address: "h:1"}, false},
		{"other address", Target{Address: "h:1"}, Target{Address: "h:2"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := tt.a.ProbeKey(), tt.b.ProbeKey()
			if (ka == kb) != tt.same || (ka.Compare(kb) == 0) != tt.same {
				t.Errorf("keys %+v and %+v: equal %v, Compare %d; want equal %v", ka, kb, ka == kb, ka.Compare(kb), tt.same)
			}
		})
	}
	// Keys order by module, then address, whatever the lengths.
	ordered := []ProbeKey{{"a", "z:1"}, {"ab", "a:1"}, {"b", "a:1"}, {"b", "a:2"}}
	for i := range ordered[1:] {
		if c := ordered[i].Compare(ordered[i+1]); c >= 0 {
			t.Errorf("%+v.Compare(%+v) = %d, want < 0", ordered[i], ordered[i+1], c)
		}
	}
}
