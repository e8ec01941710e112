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
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDepartures matches txcap's lines (connection id = client port,
// absolute TCP sequence numbers) to the probes of the tshark capture by
// client port and frame sequence number, and checks the RTTs from the
// departures and the loopback transits.
func TestDepartures(t *testing.T) {
	const t0 = int64(1_700_000_000_000_000_000)
	m := newMatcher(options{serverPort: 4000})
	// tshark: stream 3, client port 5555; requests captured at t0 and
	// t0+1 ms, replies 30 µs after each.
	for i, seq := range []uint64{1, 2} {
		at := t0 + int64(i)*1_000_000
		m.add(segment{ns: at, stream: 3, srcPort: 5555, dstPort: 4000, seq: 1 + uint64(i)*24, payload: wireFrame(seq, uint64(at-20_000))})
		m.add(segment{ns: at + 30_000, stream: 3, srcPort: 4000, dstPort: 5555, seq: 1 + uint64(i)*24, payload: wireFrame(seq, uint64(at-20_000))})
	}
	// txcap: the requests left 4 and 6 µs before their capture, the
	// replies 3 and 5 µs before theirs (connection id: the client port);
	// a request of another connection (port 6666) with the same seq must
	// not match.
	var lines strings.Builder
	for i, d := range []int64{4_000, 6_000} {
		at := t0 + int64(i)*1_000_000 - d
		stamp := uint64(t0 + int64(i)*1_000_000 - 20_000)
		fmt.Fprintf(&lines, "%d.%09d\t5555\t5555\t4000\t%d\t24\t%s\n", at/1e9, at%1e9, 700000+i*24, hex.EncodeToString(wireFrame(uint64(i+1), stamp)))
		rep := t0 + int64(i)*1_000_000 + 30_000 - d + 1_000
		fmt.Fprintf(&lines, "%d.%09d\t5555\t4000\t5555\t%d\t24\t%s\n", rep/1e9, rep%1e9, 900000+i*24, hex.EncodeToString(wireFrame(uint64(i+1), stamp)))
	}
	fmt.Fprintf(&lines, "%d.%09d\t6666\t6666\t4000\t%d\t24\t%s\n", t0/1e9, t0%1e9-100_000, 5, hex.EncodeToString(wireFrame(1, 0)))
	path := filepath.Join(t.TempDir(), "departures.tsv")
	if err := os.WriteFile(path, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := m.results()
	if err := r.addDepartures(options{serverPort: 4000, departures: path}); err != nil {
		t.Fatal(err)
	}
	got := r.summary()
	// From departure: 34 and 36 µs; transits 4 and 6 µs; send stamp to
	// departure 20 − 4 and 20 − 6 µs. Departure to departure: 31 µs both;
	// the replies' transits 3 and 5 µs.
	for _, want := range []string{"mean_us=30.000 ", "depart_frames=2 ", "depart_mean_us=35.000 ", "lo_transit_mean_us=5.000 ", "send_depart_mean_us=15.000",
		"dd_frames=2 ", "dd_mean_us=31.000 ", "reply_transit_mean_us=4.000 "} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
