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
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// do sends a request of method to u and returns the answer's code, Allow
// header and body.
func do(t *testing.T, method, u string) (code int, allow, body string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Allow"), string(b)
}

// TestEndpointMethods: every endpoint answers the methods it does not
// take with 405 and an Allow header naming those it does, and HEAD where
// it takes GET; an unknown path is 404 whatever the method.
func TestEndpointMethods(t *testing.T) {
	dir := t.TempDir()
	p, web, echoPort := startSelf(t, dir)
	defer p.stop(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	waitHealthy(t, base+"/-/healthy", 15*time.Second)

	getPaths := []string{"/", "/metrics", fmt.Sprintf("/probe?target=127.0.0.1:%d", echoPort),
		"/graph?target=self", "/target?target=self", "/config", "/-/healthy", "/favicon.ico"}
	for _, path := range getPaths {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			if code, _, _ := do(t, m, base+path); code != http.StatusOK {
				t.Errorf("%s %s: HTTP %d, want 200", m, path, code)
			}
		}
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodPatch} {
			code, allow, body := do(t, m, base+path)
			if code != http.StatusMethodNotAllowed || allow != "GET, HEAD" || strings.Count(strings.TrimSpace(body), "\n") != 0 {
				t.Errorf("%s %s: HTTP %d, Allow %q, body %q; want 405, Allow \"GET, HEAD\" and a one-line reason", m, path, code, allow, firstLine(body))
			}
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		if code, allow, _ := do(t, m, base+"/-/reload"); code != http.StatusMethodNotAllowed || allow != http.MethodPost {
			t.Errorf("%s /-/reload: HTTP %d, Allow %q; want 405 and Allow: POST", m, code, allow)
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if code, _, _ := do(t, m, base+"/no/such/page"); code != http.StatusNotFound {
			t.Errorf("%s /no/such/page: HTTP %d, want 404", m, code)
		}
	}
}

// TestQueryErrors: a query that does not decode, or that gives a
// parameter twice, is answered 400 with a one-line reason that says so,
// on every endpoint that reads parameters.
func TestQueryErrors(t *testing.T) {
	dir := t.TempDir()
	p, web, echoPort := startSelf(t, dir)
	defer p.stop(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	waitHealthy(t, base+"/-/healthy", 15*time.Second)
	target := fmt.Sprintf("127.0.0.1:%d", echoPort)
	tests := []struct{ path, want string }{
		{"/probe?target=%zz", `invalid URL escape "%zz"`},
		{"/probe?target=" + target + "&module=%e", `invalid URL escape "%e"`},
		{"/probe?target=" + target + "&target=127.0.0.1:1", "target: given 2 times"},
		{"/probe?target=" + target + "&debug=true&debug=false", "debug: given 2 times"},
		{"/probe?target=" + target + "&module=default&module=other", "module: given 2 times"},
		{"/graph?target=%zz", `invalid URL escape "%zz"`},
		{"/graph?target=self&target=other", "target: given 2 times"},
		{"/graph?target=self&range=1h&range=2h", "range: given 2 times"},
		{"/target?target=%zz", `invalid URL escape "%zz"`},
		{"/target?target=self&module=default&module=x", "module: given 2 times"},
		{"/?sort=%zz", `invalid URL escape "%zz"`},
		{"/?sort=rtt&sort=loss", "sort: given 2 times"},
	}
	for _, tt := range tests {
		code, _, body := do(t, http.MethodGet, base+tt.path)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.want) || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("GET %s: HTTP %d %q; want 400 and a one-line reason with %q", tt.path, code, firstLine(body), tt.want)
		}
	}
}

// TestWebConfigErrorsNameTheFile: a --web.config.file that is not valid
// stops the exporter at startup with an error that names the file, before
// the echo server listens.
func TestWebConfigErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"bad-yaml.yml", "tls_server_config: [\n", "did not find expected node content"},
		{"bad-hash.yml", "basic_auth_users:\n  prometheus: not-a-bcrypt-hash\n", "bcrypt"},
		{"no-cert.yml", "tls_server_config:\n  cert_file: missing.pem\n  key_file: missing.key\n", "missing.pem"},
	}
	for _, tt := range tests {
		file := writeFile(t, dir, tt.name, tt.content)
		code, out := runBinary(t, dir, "--config.file="+writeFile(t, dir, "tcpping.yml", "targets: []\n"),
			"--web.config.file="+file, "--web.listen-address=127.0.0.1:0", "--echo.listen-address=127.0.0.1:0")
		if code != 1 || !strings.Contains(out, "--web.config.file "+file+": ") || !strings.Contains(out, tt.want) ||
			strings.Contains(out, "echo server listening") {
			t.Errorf("%s: exit %d, output:\n%s\nwant exit 1 and an error naming --web.config.file %s and %q, before the echo server listens", tt.name, code, out, file, tt.want)
		}
		// --config.check, run before the service with its command line
		// (ExecStartPre), must not pass what the service refuses.
		code, out = runBinary(t, dir, "--config.check", "--config.file="+filepath.Join(dir, "tcpping.yml"), "--web.config.file="+file)
		if code != 1 || !strings.Contains(out, "web config "+file+": FAILED: ") || !strings.Contains(out, tt.want) {
			t.Errorf("%s: --config.check: exit %d, output:\n%s\nwant exit 1 and \"web config %s: FAILED: ...%s\"", tt.name, code, out, file, tt.want)
		}
	}
}

// TestTokenURLPasswordIsNeverShown: an http_sd oauth2 token_url with a
// password that does not parse as a URL is a config error that names the
// key, not the password. Prometheus does not parse token_url when it
// loads the config: it was accepted, shown as written on /config, and
// every refresh logged url.Parse's error, password included.
func TestConfigCheckSaysTheWebConfigIsOK(t *testing.T) {
	dir := t.TempDir()
	web := writeFile(t, dir, "web.yml", "http_server_config:\n  http2: false\n")
	cfg := writeFile(t, dir, "tcpping.yml", "targets: []\n")
	code, out := runBinary(t, dir, "--config.check", "--config.file="+cfg, "--web.config.file="+web)
	if code != 0 || !strings.Contains(out, "config "+cfg+": OK: ") || !strings.Contains(out, "web config "+web+": OK") {
		t.Errorf("--config.check with a good web config: exit %d, output:\n%s\nwant exit 0, the config's OK line and \"web config %s: OK\"", code, out, web)
	}
}

func TestTokenURLPasswordIsNeverShown(t *testing.T) {
	const secret = "s3cr"
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yml", "discovery:\n  - name: web\n    http_sd_configs:\n"+
		"      - url: http://127.0.0.1:1/sd\n"+
		"        oauth2: {client_id: c, client_secret: x, token_url: \"http://tok:"+secret+"%zz@127.0.0.1:1/t\"}\n")
	code, out := runBinary(t, dir, "--config.check", "--config.file="+bad)
	if code != 1 || !strings.Contains(out, `discovery "web": http_sd_configs[0]: oauth2.token_url: does not parse as a URL`) ||
		strings.Contains(out, secret) {
		t.Errorf("--config.check: exit code %d, want 1 and oauth2's token_url named without the password %q:\n%s", code, secret, out)
	}
}
