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
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/prober"
)

// TestWriteExpositionManyModules checks the output against expfmt's when
// the probers' bucket bounds come in more sets than boundTable scans
// (each prober its own slice, some of them empty) and their labels
// outgrow the first scrape's guess of their size, then again once the
// scrape has sized its arrays from the first.
func TestWriteExpositionManyModules(t *testing.T) {
	var ts []target
	for i := range 3 * maxScanned {
		bounds := make([]float64, i%5)
		for j := range bounds {
			bounds[j] = float64(j+1) / float64(i+1)
		}
		s := prober.Snapshot{Sent: uint64(i), Histogram: prober.HistogramSnapshot{
			Count: uint64(i), UpperBounds: bounds, Counts: make([]uint64, len(bounds)+1)}}
		s.Histogram.Counts[len(bounds)] = uint64(i)
		ts = append(ts, &fakeTarget{
			opts: prober.Options{Name: fmt.Sprintf("t%d", i), Address: "192.0.2.1:4000", ModuleName: fmt.Sprintf("m%d", i%7),
				Labels: map[string]string{"site": strings.Repeat(`"\`, 50*i)}},
			snap: s,
		})
	}
	// Probers of one module share its bounds slice, out of order.
	ts = append(ts, ts[2], ts[len(ts)-1], ts[9])
	c := newCollector(func() []target { return ts }, []string{"site"})
	for round := range 2 {
		for _, f := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0, expfmt.NewFormat(expfmt.TypeProtoDelim)} {
			checkStreamed(t, f, nil, c, fmt.Sprintf("round %d, %s", round, f))
		}
	}
}
