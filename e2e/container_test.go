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
	endian "encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// containersConf is podman's system config. Its built-in default raises
// RLIMIT_NOFILE in every container above the hard limit that this
// sandbox's processes have and may not raise, so runc fails with "error
// setting rlimit type 7: operation not permitted"; an empty
// default_ulimits makes containers inherit the limits instead.
const containersConf = "/etc/containers/containers.conf"

// ensureContainersConf sets default_ulimits = [] in containersConf unless
// the file already sets default_ulimits.
func ensureContainersConf(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(containersConf)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b = []byte("[containers]\ndefault_ulimits = []\n")
	case err != nil:
		t.Fatal(err)
	case regexp.MustCompile(`(?m)^\s*default_ulimits\s*=`).Match(b):
		return
	case regexp.MustCompile(`(?m)^\[containers\]\s*$`).Match(b):
		b = regexp.MustCompile(`(?m)^\[containers\]\s*$`).ReplaceAll(b, []byte("[containers]\ndefault_ulimits = []"))
	default:
		b = append(b, "\n[containers]\ndefault_ulimits = []\n"...)
	}
	if err := os.MkdirAll(filepath.Dir(containersConf), 0o755); err != nil {
		t.Fatalf("podman needs default_ulimits = [] in %s: %v", containersConf, err)
	}
	if err := os.WriteFile(containersConf, b, 0o644); err != nil {
		t.Fatalf("podman needs default_ulimits = [] in %s: %v", containersConf, err)
	}
	t.Logf("set default_ulimits = [] in %s", containersConf)
}

// copyBuildFile copies src to dst.
func copyBuildFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// echoOneFrame sends one 24-byte frame to addr and checks that exactly the
// same bytes come back.
func echoOneFrame(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 24)
	copy(frame, "TCPPING\x00")
	endian.LittleEndian.PutUint64(frame[8:], 0x0102030405060708)
	endian.LittleEndian.PutUint64(frame[16:], uint64(time.Now().UnixNano()))
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(frame))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatalf("reading the echoed frame: %v", err)
	}
	if !bytes.Equal(got, frame) {
		t.Errorf("echoed frame = %x, want %x", got, frame)
	}
}

// podmanFunc runs podman (with runc) and returns its output, trimmed; a
// failure fails the test.
type podmanFunc func(timeout time.Duration, args ...string) string

// buildImage builds the image from the Dockerfile for the host's
// architecture with podman, from what `make docker` leaves in the
// checkout, and returns how to run podman, the image and an ID for the
// names of the test's containers. The test's cleanup removes the image.
func buildImage(t *testing.T) (pm podmanFunc, image, id string) {
	t.Helper()
	podman := requireTool(t, "podman", "podman")
	requireTool(t, "runc", "runc")
	ensureContainersConf(t)
	pm = func(timeout time.Duration, args ...string) string {
		t.Helper()
		return strings.TrimSpace(pkgRun(t, root, nil, timeout, podman, append([]string{"--runtime", "runc"}, args...)...))
	}

	// The build context: what `make docker` leaves in the checkout.
	buildDir := t.TempDir()
	arch := runtime.GOARCH
	bin := filepath.Join(buildDir, ".build", "linux-"+arch, "tcpping_exporter")
	buildStatic(t, "linux", arch, bin)
	requireStaticELF(t, bin)
	for _, f := range []string{"Dockerfile", ".dockerignore", "tcpping.yml"} {
		copyBuildFile(t, repoFile(f), filepath.Join(buildDir, f))
	}

	id = fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	image = "localhost/tcpping_exporter-test:" + id
	// --layers=false: no intermediate images are left behind after rmi.
	pm(5*time.Minute, "build", "--layers=false", "--build-arg", "OS=linux", "--build-arg", "ARCH="+arch, "-t", image, buildDir)
	t.Cleanup(func() { pm(time.Minute, "rmi", "--force", image) })
	return pm, image, id
}

// TestContainerImage builds the image from the Dockerfile with podman,
// runs it with the shipped tcpping.yml, and checks what an operator relies
// on: the self-probe and the echo port work through the port mappings, it
// runs as a numeric non-root user, and it exits 0 on podman stop (SIGTERM).
func TestContainerImage(t *testing.T) {
	pm, image, id := buildImage(t)

	t.Run("image user is numeric and not root", func(t *testing.T) {
		user := pm(time.Minute, "image", "inspect", "--format", "{{.Config.User}}", image)
		m := regexp.MustCompile(`^(\d+)(:\d+)?$`).FindStringSubmatch(user)
		if m == nil || m[1] == "0" {
			t.Errorf("image user = %q, want a numeric non-root uid[:gid]", user)
		}
	})

	name := "tcpping_exporter-test-" + id
	webPort, echoPort := testenv.Port(t), testenv.Port(t)
	pm(time.Minute, "run", "-d", "--name", name,
		"-p", fmt.Sprintf("127.0.0.1:%d:2112", webPort),
		"-p", fmt.Sprintf("127.0.0.1:%d:4000", echoPort),
		image)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container log:\n%s", pm(time.Minute, "logs", name))
		}
		pm(time.Minute, "rm", "--force", name)
	})

	t.Run("self probe in the container gets replies", func(t *testing.T) {
		// The shipped tcpping.yml probes 127.0.0.1:4000: inside the
		// container, its own echo server.
		self := map[string]string{"target": "self", "address": "127.0.0.1:4000", "module": "default", "site": "local"}
		client := &http.Client{Timeout: 5 * time.Second}
		mfs := waitMetric(t, client, fmt.Sprintf("http://127.0.0.1:%d/metrics", webPort), "tcp_echo_received_total", self, 1)
		if v, _ := testenv.Value(mfs, "tcp_echo_connected", self); v != 1 {
			t.Errorf("tcp_echo_connected%v = %v, want 1", self, v)
		}
	})

	t.Run("echo port answers a frame from the host", func(t *testing.T) {
		echoOneFrame(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(echoPort)))
	})

	t.Run("process runs as the image user", func(t *testing.T) {
		pid := pm(time.Minute, "inspect", "--format", "{{.State.Pid}}", name)
		status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)`).FindSubmatch(status)
		if m == nil || string(m[1]) == "0" || string(m[2]) == "0" {
			t.Errorf("container process uid line %q, want non-root", m)
		}
	})

	start := time.Now()
	pm(time.Minute, "stop", "--time", "15", name)
	took := time.Since(start)
	if code := pm(time.Minute, "inspect", "--format", "{{.State.ExitCode}}", name); code != "0" {
		t.Errorf("exit code after podman stop (SIGTERM) = %s, want 0", code)
	}
	if took > 10*time.Second {
		t.Errorf("podman stop took %v; SIGTERM should stop the exporter within seconds", took)
	}
}

// TestContainerImageArchitecture builds the image of a platform other than
// the host's with the Makefile's docker target, as `make docker
// DOCKER_ARCHS="amd64 arm64"` does for .promu.yml's linux platforms, and
// checks that the image names the architecture of the binary it holds.
// FROM scratch has no base image to take it from: without --platform,
// podman and docker give every image the build host's, and a runtime of
// the other architecture warns or refuses, and a manifest list made of
// them points each host at the other's binary.
func TestContainerImageArchitecture(t *testing.T) {
	podman := requireTool(t, "podman", "podman")
	requireTool(t, "runc", "runc")
	mk := requireTool(t, "make", "make")
	ensureContainersConf(t)
	arch := "arm64"
	if runtime.GOARCH == arch {
		arch = "amd64"
	}
	// The build context and what the docker target reads: a copy, so that
	// the test leaves nothing in the checkout.
	dir := t.TempDir()
	bin := ".build/linux-" + arch + "/tcpping_exporter"
	buildStatic(t, "linux", arch, filepath.Join(dir, filepath.FromSlash(bin)))
	for _, f := range []string{"Makefile", ".promu.yml", "VERSION", "Dockerfile", ".dockerignore", "tcpping.yml"} {
		copyBuildFile(t, repoFile(f), filepath.Join(dir, f))
	}
	tag := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	image := fmt.Sprintf("localhost/tcpping_exporter-test-linux-%s:%s", arch, tag)
	// -o: the binary is built; make must not build it again with promu.
	// BUILDAH_LAYERS=false: podman leaves no intermediate images behind.
	pkgRun(t, dir, []string{"BUILDAH_LAYERS=false"}, 5*time.Minute, mk, "-o", bin, "docker-"+arch,
		"DOCKER="+podman, "DOCKER_REPO=localhost", "DOCKER_IMAGE_NAME=tcpping_exporter-test", "DOCKER_IMAGE_TAG="+tag)
	t.Cleanup(func() { pkgRun(t, root, nil, time.Minute, podman, "rmi", "--force", image) })
	platform := strings.TrimSpace(pkgRun(t, root, nil, time.Minute, podman, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image))
	if platform != "linux/"+arch {
		t.Errorf("make docker-%s: image %s says platform %s, want linux/%s, its binary's", arch, image, platform, arch)
	}
}
