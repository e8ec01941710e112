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

package testenv

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// NoNice is what ThreadNice returns when it cannot read the nice value: no
// thread has it, so a test comparing it with one fails.
const NoNice = math.MinInt

// ThreadNice returns the nice value of the calling thread, from
// /proc/thread-self/stat (field 19). Lock the goroutine to its thread
// first for the answer to mean anything after the call. It may be called
// from any goroutine: a failure to read is reported with t.Errorf, not
// t.Fatal, and gives NoNice.
func ThreadNice(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/stat")
	if err != nil {
		t.Errorf("thread nice value: %v", err)
		return NoNice
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // from field 3 on
	if len(f) < 17 {
		t.Errorf("thread nice value: short stat line %q", s)
		return NoNice
	}
	n, err := strconv.Atoi(f[16])
	if err != nil {
		t.Errorf("thread nice value %q in %q: %v", f[16], s, err)
		return NoNice
	}
	return n
}
