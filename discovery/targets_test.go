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

package discovery

import (
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/tcpping/tcpping_exporter/config"
)

// parseConfig parses a tcpping.yml for a test.
func parseConfig(t *testing.T, yml string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(yml))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yml)
	}
	return c
}

// group returns a target group of the addresses, with the group labels
// given as name, value pairs.
func group(source string, addresses []string, groupLabels ...string) *targetgroup.Group {
	g := &targetgroup.Group{Source: source, Labels: model.LabelSet{}}
	for i := 0; i+1 < len(groupLabels); i += 2 {
		g.Labels[model.LabelName(groupLabels[i])] = model.LabelValue(groupLabels[i+1])
	}
	for _, a := range addresses {
		g.Targets = append(g.Targets, model.LabelSet{model.AddressLabel: model.LabelValue(a)})
	}
	return g
}

func TestBuildTargets(t *testing.T) {
	const modules = "modules:\n  fast: {interval: 100ms}\n"
	const source = "    dns_sd_configs: [{names: [mesh.example.net], type: A, port: 4000}]\n"
	tests := []struct {
		name     string
		relabel  string // relabel_configs of the entry, as YAML list items
		module   string
		groups   []*targetgroup.Group
		want     []config.Target
		rejected []string // reasons, in order
		found    int
	}{
		{
			name:   "address only",
			groups: []*targetgroup.Group{group("a", []string{"10.0.0.1:4000", "[2001:db8::1]:4000"})},
			want: []config.Target{
				{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "default"},
				{Name: "[2001:db8::1]:4000", Address: "[2001:db8::1]:4000", Module: "default"},
			},
			found: 2,
		},
		{
			name:   "entry module",
			module: "fast",
			groups: []*targetgroup.Group{group("a", []string{"10.0.0.1:4000"})},
			want:   []config.Target{{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "fast"}},
			found:  1,
		},
		{
			name: "group labels are extra labels, __meta_ ones are not",
			groups: []*targetgroup.Group{
				group("a", []string{"10.0.0.1:4000"}, "site", "ams", "__meta_dns_name", "mesh.example.net"),
			},
			want:  []config.Target{{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "default", Labels: map[string]string{"site": "ams"}}},
			found: 1,
		},
		{
			name: "a target's own labels win over its group's",
			groups: []*targetgroup.Group{{
				Source:  "a",
				Labels:  model.LabelSet{"site": "ams", "rack": "r1"},
				Targets: []model.LabelSet{{model.AddressLabel: "10.0.0.1:4000", "site": "fra"}},
			}},
			want:  []config.Target{{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "default", Labels: map[string]string{"site": "fra", "rack": "r1"}}},
			found: 1,
		},
		{
			name: "relabeling sets name, module and labels",
			relabel: `
      - source_labels: [__meta_dns_name]
        regex: '([^.]+)\..*'
        target_label: site
      - source_labels: [__address__]
        regex: '10\.0\.0\.(\d+):.*'
        replacement: node$1
        target_label: __target__
      - target_label: __module__
        replacement: fast
`,
			groups: []*targetgroup.Group{group("a", []string{"10.0.0.7:4000"}, "__meta_dns_name", "mesh.example.net")},
			want:   []config.Target{{Name: "node7", Address: "10.0.0.7:4000", Module: "fast", Labels: map[string]string{"site": "mesh"}}},
			found:  1,
		},
		{
			name: "relabeling may drop targets, which is not a rejection",
			relabel: `
      - source_labels: [__address__]
        regex: '.*:4001'
        action: drop
`,
			groups: []*targetgroup.Group{group("a", []string{"10.0.0.1:4000", "10.0.0.2:4001"})},
			want:   []config.Target{{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "default"}},
			found:  2,
		},
		{
			name: "relabeling may change the address",
			relabel: `
      - source_labels: [__address__]
        regex: '(.*):9100'
        replacement: $1:4000
        target_label: __address__
`,
			groups: []*targetgroup.Group{group("a", []string{"10.0.0.1:9100"})},
			want:   []config.Target{{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "default"}},
			found:  1,
		},
		{
			name: "unknown module is rejected",
			relabel: `
      - target_label: __module__
        replacement: slow
`,
			groups:   []*targetgroup.Group{group("a", []string{"10.0.0.1:4000"})},
			rejected: []string{reasonModule},
			found:    1,
		},
		{
			name:     "address without port is rejected",
			groups:   []*targetgroup.Group{group("a", []string{"10.0.0.1", "10.0.0.2:4000"})},
			want:     []config.Target{{Name: "10.0.0.2:4000", Address: "10.0.0.2:4000", Module: "default"}},
			rejected: []string{reasonAddress},
			found:    2,
		},
		{
			name: "address removed by relabeling is rejected",
			relabel: `
      - action: labeldrop
        regex: __address__
`,
			groups:   []*targetgroup.Group{group("a", []string{"10.0.0.1:4000"})},
			rejected: []string{reasonAddress},
			found:    1,
		},
		{
			name: "reserved label is rejected",
			relabel: `
      - target_label: instance
        replacement: x
`,
			groups:   []*targetgroup.Group{group("a", []string{"10.0.0.1:4000"})},
			rejected: []string{reasonLabel},
			found:    1,
		},
		{
			name:     "reserved label from the source is rejected",
			groups:   []*targetgroup.Group{group("a", []string{"10.0.0.1:4000"}, "job", "x")},
			rejected: []string{reasonLabel},
			found:    1,
		},
		{
			name:     "label value not UTF-8 is rejected",
			groups:   []*targetgroup.Group{group("a", []string{"10.0.0.1:4000"}, "site", "\xff")},
			rejected: []string{reasonLabel},
			found:    1,
		},
		{
			name: "name with a control character is rejected",
			relabel: `
      - target_label: __target__
        replacement: "a\tb"
`,
			groups:   []*targetgroup.Group{group("a", []string{"10.0.0.1:4000"})},
			rejected: []string{reasonName},
			found:    1,
		},
		{
			name: "one target per module and address, the first found wins",
			groups: []*targetgroup.Group{
				group("a", []string{"10.0.0.1:4000"}, "site", "first"),
				group("b", []string{"10.0.0.1:4000", "10.0.0.2:4000"}, "site", "second"),
			},
			want: []config.Target{
				{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "default", Labels: map[string]string{"site": "first"}},
				{Name: "10.0.0.2:4000", Address: "10.0.0.2:4000", Module: "default", Labels: map[string]string{"site": "second"}},
			},
			found: 3,
		},
		{
			name: "the same address in two modules is two targets",
			relabel: `
      - source_labels: [kind]
        regex: fast
        target_label: __module__
        replacement: fast
`,
			groups: []*targetgroup.Group{
				group("a", []string{"10.0.0.1:4000"}, "kind", "slow"),
				group("b", []string{"10.0.0.1:4000"}, "kind", "fast"),
			},
			want: []config.Target{
				{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "default", Labels: map[string]string{"kind": "slow"}},
				{Name: "10.0.0.1:4000", Address: "10.0.0.1:4000", Module: "fast", Labels: map[string]string{"kind": "fast"}},
			},
			found: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yml := modules + "discovery:\n  - name: mesh\n" + source
			if tt.module != "" {
				yml += "    module: " + tt.module + "\n"
			}
			if tt.relabel != "" {
				yml += "    relabel_configs:" + tt.relabel
			}
			c := parseConfig(t, yml)
			got := buildTargets(tt.groups, c.Discovery[0], c.Modules)
			if !reflect.DeepEqual(got.targets, tt.want) {
				t.Errorf("targets\n%+v\nwant\n%+v", got.targets, tt.want)
			}
			var reasons []string
			for _, r := range got.rejected {
				reasons = append(reasons, r.reason)
				if r.err == nil || !strings.HasPrefix(r.labels, "{") {
					t.Errorf("rejection %+v lacks its error or labels", r)
				}
			}
			if !reflect.DeepEqual(reasons, tt.rejected) {
				t.Errorf("rejected %q, want %q", reasons, tt.rejected)
			}
			if got.found != tt.found {
				t.Errorf("found %d, want %d", got.found, tt.found)
			}
		})
	}
}
