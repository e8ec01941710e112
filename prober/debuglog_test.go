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

package prober

import (
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestLateReplyDebugLine checks that a Manager's prober logs a late reply
// at debug, and that with ManagerOptions.DebugOff it does not build the
// line at all (its logger here would let it through: only the option
// keeps it out), while the late reply is counted either way.
func TestLateReplyDebugLine(t *testing.T) {
	for _, off := range []bool{false, true} {
		srv := startServer(t, lateThird)
		mod := testModule(20*time.Millisecond, 100*time.Millisecond, false)
		mod.ReconnectAfter = 0
		var out testenv.Buffer
		logger := level.NewFilter(log.NewLogfmtLogger(&out), level.AllowDebug())
		m := NewManager(t.Context(), ManagerOptions{MaxDynamic: 1, IdleTimeout: time.Hour, DebugOff: off}, logger)
		m.Reconcile(&config.Config{Modules: map[string]config.Module{config.DefaultModuleName: mod},
			Targets: []config.Target{{Name: "t", Address: srv.addr()}}})
		p := m.Static()[0]
		waitFor(t, "a late reply", 5*time.Second, func() bool { return p.Snapshot().Late >= 1 })
		m.Stop()
		logged := strings.Contains(out.String(), `msg="late reply"`)
		if logged == off {
			t.Errorf("DebugOff %v: late reply logged %v, want %v; log:\n%s", off, logged, !off, out.String())
		}
	}
}
