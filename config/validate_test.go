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

// validConfig returns a small valid config to break in tests.
func validConfig() *Config {
	c := Default()
	c.Modules["fast"] = DefaultModule()
	c.Targets = []Target{
		{Name: "server1", Address: "10.0.0.1:4000", Labels: map[string]string{"site": "ams"}},
		{Name: "server2", Address: "[2001:db8::1]:4000", Module: "fast"},
	}
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string // nil: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"a flow label of its own on a target of flows 1", func(c *Config) {
			c.Targets[0].Labels["flow"] = "north"
		}, nil},
		{"a flow label of its own on a target of flows > 1", func(c *Config) {
			m := c.Modules["fast"]
			m.Flows = 2
			c.Modules["fast"] = m
			c.Targets[1].Labels = map[string]string{"flow": "north"}
		}, []string{`target "server2": labels: label name "flow" is reserved`, `module ("fast") has flows 2`}},
		{"adaptive off still needs timeout in range", func(c *Config) {
			m := c.Modules["fast"]
			m.Adaptive, m.Timeout = false, m.MaxTimeout+1
			c.Modules["fast"] = m
		}, []string{`module "fast": timeout: must be between min_timeout`}},
		{"timeout at the bounds", func(c *Config) {
			m := c.Modules["fast"]
			m.Timeout = m.MaxTimeout
			c.Modules["fast"] = m
		}, nil},
		{"reconnect_after 0 means never", func(c *Config) {
			m := c.Modules["fast"]
			m.ReconnectAfter = 0
			c.Modules["fast"] = m
		}, nil},
		{"max_reconnect_backoff equal to reconnect_backoff", func(c *Config) {
			m := c.Modules["fast"]
			m.MaxReconnectBackoff = m.ReconnectBackoff
			c.Modules["fast"] = m
		}, nil},
		{"link-local source address without a zone", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress = "fe80::2"
			c.Modules["fast"] = m
		}, []string{`module "fast": source_ip_address: fe80::2 is a link-local IPv6 address: give its zone`}},
		{"multicast source address", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress = "ff02::1"
			c.Modules["fast"] = m
		}, []string{`module "fast": source_ip_address: ff02::1 is a multicast address`}},
		{"link-local source address with a zone", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress = "fe80::2%lo"
			c.Modules["fast"] = m
		}, nil},
		{"IPv4 source address, ip6 preferred, no fallback", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress, m.IPProtocol, m.IPProtocolFallback = "192.0.2.2", "ip6", false
			c.Modules["fast"] = m
		}, []string{`module "fast": ip_protocol: "ip6" with ip_protocol_fallback false cannot connect from source_ip_address 192.0.2.2, an IPv4 address`}},
		{"IPv6 source address, ip4 preferred, no fallback", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress, m.IPProtocol, m.IPProtocolFallback = "2001:db8::2", "ip4", false
			c.Modules["fast"] = m
		}, []string{`module "fast": ip_protocol:`, "source_ip_address 2001:db8::2, an IPv6 address"}},
		{"IPv4 source address, ip6 preferred, fallback", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress, m.IPProtocol, m.IPProtocolFallback = "192.0.2.2", "ip6", true
			c.Modules["fast"] = m
		}, nil},
		{"mapped IPv4 source address, ip4 preferred, no fallback", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress, m.IPProtocol, m.IPProtocolFallback = "::ffff:192.0.2.2", "ip4", false
			c.Modules["fast"] = m
		}, nil},
		{"IPv6 source address", func(c *Config) {
			m := c.Modules["fast"]
			m.SourceIPAddress = "2001:db8::2"
			c.Modules["fast"] = m
		}, nil},
		{
			"missing default module", func(c *Config) { delete(c.Modules, DefaultModuleName) },
			[]string{`module "default"`, "missing", `target "server1": module: unknown module ""`},
		},
		{"nil modules", func(c *Config) { c.Modules = nil }, []string{`module "default"`, "missing"}},
		{
			"module name invalid UTF-8", func(c *Config) { c.Modules["fa\xffst"] = DefaultModule() },
			[]string{`module "fa\xffst": name:`, "UTF-8"},
		},
		{
			"target name invalid UTF-8", func(c *Config) { c.Targets[0].Name = "server\xff" },
			[]string{"targets[0]: name:", "UTF-8"},
		},
		{
			"target name with newline", func(c *Config) { c.Targets[0].Name = "server\n1" },
			[]string{"targets[0]: name:", "control"},
		},
		{
			"label value invalid UTF-8", func(c *Config) { c.Targets[0].Labels["site"] = "a\xffb" },
			[]string{`target "server1": labels:`, `"site"`, "UTF-8"},
		},
		{
			"address invalid UTF-8", func(c *Config) { c.Targets[0].Address = "ho\xffst:4000" },
			[]string{`target "server1": address:`},
		},
		{
			"link-local address without a zone", func(c *Config) { c.Targets[0].Address = "[fe80::1]:4000" },
			[]string{`target "server1": address: fe80::1 is a link-local IPv6 address: give its zone`},
		},
		{
			"duplicate names name both positions", func(c *Config) { c.Targets[1].Name = "server1" },
			[]string{`target "server1": name:`, "targets[0]", "targets[1]"},
		},
		{
			"unknown module named", func(c *Config) { c.Targets[1].Module = "slow" },
			[]string{`target "server2": module: unknown module "slow"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantErr(t, err, tt.want...)
		})
	}
}

func TestValidateOrder(t *testing.T) {
	c := validConfig()
	for _, name := range []string{"zeta", "alpha", "mid"} {
		m := DefaultModule()
		m.TOS = 300
		m.Interval = 0
		c.Modules[name] = m
	}
	c.Targets = append(c.Targets,
		Target{Name: "b", Address: "10.0.0.1"},
		Target{Name: "a", Address: "10.0.0.2:0", Labels: map[string]string{"z": "1", "job": "x", "__y": "2"}},
	)
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`module "alpha": interval:`,
		`module "alpha": tos:`,
		`module "mid": interval:`,
		`module "mid": tos:`,
		`module "zeta": interval:`,
		`module "zeta": tos:`,
		`target "b": address:`,
		`target "a": address:`,
		`target "a": labels: label name "__y"`,
		`target "a": labels: label name "job"`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want it to start with %q", i, lines[i], w)
		}
	}
	// The same config gives the same message every time: map order must
	// not leak into it.
	for range 20 {
		if again := c.Validate(); again.Error() != err.Error() {
			t.Fatalf("unstable order:\n%v\nthen\n%v", err, again)
		}
	}
}

func TestCheckLabelName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"site", true},
		{"_site", true},
		{"Site_2", true},
		{"_", true},
		{"", false},
		{"2site", false},
		{"site-name", false},
		{"site.name", false},
		{"sité", false},
		{"__name__", false},
		{"__x", false},
		{"target", false},
		{"address", false},
		{"module", false},
		{"instance", false},
		{"job", false},
		{"le", false},
		{"Job", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkLabelName(tt.name)
			if (err == nil) != tt.ok {
				t.Errorf("checkLabelName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
		})
	}
}

// TestParseReportsDecodeAndRangeErrorsTogether checks that a file with
// values that do not decode and values out of range reports both at once,
// as the rules promise, and that what failed to decode causes no second
// error: a target of a module that failed is not of an unknown module.
func TestParseReportsDecodeAndRangeErrorsTogether(t *testing.T) {
	data := `modules:
  a:
    interval: 5
  b:
    tos: 300
targets:
  - name: x
    address: nope
    module: a
  - name: y
    adress: "h:1"
discovery:
  - name: d
    module: a
    file_sd_configs: [{files: [x.json]}]
    peers: -1
`
	_, err := Parse([]byte(data))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`module "a": interval`, `module "b": tos`, `target "x": address`, `target "y": unknown key "adress"`, `discovery "d": peers`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "unknown module") {
		t.Errorf("a module that failed to decode is reported unknown too:\n%v", err)
	}
}
