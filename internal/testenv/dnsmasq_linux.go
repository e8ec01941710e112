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

package testenv

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Dnsmasq is a dnsmasq process (Debian package dnsmasq) serving DNS on
// port 53 of one address: the names of a hosts file it re-reads on
// SIGHUP, under the local domain mesh.test (so an unknown name is
// NXDOMAIN), plus what the caller's extra config lines add. Nothing is
// cached, so every change shows at the next lookup. Port 53 needs root and
// a network namespace of the test's own (RunInNetns): Go's resolver and
// Prometheus' DNS discovery both read /etc/resolv.conf, which cannot name
// another port.
type Dnsmasq struct {
	// Addr is the address dnsmasq listens on, port 53.
	Addr string
	// ns is the network namespace dnsmasq runs in; "" for the test's.
	ns          string
	conf, hosts string
	out         *Buffer
	cmd         *exec.Cmd
}

// StartDnsmasq starts dnsmasq on listen (an IP address, port 53) with the
// extra config lines extra, and stops it when the test ends, logging its
// output if the test failed.
func StartDnsmasq(t testing.TB, listen string, extra ...string) *Dnsmasq {
	t.Helper()
	return StartDnsmasqIn(t, "", listen, extra...)
}

// StartDnsmasqIn is StartDnsmasq in the network namespace ns (made by ip
// netns add), or in the test's own if ns is "".
func StartDnsmasqIn(t testing.TB, ns, listen string, extra ...string) *Dnsmasq {
	t.Helper()
	LookPath(t, "dnsmasq", "dnsmasq")
	dir := t.TempDir()
	d := &Dnsmasq{Addr: net.JoinHostPort(listen, "53"), ns: ns, conf: filepath.Join(dir, "dnsmasq.conf"), hosts: filepath.Join(dir, "hosts"), out: &Buffer{}}
	conf := append([]string{
		"port=53",
		"listen-address=" + listen,
		"bind-interfaces",
		"no-resolv",
		"no-hosts",
		"user=root", // reads the hosts file in the test's directory on SIGHUP
		"cache-size=0",
		"no-negcache",
		"addn-hosts=" + d.hosts,
		"local=/mesh.test/",
	}, extra...)
	if err := os.WriteFile(d.conf, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.hosts, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.Start(t)
	t.Cleanup(func() {
		d.Stop(t)
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", d.out.String())
		}
	})
	return d
}

// Start runs dnsmasq and waits until it answers.
func (d *Dnsmasq) Start(t testing.TB) {
	t.Helper()
	argv := []string{"dnsmasq", "--no-daemon", "--conf-file=" + d.conf}
	if d.ns != "" {
		// ip netns exec execs dnsmasq in place: signals reach it.
		argv = append([]string{"ip", "netns", "exec", d.ns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.cmd = cmd
	// Until it answers, it may not have its signal handlers either.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r, err := d.exchange("ready.mesh.test", 200*time.Millisecond); err == nil && r.Rcode == dns.RcodeNameError {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq does not answer after 10s:\n%s", d.out.String())
		}
		pause := time.NewTimer(50 * time.Millisecond)
		<-pause.C
	}
}

// Stop kills dnsmasq (stopped or not) and waits for it.
func (d *Dnsmasq) Stop(t testing.TB) {
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

// Running reports whether dnsmasq runs (it may be stopped by SIGSTOP).
func (d *Dnsmasq) Running() bool { return d.cmd != nil }

// Signal sends sig to dnsmasq.
func (d *Dnsmasq) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// SetHosts replaces the hosts file with lines ("10.0.0.1 name") and, if
// dnsmasq runs, makes it read the file again; the next answer has them.
func (d *Dnsmasq) SetHosts(t testing.TB, lines ...string) {
	t.Helper()
	tmp := d.hosts + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, d.hosts); err != nil {
		t.Fatal(err)
	}
	if d.cmd != nil {
		d.Signal(t, syscall.SIGHUP)
	}
}

// Lookup asks dnsmasq for name's A records and returns the answer's rcode,
// or "timeout".
func (d *Dnsmasq) Lookup(t testing.TB, name string) string {
	t.Helper()
	r, err := d.exchange(name, 2*time.Second)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case err != nil:
		t.Fatalf("query %s: %v", name, err)
	}
	return dns.RcodeToString[r.Rcode]
}

// exchange asks dnsmasq, from its namespace, for name's A records.
func (d *Dnsmasq) exchange(name string, timeout time.Duration) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: timeout}
	if d.ns == "" {
		r, _, err := c.Exchange(m, d.Addr)
		return r, err
	}
	var r *dns.Msg
	err := InNamespace(d.ns, func() error {
		var err error
		r, _, err = c.Exchange(m, d.Addr)
		return err
	})
	return r, err
}
