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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tcpping/tcpping_exporter/internal/history"
	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// selfSignedCert writes a fresh self-signed certificate for 127.0.0.1 and
// its key into dir and returns their paths and a pool that trusts it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tcpping test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := writeFile(t, dir, "web.yml", fmt.Sprintf(`tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  prometheus: %s
`, certFile, keyFile, hash))
	p, web, _ := startSelf(t, dir, "--web.config.file="+webCfg)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := fmt.Sprintf("https://127.0.0.1:%d/metrics", web)
	get := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for get("prometheus", "s3cret") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("TLS endpoint never answered 200 with the right credentials")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tests := []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "prometheus", "nope", http.StatusUnauthorized},
		{"unknown user", "admin", "s3cret", http.StatusUnauthorized},
		{"right credentials", "prometheus", "s3cret", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.user, tt.pass); got != tt.want {
				t.Errorf("HTTP %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("plain HTTP is refused", func(t *testing.T) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", web))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Error("plain HTTP scrape succeeded on a TLS listener")
			}
		}
	})
	t.Run("metrics over TLS", func(t *testing.T) {
		authed := &http.Client{Timeout: 5 * time.Second, Transport: basicAuth{client.Transport, "prometheus", "s3cret"}}
		waitMetric(t, authed, url, "tcp_echo_received_total", map[string]string{"target": "self"}, 1)
	})
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}

// basicAuth adds credentials to every request.
type basicAuth struct {
	next       http.RoundTripper
	user, pass string
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.pass)
	return b.next.RoundTrip(r)
}

// runBinary runs the exporter to completion and returns its exit code and
// output.
func runBinary(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	// Bounded: a command that never ends (one reading an endless config
	// file) fails its test rather than the whole run's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%v did not end within a minute; output:\n%s", args, out)
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

func TestConfigCheckAndStartupErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yml", selfConfig(4000))
	bad := writeFile(t, dir, "bad.yml", "modules:\n  fast:\n    tos: 300\n")
	typo := writeFile(t, dir, "typo.yml", "targets:\n  - name: a\n    adress: 127.0.0.1:4000\n")
	// 10.0.0.256 is no IPv4 address, nor a host name (RFC 1123: a host
	// name's top-level label is never numeric).
	badIP := writeFile(t, dir, "badip.yml", "targets:\n  - name: a\n    address: 10.0.0.256:4000\n")
	// Valid YAML that Prometheus' HTTP discoverer cannot be made from.
	noCA := writeFile(t, dir, "noca.yml", "discovery:\n  - name: web\n    http_sd_configs: [{url: \"http://127.0.0.1:1/sd\", tls_config: {ca_file: missing.pem}}]\n")
	// YAML reads ~, null and an empty key as null, not as text: no name.
	nullKey := writeFile(t, dir, "nullkey.yml", "modules:\n  ~:\n    interval: 1s\n")
	nullWord := writeFile(t, dir, "nullword.yml", "modules:\n  fast:\n    interval: 1s\n  null:\n    interval: 2s\n")
	emptyKey := writeFile(t, dir, "emptykey.yml", "modules:\n  \"\":\n    interval: 1s\n")
	quotedTilde := writeFile(t, dir, "quotedtilde.yml", "modules:\n  \"~\":\n    interval: 1s\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"module key null as ~", []string{"--config.check", "--config.file=" + nullKey}, 1, []string{"FAILED", "module key ~ (line 2): name"}},
		{"module key null as null", []string{"--config.check", "--config.file=" + nullWord}, 1, []string{"FAILED", "module key null (line 4): name"}},
		{"module key empty", []string{"--config.check", "--config.file=" + emptyKey}, 1, []string{"FAILED", `module "" (line 2): name: required`}},
		{"module key ~ quoted", []string{"--config.check", "--config.file=" + quotedTilde}, 0, []string{"OK: 2 modules"}},
		{"startup with a null module key", []string{"--config.file=" + nullKey, "--web.listen-address=127.0.0.1:0", "--no-echo"}, 1, []string{"module key ~ (line 2)"}},
		// An endless file: it used to be read until memory ran out.
		{"endless config file", []string{"--config.check", "--config.file=/dev/zero"}, 1, []string{"FAILED", "/dev/zero", "32 MiB"}},
		{"startup with an endless config file", []string{"--config.file=/dev/zero", "--web.listen-address=127.0.0.1:0", "--no-echo"}, 1, []string{"/dev/zero", "32 MiB"}},
		{"valid file", []string{"--config.check", "--config.file=" + good}, 0, []string{"OK"}},
		{"out of range value", []string{"--config.check", "--config.file=" + bad}, 1, []string{"tos", "fast"}},
		{"unknown key", []string{"--config.check", "--config.file=" + typo}, 1, []string{"adress", `"a"`}},
		{"mistyped IPv4 address", []string{"--config.check", "--config.file=" + badIP}, 1, []string{`target "a": address`, "10.0.0.256"}},
		{"missing explicit file", []string{"--config.check", "--config.file=" + filepath.Join(dir, "nope.yml")}, 1, []string{"nope.yml"}},
		{"missing default file", []string{"--config.check"}, 0, []string{"not found"}},
		{"discovery source that cannot be made", []string{"--config.check", "--config.file=" + noCA}, 1, []string{`discovery "web"`, "http_sd_configs[0]", "missing.pem"}},
		{"startup with a discovery source that cannot be made", []string{"--config.file=" + noCA, "--web.listen-address=127.0.0.1:0", "--no-echo"}, 1, []string{`discovery \"web\"`, "http_sd_configs[0]"}}, // logfmt quotes the quotes
		{"startup with missing explicit file", []string{"--config.file=" + filepath.Join(dir, "nope.yml"),
			"--web.listen-address=127.0.0.1:0", "--no-echo"}, 1, []string{"nope.yml"}},
		{"startup with invalid file", []string{"--config.file=" + bad, "--web.listen-address=127.0.0.1:0", "--no-echo"}, 1, []string{"tos"}},
		{"bad log format", []string{"--log.format=xml", "--no-echo", "--web.listen-address=127.0.0.1:0"}, 2, []string{"log.format", "xml"}},
		{"bad allowed network", []string{"--echo.allowed-network=10.0.0.0/33", "--echo.listen-address=127.0.0.1:0",
			"--web.listen-address=127.0.0.1:0", "--config.file=" + good}, 2, []string{"--echo.allowed-network", "10.0.0.0/33"}},
		{"negative echo connection cap", []string{"--echo.max-connections=-1", "--echo.listen-address=127.0.0.1:0",
			"--web.listen-address=127.0.0.1:0", "--config.file=" + good}, 2, []string{"--echo.max-connections", "negative"}},
		{"version", []string{"--version"}, 0, []string{"tcpping_exporter, version", "go version"}},
		{"telemetry path on another route", []string{"--web.telemetry-path=/probe", "--no-echo", "--web.listen-address=127.0.0.1:0"}, 2, []string{"web.telemetry-path", "/probe"}},
		{"relative telemetry path", []string{"--web.telemetry-path=metrics", "--no-echo", "--web.listen-address=127.0.0.1:0"}, 2, []string{"must start with /"}},
		// A malformed flag value names its flag (kingpin alone names none)
		// and an integer flag takes only integers.
		{"malformed duration flag", []string{"--probe.idle-timeout=15", "--config.check", "--config.file=" + good}, 2, []string{"--probe.idle-timeout", `"15"`}},
		{"malformed integer flag", []string{"--echo.max-connections=many", "--config.check", "--config.file=" + good}, 2, []string{"--echo.max-connections", `"many"`}},
		{"fractional integer flag", []string{"--probe.max-dynamic-targets=0.5", "--config.check", "--config.file=" + good}, 2, []string{"--probe.max-dynamic-targets", `"0.5"`}},
		// Negative, these would read as 0 (no dynamic targets) and as
		// never stopping one.
		{"negative dynamic target cap", []string{"--probe.max-dynamic-targets=-1", "--config.check", "--config.file=" + good}, 2, []string{"--probe.max-dynamic-targets", "negative"}},
		{"negative probe idle timeout", []string{"--probe.idle-timeout=-1m", "--config.check", "--config.file=" + good}, 2, []string{"--probe.idle-timeout", "negative"}},
		// Each prober keeps --web.history in memory, 8 bytes a minute: a
		// year of it was 4 MiB a target, and past 2562047h (the longest
		// Go duration, less a minute) the exporter panicked at its
		// first probe.
		{"history of a week", []string{"--web.history=168h", "--config.check", "--config.file=" + good}, 0, []string{"OK"}},
		{"history over a week", []string{"--web.history=169h", "--config.check", "--config.file=" + good}, 2, []string{"--web.history", "at most 168h", "169h"}},
		{"history of the longest duration", []string{"--web.history=2562047h47m16s", "--config.check", "--config.file=" + good}, 2, []string{"--web.history", "at most 168h"}},
		{"telemetry path on the favicon", []string{"--web.telemetry-path=/favicon.ico", "--no-echo", "--web.listen-address=127.0.0.1:0"}, 2, []string{"web.telemetry-path", "/favicon.ico endpoint"}},
		// A command-line error is one whatever else the command line asks
		// for: --config.check, in a unit's ExecStartPre= with the flags of
		// its ExecStart=, must not pass flags the exporter then refuses.
		{"bad log level with --config.check", []string{"--log.level=trace", "--config.check", "--config.file=" + good}, 2, []string{"--log.level", `"trace"`}},
		{"bad log format with --config.check", []string{"--log.format=text", "--config.check", "--config.file=" + good}, 2, []string{"--log.format", `"text"`}},
		{"bad telemetry path with --config.check", []string{"--web.telemetry-path=/probe", "--config.check", "--config.file=" + good}, 2, []string{"--web.telemetry-path", "/probe endpoint"}},
		// net/http redirects a request for such a path to its clean
		// form, which is not the metrics endpoint: no scrape could reach it.
		{"telemetry path with an empty segment", []string{"--web.telemetry-path=//metrics", "--config.check", "--config.file=" + good}, 2, []string{"--web.telemetry-path", `"//metrics"`, "/metrics"}},
		{"telemetry path with a dot-dot segment", []string{"--web.telemetry-path=/a/../metrics", "--config.check", "--config.file=" + good}, 2, []string{"--web.telemetry-path", `"/a/../metrics"`}},
		{"telemetry path with a dot segment", []string{"--web.telemetry-path=/metrics/.", "--config.check", "--config.file=" + good}, 2, []string{"--web.telemetry-path", `"/metrics/."`}},
		{"telemetry path with a trailing slash", []string{"--web.telemetry-path=/metrics/", "--config.check", "--config.file=" + good}, 0, []string{"OK"}},
		{"bad allowed target with --config.check", []string{"--probe.allowed-target=10.0.0.0/33", "--config.check", "--config.file=" + good}, 2, []string{"--probe.allowed-target", "10.0.0.0/33"}},
		// The echo server's flags too, though --config.check and ping
		// start no echo server: they used to be checked only as it
		// started (exit code 1), so --config.check passed them.
		{"bad allowed network with --config.check", []string{"--echo.allowed-network=10.0.0.0/33", "--config.check", "--config.file=" + good}, 2, []string{"--echo.allowed-network", "10.0.0.0/33"}},
		{"allowed network that is no CIDR with --config.check", []string{"--echo.allowed-network=bogus", "--config.check", "--config.file=" + good}, 2, []string{"--echo.allowed-network", "bogus"}},
		{"negative echo connection cap with --config.check", []string{"--echo.max-connections=-1", "--config.check", "--config.file=" + good}, 2, []string{"--echo.max-connections", "negative"}},
		{"negative echo idle timeout with --config.check", []string{"--echo.idle-timeout=-1s", "--config.check", "--config.file=" + good}, 2, []string{"--echo.idle-timeout", "negative"}},
		{"negative echo idle timeout as its own argument", []string{"--echo.idle-timeout", "-1s", "--config.check", "--config.file=" + good}, 2, []string{"--echo.idle-timeout", "negative"}},
		{"bad allowed network with --no-echo", []string{"--echo.allowed-network=bogus", "--no-echo", "--config.check", "--config.file=" + good}, 2, []string{"--echo.allowed-network", "bogus"}},
		{"bad allowed network with ping", []string{"--echo.allowed-network=bogus", "ping", "-c", "1", "127.0.0.1:1"}, 2, []string{"--echo.allowed-network", "bogus"}},
		// 0 means no limit and the default idle timeout (CONFIGURATION.md).
		{"echo connection cap and idle timeout of 0", []string{"--echo.max-connections=0", "--echo.idle-timeout=0", "--config.check", "--config.file=" + good}, 0, []string{"OK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runBinary(t, dir, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tt.wantCode, out)
			}
			// A command-line error is one line.
			if tt.wantCode == 2 && (!strings.HasPrefix(out, "tcpping_exporter: ") || strings.Count(out, "\n") != 1) {
				t.Errorf("a command-line error is not one line \"tcpping_exporter: ...\":\n%s", out)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestMissingDefaultConfigStartsWithDefaults(t *testing.T) {
	dir := t.TempDir() // no tcpping.yml here
	web := testenv.Port(t)
	p := startBinary(t, dir, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web), "--no-echo", "--log.format=json")
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", web)
	mfs := waitMetric(t, http.DefaultClient, url, "tcpping_exporter_config_last_reload_successful", nil, 1)
	if v, _ := testenv.Value(mfs, "tcpping_exporter_probers", map[string]string{"source": "static"}); v != 0 {
		t.Errorf("%v static probers, want 0", v)
	}
	if _, ok := mfs["tcp_echo_server_connections"]; ok {
		t.Error("echo server metrics exported with --no-echo")
	}
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	// Every log line is JSON with the house keys.
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	sawDefault := false
	for _, l := range lines {
		m := jsonLogLine(t, l)
		if m == nil {
			continue
		}
		if strings.Contains(fmt.Sprint(m["msg"]), "not found") {
			sawDefault = true
		}
	}
	if !sawDefault {
		t.Error("missing default config file was not logged")
	}
}

func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	dir := t.TempDir()
	_, web, echoPort := startSelf(t, dir)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcp_echo_received_total", map[string]string{"target": "self"}, 2)
	for _, path := range []string{
		"/metrics",
		fmt.Sprintf("/probe?target=127.0.0.1:%d", echoPort),                // the static prober
		fmt.Sprintf("/probe?target=localhost:%d&module=default", echoPort), // a new dynamic one
	} {
		t.Run(path, func(t *testing.T) {
			_, body, err := scrape(http.DefaultClient, base+path)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(body)
			out, err := cmd.CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}

// jsonLogLine returns log line l of --log.format=json decoded, or nil if
// it is not JSON; it fails the test unless l is JSON with the keys every
// line has (ts, level, msg, caller).
func jsonLogLine(t *testing.T, l string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(l), &m); err != nil {
		t.Errorf("log line is not JSON: %q", l)
		return nil
	}
	if m["ts"] == nil || m["level"] == nil || m["msg"] == nil || m["caller"] == nil {
		t.Errorf("log line lacks ts, level, msg or caller: %q", l)
	}
	return m
}

// TestHelpSaysTheHistoryCap checks that --help gives --web.history's most,
// which the flag refuses to exceed (history.MaxSpan), so that a user
// learns it before the error does.
func TestHelpSaysTheHistoryCap(t *testing.T) {
	cmd := exec.Command(binary, "--help")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "COLUMNS=1000") // a flag's help on one line
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	want := fmt.Sprintf("at most %gh", history.MaxSpan.Hours())
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "--web.history=") {
			if !strings.Contains(line, want) {
				t.Errorf("--web.history's help lacks %q:\n%s", want, line)
			}
			return
		}
	}
	t.Fatalf("no --web.history in --help:\n%s", out)
}

// TestHelpManHeader checks the man page's .TH line: man(7) takes its
// arguments on that one line, and the multi-line --version text there
// made the build details the page's first lines of text.
func TestHelpManHeader(t *testing.T) {
	code, out := runBinary(t, t.TempDir(), "--help-man")
	if code != 0 {
		t.Fatalf("--help-man: exit code %d\n%s", code, out)
	}
	lines := strings.SplitN(out, "\n", 3)
	if len(lines) < 3 || !strings.HasPrefix(lines[0], ".TH tcpping_exporter 1 ") || lines[1] != `.SH "NAME"` {
		t.Errorf("--help-man does not start with one .TH line and then .SH \"NAME\":\n%s", strings.Join(lines[:min(len(lines), 2)], "\n"))
	}
	if strings.Contains(lines[0], "go version") || strings.Contains(lines[0], "(branch:") {
		t.Errorf(".TH line carries the long version text: %s", lines[0])
	}
}

// TestHelpSaysTheCommandIsOptional checks the usage line of --help,
// --help-long and --help-man: the exporter runs without a command (ping
// is the only one), so the line must not read as if one were required.
func TestHelpSaysTheCommandIsOptional(t *testing.T) {
	for _, flag := range []string{"--help", "--help-long", "--help-man"} {
		code, out := runBinary(t, t.TempDir(), flag)
		if code != 0 {
			t.Fatalf("%s: exit code %d\n%s", flag, code, out)
		}
		if strings.Contains(out, " <command> [<args> ...]") || !strings.Contains(out, " [<command>] [<args> ...]") {
			t.Errorf("%s: the usage line does not show the command as optional:\n%s", flag, firstLines(out, 12))
		}
	}
}

// firstLines returns s's first n lines.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(len(lines), n)], "\n")
}
