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
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// chromium runs headless Chromium on url with the flags that keep it off
// the network, and returns the DOM after load and Chromium's log.
func chromium(t *testing.T, url string, extra ...string) (dom, log string) {
	t.Helper()
	bin := requireTool(t, "chromium", "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out), stderr.String()
}

func TestLandingPageInChromium(t *testing.T) {
	requireTool(t, "chromium", "chromium")
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", fmt.Sprintf(`modules:
  default: {interval: 100ms}
targets:
  - {name: alpha, address: "127.0.0.1:%d"}
  - {name: "<b>beta</b>", address: "127.0.0.2:%d"}
`, echoPort, echoPort))
	startBinary(t, dir, "--config.file="+cfg, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort), "--echo.listen-address=127.0.0.2:"+strconv.Itoa(echoPort))
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcp_echo_received_total", map[string]string{"target": "alpha"}, 2)
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcp_echo_received_total", map[string]string{"target": "<b>beta</b>"}, 2)

	dom, log := chromium(t, base+"/", "--dump-dom")
	if !strings.Contains(dom, `<table id="probers">`) {
		t.Fatalf("no prober table in the page:\n%s", dom)
	}
	for _, want := range []string{
		"<td>alpha</td>", fmt.Sprintf("<td>127.0.0.1:%d</td>", echoPort),
		"<td>&lt;b&gt;beta&lt;/b&gt;</td>", // names are escaped, not markup
		"<td>static</td>", "<td>yes</td>", "debug=true",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(dom, "<b>beta</b>") {
		t.Error("target name injected as HTML")
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}
	shot := filepath.Join(dir, "landing.png")
	chromium(t, base+"/", "--screenshot="+shot, "--window-size=1400,700")
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot: %v", err)
	}
	if os.Getenv("TCPPING_KEEP_SCREENSHOT") != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(os.Getenv("TCPPING_KEEP_SCREENSHOT"), data, 0o644)
	}

	// The debug link of a row works.
	code, body := testenv.Get(t, base+"/probe?debug=true&module=default&target="+fmt.Sprintf("127.0.0.1:%d", echoPort), nil)
	if code != http.StatusOK || !strings.Contains(body, "Prober alpha (static)") {
		t.Errorf("debug link: HTTP %d\n%s", code, body)
	}
	// /config shows the loaded config, /-/healthy answers.
	if code, body := testenv.Get(t, base+"/config", nil); code != http.StatusOK || !strings.Contains(body, "alpha") || !strings.Contains(body, "interval: 100ms") {
		t.Errorf("/config: HTTP %d\n%s", code, body)
	}
	if code, _ := testenv.Get(t, base+"/-/healthy", nil); code != http.StatusOK {
		t.Errorf("/-/healthy: HTTP %d", code)
	}
}
