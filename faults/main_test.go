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

//go:build linux

package faults

import (
	"fmt"
	"os"
	"testing"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// binary is the tcpping_exporter under test, built once by TestMain (with
// -race when the tests are), or empty when the suite cannot run here.
var binary string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() != 0 && !testenv.InCI() {
			return m.Run() // every test skips; nothing to build
		}
		dir, err := os.MkdirTemp("", "tcpping-faults")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if binary, err = testenv.Build(dir, raceEnabled); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}
