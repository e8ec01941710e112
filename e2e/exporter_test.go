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
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// process is a running tcpping_exporter.
type process struct {
	cmd    *exec.Cmd
	stderr *testenv.Buffer
	done   chan struct{}
	err    error
}

// startBinary runs the exporter with args; the test's cleanup kills it if
// it still runs.
func startBinary(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	return startExecutable(t, binary, dir, args...)
}

// startExecutable runs the exporter at path bin with args, as startBinary.
func startExecutable(t *testing.T, bin, dir string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	return startCommand(t, cmd)
}

// startCommand starts cmd, an exporter, as startBinary does.
func startCommand(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, stderr: &testenv.Buffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("exporter output:\n%s", p.stderr.String())
		}
	})
	return p
}

// stop sends SIGTERM and returns the exit code and how long exit took.
func (p *process) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("exporter did not exit within 10s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// scrape fetches url and parses the text exposition.
func scrape(client *http.Client, url string) (map[string]*dto.MetricFamily, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, string(body), fmt.Errorf("%s: HTTP %d: %s", url, resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	return mfs, string(body), err
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// selfConfig is a config probing the exporter's own echo port.
func selfConfig(echoPort int) string {
	return fmt.Sprintf(`modules:
  default:
    interval: 100ms
targets:
  - name: self
    address: 127.0.0.1:%d
    labels: {site: local}
`, echoPort)
}

// startSelf starts the binary in dir with selfConfig, its web server and
// echo server on free ports of 127.0.0.1, and extra flags.
func startSelf(t *testing.T, dir string, extra ...string) (p *process, web, echoPort int) {
	t.Helper()
	web, echoPort = testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", selfConfig(echoPort))
	args := append([]string{"--config.file=" + cfg,
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:" + strconv.Itoa(echoPort)}, extra...)
	return startBinary(t, dir, args...), web, echoPort
}

// waitMetric polls url until series name{want} reaches at least min.
func waitMetric(t *testing.T, client *http.Client, url, name string, want map[string]string, minValue float64) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var lastErr error
	for ctx.Err() == nil {
		mfs, _, err := scrape(client, url)
		if err == nil {
			if v, ok := testenv.Value(mfs, name, want); ok && v >= minValue {
				return mfs
			}
			lastErr = fmt.Errorf("%s%v below %v", name, want, minValue)
		} else {
			lastErr = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s%v >= %v: %v", name, want, minValue, lastErr)
	return nil
}

func TestBinaryServesMetricsAndStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	p, web, echoPort := startSelf(t, dir)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
	self := map[string]string{"target": "self", "address": fmt.Sprintf("127.0.0.1:%d", echoPort), "module": "default", "site": "local"}
	mfs := waitMetric(t, http.DefaultClient, url, "tcp_echo_received_total", self, 3)

	for _, name := range []string{
		"tcp_echo_sent_total", "tcp_echo_received_total", "tcp_echo_timeouts_total", "tcp_echo_dropped_total",
		"tcp_echo_rtt_seconds", "tcp_echo_last_rtt_seconds", "tcp_echo_connected", "tcp_echo_estimated_timeout_seconds",
		"tcp_echo_late_total", "tcp_echo_smoothed_rtt_seconds", "tcp_echo_connect_duration_seconds",
		"tcp_echo_retransmits_total", "tcp_echo_in_flight",
	} {
		if _, ok := testenv.Value(mfs, name, self); !ok {
			t.Errorf("%s%v missing", name, self)
		}
	}
	if v, _ := testenv.Value(mfs, "tcp_echo_connected", self); v != 1 {
		t.Errorf("tcp_echo_connected = %v, want 1", v)
	}
	// The echo server counts a frame once its write has returned, which
	// may be after the prober has read the reply and counted it: a scrape
	// can see 3 replies received and 2 frames echoed. It has echoed every
	// reply received, so the count must reach 3.
	mfs = waitMetric(t, http.DefaultClient, url, "tcp_echo_server_frames_total", nil, 3)
	selfMetrics := []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"tcpping_exporter_build_info", nil, 1},
		{"tcpping_exporter_config_last_reload_successful", nil, 1},
		{"tcpping_exporter_config_last_reload_success_timestamp_seconds", nil, 1},
		{"tcpping_exporter_probers", map[string]string{"source": "static"}, 1},
		{"tcpping_exporter_probers", map[string]string{"source": "dynamic"}, 0},
		{"tcp_echo_server_connections", nil, 1},
		{"tcp_echo_server_accepted_total", nil, 1},
		{"tcp_echo_server_frames_total", nil, 3},
		{"tcp_echo_server_rejected_total", map[string]string{"reason": "bad_magic"}, 0},
		{"go_goroutines", nil, 1},
		{"process_open_fds", nil, 1},
	}
	for _, m := range selfMetrics {
		if v, ok := testenv.Value(mfs, m.name, m.labels); !ok || v < m.min {
			t.Errorf("%s%v = %v (present %v), want >= %v", m.name, m.labels, v, ok, m.min)
		}
	}
	code, took := p.stop(t)
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if took > 5*time.Second {
		t.Errorf("shutdown took %v, want under 5s", took)
	}
}
