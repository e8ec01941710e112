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

package main

import (
	"encoding/binary"
	"strings"
	"testing"
)

// wireFrame is a 24-byte frame with seq and the sender's stamp.
func wireFrame(seq, stampNs uint64) []byte {
	b := make([]byte, frameSize)
	copy(b, magic)
	binary.LittleEndian.PutUint64(b[8:], seq)
	binary.LittleEndian.PutUint64(b[16:], stampNs)
	return b
}

// TestMatcherSummary feeds a request segment carrying two frames and the
// replies split across segments, and checks the matched RTTs and the
// send-to-wire times computed from the frames' own send stamps.
func TestMatcherSummary(t *testing.T) {
	const t0 = int64(1_700_000_000_000_000_000)
	m := newMatcher(options{serverPort: 4000})
	req := append(wireFrame(1, uint64(t0-20_000)), wireFrame(2, uint64(t0-10_000))...)
	m.add(segment{ns: t0, stream: 0, srcPort: 5555, dstPort: 4000, seq: 100, payload: req})
	rep := append(wireFrame(1, uint64(t0-20_000)), wireFrame(2, uint64(t0-10_000))...)
	m.add(segment{ns: t0 + 30_000, stream: 0, srcPort: 4000, dstPort: 5555, seq: 900, payload: rep[:30]})
	m.add(segment{ns: t0 + 50_000, stream: 0, srcPort: 4000, dstPort: 5555, seq: 930, payload: rep[30:]})
	r := m.results()
	if len(r.probes) != 2 || r.unanswered != 0 {
		t.Fatalf("%d probes matched, %d unanswered; want 2 and 0", len(r.probes), r.unanswered)
	}
	got := r.summary()
	// RTTs 30 and 50 µs (the second reply completes in the later segment);
	// send-to-wire 20 and 10 µs.
	for _, want := range []string{"frames=2 ", "mean_us=40.000 ", "send_mean_us=15.000 ", "send_p50_us=20.000 ", "orphan_replies=0 "} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
