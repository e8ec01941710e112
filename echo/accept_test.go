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

package echo

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/netmatch"
)

func TestAllowedNetworks(t *testing.T) {
	tests := []struct {
		name   string
		nets   []string
		served bool
	}{
		{"any", nil, true},
		{"loopback allowed", []string{"10.0.0.0/8", "127.0.0.0/8"}, true},
		{"ipv4-mapped prefix", []string{"::ffff:127.0.0.0/104"}, true},
		{"other network only", []string{"10.0.0.0/8"}, false},
		{"ipv6 only", []string{"::1/128"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nets []netip.Prefix
			for _, n := range tt.nets {
				nets = append(nets, netip.MustParsePrefix(n))
			}
			s, _ := startServer(t, Options{AllowedNetworks: nets}, nil)
			c := dial(t, addr(t, s))
			if tt.served {
				roundTrip(t, c, 1)
				if got := rejected(s, reasonNotAllowed); got != 0 {
					t.Errorf("rejected not_allowed = %v, want 0", got)
				}
				return
			}
			if got := readUntilClosed(t, c); len(got) != 0 {
				t.Errorf("refused client got %d bytes", len(got))
			}
			waitRejected(t, s, reasonNotAllowed, 1)
		})
	}
}

func TestAllowedAddr(t *testing.T) {
	tests := []struct {
		name string
		nets []string
		ip   string
		want bool
	}{
		{"ipv4 in ipv4 prefix", []string{"127.0.0.0/8"}, "127.0.0.1", true},
		{"mapped ipv4 in ipv4 prefix", []string{"127.0.0.0/8"}, "::ffff:127.0.0.1", true},
		{"ipv4 in mapped prefix", []string{"::ffff:10.0.0.0/104"}, "10.1.2.3", true},
		{"ipv6 loopback not in ipv4 prefix", []string{"127.0.0.0/8"}, "::1", false},
		{"ipv6 in ipv6 prefix", []string{"2001:db8::/32"}, "2001:db8::1", true},
		{"outside", []string{"10.0.0.0/8"}, "192.168.1.1", false},
		{"unmasked prefix", []string{"10.1.2.3/8"}, "10.200.0.1", true},
		// A dual-stack listener reports a link-local client with its zone.
		{"zoned link-local in link-local prefix", []string{"fe80::/10"}, "fe80::2%eth0", true},
		{"zoned address outside", []string{"2001:db8::/32"}, "fe80::2%eth0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nets []netip.Prefix
			for _, n := range tt.nets {
				nets = append(nets, netip.MustParsePrefix(n))
			}
			opts, err := checkOptions(Options{ListenAddresses: []string{":0"}, AllowedNetworks: nets})
			if err != nil {
				t.Fatal(err)
			}
			if got := netmatch.Contains(opts.AllowedNetworks, netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("netmatch.Contains(%v, %s) = %v, want %v", opts.AllowedNetworks, tt.ip, got, tt.want)
			}
		})
	}
}

// TestAllowedZonedClient checks the address as the server sees a client:
// a link-local peer of a dual-stack listener comes with its zone, which no
// loopback client can have, so the address is built by hand.
func TestAllowedZonedClient(t *testing.T) {
	s, err := New(testOptions(t, Options{
		ListenAddresses: []string{"127.0.0.1:0"},
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("fe80::/10")},
	}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &net.TCPAddr{IP: net.ParseIP("fe80::2"), Port: 40000, Zone: "eth0"}
	if !s.allowed(client) {
		t.Errorf("client %v refused, want it served by --echo.allowed-network=fe80::/10", client)
	}
}

// flakyListener fails the first Accept calls with errs, then accepts from
// the real listener.
type flakyListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", errno)}
}

func TestAcceptErrors(t *testing.T) {
	errBroken := errors.New("listener broke")
	tests := []struct {
		name    string
		errs    []error
		wantErr error // nil: the server survives and serves
	}{
		{"temporary errors are retried", []error{acceptErr(syscall.EMFILE), acceptErr(syscall.ENFILE), acceptErr(syscall.ENOBUFS)}, nil},
		{"permanent error stops Serve", []error{errBroken}, errBroken},
		{"listener closed under the server", []error{net.ErrClosed}, net.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAcceptErrors(t, tt.errs, tt.wantErr) })
	}
}

// checkAcceptErrors serves a loopback listener whose first Accept calls
// fail with errs. With wantErr nil the server must then serve a client and
// Serve return nil at Shutdown; otherwise Serve must return wantErr.
func checkAcceptErrors(t *testing.T, errs []error, wantErr error) {
	t.Helper()
	s, err := New(testOptions(t, Options{ListenAddresses: []string{"127.0.0.1:0"}}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.listeners = []net.Listener{&flakyListener{Listener: l, errs: errs}}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()

	if wantErr == nil {
		roundTrip(t, dial(t, l.Addr().String()), 1)
		s.Shutdown()
	}
	select {
	case err := <-served:
		if !errors.Is(err, wantErr) {
			t.Fatalf("Serve = %v, want %v", err, wantErr)
		}
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return")
	}
	if !s.closing() {
		t.Error("server not shut down after Serve returned")
	}
}

func TestTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"EMFILE", acceptErr(syscall.EMFILE), true},
		{"ENFILE", acceptErr(syscall.ENFILE), true},
		{"ENOBUFS", acceptErr(syscall.ENOBUFS), true},
		{"ECONNABORTED", acceptErr(syscall.ECONNABORTED), true},
		{"timeout", os.ErrDeadlineExceeded, true},
		{"closed", net.ErrClosed, false},
		{"EBADF", acceptErr(syscall.EBADF), false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := temporary(tt.err); got != tt.want {
				t.Errorf("temporary(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
