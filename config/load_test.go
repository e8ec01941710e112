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
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wantErr fails t unless err is non-nil and its message contains every one
// of subs.
func wantErr(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}

// ms returns n milliseconds as a Duration.
func ms(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }

func TestLoadGood(t *testing.T) {
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	def := Module{
		Interval:                    ms(2000),
		Timeout:                     ms(2000),
		Adaptive:                    false,
		MinTimeout:                  ms(200),
		MaxTimeout:                  ms(5000),
		ReconnectAfter:              5,
		DialTimeout:                 ms(3000),
		ReconnectBackoff:            ms(1000),
		MaxReconnectBackoff:         ms(60000),
		IPProtocol:                  "ip4",
		IPProtocolFallback:          false,
		SourceIPAddress:             "127.0.0.1",
		TOS:                         184,
		Buckets:                     []float64{0.001, 0.01, 0.1, 1},
		NativeHistogramBucketFactor: 0,
		KernelTimestamps:            false,
		ResolveInterval:             ms(60000),
		ReconnectInterval:           ms(600000),
		TxTimestamps:                false,
		EchoProtocol:                EchoProtocolAuto,
		PayloadSize:                 1400,
		DontFragment:                true,
		RTOMargin:                   0.25,
		Flows:                       4,
	}
	fast := DefaultModule()
	fast.Interval = ms(100)
	fast.MaxTimeout = ms(1000)
	fast.TOS = 0x10
	v6 := DefaultModule()
	v6.IPProtocol = "ip6"
	v6.IPProtocolFallback = false
	v6.SourceIPAddress = "fe80::1%eth0"
	v6.Buckets = []float64{0.0005, 0.005}
	v6.NativeHistogramBucketFactor = 1.05
	want := &Config{
		Modules: map[string]Module{DefaultModuleName: def, "fast": fast, "v6": v6},
		Targets: []Target{
			{Name: "server1", Address: "192.168.1.10:4000", Labels: map[string]string{"site": "ams", "rack": "r1"}},
			{Name: "server2", Address: "[2001:db8::1]:4000", Module: "fast", Labels: map[string]string{"site": "fra", "owner": ""}},
			{Name: "server3", Address: "echo.example.com:65535", Module: "default"},
			{Name: "server4", Address: "localhost:1", Module: "v6"},
		},
		Discovery: goodDiscovery(),
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", c, want)
	}

	// Keys fast leaves out take the built-in values, not those of the
	// file's default module, which sets every key differently.
	builtin := DefaultModule()
	got := c.Modules["fast"]
	tests := []struct {
		key             string
		got, want, file any
	}{
		{"timeout", got.Timeout, builtin.Timeout, def.Timeout},
		{"adaptive", got.Adaptive, builtin.Adaptive, def.Adaptive},
		{"min_timeout", got.MinTimeout, builtin.MinTimeout, def.MinTimeout},
		{"reconnect_after", got.ReconnectAfter, builtin.ReconnectAfter, def.ReconnectAfter},
		{"dial_timeout", got.DialTimeout, builtin.DialTimeout, def.DialTimeout},
		{"reconnect_backoff", got.ReconnectBackoff, builtin.ReconnectBackoff, def.ReconnectBackoff},
		{"max_reconnect_backoff", got.MaxReconnectBackoff, builtin.MaxReconnectBackoff, def.MaxReconnectBackoff},
		{"ip_protocol", got.IPProtocol, builtin.IPProtocol, def.IPProtocol},
		{"ip_protocol_fallback", got.IPProtocolFallback, builtin.IPProtocolFallback, def.IPProtocolFallback},
		{"source_ip_address", got.SourceIPAddress, builtin.SourceIPAddress, def.SourceIPAddress},
		{"buckets", got.Buckets, builtin.Buckets, def.Buckets},
		{"native_histogram_bucket_factor", got.NativeHistogramBucketFactor, builtin.NativeHistogramBucketFactor, def.NativeHistogramBucketFactor},
		{"kernel_timestamps", got.KernelTimestamps, builtin.KernelTimestamps, def.KernelTimestamps},
		{"resolve_interval", got.ResolveInterval, builtin.ResolveInterval, def.ResolveInterval},
		{"reconnect_interval", got.ReconnectInterval, builtin.ReconnectInterval, def.ReconnectInterval},
		{"tx_timestamps", got.TxTimestamps, builtin.TxTimestamps, def.TxTimestamps},
		{"payload_size", got.PayloadSize, builtin.PayloadSize, def.PayloadSize},
		{"dont_fragment", got.DontFragment, builtin.DontFragment, def.DontFragment},
		{"rto_margin", got.RTOMargin, builtin.RTOMargin, def.RTOMargin},
		{"flows", got.Flows, builtin.Flows, def.Flows},
	}
	for _, tt := range tests {
		t.Run("unset "+tt.key+" is built in", func(t *testing.T) {
			if reflect.DeepEqual(tt.want, tt.file) {
				t.Fatalf("good.yml's default module must set %s to a value other than the built-in %v", tt.key, tt.want)
			}
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("fast.%s = %v, want the built-in %v (default module has %v)", tt.key, tt.got, tt.want, tt.file)
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error: the key and the module or target
	}{
		// Structure and syntax.
		{"invalid-unknown-top-key.yml", []string{`unknown key "modulez"`}},
		{"invalid-root-not-mapping.yml", []string{"want a mapping", "line 1"}},
		{"invalid-multiple-documents.yml", []string{"second YAML document", "line 3"}},
		{"invalid-syntax.yml", []string{"line"}},
		{"invalid-modules-not-mapping.yml", []string{"modules:", "want a mapping"}},
		{"invalid-module-not-mapping.yml", []string{`module "fast"`, "want a mapping"}},
		{"invalid-targets-not-list.yml", []string{"targets:", "want a list"}},
		{"invalid-target-not-mapping.yml", []string{"targets[0]", "want a mapping"}},
		{"invalid-duplicate-top-key.yml", []string{"duplicate", `"targets"`}},
		{"invalid-duplicate-module.yml", []string{"modules:", "duplicate", `"fast"`, "line 4"}},
		{"invalid-duplicate-module-key.yml", []string{`module "fast"`, "duplicate", `"tos"`}},
		{"invalid-duplicate-target-key.yml", []string{`target "server1"`, "duplicate", `"address"`}},
		{"invalid-duplicate-label.yml", []string{`target "server1"`, "labels", "duplicate", `"site"`}},
		{"invalid-bad-merge.yml", []string{`module "fast"`, "<<"}},
		{"invalid-quoted-merge-key.yml", []string{`module "fast"`, `unknown key "<<"`}},

		// Unknown keys.
		{"invalid-unknown-module-key.yml", []string{`module "fast": unknown key "intervall"`}},
		{"invalid-unknown-target-key.yml", []string{`target "server1": unknown key "adress"`}},
		{"invalid-unknown-target-key-no-name.yml", []string{`targets[0]: unknown key "adress"`}},
		{"invalid-unknown-merged-key.yml", []string{`module "fast": unknown key "intervall"`}},

		// Types.
		{"invalid-bad-duration.yml", []string{`module "fast"`, "interval", `"5x"`}},
		{"invalid-duration-number.yml", []string{`module "fast"`, "interval", "duration"}},
		{"invalid-duration-list.yml", []string{`module "fast"`, "timeout", "duration"}},
		{"invalid-type-tos.yml", []string{`module "fast"`, "tos", `"abc"`}},
		{"invalid-type-tos-float.yml", []string{`module "fast"`, "tos", `"1.5"`}},
		{"invalid-type-adaptive.yml", []string{`module "fast"`, "adaptive", `"maybe"`}},
		{"invalid-type-reconnect-after.yml", []string{`module "fast"`, "reconnect_after"}},
		{"invalid-type-bucket.yml", []string{`module "fast"`, "buckets", "item 1", `"abc"`}},
		{"invalid-type-buckets.yml", []string{`module "fast"`, "buckets", "want a list"}},
		{"invalid-type-native-factor.yml", []string{`module "fast"`, "native_histogram_bucket_factor"}},
		{"invalid-type-target-name.yml", []string{"targets[0]", "name"}},
		{"invalid-type-labels.yml", []string{`target "server1"`, "labels"}},
		{"invalid-type-label-value.yml", []string{`target "server1"`, "labels", "site"}},

		// Module ranges.
		{"invalid-interval-zero.yml", []string{`module "fast"`, "interval", "greater than 0"}},
		{"invalid-interval-negative.yml", []string{`module "fast"`, "interval", "-1s"}},
		{"invalid-timeout-zero.yml", []string{`module "fast"`, "timeout", "greater than 0"}},
		{"invalid-dial-timeout-zero.yml", []string{`module "fast"`, "dial_timeout"}},
		{"invalid-min-timeout-zero.yml", []string{`module "fast"`, "min_timeout"}},
		{"invalid-max-timeout-zero.yml", []string{`module "fast"`, "max_timeout"}},
		{"invalid-timeout-above-max.yml", []string{`module "fast": timeout: must be between min_timeout (100ms) and max_timeout (3s)`}},
		{"invalid-timeout-below-min.yml", []string{`module "fast"`, "timeout", "min_timeout"}},
		{"invalid-min-above-max.yml", []string{`module "fast"`, "max_timeout", "min_timeout"}},
		{"invalid-default-timeout.yml", []string{`module "default"`, "timeout"}},
		{"invalid-reconnect-after-negative.yml", []string{`module "fast"`, "reconnect_after", "-1"}},
		{"invalid-reconnect-backoff-zero.yml", []string{`module "fast"`, "reconnect_backoff"}},
		{"invalid-max-reconnect-backoff.yml", []string{`module "fast"`, "max_reconnect_backoff", "reconnect_backoff"}},
		{"invalid-ip-protocol.yml", []string{`module "fast"`, "ip_protocol", `"tcp"`}},
		{"invalid-ip-protocol-empty.yml", []string{`module "fast"`, "ip_protocol"}},
		{"invalid-source-ip-hostname.yml", []string{`module "fast"`, "source_ip_address", `"localhost"`}},
		{"invalid-source-ip-cidr.yml", []string{`module "fast"`, "source_ip_address", `"10.0.0.0/8"`}},
		{"invalid-tos-256.yml", []string{`module "fast"`, "tos", "256"}},
		{"invalid-tos-negative.yml", []string{`module "fast"`, "tos", "-1"}},
		{"invalid-buckets-empty.yml", []string{`module "fast"`, "buckets", "empty"}},
		{"invalid-buckets-not-increasing.yml", []string{`module "fast"`, "buckets", "increasing"}},
		{"invalid-buckets-equal.yml", []string{`module "fast"`, "buckets", "increasing"}},
		{"invalid-bucket-negative.yml", []string{`module "fast"`, "buckets", "positive"}},
		{"invalid-bucket-zero.yml", []string{`module "fast"`, "buckets", "positive"}},
		{"invalid-bucket-inf.yml", []string{`module "fast"`, "buckets", "finite"}},
		{"invalid-bucket-nan.yml", []string{`module "fast"`, "buckets", "finite"}},
		{"invalid-native-factor-one.yml", []string{`module "fast"`, "native_histogram_bucket_factor"}},
		{"invalid-native-factor-half.yml", []string{`module "fast"`, "native_histogram_bucket_factor", "0.5"}},
		{"invalid-native-factor-negative.yml", []string{`module "fast"`, "native_histogram_bucket_factor"}},
		{"invalid-native-factor-inf.yml", []string{`module "fast"`, "native_histogram_bucket_factor"}},
		{"invalid-module-name-empty.yml", []string{`module ""`, "name"}},
		{"invalid-module-name-control.yml", []string{`module "fa\tst"`, "name", "control"}},

		// Targets.
		{"invalid-target-missing-name.yml", []string{"targets[0]", "name", "required"}},
		{"invalid-target-name-control.yml", []string{"targets[0]", "name", "control"}},
		{"invalid-target-duplicate-name.yml", []string{`target "server1"`, "name", "targets[0]", "targets[2]"}},
		{"invalid-target-missing-address.yml", []string{`target "server1"`, "address", "required"}},
		{"invalid-address-missing-port.yml", []string{`target "server1": address: missing port in "10.0.0.1"`}},
		{"invalid-address-empty-port.yml", []string{`target "server1"`, "address", "missing port"}},
		{"invalid-address-missing-host.yml", []string{`target "server1"`, "address", "missing host"}},
		{"invalid-address-port-zero.yml", []string{`target "server1"`, "address", "port 0"}},
		{"invalid-address-port-65536.yml", []string{`target "server1"`, "address", "port 65536"}},
		{"invalid-address-port-not-numeric.yml", []string{`target "server1"`, "address", `port "echo"`}},
		{"invalid-address-ipv6-no-brackets.yml", []string{`target "server1"`, "address", "brackets"}},
		{"invalid-address-host-space.yml", []string{`target "server1"`, "address", `"echo host"`}},
		{"invalid-target-unknown-module.yml", []string{`target "server1"`, "module", `"fastt"`}},
		{"invalid-label-reserved-target.yml", []string{`target "server1"`, "labels", `"target"`, "reserved"}},
		{"invalid-label-reserved-address.yml", []string{`target "server1"`, "labels", `"address"`, "reserved"}},
		{"invalid-label-reserved-module.yml", []string{`target "server1"`, "labels", `"module"`, "reserved"}},
		{"invalid-label-reserved-instance.yml", []string{`target "server1"`, "labels", `"instance"`, "reserved"}},
		{"invalid-label-reserved-job.yml", []string{`target "server1"`, "labels", `"job"`, "reserved"}},
		{"invalid-label-reserved-le.yml", []string{`target "server1"`, "labels", `"le"`, "reserved"}},
		{"invalid-label-dunder.yml", []string{`target "server1"`, "labels", `"__meta_site"`, "reserved"}},
		{"invalid-label-name-invalid.yml", []string{`target "server1"`, "labels", `"site-name"`}},
		{"invalid-label-name-digit.yml", []string{`target "server1"`, "labels", `"1site"`}},
		{"invalid-label-name-empty.yml", []string{`target "server1"`, "labels", `invalid label name ""`}},

		// Module keys for fresh connections.
		{"invalid-resolve-interval-negative.yml", []string{`module "fast": resolve_interval`, "-1s"}},
		{"invalid-reconnect-interval-negative.yml", []string{`module "fast": reconnect_interval`, "-5m"}},
		{"invalid-type-resolve-interval.yml", []string{`module "fast": resolve_interval`, `"300"`, "line 3"}},
		// Module keys of measurement depth and flows.
		{"invalid-echo-protocol.yml", []string{`module "fast": echo_protocol`, `"v2"`}},
		{"invalid-payload-size-large.yml", []string{`module "fast": payload_size`, "9001"}},
		{"invalid-payload-size-small.yml", []string{`module "fast": payload_size`, "23"}},
		{"invalid-payload-size-v1.yml", []string{`module "fast": payload_size`, "extended protocol"}},
		{"invalid-rto-margin-negative.yml", []string{`module "fast": rto_margin`, "-0.5"}},
		{"invalid-flows-zero.yml", []string{`module "fast": flows`, "got 0"}},
		{"invalid-flows-17.yml", []string{`module "fast": flows`, "got 17"}},
		{"invalid-label-flow-with-flows.yml", []string{`target "server1"`, "labels", `"flow"`, "reserved", `"ecmp"`, "flows 4"}},
		{"invalid-type-tx-timestamps.yml", []string{`module "fast": tx_timestamps`, "maybe", "line 3"}},

		// Discovery entries: their own keys.
		{"invalid-discovery-not-list.yml", []string{"discovery: want a list", "line 2"}},
		{"invalid-discovery-unknown-key.yml", []string{`discovery "mesh": unknown key "exlude_self" (line 4)`}},
		{"invalid-discovery-missing-name.yml", []string{"discovery[0]: name: required"}},
		{"invalid-discovery-duplicate-name.yml", []string{`discovery "mesh": name`, "discovery[0]", "discovery[1]"}},
		{"invalid-discovery-unknown-module.yml", []string{`discovery "mesh": module: unknown module "fastt"`}},
		{"invalid-discovery-no-sources.yml", []string{`discovery "mesh"`, "file_sd_configs", "dns_sd_configs", "http_sd_configs"}},
		{"invalid-discovery-peers-negative.yml", []string{`discovery "mesh": peers`, "-1"}},
		{"invalid-discovery-peers-type.yml", []string{`discovery "mesh": peers: want an integer`, `"all"`, "line 4"}},
		{"invalid-discovery-exclude-self-type.yml", []string{`discovery "mesh": exclude_self`, `"maybe"`, "line 4"}},

		// Discovery sources, checked by Prometheus' own code.
		{"invalid-discovery-sd-not-list.yml", []string{`discovery "mesh": dns_sd_configs: want a list`, "line 4"}},
		{"invalid-discovery-sd-not-mapping.yml", []string{`discovery "mesh": file_sd_configs[0]: want a mapping`, "line 4"}},
		{"invalid-discovery-sd-empty-item.yml", []string{`discovery "mesh": dns_sd_configs[0]: empty`, "line 4"}},
		{"invalid-discovery-sd-duplicate-key.yml", []string{`discovery "mesh": dns_sd_configs[0]: duplicate key "port"`, "line 7"}},
		{"invalid-discovery-alias-cycle.yml", []string{`discovery "mesh": dns_sd_configs[0]`, "*a", "line 8"}},
		{"invalid-discovery-dns-unknown-key.yml", []string{`discovery "mesh": dns_sd_configs[0]: unknown key "server" (line 7)`}},
		{"invalid-discovery-dns-no-port.yml", []string{`discovery "mesh": dns_sd_configs[0]`, "port", "line 4"}},
		{"invalid-discovery-dns-no-names.yml", []string{`discovery "mesh": dns_sd_configs[0]`, "name", "line 4"}},
		{"invalid-discovery-dns-bad-type.yml", []string{`discovery "mesh": dns_sd_configs[0]`, "TXT", "line 4"}},
		{"invalid-discovery-dns-port-type.yml", []string{`discovery "mesh": dns_sd_configs[0]: port: want an integer, got "echo" (line 6)`}},
		{"invalid-discovery-file-bad-pattern.yml", []string{`discovery "mesh": file_sd_configs[0]: files[0]`, `"targets.txt"`, "line 4"}},
		{"invalid-discovery-file-no-files.yml", []string{`discovery "mesh": file_sd_configs[0]`, "path", "line 4"}},
		{"invalid-discovery-http-no-url.yml", []string{`discovery "mesh": http_sd_configs[0]`, "URL", "line 4"}},
		{"invalid-discovery-http-bad-scheme.yml", []string{`discovery "mesh": http_sd_configs[0]`, "scheme", "line 4"}},
		{"invalid-discovery-http-nested-unknown.yml", []string{`discovery "mesh": http_sd_configs[0]: basic_auth: unknown key "passwd" (line 7)`}},
		{"invalid-discovery-http-nested-duplicate.yml", []string{`discovery "mesh": http_sd_configs[0]: basic_auth: duplicate key "username" (line 7)`}},
		// url.Parse's error quotes the URL, password and all: the key
		// is named, the URL not shown (TestURLErrorsHidePasswords).
		{"invalid-discovery-http-url-password.yml", []string{`discovery "mesh": http_sd_configs[0]: url: does not parse`, "line 4"}},
		{"invalid-discovery-http-proxy-url-password.yml", []string{`discovery "mesh": http_sd_configs[0]: proxy_url: does not parse`, "line 5"}},
		{"invalid-discovery-http-bad-duration.yml", []string{`discovery "mesh": http_sd_configs[0]: refresh_interval`, `"5x"`, "line 5"}},
		// Prometheus' parsers take a refresh_interval of 0s, on which its
		// discoverers panic.
		{"invalid-discovery-file-refresh-zero.yml", []string{`discovery "mesh": file_sd_configs[0]: refresh_interval: must be greater than 0, got 0s (line 5)`}},
		{"invalid-discovery-dns-refresh-zero.yml", []string{`discovery "mesh": dns_sd_configs[0]: refresh_interval: must be greater than 0, got 0s (line 7)`}},
		{"invalid-discovery-http-refresh-zero.yml", []string{`discovery "mesh": http_sd_configs[0]: refresh_interval: must be greater than 0, got 0s (line 5)`}},
		// A wrong type names its key whether the key is the first of its
		// mapping and whether the source is written in flow style.
		{"invalid-discovery-relabel-source-labels-type.yml", []string{`discovery "mesh": relabel_configs[0]: source_labels: want a list, got "site" (line 5)`}},
		{"invalid-discovery-flow-style-type.yml", []string{`discovery "mesh": dns_sd_configs[0]: port: want an integer, got "echo" (line 3)`}},
		{"invalid-discovery-http-nested-flow-type.yml", []string{`discovery "mesh": http_sd_configs[0]: basic_auth.username: want a string, got a list (line 5)`}},
		{"invalid-discovery-http-auth-conflict.yml", []string{`discovery "mesh": http_sd_configs[0]`, "basic_auth", "authorization", "line 4"}},
		{"invalid-discovery-relabel-action.yml", []string{`discovery "mesh": relabel_configs[0]: action`, `"replce"`, "line 6"}},
		{"invalid-discovery-relabel-target-label.yml", []string{`discovery "mesh": relabel_configs[0]: target_label`, `"site-name"`, "line 6"}},
		{"invalid-discovery-relabel-regex.yml", []string{`discovery "mesh": relabel_configs[0]`, "regexp", "line 5"}},
		{"invalid-discovery-relabel-unknown-key.yml", []string{`discovery "mesh": relabel_configs[0]: unknown key "target" (line 6)`}},

		// Every problem is reported at once.
		{"invalid-many.yml", []string{`module "alpha": interval`, `module "zeta": tos`, `target "b": address`, `target "a": module`}},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			c, err := Load(path)
			if c != nil {
				t.Errorf("got a config with the error")
			}
			wantErr(t, err, append(tt.want, path)...)
			// Our own wording, not the library's, which names Go types.
			for _, leak := range []string{"unmarshal", "config.", "yaml.Node", "map["} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error mentions %q:\n%v", leak, err)
				}
			}
		})
	}
	t.Run("every fixture is tested", func(t *testing.T) {
		files, err := filepath.Glob("testdata/invalid-*.yml")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !tested[filepath.Base(f)] {
				t.Errorf("%s is not in the table", f)
			}
		}
	})
}

func TestLoadReportsEveryProblemInOrder(t *testing.T) {
	_, err := Load("testdata/invalid-many.yml")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{`module "alpha"`, `module "zeta"`, `target "b"`, `target "a"`}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], "testdata/invalid-many.yml: "+w+": ") {
			t.Errorf("line %d = %q, want it to start with the file name and %s", i, lines[i], w)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yml")
	c, err := Load(path)
	if c != nil {
		t.Error("got a config for a missing file")
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("errors.Is(%v, os.ErrNotExist) = false", err)
	}
	wantErr(t, err, "nope.yml")
}
