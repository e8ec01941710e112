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
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pkgRun runs name with args in dir, with env added to the test's
// environment, and returns its combined output. A failure, or a run past
// timeout, fails the test with the output.
func pkgRun(t *testing.T, dir string, env []string, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// makeVar returns the value the Makefile assigns to name, so that the
// tests use what make uses.
func makeVar(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(repoFile("Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*\??:?=\s*(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("Makefile does not set %s", name)
	}
	return string(m[1])
}

// promuBinary returns promu at the Makefile's PROMU_VERSION, built by
// scripts/install-promu.sh (as `make promu` does) into the user cache dir,
// where later runs and make find it.
func promuBinary(t *testing.T) string {
	t.Helper()
	version := makeVar(t, "PROMU_VERSION")
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = t.TempDir()
	}
	dir := filepath.Join(cache, "tcpping_exporter", "promu-"+version)
	pkgRun(t, root, []string{"PROMU_VERSION=" + version}, 5*time.Minute, "sh", "scripts/install-promu.sh", dir)
	return filepath.Join(dir, "promu")
}

// requireStaticELF fails the test unless path is an ELF executable that
// needs no dynamic loader or shared library.
func requireStaticELF(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (has %s)", path, p.Type)
		}
	}
}

// TestPackagingPromuBuildVersion builds the binary as a release is built,
// with promu and .promu.yml, and checks that --version reports every
// piece of build information the ldflags set.
func TestPackagingPromuBuildVersion(t *testing.T) {
	git := requireTool(t, "git", "git")
	promu := promuBinary(t)
	prefix := t.TempDir()
	pkgRun(t, root, nil, 5*time.Minute, promu, "build", "--prefix", prefix)
	bin := filepath.Join(prefix, "tcpping_exporter")
	requireStaticELF(t, bin)

	out := pkgRun(t, prefix, nil, 30*time.Second, bin, "--version")
	field := func(re string) string {
		m := regexp.MustCompile(`(?m)` + re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("--version output does not match %q:\n%s", re, out)
		}
		return m[1]
	}
	header := regexp.MustCompile(`(?m)^tcpping_exporter, version (\S*) \(branch: (\S*), revision: (\S*)\)$`).FindStringSubmatch(out)
	if header == nil {
		t.Fatalf("--version output has no version line:\n%s", out)
	}
	version, branch, revision := header[1], header[2], header[3]
	user := field(`^\s+build user:\s+(\S*)$`)
	date := field(`^\s+build date:\s+(\S*)$`)
	tags := field(`^\s+tags:\s+(\S*)$`)

	wantVersion, err := os.ReadFile(repoFile("VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	gitOut := func(args ...string) string {
		return strings.TrimSpace(pkgRun(t, root, nil, 30*time.Second, git, args...))
	}
	for _, c := range []struct{ name, got, want string }{
		{"version", version, strings.TrimSpace(string(wantVersion))},
		{"branch", branch, gitOut("rev-parse", "--abbrev-ref", "HEAD")},
		{"revision", revision, gitOut("rev-parse", "HEAD")},
	} {
		if c.got == "" || c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if name, host, ok := strings.Cut(user, "@"); !ok || name == "" || host == "" {
		t.Errorf("build user = %q, want user@host", user)
	}
	built, err := time.Parse("20060102-15:04:05", date)
	if err != nil {
		t.Errorf("build date %q: %v", date, err)
	} else if age := time.Since(built); age < -time.Minute || age > time.Hour {
		t.Errorf("build date %s is %v from now, want the time of this build", date, age)
	}
	if !strings.Contains(tags, "netgo") {
		t.Errorf("tags = %q, want netgo (.promu.yml build flags)", tags)
	}
}

// TestPackagingTarballServiceInstall makes a release tarball as `make
// tarballs` does (scripts/tarball.sh with the files .promu.yml lists) and
// follows the README's systemd install commands in its unpacked directory,
// where an operator runs them: every file they install must be there, at
// the path they name.
func TestPackagingTarballServiceInstall(t *testing.T) {
	b, err := os.ReadFile(repoFile(".promu.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The Makefile reads the list the same way: the "- FILE" lines of the
	// tarball section.
	section := regexp.MustCompile(`(?ms)^tarball:\n(.*?)(?:^\S|\z)`).FindSubmatch(b)
	if section == nil {
		t.Fatal(".promu.yml has no tarball section")
	}
	var files []string
	for _, m := range regexp.MustCompile(`(?m)^\s*-\s*(\S+)\s*$`).FindAllSubmatch(section[1], -1) {
		files = append(files, string(m[1]))
	}
	bindir, out, unpacked := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile(t, bindir, "tcpping_exporter", "a binary")
	pkgRun(t, root, nil, time.Minute, "sh",
		append([]string{"scripts/tarball.sh", out, "tcpping_exporter", "0.0.0", "linux-amd64", bindir}, files...)...)
	pkgRun(t, unpacked, nil, time.Minute, "tar", "-xzf", filepath.Join(out, "tcpping_exporter-0.0.0.linux-amd64.tar.gz"))
	dir := filepath.Join(unpacked, "tcpping_exporter-0.0.0.linux-amd64")

	blocks := codeBlocks(readmeSection(t, "## Running as a service"), "sh")
	if len(blocks) == 0 {
		t.Fatal("README, Running as a service: no sh block")
	}
	installs := 0
	for _, line := range strings.Split(blocks[0], "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "install" {
			continue
		}
		installs++
		src := f[len(f)-2] // install [-m MODE] [-D] SRC DEST
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(src))); err != nil {
			t.Errorf("README: %q: the release tarball has no %s (it has %s)", line, src, strings.Join(files, ", "))
		}
	}
	if installs == 0 {
		t.Errorf("README, Running as a service: no install command in\n%s", blocks[0])
	}

	// The README it holds sends an operator to CONFIGURATION.md, "the
	// reference of every flag", and to the guides in docs/: the tarball
	// has them.
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	for _, m := range regexp.MustCompile(`\]\(((?:CONFIGURATION\.md|docs/[^)#]+\.md))(?:#[^)]*)?\)`).FindAllSubmatch(readme, -1) {
		refs++
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(string(m[1])))); err != nil {
			t.Errorf("the tarball's README links %s, which the tarball lacks (it has %s)", m[1], strings.Join(files, ", "))
		}
	}
	if refs == 0 {
		t.Error("the tarball's README links neither CONFIGURATION.md nor docs/: the check above checked nothing")
	}
}
