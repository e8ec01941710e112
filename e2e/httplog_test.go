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
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFailedHandshakesDoNotFloodTheLog sends plain HTTP, as fast as it
// can, to the exporter's TLS listener: 500 clients whose handshakes the
// HTTP server fails. What it logs of them must be lines of the exporter's
// log format (here JSON with ts, level, caller and msg), and few: at most
// one a second at Warn, as the echo server logs the clients it rejects.
func TestFailedHandshakesDoNotFloodTheLog(t *testing.T) {
	const clients = 500
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	webCfg := writeFile(t, dir, "web.yml", fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", certFile, keyFile))
	p, web, _ := startSelf(t, dir, "--web.config.file="+webCfg, "--log.format=json")
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitMetric(t, client, fmt.Sprintf("https://127.0.0.1:%d/metrics", web), "tcpping_exporter_config_last_reload_successful", nil, 1)

	start := time.Now()
	address := fmt.Sprintf("127.0.0.1:%d", web)
	for i := range clients {
		c, err := net.DialTimeout("tcp", address, 5*time.Second)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
		_, _ = io.Copy(io.Discard, c) // until the server closes it
		c.Close()
	}
	took := time.Since(start)
	// The last handshake's error is logged after its connection closes.
	time.Sleep(500 * time.Millisecond)
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}

	handshakes := 0
	for _, l := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		if strings.Contains(l, "handshake") {
			handshakes++
		}
		jsonLogLine(t, l)
	}
	if limit := int(took/time.Second) + 2; handshakes == 0 || handshakes > limit {
		t.Errorf("%d lines about failed handshakes for %d clients in %v, want 1 to %d (one a second)", handshakes, clients, took.Round(time.Millisecond), limit)
	}
}
