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
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// A text scrape of 10 000 targets is about 35 MiB. Encoding it from metric
// families with expfmt costs several times more than building them, and
// holding them or the output costs memory per target that a scrape should
// not need. So writeExposition writes the targets' families straight from
// snapshots packed off the Go heap (scrape) into a buffer that it hands to
// the writer whenever it holds flushAt bytes: labels are escaped (or
// protobuf-encoded) once per scrape, numbers are appended in place, and
// nothing is allocated on the Go heap per series. The output is byte for
// byte what expfmt writes for Gather's families (expose_test.go and
// protofmt_test.go check it).

// flushAt is the buffer size at which writeExposition writes to its
// writer: large enough that the syscalls of a 30 MiB response cost little,
// small enough to be nothing next to the response.
const flushAt = 128 << 10

// streams reports whether writeExposition can write format f: the text
// format 0.0.4, OpenMetrics 0.0.1 and 1.0.0, and delimited protobuf, which
// also carries the native histograms. Other formats (the protobuf text
// formats, which only people ask for) take the Gather path.
func streams(f expfmt.Format) bool {
	switch f.FormatType() {
	case expfmt.TypeTextPlain, expfmt.TypeProtoDelim:
		return true
	case expfmt.TypeOpenMetrics:
		switch f.Version() {
		case "", expfmt.OpenMetricsVersion_0_0_1, expfmt.OpenMetricsVersion_1_0_0:
			return true
		}
	}
	return false
}

// writeExposition writes a /metrics response in format f, which streams
// must accept: the families of others (a Registry's, such as the exporter's
// self-metrics) and the static targets' families of c (nil: none), merged
// in name order as a Gatherer's would be, then the OpenMetrics # EOF line.
// The families of others are encoded by expfmt, c's straight from the
// probers' snapshots (in protobuf with their native histograms). Only
// families whose name keep accepts are written (keep nil: all). A family
// of others whose name is also one of c's is left out and reported.
//
// It returns the first error of w, which ends the response, and the
// encoding errors of others' families, which do not.
func writeExposition(w io.Writer, f expfmt.Format, others []*dto.MetricFamily, c *Collector, keep func(name string) bool) error {
	if !streams(f) {
		return fmt.Errorf("write exposition: format %q is not text, OpenMetrics 1.0 or delimited protobuf", f)
	}
	om := f.FormatType() == expfmt.TypeOpenMetrics
	proto := f.FormatType() == expfmt.TypeProtoDelim
	if c != nil && keep != nil && !slices.ContainsFunc(families, func(fam family) bool { return keep(fam.name) }) {
		c = nil // none of c's families is asked for: snapshot no prober
	}
	var sc *scrape
	if c != nil {
		sc = c.prepare(proto)
		defer c.release(sc)
	} else {
		sc = &scrape{}
	}
	ew := &expoWriter{out: w, buf: sc.buf}

	others = slices.Clone(others)
	slices.SortStableFunc(others, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	enc := expfmt.NewEncoder(ew, f)
	var errs []error
	fams := families
	if sc.n == 0 {
		fams = nil // no static targets: no families, as Gather
	}
	for len(others) > 0 || len(fams) > 0 {
		if len(fams) == 0 || len(others) > 0 && others[0].GetName() < fams[0].name {
			mf := others[0]
			others = others[1:]
			if keep == nil || keep(mf.GetName()) {
				if err := enc.Encode(mf); err != nil && ew.err == nil {
					errs = append(errs, fmt.Errorf("encode %s: %w", mf.GetName(), err))
				}
			}
		} else {
			fam := &fams[0]
			fams = fams[1:]
			if len(others) > 0 && others[0].GetName() == fam.name {
				errs = append(errs, fmt.Errorf("metric family %q gathered twice", fam.name))
				others = others[1:]
			}
			switch {
			case keep != nil && !keep(fam.name):
			case proto:
				sc.writeProtoFamily(ew, fam)
			default:
				sc.writeFamily(ew, fam, om)
			}
		}
		if ew.err != nil {
			return ew.err
		}
	}
	if cl, ok := enc.(expfmt.Closer); ok {
		_ = cl.Close() // # EOF for OpenMetrics; errors are ew's
	}
	ew.flush()
	if ew.err != nil {
		return ew.err
	}
	return errors.Join(errs...)
}

// expoWriter buffers an exposition and writes it out in chunks of about
// flushAt bytes. It has the methods expfmt looks for, so expfmt encodes
// straight into its buffer. After the first error of out it drops
// everything.
type expoWriter struct {
	out io.Writer
	buf []byte
	err error
}

func (w *expoWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	w.maybeFlush()
	return len(p), w.err
}

func (w *expoWriter) WriteString(s string) (int, error) {
	w.buf = append(w.buf, s...)
	w.maybeFlush()
	return len(s), w.err
}

func (w *expoWriter) WriteByte(b byte) error {
	w.buf = append(w.buf, b)
	w.maybeFlush()
	return w.err
}

func (w *expoWriter) WriteRune(r rune) (int, error) {
	n := len(w.buf)
	w.buf = utf8.AppendRune(w.buf, r)
	w.maybeFlush()
	return len(w.buf) - n, w.err
}

func (w *expoWriter) maybeFlush() {
	if len(w.buf) >= flushAt {
		w.flush()
	}
}

func (w *expoWriter) flush() {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.out.Write(w.buf)
	}
	w.buf = w.buf[:0]
	yield()
}

// yield lets waiting goroutines run between chunks of a scrape. On Linux
// a prober worker sleeps in epoll_wait; when a reply wakes it, it needs a
// P, and with GOMAXPROCS=2 a scrape that never passes through the
// scheduler could keep it waiting until sysmon preempts the scrape, 10 ms
// later, which every reply in the meantime would count in its RTT.
// Yielding every chunk (about 0.2 ms of work) keeps that wait short.
func yield() { runtime.Gosched() }
