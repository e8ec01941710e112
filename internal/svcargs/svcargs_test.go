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

package svcargs

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestArgs covers the command line that --service=install records.
func TestArgs(t *testing.T) {
	abs := func(p string) (string, error) {
		if strings.HasPrefix(p, `C:\`) {
			return p, nil
		}
		return `C:\exporter\` + p, nil
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no flags", nil, []string{}},
		{"service flag with =", []string{"--service=install"}, []string{}},
		{"service flag with separate value", []string{"--service", "install", "--log.level=debug"}, []string{"--log.level=debug"}},
		{
			"other flags kept in order",
			[]string{"--echo.listen-address=:4000", "--service=install", "--no-echo", "--web.listen-address", ":2112"},
			[]string{"--echo.listen-address=:4000", "--no-echo", "--web.listen-address", ":2112"},
		},
		{
			"relative config made absolute",
			[]string{"--config.file=tcpping.yml", "--service=install"},
			[]string{`--config.file=C:\exporter\tcpping.yml`},
		},
		{
			"separate path value made absolute and joined",
			[]string{"--service", "install", "--web.config.file", "web.yml"},
			[]string{`--web.config.file=C:\exporter\web.yml`},
		},
		{"absolute path kept", []string{`--config.file=C:\etc\t.yml`}, []string{`--config.file=C:\etc\t.yml`}},
		{"empty path kept", []string{"--config.file="}, []string{"--config.file="}},
		{"a similar flag name is not the service flag", []string{"--service.other=x"}, []string{"--service.other=x"}},
		{"everything after -- kept", []string{"--service=install", "--", "--service=stop"}, []string{"--", "--service=stop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Args(tt.args, abs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Args(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}

	t.Run("path flag without value is an error", func(t *testing.T) {
		if _, err := Args([]string{"--config.file"}, abs); err == nil || !strings.Contains(err.Error(), "config.file") {
			t.Errorf("err = %v, want one naming config.file", err)
		}
	})
	t.Run("abs error names the flag", func(t *testing.T) {
		fail := func(string) (string, error) { return "", errors.New("no cwd") }
		if _, err := Args([]string{"--web.config.file=w.yml"}, fail); err == nil || !strings.Contains(err.Error(), "web.config.file") {
			t.Errorf("err = %v, want one naming web.config.file", err)
		}
	})
}
