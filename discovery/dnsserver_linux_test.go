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
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// startDnsmasq starts dnsmasq on the namespace's 127.0.0.1:53 with two SRV
// records under mesh.test and stub.test forwarded to the stub upstream at
// stubAddr, and stops it when the test ends.
func startDnsmasq(t *testing.T, stubAddr string) *testenv.Dnsmasq {
	t.Helper()
	host, port, err := net.SplitHostPort(stubAddr)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.StartDnsmasq(t, "127.0.0.1",
		"srv-host=_echo._tcp.mesh.test,node1.mesh.test,4000",
		"srv-host=_echo._tcp.mesh.test,node2.mesh.test,4001",
		fmt.Sprintf("server=/stub.test/%s#%s", host, port))
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
