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
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildStatic builds the exporter for goos/goarch into out as release
// builds do: CGO_ENABLED=0 and the netgo tag of .promu.yml.
func buildStatic(t *testing.T, goos, goarch, out string) {
	t.Helper()
	pkgRun(t, root, []string{"CGO_ENABLED=0", "GOOS=" + goos, "GOARCH=" + goarch}, 10*time.Minute,
		"go", "build", "-tags", "netgo", "-o", out, ".")
}

// crossbuildPlatforms returns the crossbuild platforms of .promu.yml,
// which make crossbuild builds.
func crossbuildPlatforms(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(repoFile(".promu.yml"))
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?ms)^crossbuild:\n\s+platforms:\n((?:\s+- \S+\n)+)`).FindSubmatch(b)
	if section == nil {
		t.Fatal(".promu.yml has no crossbuild platforms list")
	}
	var platforms []string
	for _, m := range regexp.MustCompile(`- (\S+)`).FindAllSubmatch(section[1], -1) {
		platforms = append(platforms, string(m[1]))
	}
	return platforms
}

// executableArch returns the OS family and CPU of the executable at path,
// read from its headers: "linux" for ELF, "darwin" for Mach-O, "windows"
// for PE, and a GOARCH name for the CPU.
func executableArch(path string) (goos, goarch string, err error) {
	if f, err := elf.Open(path); err == nil {
		defer f.Close()
		arch := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[f.Machine]
		return "linux", arch, nil
	}
	if f, err := macho.Open(path); err == nil {
		defer f.Close()
		arch := map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[f.Cpu]
		return "darwin", arch, nil
	}
	if f, err := pe.Open(path); err == nil {
		defer f.Close()
		arch := map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64"}[f.Machine]
		return "windows", arch, nil
	}
	return "", "", errors.New("neither ELF, Mach-O nor PE")
}

// TestCrossbuild builds every release platform with CGO_ENABLED=0 and
// checks that each binary is an executable for its OS and CPU, and that
// the Linux ones are static.
func TestCrossbuild(t *testing.T) {
	platforms := crossbuildPlatforms(t)
	want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}
	if got := slices.Sorted(slices.Values(platforms)); !slices.Equal(got, want) {
		t.Errorf(".promu.yml crossbuild platforms = %v, want %v", got, want)
	}
	dir := t.TempDir()
	for _, p := range platforms {
		t.Run(strings.ReplaceAll(p, "/", "-"), func(t *testing.T) {
			goos, goarch, _ := strings.Cut(p, "/")
			out := filepath.Join(dir, goos+"-"+goarch, "tcpping_exporter")
			if goos == "windows" {
				out += ".exe"
			}
			buildStatic(t, goos, goarch, out)
			gotOS, gotArch, err := executableArch(out)
			if err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if gotOS != goos || gotArch != goarch {
				t.Errorf("built a %s/%s executable, want %s", gotOS, gotArch, p)
			}
			if goos == "linux" {
				requireStaticELF(t, out)
			}
		})
	}
}

// TestCrossbuildWindowsVet vets every package for Windows, where the
// service code (service_windows.go) compiles.
func TestCrossbuildWindowsVet(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			pkgRun(t, root, []string{"GOOS=windows", "GOARCH=" + arch}, 10*time.Minute, "go", "vet", "./...")
		})
	}
}

// TestServiceFlagOnlyOnWindows checks that --service, which controls a
// Windows service, is not offered elsewhere.
func TestServiceFlagOnlyOnWindows(t *testing.T) {
	code, out := runBinary(t, t.TempDir(), "--help")
	if code != 0 {
		t.Fatalf("--help exited %d:\n%s", code, out)
	}
	if strings.Contains(out, "--service=") {
		t.Errorf("--help offers --service on a non-Windows OS:\n%s", out)
	}
	if code, out := runBinary(t, t.TempDir(), "--service=install"); code == 0 {
		t.Errorf("--service=install exited 0 on a non-Windows OS:\n%s", out)
	}
}
