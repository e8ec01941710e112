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

// extFrame is an extended frame of length l with seq and, in a request,
// the sender's stamp.
func extFrame(l int, kind byte, seq uint32, stampNs uint64) []byte {
	b := make([]byte, l)
	copy(b, extMagic)
	binary.LittleEndian.PutUint16(b[4:], uint16(l))
	b[6] = kind
	binary.LittleEndian.PutUint32(b[8:], seq)
	binary.LittleEndian.PutUint64(b[16:], stampNs)
	return b
}

// TestMatcherExtended feeds a connection that negotiates the extended
// protocol: the HELLO and the offer (not probes), then 200-byte frames,
// one reply split inside its header and another across its padding.
func TestMatcherExtended(t *testing.T) {
	const t0 = int64(1_700_000_000_000_000_000)
	hello := wireFrame(helloSeq, 0x4F4C4C4548585054)
	offer := wireFrame(helloSeq, 0x0000232831585054) // "TPX1", 9000, flags 0
	m := newMatcher(options{serverPort: 4000})
	up := func(ns int64, seq uint64, b []byte) {
		m.add(segment{ns: ns, stream: 0, srcPort: 5555, dstPort: 4000, seq: seq, payload: b})
	}
	down := func(ns int64, seq uint64, b []byte) {
		m.add(segment{ns: ns, stream: 0, srcPort: 4000, dstPort: 5555, seq: seq, payload: b})
	}
	up(t0-100_000, 1, hello)
	down(t0-90_000, 1, offer)
	up(t0, 25, extFrame(200, 1, 1, uint64(t0-12_000)))
	up(t0+1_000, 225, extFrame(200, 1, 2, uint64(t0-9_000)))
	// The replies carry the server's kernel receive times (flag bit 0),
	// 2 and 4 µs after the requests' captures.
	r1, r2 := extFrame(200, 2, 1, uint64(t0+2_000)), extFrame(200, 2, 2, uint64(t0+5_000))
	r1[7], r2[7] = 1, 1
	down(t0+10_000, 25, r1[:5])
	down(t0+20_000, 30, r1[5:])
	down(t0+41_000, 225, r2[:100])
	down(t0+61_000, 325, r2[100:])
	r := m.results()
	if len(r.probes) != 2 || r.unanswered != 0 || m.orphanReplies != 0 || m.resyncBytes != 0 {
		t.Fatalf("%d probes matched, %d unanswered, %d orphans, %d bytes skipped; want 2, 0, 0, 0",
			len(r.probes), r.unanswered, m.orphanReplies, m.resyncBytes)
	}
	got := r.summary()
	// RTTs 20 and 60 µs; send-to-wire 12 and 10 µs.
	for _, want := range []string{"frames=2 ", "seq_first=1 ", "seq_last=2 ", "mean_us=40.000 ", "send_mean_us=11.000 ",
		"rx_stamp_frames=2 ", "rx_stamp_lag_mean_us=3.000 "} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
