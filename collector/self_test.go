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

package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestProberCountSources(t *testing.T) {
	const head = `# HELP tcpping_exporter_probers Probers running, by source: static targets of the config, targets found by discovery, or dynamic /probe targets.
# TYPE tcpping_exporter_probers gauge
`
	for _, c := range []struct {
		name                        string
		static, discovered, dynamic int
		discovery                   bool
		want                        string
	}{
		{"no discovery", 2, 0, 1, false,
			`tcpping_exporter_probers{source="dynamic"} 1
tcpping_exporter_probers{source="static"} 2
`},
		{"discovery finding nothing", 2, 0, 0, true,
			`tcpping_exporter_probers{source="discovered"} 0
tcpping_exporter_probers{source="dynamic"} 0
tcpping_exporter_probers{source="static"} 2
`},
		{"discovery", 0, 5, 0, true,
			`tcpping_exporter_probers{source="discovered"} 5
tcpping_exporter_probers{source="dynamic"} 0
tcpping_exporter_probers{source="static"} 0
`},
		// A reload that removes discovery adopts its config just before
		// it stops the discovered probers.
		{"discovery removed, its probers stopping", 1, 3, 0, false,
			`tcpping_exporter_probers{source="discovered"} 3
tcpping_exporter_probers{source="dynamic"} 0
tcpping_exporter_probers{source="static"} 1
`},
	} {
		t.Run(c.name, func(t *testing.T) {
			pc := NewProberCount(func() (int, int, int) { return c.static, c.discovered, c.dynamic },
				func() bool { return c.discovery })
			if err := testutil.CollectAndCompare(pc, strings.NewReader(head+c.want)); err != nil {
				t.Error(err)
			}
			if problems, err := testutil.CollectAndLint(pc); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %v", problems, err)
			}
		})
	}
}
