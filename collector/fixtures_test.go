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
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// This file holds what the tests expose: synthetic probers with fixed
// snapshots, live probers stopped once they have replies, and registries
// of self-metrics.

// fakeTarget is a prober with a fixed snapshot: the histograms of real
// probers fill only from a live connection.
type fakeTarget struct {
	opts prober.Options
	snap prober.Snapshot
}

func (f *fakeTarget) Options() prober.Options { return f.opts }

// SnapshotInto copies the fixed snapshot as a prober does: into s's own
// slices, never sharing the fake's.
func (f *fakeTarget) SnapshotInto(s *prober.Snapshot) {
	h, turn := s.Histogram, s.Turnaround
	*s = f.snap
	s.Histogram.Counts = append(h.Counts[:0], f.snap.Histogram.Counts...)
	s.Histogram.NativeCounts = append(h.NativeCounts[:0], f.snap.Histogram.NativeCounts...)
	s.Turnaround.Counts = append(turn.Counts[:0], f.snap.Turnaround.Counts...)
	s.Turnaround.NativeCounts = append(turn.NativeCounts[:0], f.snap.Turnaround.NativeCounts...)
}

// hostileValues are label values that need escaping or are unusual.
var hostileValues = []string{
	`quo"te`, `back\slash`, "new\nline", `trailing\`, "Zürich 東京 🚀", `{a="b",c=d}`, "", " ", `\n literally`, "tab\there",
}

// syntheticModules are three modules' bucket bounds: the default, a short
// one, and one whose last bound is +Inf (expfmt then adds no +Inf bucket).
var syntheticModules = []struct {
	name   string
	bounds []float64
	native bool
}{
	{"default", config.DefaultModule().Buckets, true},
	{"short", []float64{0.001, 0.01, 1}, false},
	{"inf", []float64{0.5, 2, math.Inf(+1)}, true},
}

// syntheticTargets returns n probers over the synthetic modules, with
// populated histograms, values that exercise every number format (large
// counters print as 1e+06 in the text format) and, if hostile, label
// values that need escaping.
func syntheticTargets(n int, hostile bool) []target {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	started := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	ts := make([]target, n)
	for i := range ts {
		mod := syntheticModules[i%len(syntheticModules)]
		labels := map[string]string{"site": fmt.Sprintf("site-%d", i%20)}
		name := fmt.Sprintf("host-%05d", i)
		if hostile {
			labels["rack"] = hostileValues[i%len(hostileValues)]
			name = hostileValues[(i+3)%len(hostileValues)] + strconv.Itoa(i)
			if i%4 == 0 {
				delete(labels, "site") // unioned label names: missing is empty
			}
		}
		counts := make([]uint64, len(mod.bounds)+1)
		var count uint64
		for j := range counts {
			if rng.IntN(3) > 0 {
				counts[j] = uint64(rng.IntN(1000))
			}
			count += counts[j]
		}
		if i%7 == 0 {
			counts[0] += 3_000_000 // 1e+06 and more: exponent notation in text
			count += 3_000_000
		}
		s := prober.Snapshot{
			Sent: count + uint64(i%5), Received: count, Timeouts: uint64(i % 5), Late: uint64(i % 3),
			Dropped: uint64(i % 2), Unexpected: uint64(i % 11), Retransmits: uint64(i) * 1000,
			InFlight: i % 2, Connected: i%3 != 0,
			LastRTT:         time.Duration(rng.IntN(5_000_000)) + 1,
			SRTT:            time.Duration(i%2) * 100, // 1e-07 s: exponent notation
			Timeout:         time.Second,
			ConnectDuration: 250 * time.Microsecond,
			Histogram: prober.HistogramSnapshot{
				Count: count, Sum: float64(count) * 0.000123456789,
				UpperBounds: mod.bounds, Counts: counts, Native: mod.native,
			},
			Started: started.Add(time.Duration(i) * time.Millisecond),
		}
		if mod.native {
			s.Histogram.Schema, s.Histogram.ZeroThreshold = 3, prober.NativeZeroThreshold
			s.Histogram.NativeOffset, s.Histogram.NativeCounts = -80, []uint64{1, 0, 4, uint64(i)}
		}
		// Every other target speaks the extended protocol; the others'
		// extended series are at 0, their turnaround histogram empty.
		s.Turnaround = prober.HistogramSnapshot{UpperBounds: mod.bounds, Counts: make([]uint64, len(mod.bounds)+1), Native: mod.native}
		if mod.native {
			s.Turnaround.Schema, s.Turnaround.ZeroThreshold = 3, prober.NativeZeroThreshold
		}
		s.Jitter = time.Duration(rng.IntN(100_000))
		if i%2 == 0 {
			s.Extended = true
			for j := range s.Turnaround.Counts {
				s.Turnaround.Counts[j] = uint64(rng.IntN(50))
				s.Turnaround.Count += s.Turnaround.Counts[j]
			}
			s.Turnaround.Sum = float64(s.Turnaround.Count) * 0.0000031
			if mod.native {
				s.Turnaround.NativeOffset, s.Turnaround.NativeCounts = -145, []uint64{uint64(i), 2, 0, 0, 9}
			}
			s.ForwardJitter, s.ReverseJitter = time.Duration(rng.IntN(20_000)), 17
			s.ForwardDelay = time.Duration(rng.IntN(1e9)) - 5e8 // clocks apart: either sign
			s.ReverseDelay = -s.ForwardDelay + 41*time.Microsecond
		}
		ts[i] = &fakeTarget{
			opts: prober.Options{Name: name, Address: fmt.Sprintf("10.0.%d.%d:4000", i>>8&255, i&255),
				ModuleName: mod.name, Labels: labels},
			snap: s,
		}
	}
	return ts
}

// selfFamilies returns families like the exporter's registry has: Go
// collector metrics and a few whose names sort between the targets'.
func selfFamilies(t testing.TB) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	conns := prometheus.NewGauge(prometheus.GaugeOpts{Name: "tcp_echo_server_connections", Help: "Echo connections open."})
	conns.Set(3)
	frames := prometheus.NewCounter(prometheus.CounterOpts{Name: "tcp_echo_server_frames_total", Help: "Frames echoed."})
	frames.Add(1234567)
	reg.MustRegister(collectors.NewGoCollector(), conns, frames,
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "tcpping_exporter_config_last_reload_successful", Help: "Whether the \"last\" reload succeeded\\."}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// OpenMetrics names the family of the counter go_memstats_alloc_bytes_total
	// go_memstats_alloc_bytes, as this gauge is named: a clash of
	// client_golang's that the OpenMetrics parser rejects, whoever encodes.
	return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == "go_memstats_alloc_bytes" })
}

// stoppedProbers runs probers of two modules, with label values that need
// escaping, against an echo server until each has replies in its
// histogram, then stops them so that their counters hold still.
func stoppedProbers(t *testing.T) []*prober.Prober {
	t.Helper()
	addr := testenv.EchoServer(t)
	fast := fastModule()
	short := fast
	short.Buckets = []float64{0.001, 0.01, 1}
	short.NativeHistogramBucketFactor = 0
	var ps []*prober.Prober
	for _, o := range []prober.Options{
		{Name: "alpha", ModuleName: "default", Module: fast, Labels: map[string]string{"site": `quo"te\back` + "\nslash"}},
		{Name: "<b>beta</b>", ModuleName: "short", Module: short, Labels: map[string]string{"rack": "Zürich 東京"}},
		{Name: "gamma", ModuleName: "default", Module: fast},
	} {
		o.Address, o.NoSplay = addr, true
		p := prober.New(o, nil)
		p.Start(context.Background())
		t.Cleanup(p.Stop)
		ps = append(ps, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range ps {
		for p.Snapshot().Histogram.Count < 3 {
			if ctx.Err() != nil {
				t.Fatalf("%s: no replies", p.Options().Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, p := range ps {
		p.Stop()
	}
	return ps
}

// selfRegistry is a registry of self-metrics whose values hold still,
// with names that sort among the targets'.
func selfRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	frames := prometheus.NewCounter(prometheus.CounterOpts{Name: "tcp_echo_server_frames_total", Help: "Frames echoed."})
	frames.Add(42)
	reg.MustRegister(frames, NewProberCount(func() (int, int, int) { return 3, 2, 1 }, func() bool { return true }))
	return reg
}
