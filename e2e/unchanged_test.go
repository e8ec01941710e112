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

// The golden files under testdata/ were written by this file's code from
// the binary of commit 8c7614a, the last before the code moved into
// internal/web, e2e/ and the restructured prober, echo and collector:
//
//	go build -o /tmp/base/tcpping_exporter .   # at 8c7614a
//	go test ./e2e -run '^TestUnchanged' -update -golden.binary=/tmp/base/tcpping_exporter
//
// They hold --help and, of every metric family of /metrics and /probe
// that is the exporter's own (tcp_echo_*, tcp_echo_server_*,
// tcpping_exporter_*, probe_success; not go_* or process_*), its name,
// type, help and label names, and the values of the labels that take a
// fixed set of values (reason, source): nothing that changes from run to
// run. A change in them is a change of the exporter's interface: make it
// on purpose, and update the files with -update (without -golden.binary,
// from the binary under test).
//
// Changed on purpose since 8c7614a: issue 13 added --probe.allowed-target
// and --mesh.id to --help, and to /metrics tcpping_exporter_probers{source=
// "discovered"} and the tcpping_exporter_discovered_targets,
// _discovery_failing and _discovery_rejected_targets families, which the
// config below shows with its discovery entry (so the binary of 8c7614a,
// which has no discovery, no longer runs it).
//
// Issue 14 added tcp_echo_jitter_seconds,
// tcp_echo_peer_turnaround_seconds, tcp_echo_forward_jitter_seconds,
// tcp_echo_reverse_jitter_seconds, tcp_echo_forward_delay_seconds and
// tcp_echo_reverse_delay_seconds to metrics.golden and probe.golden.
//
// Issue 16 changed help.golden (the --web.history flag, and the ping
// command with its list of commands).
//
// The --web.max-connections flag was added to help.golden: the HTTP
// server's cap on open connections, beside the echo server's.
//
// Later, two texts were corrected to say what the code does: the HELP of
// tcpping_exporter_discovered_targets (a static target also removes a
// discovered one) and the --mesh.id help (the exporter stands at its own
// address only when exclude_self finds it).
//
// The help of --echo.max-connections and --echo.idle-timeout was given
// what 0 means, as CONFIGURATION.md says it; that of --web.history its
// most, 168h (history.MaxSpan), which the flag refuses to exceed. The
// usage line shows the command as optional ([<command>]): the exporter
// runs without one.

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

var (
	updateGolden = flag.Bool("update", false, "write the golden files of the TestUnchanged tests instead of comparing")
	goldenBinary = flag.String("golden.binary", "", "run the TestUnchanged tests against this tcpping_exporter instead of the one built")
)

// goldenExecutable returns the binary the TestUnchanged tests run.
func goldenExecutable() string {
	if *goldenBinary != "" {
		return *goldenBinary
	}
	return binary
}

// compareGolden compares got with testdata/name, or writes it there with
// -update.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s from %s", path, goldenExecutable())
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("differs from %s (the pre-change binary's).\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestUnchangedHelp(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the golden --help is that of Linux; Windows builds add --service")
	}
	cmd := exec.Command(goldenExecutable(), "--help")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "COLUMNS=80") // kingpin wraps help at $COLUMNS
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	compareGolden(t, "help.golden", string(out))
}

// ownFamily reports whether the family is the exporter's own.
func ownFamily(name string) bool {
	return strings.HasPrefix(name, "tcp_echo_") || strings.HasPrefix(name, "tcpping_exporter_") || name == "probe_success"
}

// enumLabels are the labels whose values are a fixed set, which the golden
// files keep.
var enumLabels = map[string]bool{"reason": true, "source": true}

// familyShapes returns, one line per family of the exporter's own, its
// name, type, label names (with the values of enumLabels) and help.
func familyShapes(mfs []*dto.MetricFamily) string {
	var lines []string
	for _, mf := range mfs {
		if !ownFamily(mf.GetName()) {
			continue
		}
		values := map[string][]string{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if vs := values[lp.GetName()]; !enumLabels[lp.GetName()] {
					values[lp.GetName()] = vs[:0]
				} else if !slices.Contains(vs, lp.GetValue()) {
					values[lp.GetName()] = append(vs, lp.GetValue())
				}
			}
		}
		var labels []string
		for name, vs := range values {
			if len(vs) > 0 {
				slices.Sort(vs)
				name += "=" + strings.Join(vs, "|")
			}
			labels = append(labels, name)
		}
		slices.Sort(labels)
		lines = append(lines, fmt.Sprintf("%s %s {%s} %s", mf.GetName(), strings.ToLower(mf.GetType().String()),
			strings.Join(labels, ","), mf.GetHelp()))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// scrapeShapes fetches url in the text format and in delimited protobuf,
// checks that both have the same families and labels, and returns their
// familyShapes.
func scrapeShapes(t *testing.T, url string) string {
	t.Helper()
	var shapes []string
	for _, f := range []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeProtoDelim)} {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", string(f))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s as %s: HTTP %d, %v: %s", url, f, resp.StatusCode, err, body)
		}
		if ct := expfmt.ResponseFormat(resp.Header); ct.FormatType() != f.FormatType() {
			t.Fatalf("%s: asked for %s, got Content-Type %q", url, f, resp.Header.Get("Content-Type"))
		}
		shapes = append(shapes, familyShapes(testenv.DecodeExposition(t, body, f)))
	}
	if shapes[0] != shapes[1] {
		t.Errorf("%s: the text format and protobuf differ.\ntext:\n%s\nprotobuf:\n%s", url, shapes[0], shapes[1])
	}
	return shapes[0]
}

func TestUnchangedMetricNames(t *testing.T) {
	dir := t.TempDir()
	web, echoPort := testenv.Port(t), testenv.Port(t)
	echo := func(host string) string { return host + ":" + strconv.Itoa(echoPort) }
	// Two targets with different extra labels, so that the label union
	// shows, in two modules, and a discovered one; the echo server listens
	// on three addresses, the third for a /probe target.
	cfg := writeFile(t, dir, "tcpping.yml", fmt.Sprintf(`modules:
  default: {interval: 100ms}
  fixed: {interval: 100ms, adaptive: false}
targets:
  - {name: alpha, address: "%s", labels: {site: ams}}
  - {name: beta, address: "%s", module: fixed, labels: {rack: r1}}
discovery:
  - name: mesh
    file_sd_configs: [{files: [mesh.json]}]
`, echo("127.0.0.1"), echo("127.0.0.2")))
	// One discovered target, where nothing listens.
	writeFile(t, dir, "mesh.json", fmt.Sprintf("[{\"targets\": [\"%s\"]}]\n", echo("127.0.0.4")))
	startExecutable(t, goldenExecutable(), dir, "--config.file="+cfg, "--web.listen-address=127.0.0.1:"+strconv.Itoa(web),
		"--echo.listen-address="+echo("127.0.0.1"), "--echo.listen-address="+echo("127.0.0.2"),
		"--echo.listen-address="+echo("127.0.0.3"))
	base := fmt.Sprintf("http://127.0.0.1:%d", web)
	for _, target := range []string{"alpha", "beta"} {
		waitMetric(t, http.DefaultClient, base+"/metrics", "tcp_echo_received_total", map[string]string{"target": target}, 1)
	}
	waitMetric(t, http.DefaultClient, base+"/metrics", "tcp_echo_sent_total", map[string]string{"target": echo("127.0.0.4")}, 0)

	t.Run("probe", func(t *testing.T) {
		compareGolden(t, "probe.golden", scrapeShapes(t, base+"/probe?target="+echo("127.0.0.3")))
	})
	t.Run("metrics", func(t *testing.T) {
		compareGolden(t, "metrics.golden", scrapeShapes(t, base+"/metrics"))
	})
}
