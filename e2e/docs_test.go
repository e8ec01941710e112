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
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tcpping/tcpping_exporter/config"
)

// configurationDoc is the reference of every flag and config key.
const configurationDoc = "CONFIGURATION.md"

// helpFlag is one flag of --help-long: its name and the default kingpin
// shows ("" if none).
type helpFlag struct{ name, def string }

// helpFlagLine matches a flag's first line in kingpin's help, e.g.
// `  -h, --[no-]help ...` or `      --echo.idle-timeout=60s    Close ...`.
// Continuation lines are indented further and do not match.
var helpFlagLine = regexp.MustCompile(`(?m)^ {2}(?:-\w, | {4})--(?:\[no-\])?([a-z][\w.-]*)(?:=(\S*))?`)

// helpFlags runs the built binary with --help-long and returns its flags.
func helpFlags(t *testing.T) []helpFlag {
	t.Helper()
	code, out := runBinary(t, t.TempDir(), "--help-long")
	if code != 0 {
		t.Fatalf("--help-long: exit code %d\n%s", code, out)
	}
	var flags []helpFlag
	for _, m := range helpFlagLine.FindAllStringSubmatch(out, -1) {
		def := strings.Trim(m[2], `"`)
		if def != "" && strings.ToUpper(def) == def && strings.ContainsAny(def, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			def = "" // a placeholder such as ECHO.ALLOWED-NETWORK, not a default
		}
		flags = append(flags, helpFlag{name: m[1], def: def})
	}
	if len(flags) < 10 {
		t.Fatalf("found only %d flags in --help-long:\n%s", len(flags), out)
	}
	return flags
}

// docTableRows returns the table rows of CONFIGURATION.md in the section
// whose heading starts with heading, by the text of their first cell.
func docTableRows(t *testing.T, doc, heading string) map[string]string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading)
	if i < 0 {
		t.Fatalf("%s: no section %q", configurationDoc, heading)
	}
	section := doc[i+1:]
	if j := strings.Index(section[len(heading):], "\n#"); j >= 0 {
		section = section[:len(heading)+j]
	}
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "|---") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		rows[first] = line
	}
	return rows
}

func readConfigurationDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(repoFile(configurationDoc))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docRow returns the row of rows whose first cell names code (in
// backticks), e.g. "`--echo` / `--no-echo`" for "--echo".
func docRow(rows map[string]string, code string) (string, bool) {
	for first, row := range rows {
		if strings.Contains(first, "`"+code+"`") {
			return row, true
		}
	}
	return "", false
}

// TestDocsFlags checks that CONFIGURATION.md documents every flag of
// --help-long, its own and exporter-toolkit's, with the default the binary
// has, and no flag the binary lacks.
func TestDocsFlags(t *testing.T) {
	doc := readConfigurationDoc(t)
	rows := docTableRows(t, doc, "## Command-line flags")
	flags := helpFlags(t)
	known := map[string]bool{"--help-long": true, "--help-man": true, "-h": true}
	for _, f := range flags {
		known["--"+f.name] = true
		t.Run(f.name, func(t *testing.T) {
			row, ok := docRow(rows, "--"+f.name)
			if !ok {
				t.Fatalf("--%s is not in the flags table of %s", f.name, configurationDoc)
			}
			if f.def != "" && !strings.Contains(row, "`"+f.def+"`") {
				t.Errorf("the row of --%s lacks its default `%s`:\n%s", f.name, f.def, row)
			}
		})
	}
	// No stale rows: every flag documented exists, except Windows-only ones
	// that this platform's binary does not have.
	flagName := regexp.MustCompile("`(--?[a-z][\\w.-]*)`")
	for first, row := range rows {
		for _, m := range flagName.FindAllStringSubmatch(first, -1) {
			name := m[1]
			if strings.HasPrefix(name, "--no-") {
				name = "--" + strings.TrimPrefix(name, "--no-")
			}
			if !known[name] && !strings.Contains(row, "Windows only") {
				t.Errorf("%s documents %s, which --help-long does not list", configurationDoc, m[1])
			}
		}
	}
}

// yamlKeys returns the YAML keys of struct type typ, from its yaml tags as
// the config package reads them.
func yamlKeys(typ reflect.Type) []string {
	var keys []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys = append(keys, name)
	}
	return keys
}

// TestDocsConfigKeys checks that CONFIGURATION.md documents every key of
// the config file (by the yaml tags of config.Config, config.Module and
// config.Target), each module key with its built-in default, and no key the
// config package does not know.
func TestDocsConfigKeys(t *testing.T) {
	doc := readConfigurationDoc(t)
	// The built-in default module as YAML: "key: value" per line.
	b, err := yaml.Marshal(config.DefaultModule())
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		defaults[k] = v
	}
	// The default module in full, as /config shows it.
	block := "```yaml\nmodules:\n  default:\n    " + strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n    ") + "\n```"
	if !strings.Contains(doc, block) {
		t.Errorf("%s lacks the built-in default module as YAML:\n%s", configurationDoc, block)
	}
	sections := []struct {
		heading string
		typ     reflect.Type
	}{
		{"## The config file", reflect.TypeFor[config.Config]()},
		{"### Module keys", reflect.TypeFor[config.Module]()},
		{"### Target keys", reflect.TypeFor[config.Target]()},
	}
	for _, s := range sections {
		rows := docTableRows(t, doc, s.heading)
		keys := yamlKeys(s.typ)
		for _, key := range keys {
			t.Run(s.typ.Name()+"/"+key, func(t *testing.T) {
				row, ok := rows["`"+key+"`"]
				if !ok {
					t.Fatalf("%s: key %s is not in the table of %q", configurationDoc, key, s.heading)
				}
				def, isModuleKey := defaults[key]
				if !isModuleKey || s.typ != reflect.TypeFor[config.Module]() {
					return
				}
				// A default too long for the table (buckets) is shortened
				// there; the YAML block below has it in full.
				if len(def) <= 40 && !strings.Contains(row, "`"+def+"`") {
					t.Errorf("%s: the row of %s lacks its default `%s`:\n%s", configurationDoc, key, def, row)
				}
			})
		}
		for first := range rows {
			if !strings.HasPrefix(first, "`") {
				continue // the header row
			}
			if key := strings.Trim(first, "`"); !slices.Contains(keys, key) {
				t.Errorf("%s documents key %s under %q, which %s does not have", configurationDoc, key, s.heading, s.typ)
			}
		}
	}
	if len(defaults) != len(yamlKeys(reflect.TypeFor[config.Module]())) {
		t.Errorf("the default module marshals %d keys, the Module type has %d", len(defaults), len(yamlKeys(reflect.TypeFor[config.Module]())))
	}
}

// readmeSection returns the README section under heading, up to the next
// heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	return docSection(t, "README.md", heading)
}

// docSection returns the section of the Markdown file under heading, up
// to the next heading of the same level.
func docSection(t *testing.T, file, heading string) string {
	t.Helper()
	b, err := os.ReadFile(repoFile(file))
	if err != nil {
		t.Fatal(err)
	}
	doc := "\n" + string(b)
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("%s: no section %q", file, heading)
	}
	section := doc[i+1:]
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if j := strings.Index(section[len(heading):], "\n"+level); j >= 0 {
		section = section[:len(heading)+j]
	}
	return section
}

// fencedBlock matches a fenced code block, also one indented in a list
// item.
var fencedBlock = regexp.MustCompile("(?ms)^( *)```(\\w+)\n(.*?)^ *```")

// codeBlocks returns the code blocks of lang in text, unindented.
func codeBlocks(text, lang string) []string {
	var out []string
	for _, m := range fencedBlock.FindAllStringSubmatch(text, -1) {
		if m[2] != lang {
			continue
		}
		var b strings.Builder
		for _, line := range strings.SplitAfter(m[3], "\n") {
			b.WriteString(strings.TrimPrefix(line, m[1]))
		}
		out = append(out, b.String())
	}
	return out
}

// TestDocsConfigExample checks that the README's example config is one
// the exporter loads, with the modules and targets it says.
func TestDocsConfigExample(t *testing.T) {
	blocks := codeBlocks(readmeSection(t, "## Configuration"), "yaml")
	if len(blocks) != 1 {
		t.Fatalf("want 1 yaml block, got %d", len(blocks))
	}
	cfg, err := config.Parse([]byte(blocks[0]))
	if err != nil {
		t.Fatalf("README's config example: %v", err)
	}
	wan, ok := cfg.Modules["wan"]
	if len(cfg.Targets) != 2 || !ok || wan.Flows != 4 || wan.PayloadSize != 1400 || !wan.DontFragment {
		t.Errorf("README's config example: targets %+v, module wan %+v", cfg.Targets, wan)
	}
}

// TestDocsFiveMinuteStart checks the README's five-minute start: its
// prometheus.yml is valid where the README says to put it (the top
// directory, next to examples/), and its target snippet, added to the
// shipped tcpping.yml, is a valid config.
func TestDocsFiveMinuteStart(t *testing.T) {
	blocks := codeBlocks(readmeSection(t, "## Five-minute start with Prometheus"), "yaml")
	if len(blocks) != 2 {
		t.Fatalf("want 2 yaml blocks (prometheus.yml, a target), got %d", len(blocks))
	}
	t.Run("prometheus.yml", func(t *testing.T) {
		promtoolCheckConfig(t, t.TempDir(), blocks[0])
	})
	t.Run("added target", func(t *testing.T) {
		shipped, err := os.ReadFile(repoFile("tcpping.yml"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Parse([]byte(strings.TrimRight(string(shipped), "\n") + "\n" + blocks[1]))
		if err != nil {
			t.Fatalf("tcpping.yml with the README's target: %v", err)
		}
		if !slices.ContainsFunc(cfg.Targets, func(tg config.Target) bool { return tg.Name == "hostb" }) {
			t.Errorf("target hostb missing from %+v", cfg.Targets)
		}
	})
}

// originalTargetsJSON is the example targets.json of tcp_ping_prometheus.
const originalTargetsJSON = `[
  {"name": "server1", "address": "192.168.1.10:4000"},
  {"name": "server2", "address": "192.168.1.11:4000"}
]
`

// TestDocsMigration checks the conversion of the original's
// targets.json: the shell lines turn the original's example into a config
// that --config.check accepts, the hand-written YAML says the same, and the
// module example is valid.
func TestDocsMigration(t *testing.T) {
	section := docSection(t, "docs/migrating.md", "# Migrating from tcp_ping_prometheus")
	sh := codeBlocks(section, "sh")
	yml := codeBlocks(section, "yaml")
	if len(sh) != 1 || len(yml) != 2 {
		t.Fatalf("want 1 sh block and 2 yaml blocks, got %d and %d", len(sh), len(yml))
	}
	// The README shows the same conversion.
	if readme := codeBlocks(readmeSection(t, "## Migrating from tcp_ping_prometheus"), "sh"); len(readme) != 1 || readme[0] != sh[0] {
		t.Errorf("README's conversion %q differs from docs/migrating.md's %q", readme, sh[0])
	}
	dir := t.TempDir()
	writeFile(t, dir, "targets.json", originalTargetsJSON)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", sh[0])
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK: 1 modules, 2 targets") {
		t.Fatalf("README commands: %v\n%s", err, out)
	}
	converted, err := config.Load(filepath.Join(dir, "tcpping.yml"))
	if err != nil {
		t.Fatal(err)
	}
	byHand, err := config.Parse([]byte(yml[0]))
	if err != nil {
		t.Fatalf("README's YAML targets: %v", err)
	}
	if !reflect.DeepEqual(converted.Targets, byHand.Targets) {
		t.Errorf("converted targets %+v, README's YAML %+v", converted.Targets, byHand.Targets)
	}
	if _, err := config.Parse([]byte(yml[1])); err != nil {
		t.Errorf("README's module example: %v", err)
	}
}
