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

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The example rules and their promtool unit tests.
var (
	rulesFile     = filepath.Join("examples", "rules", "tcpping.rules.yml")
	rulesTestFile = filepath.Join("examples", "rules", "tcpping.rules_test.yml")
)

// ruleFile is the part of a Prometheus rule file the tests look at.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// readRules parses the example rule file.
func readRules(t *testing.T) ruleFile {
	t.Helper()
	var rf ruleFile
	readYAMLFile(t, repoFile(rulesFile), &rf)
	return rf
}

// readYAMLFile decodes the YAML file at path into out.
func readYAMLFile(t *testing.T, path string, out any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// names returns the alert and record names of rf.
func (rf ruleFile) names() (alerts, records []string) {
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r.Alert)
			}
			if r.Record != "" {
				records = append(records, r.Record)
			}
		}
	}
	return alerts, records
}

func TestRulesPromtool(t *testing.T) {
	promtool := requireTool(t, "promtool", "prometheus")
	t.Run("check rules", func(t *testing.T) {
		out, errOut, err := runWithDeadline(t, root, 30*time.Second, promtool, "check", "rules", rulesFile)
		if err != nil || !strings.Contains(out+errOut, "SUCCESS") {
			t.Errorf("promtool check rules: %v\n%s%s", err, out, errOut)
		}
	})
	t.Run("test rules", func(t *testing.T) {
		out, errOut, err := runWithDeadline(t, root, 30*time.Second, promtool, "test", "rules", rulesTestFile)
		if err != nil || !strings.Contains(out+errOut, "SUCCESS") {
			t.Errorf("promtool test rules: %v\n%s%s", err, out, errOut)
		}
	})
}

// TestRulesCoverage checks that the rules cover what the issue asks for and
// that the unit tests make every alert both fire and stay quiet: promtool
// passes a test file that never mentions an alert.
func TestRulesCoverage(t *testing.T) {
	rf := readRules(t)
	alerts, _ := rf.names()
	var unit struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			Name       string `yaml:"name"`
			AlertTests []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAMLFile(t, repoFile(rulesTestFile), &unit)
	if !slices.Contains(unit.RuleFiles, filepath.Base(rulesFile)) {
		t.Errorf("%s: rule_files %v does not name %s", rulesTestFile, unit.RuleFiles, filepath.Base(rulesFile))
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range unit.Tests {
		for _, at := range tc.AlertTests {
			if !slices.Contains(alerts, at.Alertname) {
				t.Errorf("test %q checks unknown alert %s", tc.Name, at.Alertname)
			}
			if len(at.ExpAlerts) > 0 {
				fires[at.Alertname] = true
			} else {
				quiet[at.Alertname] = true
			}
		}
	}
	for _, a := range alerts {
		if !fires[a] {
			t.Errorf("no unit test makes %s fire", a)
		}
		if !quiet[a] {
			t.Errorf("no unit test checks that %s stays quiet", a)
		}
	}
	// What each alert must watch, by the metric its expression uses.
	watch := map[string]string{
		"disconnected target":              "tcp_echo_connected == 0",
		"loss":                             "tcp_echo_timeouts_total",
		"p99 RTT":                          "histogram_quantile(0.99",
		"RTT regression":                   "offset 1h",
		"retransmits":                      "tcp_echo_retransmits_total",
		"failed config reloads":            "tcpping_exporter_config_last_reload_successful",
		"failing discovery sources":        "tcpping_exporter_discovery_failing",
		"one bad path of a target's flows": "min without (flow)",
	}
	var exprs strings.Builder
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			exprs.WriteString(r.Expr + "\n")
		}
	}
	for what, s := range watch {
		if !strings.Contains(exprs.String(), s) {
			t.Errorf("no rule watches %s (no expression contains %q)", what, s)
		}
	}
}
