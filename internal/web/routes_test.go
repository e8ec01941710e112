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

package web

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

func TestValidateTelemetryPath(t *testing.T) {
	tests := []struct {
		path, wantErr string
	}{
		{"/metrics", ""},
		{"/", ""},
		{"/a/b-c_d.e", ""},
		{"metrics", "must start with /"},
		{"", "must start with /"},
		{"/metrics?x", "plain path"},
		{"/{name}", "plain path"},
		{"/a b", "plain path"},
		{"/%41", "plain path"},
		{"/probe", "the /probe endpoint"},
		{"/config", "the /config endpoint"},
		{"/-/healthy", "the /-/healthy endpoint"},
		{"/-/reload", "the /-/reload endpoint"},
		{"/graph", "the /graph endpoint"},
		{"/target", "the /target endpoint"},
		{"/favicon.ico", "the /favicon.ico endpoint"},
		{"/metrics/", ""},
		{"//metrics", "clean path"},
		{"/a//b", "clean path"},
		{"/a/../metrics", "clean path"},
		{"/metrics/.", "clean path"},
		{"/./metrics", "clean path"},
		{"/..", "clean path"},
		{"/metrics//", "clean path"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			err := ValidateTelemetryPath(tt.path)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tcpping.yml")
	writeConfig(t, file, "targets:\n  - {name: alpha, address: \"127.0.0.1:1\", labels: {site: ams}}\n")

	t.Run("every endpoint", func(t *testing.T) {
		_, _, srv := newTestReloader(t, ConfigFile{Path: file}, "/custom")
		for _, tt := range []struct{ path, want string }{
			{"/custom", `tcp_echo_sent_total{address="127.0.0.1:1",module="default",site="ams",target="alpha"}`},
			{"/-/healthy", "Healthy\n"},
			{"/config", "name: alpha"},
			{"/", `<td><a href="target?address=127.0.0.1%3A1&amp;module=default&amp;target=alpha">alpha</a></td>`},
			{"/probe", "target parameter is missing"},
			{"/target?target=alpha", `<td class="labels">site=ams</td>`},
			{"/graph?target=alpha", `class="smoke-graph"`},
		} {
			if _, body := testenv.Get(t, srv.URL+tt.path, nil); !strings.Contains(body, tt.want) {
				t.Errorf("%s: body lacks %q:\n%s", tt.path, tt.want, body)
			}
		}
	})
	t.Run("metrics at / replace the landing page", func(t *testing.T) {
		_, _, srv := newTestReloader(t, ConfigFile{Path: file}, "/")
		code, body := testenv.Get(t, srv.URL+"/", nil)
		if code != http.StatusOK || !strings.Contains(body, "tcp_echo_sent_total") || strings.Contains(body, "<html") {
			t.Errorf("HTTP %d, want the metrics:\n%s", code, body)
		}
		// The target page has no landing page to go back to.
		if code, body := testenv.Get(t, srv.URL+"/target?target=alpha", nil); code != http.StatusOK || strings.Contains(body, `href="./"`) {
			t.Errorf("target page: HTTP %d, want no link to the metrics at / as if to all probers:\n%s", code, body)
		}
	})
}
