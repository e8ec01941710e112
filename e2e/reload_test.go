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
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// debugLocalAddr returns the local address of a prober's connection from
// /probe?debug=true.
func debugLocalAddr(t *testing.T, base, target string) string {
	t.Helper()
	code, body := testenv.Get(t, base+"/probe?debug=true&target="+target, nil)
	if code != http.StatusOK {
		t.Fatalf("debug: HTTP %d: %s", code, body)
	}
	m := regexp.MustCompile(`local address:\s+(\S+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no local address in debug output:\n%s", body)
	}
	return m[1]
}

func post(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReloadReconcilesWithoutLosingCounters(t *testing.T) {
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	echoA := fmt.Sprintf("127.0.0.1:%d", echoPort)
	echoB := fmt.Sprintf("127.0.0.2:%d", echoPort)
	echoC := fmt.Sprintf("127.0.0.3:%d", echoPort)
	config := func(targets string) string {
		return "modules:\n  default:\n    interval: 50ms\n  other:\n    interval: 50ms\ntargets:\n" + targets
	}
	cfgFile := writeFile(t, dir, "tcpping.yml", config(fmt.Sprintf(`  - {name: a, address: "%s", labels: {site: x}}
  - {name: b, address: "%s"}
  - {name: gone, address: "%s"}
`, echoA, echoB, echoC)))
	p := startBinary(t, dir, "--config.file="+cfgFile, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort),
		"--echo.listen-address=127.0.0.2:"+strconv.Itoa(echoPort),
		"--echo.listen-address=127.0.0.3:"+strconv.Itoa(echoPort))
	metrics := base + "/metrics"
	mfs := waitMetric(t, http.DefaultClient, metrics, "tcp_echo_received_total", map[string]string{"target": "a"}, 5)
	waitMetric(t, http.DefaultClient, metrics, "tcp_echo_received_total", map[string]string{"target": "b"}, 1)
	portA := debugLocalAddr(t, base, echoA)
	portB := debugLocalAddr(t, base, echoB)
	sentA, _ := testenv.Value(mfs, "tcp_echo_sent_total", map[string]string{"target": "a"})
	ts1, _ := testenv.Value(mfs, "tcpping_exporter_config_last_reload_success_timestamp_seconds", nil)

	t.Run("GET is not allowed", func(t *testing.T) {
		if code, _ := testenv.Get(t, base+"/-/reload", nil); code != http.StatusMethodNotAllowed {
			t.Errorf("GET /-/reload: HTTP %d, want 405", code)
		}
	})

	// a unchanged, b's labels change, gone is removed, new is added.
	writeFile(t, dir, "tcpping.yml", config(fmt.Sprintf(`  - {name: a, address: "%s", labels: {site: x}}
  - {name: b, address: "%s", labels: {site: y}}
  - {name: new, address: "%s", module: other}
`, echoA, echoB, echoC)))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	mfs = waitMetric(t, http.DefaultClient, metrics, "tcp_echo_received_total", map[string]string{"target": "new"}, 1)
	if _, ok := testenv.Value(mfs, "tcp_echo_sent_total", map[string]string{"target": "gone"}); ok {
		t.Error("removed target's series still on /metrics")
	}
	if v, _ := testenv.Value(mfs, "tcp_echo_sent_total", map[string]string{"target": "a"}); v < sentA {
		t.Errorf("unchanged target's sent went back from %v to %v", sentA, v)
	}
	if v, _ := testenv.Value(mfs, "tcp_echo_dropped_total", map[string]string{"target": "a"}); v != 0 {
		t.Errorf("unchanged target dropped %v connections", v)
	}
	if got := debugLocalAddr(t, base, echoA); got != portA {
		t.Errorf("unchanged target's connection changed: local %s, was %s", got, portA)
	}
	if got := debugLocalAddr(t, base, echoB); got == portB {
		t.Errorf("changed target b kept its connection %s", got)
	}
	if _, ok := testenv.Value(mfs, "tcp_echo_sent_total", map[string]string{"target": "b", "site": "y"}); !ok {
		t.Error("changed target b lacks its new label")
	}
	if ts2, _ := testenv.Value(mfs, "tcpping_exporter_config_last_reload_success_timestamp_seconds", nil); ts2 <= ts1 {
		t.Errorf("reload timestamp %v not after %v", ts2, ts1)
	}

	// A bad config is refused; the running one stays.
	writeFile(t, dir, "tcpping.yml", config("  - {name: a, address: nowhere}\n"))
	code, body := post(t, base+"/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, "address") {
		t.Errorf("bad reload: HTTP %d %q, want 500 naming the key", code, body)
	}
	_, text, _ := scrape(http.DefaultClient, metrics)
	if !strings.Contains(text, "tcpping_exporter_config_last_reload_successful 0") {
		t.Error("last_reload_successful is not 0 after a failed reload")
	}
	if !strings.Contains(text, `target="new"`) {
		t.Error("the running config was dropped by a failed reload")
	}
	if got := debugLocalAddr(t, base, echoA); got != portA {
		t.Errorf("failed reload touched target a's connection")
	}

	// Fixing it restores success.
	writeFile(t, dir, "tcpping.yml", config(fmt.Sprintf("  - {name: a, address: \"%s\", labels: {site: x}}\n", echoA)))
	if code, body := post(t, base+"/-/reload"); code != http.StatusOK {
		t.Errorf("good reload: HTTP %d %q", code, body)
	}
	_, text, _ = scrape(http.DefaultClient, metrics)
	if !strings.Contains(text, "tcpping_exporter_config_last_reload_successful 1") {
		t.Error("last_reload_successful is not 1 after a good reload")
	}
	if strings.Contains(text, `target="b"`) {
		t.Error("removed target b still exported")
	}
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestSIGHUPDuringStartup sends SIGHUP as soon as the exporter has logged
// that it is starting, before it serves: as with `systemctl reload` right
// after `systemctl start`. The signal must not kill it (SIGHUP's default
// action); it reloads the config once it runs.
func TestSIGHUPDuringStartup(t *testing.T) {
	dir := t.TempDir()
	p, web, _ := startSelf(t, dir)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), "starting tcpping_exporter") {
		if time.Now().After(deadline) {
			t.Fatal("the exporter did not log that it is starting")
		}
		time.Sleep(time.Millisecond)
	}
	survivesSIGHUP(t, p, web, deadline, "during startup")
}

// survivesSIGHUP sends SIGHUP to the exporter p, which serves on port
// web, and checks that it is not killed but reloads (its initial load and
// the reload make two "config loaded" lines by deadline), that the reload
// succeeded, and that the exporter then stops cleanly. when says when the
// signal came, for the failures.
func survivesSIGHUP(t *testing.T, p *process, web int, deadline time.Time, when string) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for strings.Count(p.stderr.String(), `msg="config loaded"`) < 2 {
		select {
		case <-p.done:
			t.Fatalf("the exporter exited on SIGHUP %s: %v", when, p.err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP %s", when)
		}
	}
	waitMetric(t, http.DefaultClient, fmt.Sprintf("http://127.0.0.1:%d/metrics", web),
		"tcpping_exporter_config_last_reload_successful", nil, 1)
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestSIGHUPWhilePackagesInitialise sends SIGHUP as soon as the first
// package of this module has been initialised (GODEBUG=inittrace=1 says
// when), long before main runs: as with `systemctl reload` right after
// `systemctl start`, most of whose startup the process spends initialising
// packages. The signal must not kill it; it reloads the config once it
// runs.
func TestSIGHUPWhilePackagesInitialise(t *testing.T) {
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", selfConfig(echoPort))
	cmd := exec.Command(binary, "--config.file="+cfg,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	p := startCommand(t, cmd)
	const ours = "init github.com/tcpping/tcpping_exporter/"
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), ours) {
		if time.Now().After(deadline) {
			t.Fatal("no package of this module was initialised")
		}
		time.Sleep(100 * time.Microsecond)
	}
	survivesSIGHUP(t, p, web, deadline, "while its packages were initialised")
}

// TestManyReloadsLeakNothing reloads 51 times in a row, cycling through a
// config with one more static target and a discovery entry, a bad config
// and the first config again, and checks that the exporter is back to the
// goroutines and open files it had before, and that the target unchanged
// throughout kept its connection and counters.
func TestManyReloadsLeakNothing(t *testing.T) {
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	self := fmt.Sprintf("127.0.0.1:%d", echoPort)
	first := fmt.Sprintf("modules:\n  default: {interval: 100ms}\n  other: {interval: 100ms}\ntargets:\n  - {name: self, address: %q}\n", self)
	writeFile(t, dir, "sd.json", fmt.Sprintf(`[{"targets": [%q], "labels": {"__module__": "other"}}]`, self))
	configs := []struct {
		text     string
		wantCode int
	}{
		{first + fmt.Sprintf("  - {name: more, address: %q, labels: {n: x}}\n", self) +
			"discovery:\n  - name: files\n    module: other\n    file_sd_configs: [{files: [sd.json]}]\n", http.StatusOK},
		{first + "  - {name: broken, address: nowhere}\n", http.StatusInternalServerError},
		{first, http.StatusOK},
	}
	cfg := writeFile(t, dir, "tcpping.yml", first)
	p := startBinary(t, dir, "--config.file="+cfg, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address="+self)
	metrics := base + "/metrics"
	mfs := waitMetric(t, http.DefaultClient, metrics, "tcp_echo_received_total", map[string]string{"target": "self"}, 3)
	goroutines, _ := testenv.Value(mfs, "go_goroutines", nil)
	fds, _ := testenv.Value(mfs, "process_open_fds", nil)
	sent, _ := testenv.Value(mfs, "tcp_echo_sent_total", map[string]string{"target": "self"})
	local := debugLocalAddr(t, base, self)

	for i := range 17 {
		for j, c := range configs {
			writeFile(t, dir, "tcpping.yml", c.text)
			if code, body := post(t, base+"/-/reload"); code != c.wantCode {
				t.Fatalf("reload %d: HTTP %d %q, want %d", 3*i+j, code, body, c.wantCode)
			}
		}
	}

	// The last config is the first: what the reloads started has stopped
	// within a few seconds (a discovery entry's goroutines end after its
	// last update), within a margin for the HTTP connections of this test.
	var g, f float64
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		mfs, _, err := scrape(http.DefaultClient, metrics)
		if err != nil {
			t.Fatal(err)
		}
		g, _ = testenv.Value(mfs, "go_goroutines", nil)
		f, _ = testenv.Value(mfs, "process_open_fds", nil)
		if g <= goroutines+5 && f <= fds+3 {
			if v, _ := testenv.Value(mfs, "tcp_echo_sent_total", map[string]string{"target": "self"}); v < sent {
				t.Errorf("self's sent went back from %v to %v", sent, v)
			}
			if v, _ := testenv.Value(mfs, "tcp_echo_dropped_total", map[string]string{"target": "self"}); v != 0 {
				t.Errorf("self dropped %v connections", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15s after 51 reloads: %v goroutines and %v open files, %v and %v before", g, f, goroutines, fds)
		}
	}
	if got := debugLocalAddr(t, base, self); got != local {
		t.Errorf("self's connection changed: local %s, was %s", got, local)
	}
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestConfigErrorsHideURLPasswords checks that an http_sd_configs URL
// that does not parse, with a password in it, is reported without the
// password, by --config.check and by a failed reload (its answer and its
// log line), as /config and the log show a URL that parses: the password
// is written as given, so a % or # in it that should have been
// percent-encoded is what makes such a URL fail.
func TestConfigErrorsHideURLPasswords(t *testing.T) {
	// url.Parse's error quotes the URL up to its first #: the password's
	// first part.
	const secret = "s3cr"
	dir := t.TempDir()
	bad := fmt.Sprintf("discovery:\n  - name: web\n    http_sd_configs: [{url: \"http://user:%s#t@127.0.0.1:1/sd\"}]\n", secret)
	badFile := writeFile(t, dir, "bad.yml", bad)
	code, out := runBinary(t, dir, "--config.check", "--config.file="+badFile)
	if code != 1 || !strings.Contains(out, `discovery "web": http_sd_configs[0]: url`) || strings.Contains(out, secret) {
		t.Errorf("--config.check: exit code %d, want 1 and the key named without the password %q:\n%s", code, secret, out)
	}

	p, web, _ := startSelf(t, dir)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcpping_exporter_config_last_reload_successful", nil, 1)
	writeFile(t, dir, "tcpping.yml", bad)
	code, body := post(t, base+"/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, "url") || strings.Contains(body, secret) {
		t.Errorf("reload: HTTP %d %q, want 500 naming the key without the password %q", code, body, secret)
	}
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if log := p.stderr.String(); !strings.Contains(log, "reload failed") || strings.Contains(log, secret) {
		t.Errorf("the log lacks the failed reload or has the password %q:\n%s", secret, log)
	}
}

// TestReloadRefusesAnEndlessConfigFile reloads a config file that never
// ends (a link to /dev/zero): reading it used to go on, the memory it took
// growing, and the reload never answered. Now the read stops at the
// limit: POST /-/reload answers an error that names the file and the
// limit, SIGHUP logs it, and the running config keeps probing.
func TestReloadRefusesAnEndlessConfigFile(t *testing.T) {
	dir := t.TempDir()
	p, web, _ := startSelf(t, dir)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcp_echo_received_total", map[string]string{"target": "self"}, 1)
	cfg := dir + "/tcpping.yml"
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", cfg); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(base+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatalf("POST /-/reload: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), cfg) || !strings.Contains(string(body), "32 MiB") {
		t.Errorf("reload: HTTP %d %q, want 500 naming %s and 32 MiB", resp.StatusCode, body, cfg)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(p.stderr.String(), "32 MiB") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(p.stderr.String(), "32 MiB"); n < 2 {
		t.Errorf("the log has %d reload errors naming 32 MiB, want 2 (POST /-/reload and SIGHUP)", n)
	}
	mfs, text, err := scrape(client, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "tcpping_exporter_config_last_reload_successful 0") {
		t.Error("last_reload_successful is not 0 after a failed reload")
	}
	before, _ := testenv.Value(mfs, "tcp_echo_received_total", map[string]string{"target": "self"})
	waitMetric(t, client, base+"/metrics", "tcp_echo_received_total", map[string]string{"target": "self"}, before+1)
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
