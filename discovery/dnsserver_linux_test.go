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

package discovery

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// dnsmasq is a dnsmasq process serving 127.0.0.1:53 in the test's network
// namespace: the names of a hosts file it re-reads on SIGHUP under
// mesh.test (a local domain, so an unknown name is NXDOMAIN), two SRV
// records, and stub.test forwarded to a stub upstream. Nothing is cached,
// so every change shows at the next lookup.
type dnsmasq struct {
	conf, hosts string
	out         *testenv.Buffer
	cmd         *exec.Cmd
}

// startDnsmasq starts dnsmasq, forwarding stub.test to stubAddr, and
// stops it when the test ends.
func startDnsmasq(t *testing.T, stubAddr string) *dnsmasq {
	t.Helper()
	dir := t.TempDir()
	d := &dnsmasq{conf: filepath.Join(dir, "dnsmasq.conf"), hosts: filepath.Join(dir, "hosts"), out: &testenv.Buffer{}}
	host, port, err := net.SplitHostPort(stubAddr)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Join([]string{
		"port=53",
		"listen-address=127.0.0.1",
		"bind-interfaces",
		"no-resolv",
		"no-hosts",
		"user=root", // reads the hosts file in the test's directory on SIGHUP
		"cache-size=0",
		"no-negcache",
		"addn-hosts=" + d.hosts,
		"local=/mesh.test/",
		"srv-host=_echo._tcp.mesh.test,node1.mesh.test,4000",
		"srv-host=_echo._tcp.mesh.test,node2.mesh.test,4001",
		fmt.Sprintf("server=/stub.test/%s#%s", host, port),
		"",
	}, "\n")
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.hosts, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.start(t)
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", d.out.String())
		}
	})
	return d
}

// start runs dnsmasq and waits until it answers.
func (d *dnsmasq) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command("dnsmasq", "--no-daemon", "--conf-file="+d.conf)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.cmd = cmd
	// Until it answers, it may not have its signal handlers either.
	deadline := time.Now().Add(10 * time.Second)
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	for {
		m := new(dns.Msg)
		m.SetQuestion("ready.mesh.test.", dns.TypeA)
		if r, _, err := c.Exchange(m, "127.0.0.1:53"); err == nil && r.Rcode == dns.RcodeNameError {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq does not answer after 10s:\n%s", d.out.String())
		}
		pause := time.NewTimer(50 * time.Millisecond)
		<-pause.C
	}
}

// stop kills dnsmasq (stopped or not) and waits for it.
func (d *dnsmasq) stop(t *testing.T) {
	t.Helper()
	if d.cmd == nil {
		return
	}
	if err := d.cmd.Process.Kill(); err != nil {
		t.Error(err)
	}
	_ = d.cmd.Wait() // killed: the error says so
	d.cmd = nil
}

// signal sends sig to dnsmasq.
func (d *dnsmasq) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// setHosts replaces the hosts file with lines ("10.0.0.1 name") and, if
// dnsmasq runs, makes it read the file again.
func (d *dnsmasq) setHosts(t *testing.T, lines ...string) {
	t.Helper()
	tmp := d.hosts + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, d.hosts); err != nil {
		t.Fatal(err)
	}
	if d.cmd != nil {
		d.signal(t, syscall.SIGHUP)
	}
}

// lookup asks dnsmasq for name's A records and returns the answer's rcode,
// or "timeout".
func (d *dnsmasq) lookup(t *testing.T, name string) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, "127.0.0.1:53")
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case err != nil:
		t.Fatalf("query %s: %v", name, err)
	}
	return dns.RcodeToString[r.Rcode]
}

// stubMode is how the stub upstream answers.
type stubMode int

// The stub's answers.
const (
	stubGood     stubMode = iota // A records, TTL 0
	stubServfail                 // SERVFAIL
	stubRefused                  // REFUSED
	stubDrop                     // nothing: the query times out
)

// String names the mode.
func (m stubMode) String() string {
	return [...]string{"good", "SERVFAIL", "REFUSED", "timeout"}[m]
}

// stubDNS is the upstream dnsmasq forwards stub.test to: it answers every
// A query as the test sets, so that dnsmasq passes on the failures a real
// upstream can have.
type stubDNS struct {
	addr  string
	mu    sync.Mutex
	mode  stubMode
	addrs []string
}

// newStubDNS starts a stub upstream on 127.0.0.1 and stops it when the
// test ends.
func newStubDNS(t *testing.T) *stubDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stubDNS{addr: pc.LocalAddr().String()}
	started, done := make(chan struct{}), make(chan error, 1)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("stub DNS server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Error(err)
		}
		<-done
	})
	return s
}

// set makes the stub answer in mode, with addrs for stubGood.
func (s *stubDNS) set(mode stubMode, addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode, s.addrs = mode, addrs
}

// serve answers one query.
func (s *stubDNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	s.mu.Lock()
	mode, addrs := s.mode, s.addrs
	s.mu.Unlock()
	m := new(dns.Msg)
	switch mode {
	case stubDrop:
		return
	case stubServfail:
		m.SetRcode(req, dns.RcodeServerFailure)
	case stubRefused:
		m.SetRcode(req, dns.RcodeRefused)
	case stubGood:
		m.SetReply(req)
		for _, q := range req.Question {
			if q.Qtype != dns.TypeA {
				continue
			}
			for _, a := range addrs {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
					A:   net.ParseIP(a),
				})
			}
		}
	}
	_ = w.WriteMsg(m) // a lost answer is a timeout, which the tests see
}
