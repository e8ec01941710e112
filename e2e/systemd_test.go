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
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemdUnit is the example unit file.
const systemdUnit = "examples/systemd/tcpping_exporter.service"

// TestSystemdUnit checks the example unit's hardening and command lines,
// and that systemd-analyze verifies it without a single warning.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(repoFile(systemdUnit))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)

	t.Run("settings", func(t *testing.T) {
		for _, line := range []string{
			"ExecStart=/usr/local/bin/tcpping_exporter --config.file=/etc/tcpping_exporter/tcpping.yml",
			"ExecReload=/bin/kill -HUP $MAINPID",
			"Restart=on-failure",
			"DynamicUser=yes",
			"NoNewPrivileges=yes",
			"ProtectSystem=strict",
			"ProtectHome=yes",
			"PrivateTmp=yes",
			"CapabilityBoundingSet=",
			"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
			"ProtectKernelTunables=yes",
			"ProtectKernelModules=yes",
			"ProtectControlGroups=yes",
		} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).MatchString(unit) {
				t.Errorf("%s has no line %q", systemdUnit, line)
			}
		}
	})

	sa := requireTool(t, "systemd-analyze", "systemd")
	// verify checks that ExecStart's binary exists and is executable, so
	// a copy of the unit runs the binary the tests built.
	dir := t.TempDir()
	const installed = "/usr/local/bin/tcpping_exporter"
	if !strings.Contains(unit, "ExecStart="+installed+" ") {
		t.Fatalf("%s: ExecStart does not run %s", systemdUnit, installed)
	}
	writeUnit := func(t *testing.T, name, content string) string {
		t.Helper()
		return writeFile(t, dir, name, strings.Replace(content, "ExecStart="+installed, "ExecStart="+binary, 1))
	}

	t.Run("verify", func(t *testing.T) {
		path := writeUnit(t, "tcpping_exporter.service", unit)
		if out := pkgRun(t, dir, nil, time.Minute, sa, "verify", path); strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify warns:\n%s", out)
		}
	})

	t.Run("verify reports a misspelt key", func(t *testing.T) {
		// Guards the check above: verify exits 0 on unknown keys, so the
		// test relies on its output.
		path := writeUnit(t, "typo.service", strings.Replace(unit, "ProtectHome=", "ProtectHmoe=", 1))
		if out := pkgRun(t, dir, nil, time.Minute, sa, "verify", path); !strings.Contains(out, "ProtectHmoe") {
			t.Errorf("systemd-analyze verify did not report the unknown key ProtectHmoe:\n%s", out)
		}
	})

	t.Run("security exposure", func(t *testing.T) {
		path := writeUnit(t, "tcpping_exporter.service", unit)
		out := pkgRun(t, dir, nil, time.Minute, sa, "security", "--offline=yes", path)
		m := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no exposure level in systemd-analyze security output:\n%s", out)
		}
		// 0 is fully locked down, 10 fully exposed; systemd calls up to
		// 2.0 "OK".
		if level, _ := strconv.ParseFloat(m[1], 64); level > 2.0 {
			t.Errorf("exposure level %s, want at most 2.0:\n%s", m[1], out)
		}
	})
}
