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
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// userDocs are the Markdown files a user reads: their YAML blocks and
// links are checked below.
var userDocs = []string{
	"README.md", "CONFIGURATION.md", "ARCHITECTURE.md", "CHANGELOG.md",
	filepath.Join("docs", "mesh.md"), filepath.Join("docs", "migrating.md"),
	filepath.Join("docs", "timing.md"), filepath.Join("bench", "README.md"),
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(repoFile(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDocsYAMLBlocks checks every yaml block of the docs as what it is: a
// tcpping.yml (top-level keys modules, targets, discovery) must pass
// --config.check of the built binary; a prometheus.yml (global,
// scrape_configs, rule_files) promtool check config; a list of targets
// (the README's "add it to targets:") --config.check as the targets of a
// config. A block that is none of these fails, so that a new one is
// checked too.
func TestDocsYAMLBlocks(t *testing.T) {
	tcppingKeys := []string{"modules", "targets", "discovery"}
	promKeys := []string{"global", "scrape_configs", "rule_files"}
	checked := 0
	for _, doc := range userDocs {
		text := readDoc(t, doc)
		for i, block := range codeBlocks(text, "yaml") {
			t.Run(fmt.Sprintf("%s/%d", doc, i), func(t *testing.T) {
				var v any
				if err := yaml.Unmarshal([]byte(block), &v); err != nil {
					t.Fatalf("not YAML: %v\n%s", err, block)
				}
				dir := t.TempDir()
				switch v := v.(type) {
				case []any:
					configCheck(t, dir, "targets:\n"+indentBlock(block))
				case map[string]any:
					var keys []string
					for k := range v {
						keys = append(keys, k)
					}
					switch {
					case !slices.ContainsFunc(keys, func(k string) bool { return !slices.Contains(tcppingKeys, k) }):
						configCheck(t, dir, block)
					case !slices.ContainsFunc(keys, func(k string) bool { return !slices.Contains(promKeys, k) }):
						promtoolCheckConfig(t, dir, block)
					default:
						t.Fatalf("neither a tcpping.yml nor a prometheus.yml (keys %v): say here how to check it\n%s", keys, block)
					}
				default:
					t.Fatalf("a YAML %T, not a config:\n%s", v, block)
				}
			})
			checked++
		}
	}
	if checked < 8 {
		t.Errorf("found only %d yaml blocks in %v", checked, userDocs)
	}
}

// indentBlock indents each line of a YAML block by two spaces.
func indentBlock(block string) string {
	return regexp.MustCompile(`(?m)^(.)`).ReplaceAllString(block, "  $1")
}

// configCheck runs --config.check on content as a config file in dir.
func configCheck(t *testing.T, dir, content string) {
	t.Helper()
	cfg := writeFile(t, dir, "tcpping.yml", content)
	if code, out := runBinary(t, dir, "--config.file="+cfg, "--config.check"); code != 0 || !strings.Contains(out, ": OK: ") {
		t.Errorf("--config.check: exit code %d\n%s\nof:\n%s", code, out, content)
	}
}

// promtoolCheckConfig runs promtool check config on content as a
// prometheus.yml in dir, next to a link to examples/ for the rule files
// the README names relative to the top directory.
func promtoolCheckConfig(t *testing.T, dir, content string) {
	t.Helper()
	promtool := requireTool(t, "promtool", "prometheus")
	if err := os.Symlink(repoFile("examples"), filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, dir, "prometheus.yml", content)
	out, errOut, err := runWithDeadline(t, dir, 30*time.Second, promtool, "check", "config", cfg)
	if err != nil || !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check config: %v\n%s%s\nof:\n%s", err, out, errOut, content)
	}
}

// mdLink matches a Markdown link's or an HTML attribute's destination.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)|(?:href|src)="([^"]+)"`)

// mdHeading matches a Markdown heading.
var mdHeading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)

// fencedAny matches any fenced code block, in which nothing is a link or
// a heading.
var fencedAny = regexp.MustCompile("(?ms)^ *```.*?^ *```")

// headingAnchor is GitHub's anchor of a heading: lower case, punctuation
// but '-' and '_' dropped, spaces turned into '-'.
func headingAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// docAnchors returns the anchors of the headings of a Markdown file, with
// GitHub's -1, -2 ... for repeated ones.
func docAnchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, m := range mdHeading.FindAllStringSubmatch(fencedAny.ReplaceAllString(text, ""), -1) {
		a := headingAnchor(m[1])
		if n, ok := seen[a]; ok {
			seen[a] = n + 1
			a = fmt.Sprintf("%s-%d", a, n+1)
		} else {
			seen[a] = 0
		}
		anchors[a] = true
	}
	return anchors
}

// TestDocsLinks checks that every relative link of the docs names a file
// of the repository and, with #anchor into a Markdown file, one of its
// headings, as GitHub shows them.
func TestDocsLinks(t *testing.T) {
	links := 0
	for _, doc := range userDocs {
		text := fencedAny.ReplaceAllString(readDoc(t, doc), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			dest := m[1] + m[2]
			if regexp.MustCompile(`^[a-z]+:`).MatchString(dest) {
				continue // http:, https:, mailto:
			}
			links++
			path, anchor, _ := strings.Cut(dest, "#")
			file := doc
			if path != "" {
				file = filepath.Join(filepath.Dir(doc), path)
			}
			if _, err := os.Stat(repoFile(file)); err != nil {
				t.Errorf("%s: link %s: %v", doc, dest, err)
				continue
			}
			if anchor != "" && strings.HasSuffix(file, ".md") && !docAnchors(readDoc(t, file))[anchor] {
				t.Errorf("%s: link %s: %s has no heading with anchor #%s", doc, dest, file, anchor)
			}
		}
	}
	if links < 30 {
		t.Errorf("found only %d relative links in %v", links, userDocs)
	}
}
