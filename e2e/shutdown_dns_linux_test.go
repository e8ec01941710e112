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

package e2e

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestShutdownDoesNotWaitForDNSLookup sends SIGTERM while a dns_sd_configs
// lookup waits for a DNS server that does not answer. Prometheus' DNS
// discoverer does not cancel a lookup in flight: it gives up after 2 s per
// server and name of the resolv.conf search list, tens of seconds with a
// pod's resolv.conf and a DNS service down, past systemd's stop timeout or
// Kubernetes' grace period. The exporter must exit without waiting for it.
// Prometheus' discoverer reads /etc/resolv.conf, so the test runs inside a
// network namespace of its own (testenv.RunInNetns) whose DNS server, on
// 127.0.0.1:53, reads queries and answers none.
func TestShutdownDoesNotWaitForDNSLookup(t *testing.T) {
	testenv.RunInNetns(t, "s", "TestShutdownDoesNotWaitForDNSLookupInNamespace")
}

func TestShutdownDoesNotWaitForDNSLookupInNamespace(t *testing.T) {
	if testenv.InNetns() == "" {
		t.Skip("TestShutdownDoesNotWaitForDNSLookup runs this inside its network namespace")
	}
	testenv.CheckResolvConf(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	queries := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case queries <- struct{}{}:
			default:
			}
		}
	}()

	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	cfg := writeFile(t, dir, "tcpping.yml", "discovery:\n  - name: mesh\n"+
		"    dns_sd_configs: [{names: [peers.mesh.test], type: A, port: 4000, refresh_interval: 30s}]\n")
	p := startBinary(t, dir, "--config.file="+cfg,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address=127.0.0.1:"+strconv.Itoa(echoPort))
	select {
	case <-queries:
	case <-time.After(15 * time.Second):
		t.Fatalf("no DNS query within 15s:\n%s", p.stderr.String())
	}
	code, took := p.stop(t)
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	// A lookup to a server that does not answer gives up after 2 s.
	if took > 1500*time.Millisecond {
		t.Errorf("exit took %v after SIGTERM, with a DNS lookup in flight", took.Round(time.Millisecond))
	}
}
