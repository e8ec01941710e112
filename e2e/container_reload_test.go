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
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

// TestContainerReloadAsREADME follows the README's "Running in a
// container": the config mounted from the host as its podman run command
// mounts it, edited on the host the way editors and configuration managers
// write a file (a new file renamed over the old: sed -i, vim, Ansible's
// template), then its `podman kill --signal HUP`. The reload must read the
// edited file. A file bind-mounted on its own stays the inode it was when
// the container started: the container would read the old config on every
// reload, and report each one successful.
func TestContainerReloadAsREADME(t *testing.T) {
	section := readmeSection(t, "## Running in a container")
	const hostDir = "/etc/tcpping_exporter"
	mount := regexp.MustCompile(`(?m)-v (` + regexp.QuoteMeta(hostDir) + `\S*):(\S+)`).FindStringSubmatch(section)
	if mount == nil {
		t.Fatalf("README, Running in a container: no -v %s... mount in\n%s", hostDir, section)
	}
	if !strings.Contains(section, "podman kill --signal HUP") {
		t.Fatalf("README, Running in a container: no podman kill --signal HUP in\n%s", section)
	}
	pm, image, id := buildImage(t)

	// The host's /etc/tcpping_exporter, readable by the image's user.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "tcpping.yml")
	shipped, err := os.ReadFile(repoFile("tcpping.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, shipped, 0o644); err != nil {
		t.Fatal(err)
	}
	src := dir + strings.TrimPrefix(mount[1], hostDir)

	name := "tcpping_exporter-reload-test-" + id
	webPort := testenv.Port(t)
	pm(time.Minute, "run", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:2112", webPort),
		"-v", src+":"+mount[2], image)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("container log:\n%s", pm(time.Minute, "logs", name))
		}
		pm(time.Minute, "rm", "--force", name)
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", webPort)
	client := &http.Client{Timeout: 5 * time.Second}
	waitMetric(t, client, base+"/metrics", "tcpping_exporter_config_last_reload_successful", nil, 1)

	edited := strings.Replace(string(shipped), "site: local", "site: edited", 1)
	if edited == string(shipped) {
		t.Fatal("the shipped tcpping.yml has no \"site: local\" to edit")
	}
	if err := os.WriteFile(config+".new", []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(config+".new", config); err != nil {
		t.Fatal(err)
	}
	pm(time.Minute, "kill", "--signal", "HUP", name)

	var shown string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get(base + "/config")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if shown = string(b); strings.Contains(shown, "site: edited") {
			return
		}
	}
	t.Errorf("README's -v %s:%s: 10s after the host's file was replaced and podman kill --signal HUP, /config shows the old config:\n%s",
		mount[1], mount[2], shown)
}
