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
	"bytes"
	"testing"

	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/prober"
)

// countingTarget counts its snapshots.
type countingTarget struct {
	fakeTarget
	snaps int
}

func (c *countingTarget) SnapshotInto(s *prober.Snapshot) {
	c.snaps++
	c.fakeTarget.SnapshotInto(s)
}

// TestWriteExpositionFilterSkipsProbers checks that a scrape whose name[]
// filter keeps none of the targets' families snapshots no prober, and one
// that keeps one snapshots each once.
func TestWriteExpositionFilterSkipsProbers(t *testing.T) {
	ct := &countingTarget{fakeTarget: fakeTarget{opts: prober.Options{Name: "a", Address: "192.0.2.1:4000", ModuleName: "m"}}}
	c := newCollector(func() []target { return []target{ct} }, nil)
	for _, tt := range []struct {
		keep  string
		snaps int
	}{{"go_goroutines", 0}, {namespace + "_sent_total", 1}} {
		ct.snaps = 0
		var buf bytes.Buffer
		if err := writeExposition(&buf, expfmt.FmtText, nil, c, func(name string) bool { return name == tt.keep }); err != nil {
			t.Fatal(err)
		}
		if ct.snaps != tt.snaps {
			t.Errorf("keeping %s: %d snapshots, want %d", tt.keep, ct.snaps, tt.snaps)
		}
	}
}
