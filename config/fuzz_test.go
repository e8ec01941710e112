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
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives a round trip through YAML unchanged, except for secrets, which
// YAML hides: then the rendered config must render the same again. The seed
// corpus holds the fixtures below and the files in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, name := range []string{
		"good.yml",
		"merge.yml",
		"invalid-many.yml",
		"invalid-unknown-merged-key.yml",
		"invalid-bad-merge.yml",
		"invalid-duplicate-module.yml",
		"invalid-type-bucket.yml",
		"invalid-target-duplicate-name.yml",
		"invalid-discovery-http-nested-unknown.yml",
		"invalid-discovery-alias-cycle.yml",
		"invalid-discovery-relabel-target-label.yml",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("discovery:\n  - name: a\n    http_sd_configs: [{url: 'http://u:p@sd.example.net/x'}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config with the error %v", err)
			}
			return
		}
		out, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if bytes.Contains(out, []byte("<secret>")) || hidesURLPassword(c) {
			again, err := back.YAML()
			if err != nil {
				t.Fatalf("YAML of the re-parsed config: %v", err)
			}
			if !bytes.Equal(again, out) {
				t.Fatalf("rendering the rendered config changed it:\n%s\nthen\n%s", out, again)
			}
			return
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the config:\n%s\ngot  %#v\nwant %#v", out, back, c)
		}
	})
}

// hidesURLPassword reports whether /config shows an HTTP source's URL
// without its password (RedactURL), which then does not read back.
func hidesURLPassword(c *Config) bool {
	for _, d := range c.Discovery {
		for _, h := range d.HTTPSDConfigs {
			if RedactURL(h.URL) != h.URL {
				return true
			}
		}
	}
	return false
}
