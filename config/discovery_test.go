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
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/dns"
	"github.com/prometheus/prometheus/discovery/file"
	"github.com/prometheus/prometheus/discovery/http"
	"github.com/prometheus/prometheus/model/relabel"
)

// goodDiscovery returns the discovery entries of testdata/good.yml as Load
// returns them: Prometheus' defaults filled in, relative paths under
// testdata/.
func goodDiscovery() []Discovery {
	srv := dns.DefaultSDConfig
	srv.Names = []string{"_echo._tcp.mesh.example.net"}
	web := http.DefaultSDConfig
	web.URL = "https://sd.example.net/targets"
	web.RefreshInterval = model.Duration(2 * time.Minute)
	web.HTTPClientConfig.BasicAuth = &promconfig.BasicAuth{Username: "tcpping", PasswordFile: "testdata/sd-password"}
	site := relabel.DefaultRelabelConfig
	site.SourceLabels = model.LabelNames{"__meta_dns_name"}
	site.Regex = relabel.MustNewRegexp(`([^.]+)\.mesh\.example\.net`)
	site.TargetLabel = "site"
	site.NameValidationScheme = model.LegacyValidation
	name := relabel.DefaultRelabelConfig
	name.SourceLabels = model.LabelNames{"__address__"}
	name.TargetLabel = "__target__"
	name.NameValidationScheme = model.LegacyValidation
	return []Discovery{
		{
			Name:   "mesh",
			Module: "fast",
			FileSDConfigs: []*file.SDConfig{{
				Files:           []string{"testdata/targets/*.json", "testdata/extra.yml"},
				RefreshInterval: model.Duration(time.Minute),
			}},
			DNSSDConfigs: []*dns.SDConfig{
				{Names: []string{"echo.mesh.example.net"}, Type: "A", Port: 4000, RefreshInterval: model.Duration(15 * time.Second)},
				&srv,
			},
			HTTPSDConfigs:  []*http.SDConfig{&web},
			RelabelConfigs: []*relabel.Config{&site, &name},
			ExcludeSelf:    true,
			Peers:          3,
		},
		{
			Name:          "lab",
			Module:        DefaultModuleName,
			FileSDConfigs: []*file.SDConfig{{Files: []string{"/etc/tcpping/lab.yml"}, RefreshInterval: file.DefaultSDConfig.RefreshInterval}},
		},
	}
}

func TestSDConfigsOrder(t *testing.T) {
	d := goodDiscovery()[0]
	got := d.SDConfigs()
	want := []discovery.Config{d.FileSDConfigs[0], d.DNSSDConfigs[0], d.DNSSDConfigs[1], d.HTTPSDConfigs[0]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SDConfigs() = %v, want file, then dns, then http: %v", got, want)
	}
	for i, c := range got {
		if want := []string{"file", "dns", "dns", "http"}[i]; c.Name() != want {
			t.Errorf("SDConfigs()[%d] is %s, want %s", i, c.Name(), want)
		}
	}
}

func TestParseDiscovery(t *testing.T) {
	const sources = "    dns_sd_configs: [{names: [a.example.net], type: A, port: 4000}]\n"
	tests := []struct {
		name  string
		data  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "module defaults to default",
			data: "discovery:\n  - name: mesh\n" + sources,
			check: func(t *testing.T, c *Config) {
				if got := c.Discovery[0].Module; got != DefaultModuleName {
					t.Errorf("module = %q, want %q", got, DefaultModuleName)
				}
			},
		},
		{
			name: "empty module value is the default",
			data: "discovery:\n  - name: mesh\n    module:\n" + sources,
			check: func(t *testing.T, c *Config) {
				if got := c.Discovery[0].Module; got != DefaultModuleName {
					t.Errorf("module = %q, want %q", got, DefaultModuleName)
				}
			},
		},
		{
			name: "Prometheus defaults fill in",
			data: "discovery:\n  - name: mesh\n    dns_sd_configs: [{names: [_echo._tcp.example.net]}]\n    file_sd_configs: [{files: [a.json]}]\n",
			check: func(t *testing.T, c *Config) {
				d := c.Discovery[0]
				if got := d.DNSSDConfigs[0]; got.Type != "SRV" || got.RefreshInterval != dns.DefaultSDConfig.RefreshInterval {
					t.Errorf("dns_sd_configs[0] = %+v, want type SRV and refresh_interval 30s", got)
				}
				if got := d.FileSDConfigs[0].RefreshInterval; got != file.DefaultSDConfig.RefreshInterval {
					t.Errorf("file_sd_configs[0].refresh_interval = %v, want 5m", got)
				}
				if d.ExcludeSelf || d.Peers != 0 || d.RelabelConfigs != nil {
					t.Errorf("exclude_self, peers, relabel_configs = %v, %d, %v; want false, 0, none", d.ExcludeSelf, d.Peers, d.RelabelConfigs)
				}
			},
		},
		{
			name: "anchors and merge keys inside sources",
			data: "discovery:\n" +
				"  - name: a\n    dns_sd_configs: [&base {names: [a.example.net], type: A, port: 4000, refresh_interval: 7s}]\n" +
				"  - name: b\n    dns_sd_configs: [{<<: *base, names: [b.example.net]}]\n",
			check: func(t *testing.T, c *Config) {
				want := &dns.SDConfig{Names: []string{"b.example.net"}, Type: "A", Port: 4000, RefreshInterval: model.Duration(7 * time.Second)}
				if got := c.Discovery[1].DNSSDConfigs[0]; !reflect.DeepEqual(got, want) {
					t.Errorf("merged dns_sd_configs[0] = %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "entries keep file order",
			data: "discovery:\n  - name: z\n" + sources + "  - name: a\n" + sources,
			check: func(t *testing.T, c *Config) {
				if c.Discovery[0].Name != "z" || c.Discovery[1].Name != "a" {
					t.Errorf("entries %q, %q; want z, a", c.Discovery[0].Name, c.Discovery[1].Name)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadRelativePaths(t *testing.T) {
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"relative file", c.Discovery[0].FileSDConfigs[0].Files[1], "testdata/extra.yml"},
		{"relative glob", c.Discovery[0].FileSDConfigs[0].Files[0], "testdata/targets/*.json"},
		{"absolute file", c.Discovery[1].FileSDConfigs[0].Files[0], "/etc/tcpping/lab.yml"},
		{"password file", c.Discovery[0].HTTPSDConfigs[0].HTTPClientConfig.BasicAuth.PasswordFile, "testdata/sd-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	parsed, err := Parse([]byte("discovery:\n  - name: a\n    file_sd_configs: [{files: [x.json]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := parsed.Discovery[0].FileSDConfigs[0].Files[0]; got != "x.json" {
		t.Errorf("Parse changed the path to %q; only Load knows the file's directory", got)
	}
}

func TestYAMLHidesSecrets(t *testing.T) {
	c, err := Parse([]byte(`discovery:
  - name: mesh
    http_sd_configs:
      - url: http://sd.example.net/targets
        basic_auth: {username: tcpping, password: s3cret-basic}
      - url: http://sd.example.net/other
        authorization: {credentials: s3cret-token}
      - url: http://sd.example.net/third
        oauth2: {client_id: id, client_secret: s3cret-oauth, token_url: http://sd.example.net/token}
      - url: https://sd-user:s3cret-in-url@sd.example.net/fourth
      - url: http://sd.example.net/fifth
        oauth2: {client_id: id2, client_secret: s3cret-oauth2, token_url: "https://tok-user:s3cret-token-url@sd.example.net/token"}
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "s3cret") {
		t.Errorf("/config shows a secret:\n%s", s)
	}
	if n := strings.Count(s, "<secret>"); n != 4 {
		t.Errorf("/config shows <secret> %d times, want 4:\n%s", n, s)
	}
	for _, want := range []string{"username: tcpping", "client_id: id", "url: http://sd.example.net/third",
		"url: https://sd-user:xxxxx@sd.example.net/fourth", "token_url: https://tok-user:xxxxx@sd.example.net/token"} {
		if !strings.Contains(s, want) {
			t.Errorf("/config lacks %q:\n%s", want, s)
		}
	}
	// What /config shows is itself a valid config, which renders the same.
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parse: %v\n%s", err, out)
	}
	again, err := back.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != s {
		t.Errorf("rendering the rendered config changed it:\n%s\nthen\n%s", s, again)
	}
}

func TestYAMLDiscoveryFormat(t *testing.T) {
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"\ndiscovery:\n  - name: mesh\n    module: fast\n    file_sd_configs:\n",
		"    dns_sd_configs:\n      - names:\n          - echo.mesh.example.net\n        refresh_interval: 15s\n        type: A\n        port: 4000\n",
		"    relabel_configs:\n      - source_labels: [__meta_dns_name]\n",
		"    exclude_self: true\n    peers: 3\n",
		"  - name: lab\n    module: default\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("YAML() lacks %q:\n%s", want, s)
		}
	}
	if d := Default(); true {
		out, err := d.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "discovery") {
			t.Errorf("a config without discovery shows the key:\n%s", out)
		}
	}
}

// TestURLErrorsHidePasswords loads configs whose URL with a password does
// not parse: url.Parse's error quotes the URL as written up to any #, and
// the error of Load goes to --config.check, the log and the answer to POST
// /-/reload.
func TestURLErrorsHidePasswords(t *testing.T) {
	for _, tt := range []struct{ file, password string }{
		{"invalid-discovery-http-url-password.yml", "pa%ss"},
		{"invalid-discovery-http-proxy-url-password.yml", "s3cr"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", tt.file))
			if err == nil || strings.Contains(err.Error(), tt.password) || strings.Contains(err.Error(), "%ss") {
				t.Errorf("error %v, want one without the password %q", err, tt.password)
			}
		})
	}
}
