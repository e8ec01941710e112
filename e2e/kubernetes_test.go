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

// examples/kubernetes/tcpping-mesh.yaml is checked here for its structure
// and its config only: no Kubernetes cluster is available to this suite
// (nor a schema validator that works offline), so nothing here applies it.
// What is checked is what a cluster would not tell at apply time but at
// run time: that the Service selects the DaemonSet's pods and names their
// echo port, that the container mounts the ConfigMap where --config.file
// points, that the probes and flags use the declared ports, and that the
// config passes --config.check of the real binary and looks up the
// Service's own DNS name on its echo port.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tcpping/tcpping_exporter/config"
)

// kubeObject is one Kubernetes object of the example, as plain YAML data.
type kubeObject map[string]any

// get returns the value at the dotted path p ("spec.template.metadata"),
// or nil.
func (o kubeObject) get(p string) any {
	var cur any = map[string]any(o)
	for _, k := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// str returns the string at p, or "".
func (o kubeObject) str(p string) string {
	s, _ := o.get(p).(string)
	return s
}

// list returns the list at p as objects.
func (o kubeObject) list(p string) []kubeObject {
	var out []kubeObject
	l, _ := o.get(p).([]any)
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// kubeObjects reads every document of a multi-document YAML file, by kind.
func kubeObjects(t *testing.T, file string) map[string]kubeObject {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]kubeObject{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		// Into a plain map: into kubeObject, yaml.v3 would make every
		// nested mapping a kubeObject too.
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		o := kubeObject(raw)
		kind := o.str("kind")
		if kind == "" || o.str("apiVersion") == "" || o.str("metadata.name") == "" {
			t.Fatalf("%s: an object without kind, apiVersion or name: %v", file, o)
		}
		if _, dup := out[kind]; dup {
			t.Fatalf("%s: two %s objects", file, kind)
		}
		out[kind] = o
	}
}

// labelsMatch reports whether every label of sel is in labels.
func labelsMatch(sel, labels any) bool {
	s, _ := sel.(map[string]any)
	l, _ := labels.(map[string]any)
	if len(s) == 0 {
		return false
	}
	for k, v := range s {
		if l[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesExample(t *testing.T) {
	objs := kubeObjects(t, repoFile("examples/kubernetes/tcpping-mesh.yaml"))
	cm, svc, ds := objs["ConfigMap"], objs["Service"], objs["DaemonSet"]
	if cm == nil || svc == nil || ds == nil || len(objs) != 3 {
		t.Fatalf("want a ConfigMap, a Service and a DaemonSet, got %d objects: %v", len(objs), slices.Collect(maps.Keys(objs)))
	}
	ns := cm.str("metadata.namespace")
	for kind, o := range objs {
		if o.str("metadata.namespace") != ns || ns == "" {
			t.Errorf("%s is in namespace %q, the ConfigMap in %q: want one namespace", kind, o.str("metadata.namespace"), ns)
		}
	}
	if v := ds.str("apiVersion"); v != "apps/v1" {
		t.Errorf("DaemonSet apiVersion %q, want apps/v1", v)
	}

	// The DaemonSet's selector selects its own pods, and the headless
	// Service selects them too.
	podLabels := ds.get("spec.template.metadata.labels")
	if !labelsMatch(ds.get("spec.selector.matchLabels"), podLabels) {
		t.Errorf("DaemonSet selector %v does not match its pod labels %v", ds.get("spec.selector.matchLabels"), podLabels)
	}
	if svc.str("spec.clusterIP") != "None" {
		t.Errorf("Service clusterIP %q, want None (headless: its name resolves to the pods' addresses)", svc.str("spec.clusterIP"))
	}
	if !labelsMatch(svc.get("spec.selector"), podLabels) {
		t.Errorf("Service selector %v does not select the DaemonSet's pods %v", svc.get("spec.selector"), podLabels)
	}

	containers := ds.list("spec.template.spec.containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0]
	ports := map[string]int{}
	for _, p := range c.list("ports") {
		n, _ := p.get("containerPort").(int)
		ports[p.str("name")] = n
	}
	if ports["echo"] == 0 || ports["metrics"] == 0 {
		t.Fatalf("container ports %v, want echo and metrics", ports)
	}
	echoPort := 0
	for _, p := range svc.list("spec.ports") {
		if ports[p.str("targetPort")] == 0 {
			t.Errorf("Service port %s targets %q, which the container does not declare", p.str("name"), p.str("targetPort"))
		}
		if p.str("targetPort") == "echo" {
			echoPort, _ = p.get("port").(int)
		}
	}
	if echoPort != ports["echo"] {
		t.Errorf("Service echo port %d, container echo port %d: the A records are looked up with the container's", echoPort, ports["echo"])
	}
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		if c.str(probe+".httpGet.path") != "/-/healthy" || ports[c.str(probe+".httpGet.port")] == 0 {
			t.Errorf("%s: %v, want GET /-/healthy on a declared port", probe, c.get(probe))
		}
	}

	// The flags use the declared ports, the config the ConfigMap, and
	// the mesh ID the downward API's node name.
	var args []string
	for _, a := range c.get("args").([]any) {
		args = append(args, fmt.Sprint(a))
	}
	wantArgs := []string{
		fmt.Sprintf("--echo.listen-address=:%d", ports["echo"]),
		fmt.Sprintf("--web.listen-address=:%d", ports["metrics"]),
		"--mesh.id=$(NODE_NAME)",
	}
	for _, w := range wantArgs {
		if !slices.Contains(args, w) {
			t.Errorf("args %v lack %s", args, w)
		}
	}
	if env := c.list("env"); len(env) != 1 || env[0].str("name") != "NODE_NAME" || env[0].str("valueFrom.fieldRef.fieldPath") != "spec.nodeName" {
		t.Errorf("env %v, want NODE_NAME from spec.nodeName", c.get("env"))
	}
	var cfgPath string
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgPath = p
		}
	}
	mounts := c.list("volumeMounts")
	vols := ds.list("spec.template.spec.volumes")
	if len(mounts) != 1 || len(vols) != 1 || mounts[0].str("name") != vols[0].str("name") ||
		vols[0].str("configMap.name") != cm.str("metadata.name") || path.Dir(cfgPath) != mounts[0].str("mountPath") {
		t.Errorf("--config.file=%s, mounts %v, volumes %v: want the ConfigMap mounted where --config.file points", cfgPath, mounts, vols)
	}
	data, _ := cm.get("data").(map[string]any)
	text, _ := data[path.Base(cfgPath)].(string) // a key with a dot: not a path for get
	if text == "" {
		t.Fatalf("the ConfigMap has no key %s", path.Base(cfgPath))
	}

	// The config: valid for the real binary, and a discovery entry on the
	// Service's own name and echo port, without this pod itself.
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		t.Fatalf("the ConfigMap's config: %v", err)
	}
	if len(cfg.Discovery) != 1 || len(cfg.Discovery[0].DNSSDConfigs) != 1 {
		t.Fatalf("want one discovery entry with one dns_sd_config, got %+v", cfg.Discovery)
	}
	d := cfg.Discovery[0]
	dns := d.DNSSDConfigs[0]
	name := fmt.Sprintf("%s.%s.svc.cluster.local", svc.str("metadata.name"), ns)
	if !slices.Equal(dns.Names, []string{name}) || dns.Type != "A" || int(dns.Port) != echoPort || !d.ExcludeSelf {
		t.Errorf("dns_sd_config %+v, exclude_self %v: want type A on %s port %d, exclude_self", dns, d.ExcludeSelf, name, echoPort)
	}
	file := writeFile(t, t.TempDir(), "tcpping.yml", text)
	out, err := exec.Command(binary, "--config.check", "--config.file="+file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `discovery "mesh"`) {
		t.Errorf("--config.check of the ConfigMap's config: %v\n%s", err, out)
	}
}
