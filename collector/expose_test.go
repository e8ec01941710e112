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
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
	"github.com/tcpping/tcpping_exporter/prober"
)

// checkStreamed writes c's exposition in f after others and reports an
// error, naming what, if it is not byte for byte expfmt's encoding of the
// same families. It returns the output and those families.
func checkStreamed(t *testing.T, f expfmt.Format, others []*dto.MetricFamily, c *Collector, what string) ([]byte, []*dto.MetricFamily) {
	t.Helper()
	want, wantMFs := expfmtExposition(t, f, others, c)
	var buf bytes.Buffer
	if err := writeExposition(&buf, f, others, c, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s: output differs from expfmt's at %s", what, firstDiff(buf.Bytes(), want))
	}
	return buf.Bytes(), wantMFs
}

// expfmtExposition is what the dto path serves: c's Gather merged with
// others, encoded by expfmt as promhttp encodes it.
func expfmtExposition(t testing.TB, f expfmt.Format, others []*dto.MetricFamily, c *Collector) ([]byte, []*dto.MetricFamily) {
	t.Helper()
	mfs, err := merge(
		func() prometheus.Gatherer {
			return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return others, nil })
		},
		func() prometheus.Gatherer { return c },
	).Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := encodeFamilies(&buf, f, mfs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mfs
}

// encodeFamilies encodes mfs in f with expfmt's encoder, as promhttp does.
func encodeFamilies(w io.Writer, f expfmt.Format, mfs []*dto.MetricFamily) error {
	enc := expfmt.NewEncoder(w, f)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	if cl, ok := enc.(expfmt.Closer); ok {
		return cl.Close()
	}
	return nil
}

// streamedFormats are the text exposition formats as expfmt.NegotiateAccept
// returns them. The OpenMetrics parser checks every line against the ABNF grammar,
// which takes seconds: it parses one OpenMetrics output, whose bytes the
// other OpenMetrics version shares.
var streamedFormats = []struct {
	name   string
	accept string
	format expfmt.Format
	parse  bool
}{
	{"text", "text/plain", expfmt.FmtText + "; escaping=underscores", true},
	{"text utf-8", "text/plain;version=0.0.4;escaping=allow-utf-8", expfmt.FmtText + "; escaping=allow-utf-8", true},
	{"openmetrics 1.0.0", "application/openmetrics-text;version=1.0.0", expfmt.FmtOpenMetrics_1_0_0 + "; escaping=underscores", true},
	{"openmetrics 0.0.1", "application/openmetrics-text;version=0.0.1", expfmt.FmtOpenMetrics_0_0_1 + "; escaping=underscores", false},
}

// samples flattens families into series → value, as a scraper stores
// them: the histograms' classic samples, no native buckets or created
// timestamps (neither text format carries them).
func samples(mfs []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	key := func(name string, m *dto.Metric, extra ...string) string {
		var ls []string
		for _, lp := range m.GetLabel() {
			ls = append(ls, lp.GetName()+"="+strconv.Quote(lp.GetValue()))
		}
		ls = append(ls, extra...)
		slices.Sort(ls)
		return name + "{" + strings.Join(ls, ",") + "}"
	}
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key(name, m)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key(name, m)] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				out[key(name, m)] = m.GetUntyped().GetValue()
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					out[key(name, m, "quantile="+strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64))] = q.GetValue()
				}
				out[key(name+"_sum", m)] = s.GetSampleSum()
				out[key(name+"_count", m)] = float64(s.GetSampleCount())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					out[key(name+"_bucket", m, "le="+strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))] = float64(b.GetCumulativeCount())
				}
				out[key(name+"_bucket", m, "le=+Inf")] = float64(h.GetSampleCount())
				out[key(name+"_sum", m)] = h.GetSampleSum()
				out[key(name+"_count", m)] = float64(h.GetSampleCount())
			}
		}
	}
	return out
}

// familyTypes returns each family's type and help.
func familyTypes(mfs []*dto.MetricFamily) map[string]string {
	out := map[string]string{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetType().String() + " " + mf.GetHelp()
	}
	return out
}

// TestWriteExpositionMatchesExpfmt checks the streaming writer against the
// dto path it replaces for text and OpenMetrics, for probers with
// populated histograms, several modules and hostile label values: the
// output is byte for byte expfmt's, parses in its format, and holds the
// same families, series and values as the families Gather builds.
func TestWriteExpositionMatchesExpfmt(t *testing.T) {
	ts := syntheticTargets(30, true)
	c := newCollector(func() []target { return ts }, []string{"rack", "site"})
	others := selfFamilies(t)
	for _, tt := range streamedFormats {
		t.Run(tt.name, func(t *testing.T) {
			if got := expfmt.NegotiateAccept(map[string][]string{"Accept": {tt.accept}}, expfmt.DefaultOpenMetricsAcceptedFormats()...); got != tt.format || !streams(got) {
				t.Fatalf("Accept %q negotiates %q (streams: %v), want %q", tt.accept, got, streams(got), tt.format)
			}
			got, wantMFs := checkStreamed(t, tt.format, others, c, tt.name)
			if !tt.parse {
				return
			}
			parsed := testenv.DecodeExposition(t, got, tt.format)
			if g, w := familyTypes(parsed), familyTypes(wantMFs); !maps.Equal(g, w) {
				t.Errorf("families differ:\ngot  %v\nwant %v", g, w)
			}
			g, w := samples(parsed), samples(wantMFs)
			if len(g) != len(w) {
				t.Errorf("%d series, want %d", len(g), len(w))
			}
			for k, wv := range w {
				if gv, ok := g[k]; !ok || gv != wv && !(math.IsNaN(gv) && math.IsNaN(wv)) {
					t.Errorf("%s = %v (present %v), want %v", k, gv, ok, wv)
				}
			}
			if !strings.Contains(string(got), `rack="quo\"te"`) || !strings.Contains(string(got), `rack="new\nline"`) {
				t.Error("hostile label values missing or not escaped")
			}
		})
	}
}

// firstDiff describes where a and b first differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-120)
	return fmt.Sprintf("byte %d:\ngot  …%q\nwant …%q", i, a[lo:min(len(a), i+60)], b[lo:min(len(b), i+60)])
}

// TestWriteExpositionLint runs the text output through promlint and, where
// installed, promtool check metrics, as DESIGN.md requires of /metrics.
func TestWriteExpositionLint(t *testing.T) {
	ts := syntheticTargets(30, true)
	c := newCollector(func() []target { return ts }, []string{"rack", "site"})
	var buf bytes.Buffer
	if err := writeExposition(&buf, expfmt.FmtText, selfFamilies(t), c, nil); err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.New(bytes.NewReader(buf.Bytes())).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
	promtool := testenv.LookPath(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestWriteExpositionLiveProbers checks the output of New's probers (not
// started: their series at zero) against the dto path.
func TestWriteExpositionLiveProbers(t *testing.T) {
	ps := benchProbers(5)
	c := New(func() []*prober.Prober { return ps }, []string{"site"})
	for _, f := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0, expfmt.NewFormat(expfmt.TypeProtoDelim)} {
		checkStreamed(t, f, nil, c, string(f))
	}
}

func TestWriteExpositionEdges(t *testing.T) {
	ts := syntheticTargets(10, false)
	c := newCollector(func() []target { return ts }, []string{"site"})
	empty := newCollector(func() []target { return nil }, nil)
	others := selfFamilies(t)
	dup := &dto.MetricFamily{Name: new("tcp_echo_sent_total"), Help: new("x"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: new(1.0)}}}}
	om := expfmt.FmtOpenMetrics_1_0_0

	t.Run("no targets writes the others only", func(t *testing.T) {
		want, _ := expfmtExposition(t, om, others, empty)
		for _, c := range []*Collector{nil, empty} {
			var buf bytes.Buffer
			if err := writeExposition(&buf, om, others, c, nil); err != nil || !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("err %v; output differs at %s", err, firstDiff(buf.Bytes(), want))
			}
		}
	})
	t.Run("a family in both parts is written once and reported", func(t *testing.T) {
		var buf bytes.Buffer
		err := writeExposition(&buf, expfmt.FmtText, append(slices.Clone(others), dup), c, nil)
		if err == nil || !strings.Contains(err.Error(), "tcp_echo_sent_total") {
			t.Errorf("err = %v, want the duplicate family named", err)
		}
		if n := strings.Count(buf.String(), "# TYPE tcp_echo_sent_total "); n != 1 {
			t.Errorf("%d TYPE lines for tcp_echo_sent_total, want 1", n)
		}
		testenv.DecodeExposition(t, buf.Bytes(), expfmt.FmtText)
	})
	t.Run("name filter", func(t *testing.T) {
		keep := func(name string) bool { return name == "tcp_echo_rtt_seconds" || name == "go_goroutines" }
		var buf bytes.Buffer
		if err := writeExposition(&buf, om, others, c, keep); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, mf := range testenv.DecodeExposition(t, buf.Bytes(), om) {
			names = append(names, mf.GetName())
		}
		if !slices.Equal(names, []string{"go_goroutines", "tcp_echo_rtt_seconds"}) {
			t.Errorf("families %v", names)
		}
	})
	t.Run("protobuf text is not streamed", func(t *testing.T) {
		for _, f := range []expfmt.Format{expfmt.NewFormat(expfmt.TypeProtoText), expfmt.NewFormat(expfmt.TypeProtoCompact)} {
			if streams(f) || writeExposition(io.Discard, f, nil, c, nil) == nil {
				t.Errorf("%s accepted", f)
			}
		}
	})
}

// chunkRecorder records the size of every write and fails after limit
// bytes (0: never).
type chunkRecorder struct {
	sizes []int
	total int
	limit int
}

func (r *chunkRecorder) Write(p []byte) (int, error) {
	if r.limit > 0 && r.total+len(p) > r.limit {
		return 0, errors.New("client went away")
	}
	r.sizes = append(r.sizes, len(p))
	r.total += len(p)
	return len(p), nil
}

// TestWriteExpositionStreams checks that the output goes out in bounded
// chunks, that a write error ends the scrape, and that a warm scrape
// allocates nothing per series.
func TestWriteExpositionStreams(t *testing.T) {
	ts := syntheticTargets(2000, false)
	c := newCollector(func() []target { return ts }, []string{"site"})
	checkStreaming(t, c, expfmt.FmtText, 10, 3*flushAt)
	checkWarmAllocs(t, expfmt.FmtOpenMetrics_1_0_0)
}

// checkStreaming checks that c's exposition in f goes out in at least
// minWrites chunks of about flushAt bytes, and that a writer failing after
// limit bytes ends it with nothing written after the error.
func checkStreaming(t *testing.T, c *Collector, f expfmt.Format, minWrites, limit int) {
	t.Helper()
	var rec chunkRecorder
	if err := writeExposition(&rec, f, nil, c, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.sizes) < minWrites || slices.Max(rec.sizes) > flushAt+flushAt/8 {
		t.Errorf("%s: %d writes of at most %d bytes for %d bytes: want chunks of about %d", f, len(rec.sizes), slices.Max(rec.sizes), rec.total, flushAt)
	}
	failing := chunkRecorder{limit: limit}
	if err := writeExposition(&failing, f, nil, c, nil); err == nil || failing.total > limit {
		t.Errorf("%s: err %v after %d bytes: want the writer's error, nothing written after it", f, err, failing.total)
	}
}

// checkWarmAllocs checks that a warm scrape in f allocates a few times per
// module and none per series: as much for 3000 synthetic probers as for 30.
func checkWarmAllocs(t *testing.T, f expfmt.Format) {
	t.Helper()
	allocs := func(n int) float64 {
		ts := syntheticTargets(n, false)
		c := newCollector(func() []target { return ts }, []string{"site"})
		return testing.AllocsPerRun(5, func() {
			if err := writeExposition(io.Discard, f, nil, c, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	if small, large := allocs(30), allocs(3000); large > small+50 || large > 200 { // the race detector drops pooled items
		t.Errorf("%s: %v allocations per warm scrape of 30 probers, %v of 3000: want a few per module, none per series", f, small, large)
	}
}

// TestAppendFloat checks number formatting against expfmt's for values
// around each special case.
func TestAppendFloat(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 1, -1, 2, -2, 0.5, 1e-7, 123456, 999999, 1e6, 1234567, 1e21, 1e22,
		math.MaxUint64, 2.5e-5, 100, 0.0001, 3.2768, math.NaN(), math.Inf(+1), math.Inf(-1), math.SmallestNonzeroFloat64}
	for _, f := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0} {
		om := f.FormatType() == expfmt.TypeOpenMetrics
		for _, v := range values {
			mf := &dto.MetricFamily{Name: new("x"), Type: dto.MetricType_GAUGE.Enum(),
				Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: new(v)}}}}
			var buf bytes.Buffer
			if err := expfmt.NewEncoder(&buf, f).Encode(mf); err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(strings.SplitN(buf.String(), "\n", 2)[1], "\n")
			if got := "x " + string(appendFloat(nil, v, om)); got != want {
				t.Errorf("%s: appendFloat(%v) gives %q, want %q", f, v, got, want)
			}
		}
	}
	for _, c := range []uint64{0, 1, 999999, 1000000, 1234567, math.MaxUint64} {
		if got, want := string(appendCount(nil, c, false)), string(appendFloat(nil, float64(c), false)); got != want {
			t.Errorf("text count %d: %q, want %q", c, got, want)
		}
	}
}
