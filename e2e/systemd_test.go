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
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
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
			"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
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

// TestSystemdUnitAddressFamilies runs the exporter under the unit's
// RestrictAddressFamilies=, enforced as systemd enforces it (socket(2) of
// another family fails with EAFNOSUPPORT), with the README's mesh setup:
// a discovery entry with exclude_self, whose targets include the
// exporter's own echo server. It must still find itself among them.
func TestSystemdUnitAddressFamilies(t *testing.T) {
	if !canRestrictFamilies {
		t.Skip("the address family restriction is tried with Linux seccomp")
	}
	b, err := os.ReadFile(repoFile(systemdUnit))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RestrictAddressFamilies=(.*)$`).FindAllStringSubmatch(string(b), -1)
	if len(m) != 1 {
		t.Fatalf("%s: want one RestrictAddressFamilies= line, found %d", systemdUnit, len(m))
	}
	families := m[0][1]
	wrapper, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	start := func(t *testing.T, families, dir string, args ...string) *process {
		t.Helper()
		cmd := exec.Command(wrapper, append([]string{binary}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), restrictFamiliesEnv+"="+families)
		return startCommand(t, cmd)
	}

	t.Run("a family left out is refused", func(t *testing.T) {
		// Guards the test below: without AF_INET the exporter cannot listen.
		dir := t.TempDir()
		p := start(t, "AF_UNIX", dir, "--config.file="+writeFile(t, dir, "tcpping.yml", "targets: []\n"),
			"--web.listen-address=127.0.0.1:"+strconv.Itoa(testenv.Port(t)),
			"--echo.listen-address=127.0.0.1:"+strconv.Itoa(testenv.Port(t)))
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			t.Fatal("the exporter runs without AF_INET")
		}
		if out := p.stderr.String(); p.cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out, "address family not supported") {
			t.Errorf("exit code %d, want 1 and EAFNOSUPPORT:\n%s", p.cmd.ProcessState.ExitCode(), out)
		}
	})

	t.Run("exclude_self finds the exporter's own echo server", func(t *testing.T) {
		dir := t.TempDir()
		web, echoPort, other := testenv.Port(t), testenv.Port(t), testenv.Port(t)
		self, peer := "127.0.0.1:"+strconv.Itoa(echoPort), "127.0.0.1:"+strconv.Itoa(other)
		targets := writeFile(t, dir, "targets.json", fmt.Sprintf(`[{"targets": [%q, %q]}]`, self, peer))
		cfg := writeFile(t, dir, "tcpping.yml", fmt.Sprintf(`discovery:
  - name: mesh
    file_sd_configs:
      - files: [%s]
    exclude_self: true
`, targets))
		p := start(t, families, dir, "--config.file="+cfg,
			"--web.listen-address=127.0.0.1:"+strconv.Itoa(web), "--echo.listen-address="+self)
		client := &http.Client{Timeout: 5 * time.Second}
		mfs := waitMetric(t, client, fmt.Sprintf("http://127.0.0.1:%d/metrics", web),
			"tcpping_exporter_discovered_targets", map[string]string{"discovery": "mesh"}, 1)
		if v, _ := testenv.Value(mfs, "tcpping_exporter_discovered_targets", map[string]string{"discovery": "mesh"}); v != 1 {
			t.Errorf("tcpping_exporter_discovered_targets = %v, want 1: %s only, not its own %s", v, peer, self)
		}
		if _, ok := testenv.Value(mfs, "tcp_echo_connected", map[string]string{"address": self}); ok {
			t.Errorf("the exporter probes its own echo server %s", self)
		}
		if out := p.stderr.String(); strings.Contains(out, "cannot list this host's addresses") {
			t.Errorf("under RestrictAddressFamilies=%s:\n%s", families, grepLines(out, "cannot list"))
		}
	})
}
