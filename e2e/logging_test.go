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

package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestDebugLogsEveryProbe runs the exporter with --log.level=debug, which
// CONFIGURATION.md says logs every probe: each answered probe of a target
// whose echo server answers, and each lost probe of one whose port is
// closed, has a line with its sequence number.
func TestDebugLogsEveryProbe(t *testing.T) {
	dir := t.TempDir()
	web, echoPort, closed := testenv.Port(t), testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", fmt.Sprintf(`modules:
  default:
    interval: 100ms
targets:
  - {name: self, address: "127.0.0.1:%d"}
  - {name: closed, address: "127.0.0.1:%d"}
`, echoPort, closed))
	p := startBinary(t, dir, "--config.file="+cfg, "--log.level=debug",
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))
	answered := regexp.MustCompile(`level=debug .*target=self .*msg="probe answered" seq=(\d+) rtt_seconds=\S+`)
	lost := regexp.MustCompile(`level=debug .*target=closed .*msg="probe timed out" seq=(\d+)`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := p.stderr.String()
		a, l := answered.FindAllStringSubmatch(out, -1), lost.FindAllStringSubmatch(out, -1)
		if len(a) >= 3 && len(l) >= 3 {
			prev := 0
			for _, m := range a[:3] {
				seq, _ := strconv.Atoi(m[1])
				if seq <= prev {
					t.Errorf("answered probes logged as seq=%s after seq=%d, want each probe once, in order", m[1], prev)
				}
				prev = seq
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 15s of start at --log.level=debug: %d lines of answered probes of self, %d of timed-out probes of closed, want 3 each", len(a), len(l))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
