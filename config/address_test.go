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

package config

import (
	"strings"
	"testing"
)

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" for valid
	}{
		{"10.0.0.1:4000", ""},
		{"[2001:db8::1]:4000", ""},
		{"[fe80::1%eth0]:4000", ""},
		{"echo.example.com:1", ""},
		{"localhost:65535", ""},
		{"", "required"},
		{"10.0.0.1", `missing port in "10.0.0.1"`},
		{"10.0.0.1:", "missing port"},
		{":4000", "missing host"},
		{"[]:4000", "missing host"},
		{"10.0.0.1:0", "port 0 out of range"},
		{"10.0.0.1:65536", "port 65536 out of range"},
		{"10.0.0.1:99999999999999999999999", "out of range"},
		{"10.0.0.1:-1", "not a number"},
		{"10.0.0.1:+1", "not a number"},
		{"10.0.0.1:http", `port "http" is not a number`},
		{"2001:db8::1:4000", "too many colons"},
		{"[2001:db8::1:4000", "missing ']'"},
		{"echo host:4000", "invalid host"},
		{"echo\thost:4000", "invalid host"},
		// A host that is not an IP address must be a DNS name (DESIGN.md,
		// /probe): letters, digits, '-' and '_' in labels of 1 to 63
		// characters, 253 in all, and no label that starts or ends with '-'.
		{"_echo._tcp.example.com:4000", ""},
		{"echo.example.com.:4000", ""},
		{"ECHO-1.Example.com:4000", ""},
		{strings.Repeat("a", 63) + ".example:4000", ""},
		{strings.Repeat("a.", 126) + "a:4000", ""},
		{"foo!bar:4000", `host "foo!bar" is neither an IP address nor a DNS name`},
		{"echo..example:4000", "empty label"},
		{".example:4000", "empty label"},
		{"-echo.example:4000", "starts or ends with '-'"},
		{"echo-.example:4000", "starts or ends with '-'"},
		{strings.Repeat("a", 64) + ".example:4000", "longer than 63"},
		{strings.Repeat("a.", 127) + "a:4000", "longer than 253"},
		{"bücher.example:4000", "punycode"},
		{"[not-an-ip]:4000", "neither an IP address nor a DNS name"},
		{"10.0.0.1%eth0:4000", "neither an IP address nor a DNS name"},
		// A zone follows only an IPv6 address, and is not empty: the host
		// is an address, and the error says what is wrong with it.
		{"[10.0.0.1%eth0]:4000", `host "10.0.0.1%eth0" is neither an IP address nor a DNS name: a zone (%eth0) goes only with an IPv6 address`},
		{"10.0.0.1%eth0:4000", `a zone (%eth0) goes only with an IPv6 address`},
		{"[::ffff:10.0.0.1%eth0]:4000", ""},
		{"[fe80::1%]:4000", `host "fe80::1%" is neither an IP address nor a DNS name: empty zone after '%'`},
		// A link-local IPv6 address is ambiguous without a zone, the
		// interface it is reached by: connect(2) refuses it (EINVAL).
		// IPv4 link-local (169.254/16) has no zone and needs none.
		{"[fe80::1]:4000", `fe80::1 is a link-local IPv6 address: give its zone, the interface to reach it by (fe80::1%eth0)`},
		{"[FE80::a:b]:4000", "link-local IPv6 address"},
		{"[febf::1]:4000", "link-local IPv6 address"},
		{"[fec0::1]:4000", ""},
		{"[fe80::1%2]:4000", ""},
		{"169.254.1.1:4000", ""},
		{"[::ffff:169.254.1.1]:4000", ""},
		// TCP connects to one host: the kernel refuses a multicast or
		// broadcast address (ENETUNREACH, "network is unreachable").
		{"224.0.0.1:4000", `224.0.0.1 is a multicast address: TCP connects to one host`},
		{"239.255.255.250:4000", "multicast address"},
		{"[ff02::1]:4000", "ff02::1 is a multicast address"},
		{"[ff02::1%eth0]:4000", "multicast address"},
		{"[::ffff:224.0.0.1]:4000", "multicast address"},
		{"255.255.255.255:4000", `255.255.255.255 is the broadcast address: TCP connects to one host`},
		{"223.255.255.255:4000", ""},
		// A name whose last label is a number is what inet_aton(3), and
		// so a C resolver, reads as an IPv4 address (127.1 is 127.0.0.1,
		// 0127.0.0.1 is 87.0.0.1, 0x7f.1 is 127.0.0.1) and Go's resolver
		// asks DNS for; RFC 1123 has no host name of that form. Refused,
		// it means one thing whichever resolver the binary uses.
		{"10.0.0.256:4000", `host "10.0.0.256" is neither an IP address nor a DNS name: its last label "256" is a number`},
		{"127.1:4000", "neither an IP address nor a DNS name"},
		{"0127.0.0.1:4000", "neither an IP address nor a DNS name"},
		{"1.2.3.4.:4000", "neither an IP address nor a DNS name"},
		{"1.2.3.0x4:4000", `its last label "0x4" is a number`},
		{"echo.0X:4000", "is a number"},
		{"4000:4000", "is a number"},
		{"echo.4x:4000", ""},
		{"echo.0xg:4000", ""},
		{"4.echo:4000", ""},
		{"0x.x:4000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := ValidateAddress(tt.addr)
			if tt.want == "" {
				if err != nil {
					t.Errorf("ValidateAddress(%q) = %v, want nil", tt.addr, err)
				}
				return
			}
			wantErr(t, err, tt.want)
		})
	}
}

func TestCanonicalAddress(t *testing.T) {
	tests := []struct {
		name, addr, want string
	}{
		{"IPv4", "10.0.0.1:4000", "10.0.0.1:4000"},
		{"port with leading zeros", "127.0.0.1:0080", "127.0.0.1:80"},
		{"IPv6 canonical", "[::1]:80", "[::1]:80"},
		{"IPv6 long form", "[0:0::1]:80", "[::1]:80"},
		{"IPv6 upper case and zeros", "[2001:DB8:0000::0001]:00443", "[2001:db8::1]:443"},
		{"IPv6 zone kept as written", "[FE80::1%Eth0]:4000", "[fe80::1%Eth0]:4000"},
		{"IPv4-mapped IPv6", "[::ffff:10.0.0.1]:80", "10.0.0.1:80"},
		{"IPv4-mapped IPv6 in hex", "[::FFFF:a00:1]:80", "10.0.0.1:80"},
		{"IPv4-compatible IPv6 is not IPv4", "[::10.0.0.1]:80", "[::a00:1]:80"},
		{"DNS name", "echo.example.com:4000", "echo.example.com:4000"},
		{"DNS name upper case", "Echo.EXAMPLE.com:04000", "echo.example.com:4000"},
		{"DNS name trailing dot kept", "Echo.Example.COM.:4000", "echo.example.com.:4000"},
		{"a name not in punycode is invalid: as it is", "ÉCHO.example:4000", "ÉCHO.example:4000"},
		{"IPv4 with leading zeros is no IP", "010.0.0.1:80", "010.0.0.1:80"},
		{"invalid: no port", "10.0.0.1", "10.0.0.1"},
		{"invalid: port 0", "10.0.0.1:000", "10.0.0.1:000"},
		{"invalid: port out of range", "10.0.0.1:65536", "10.0.0.1:65536"},
		{"invalid: service name", "10.0.0.1:HTTP", "10.0.0.1:HTTP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CanonicalAddress(tt.addr)
			if got != tt.want {
				t.Errorf("CanonicalAddress(%q) = %q, want %q", tt.addr, got, tt.want)
			}
			if again := CanonicalAddress(got); again != got {
				t.Errorf("not idempotent: CanonicalAddress(%q) = %q", got, again)
			}
			if (ValidateAddress(tt.addr) == nil) != (ValidateAddress(got) == nil) {
				t.Errorf("%q and its canonical form %q differ in validity", tt.addr, got)
			}
		})
	}
}

// FuzzCanonicalAddress checks that CanonicalAddress is idempotent, keeps an
// address valid or invalid, and leaves an invalid one as it is.
func FuzzCanonicalAddress(f *testing.F) {
	for _, s := range []string{"10.0.0.1:4000", "[0:0::1]:0080", "[::ffff:10.0.0.1]:80", "[fe80::1%eth0]:1",
		"Echo.Example.:4000", "host:http", "10.0.0.1", ":80", "[::1%]:80", "[::ffff:1.2.3.4%x]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		got := CanonicalAddress(addr)
		if again := CanonicalAddress(got); again != got {
			t.Fatalf("CanonicalAddress(%q) = %q, then %q", addr, got, again)
		}
		valid := ValidateAddress(addr) == nil
		if valid != (ValidateAddress(got) == nil) {
			t.Fatalf("%q (valid %v) became %q", addr, valid, got)
		}
		if !valid && got != addr {
			t.Fatalf("invalid %q became %q", addr, got)
		}
	})
}
