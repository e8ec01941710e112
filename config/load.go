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

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Load reads the config file at path, of at most MaxFileSize bytes, and
// parses it with Parse. Errors are wrapped, so errors.Is(err,
// os.ErrNotExist) reports a missing file; each line of a parse error
// starts with path. Relative paths in discovery
// sources (files, certificates) are taken relative to the directory of
// path, as Prometheus does.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		// The *fs.PathError already names the file.
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, within(path, err)
	}
	for i := range c.Discovery {
		c.Discovery[i].setDirectory(filepath.Dir(path))
	}
	return c, nil
}

// MaxFileSize is the most a config file may hold: 32 MiB. A static target
// with a module and two labels takes about 120 bytes of block YAML, so
// 10 000 of them take about 1 MiB: 32 MiB leaves room many times over,
// and bounds what a file that never ends (/dev/zero) or a wrong one (a
// log) makes the exporter read and hold, which used to be until memory ran
// out, at startup, on each reload and in --config.check.
const MaxFileSize = 32 << 20

// readFile reads the file at path, of at most MaxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooBig := &fs.PathError{Op: "read", Path: path,
		Err: fmt.Errorf("larger than %d MiB, the most a config file may hold (10 000 static targets with labels take about 1 MiB)", MaxFileSize>>20)}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileSize {
		return nil, tooBig
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, tooBig
	}
	return data, nil
}

// Parse decodes and validates a config. An empty document (or one holding
// only comments) gives Default(). The module named default always exists:
// with built-in values unless data defines it. Keys a module leaves out take
// the built-in values of DefaultModule, not those of the file's default
// module. Errors name the key and the module or target; all problems found
// are reported together, joined with errors.Join.
func Parse(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	// KnownFields covers only what the Decoder decodes itself; Config,
	// Module and Target check their own keys in UnmarshalYAML.
	dec.KnownFields(true)
	c := Default()
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		// What did decode is validated too, so that one run reports
		// every problem of the file.
		return nil, errors.Join(err, c.Validate())
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("a second YAML document starts on line %d; the config must be one document", extra.Line)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// UnmarshalYAML decodes a config: a mapping with the keys modules, targets
// and discovery. The module named default is added with built-in values unless
// the mapping defines it. It reports every module and target that fails to
// decode, each error prefixed with the module or target it is about, and
// keeps in c what did decode, for Parse to validate.
func (c *Config) UnmarshalYAML(node *yaml.Node) error {
	es, err := entries(node)
	if err != nil {
		return err
	}
	out := Default()
	var errs []error
	for _, e := range es {
		if _, ok := configKeys[e.key.Value]; !ok {
			errs = append(errs, fmt.Errorf("unknown key %q (line %d)", e.key.Value, e.key.Line))
			continue
		}
		if isNull(e.value) {
			continue
		}
		switch e.key.Value {
		case "modules":
			errs = append(errs, out.decodeModules(e.value))
		case "targets":
			errs = append(errs, out.decodeTargets(e.value))
		case "discovery":
			errs = append(errs, out.decodeDiscovery(e.value))
		default:
			// configKeys and this switch list the same keys; a test checks.
			errs = append(errs, fmt.Errorf("key %q is not handled (line %d)", e.key.Value, e.key.Line))
		}
	}
	*c = *out
	return errors.Join(errs...)
}

// decodeModules decodes the mapping of module names to modules into
// c.Modules. Each module starts from DefaultModule; an empty one is exactly
// the built-in module.
func (c *Config) decodeModules(n *yaml.Node) error {
	es, err := entries(n)
	if err != nil {
		c.modulesIncomplete = true
		return within("modules", err)
	}
	var errs []error
	for _, e := range es {
		name, err := moduleName(e.key)
		if err != nil {
			errs = append(errs, err)
			c.modulesIncomplete = true
			continue
		}
		m := DefaultModule()
		if !isNull(e.value) {
			if err := m.UnmarshalYAML(resolve(e.value)); err != nil {
				errs = append(errs, within(fmt.Sprintf("module %q", name), err))
				c.modulesIncomplete = true
				continue
			}
		}
		c.Modules[name] = m
	}
	return errors.Join(errs...)
}

// moduleName returns the name the key k of modules gives its module, or
// an error naming the key and its line if the name breaks checkName's
// rule (as Validate says of a Config built otherwise). The name is the
// key's value, not its text: YAML reads a plain ~ or null, or a key left
// out (? :), as null, not as a string, and null names nothing. Taking the
// text let ~ name a module "~".
func moduleName(k *yaml.Node) (string, error) {
	name := k.Value
	if isNull(k) {
		name = ""
	}
	if err := checkName(name); err != nil {
		if name != k.Value {
			return "", fmt.Errorf("module key %s (line %d): name: %w: YAML reads %s as null, not as text; quote it (%q) for a module named %s", k.Value, k.Line, err, k.Value, k.Value, k.Value)
		}
		return "", fmt.Errorf("module %q (line %d): name: %w", name, k.Line, err)
	}
	return name, nil
}

// decodeTargets decodes the list of targets into c.Targets, in file order.
func (c *Config) decodeTargets(n *yaml.Node) error {
	ts, err := decodeList(n, "targets", "target %q", (*Target).UnmarshalYAML)
	c.Targets = append(c.Targets, ts...)
	return err
}

// decodeDiscovery decodes the list of discovery entries into c.Discovery,
// in file order.
func (c *Config) decodeDiscovery(n *yaml.Node) error {
	ds, err := decodeList(n, "discovery", "discovery %q", (*Discovery).UnmarshalYAML)
	c.Discovery = append(c.Discovery, ds...)
	return err
}

// decodeList decodes the list n of the top-level key into its items, in
// file order, each with decode. An item that fails is left out, and its
// error is named by the item's name key (formatted with named) if it has
// a usable one, else by its position (key[i]); every item's error is
// returned.
func decodeList[T any](n *yaml.Node, key, named string, decode func(*T, *yaml.Node) error) ([]T, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: want a list, got %s (line %d)", key, describe(n), n.Line)
	}
	var items []T
	var errs []error
	for i, in := range n.Content {
		var v T
		if err := decode(&v, resolve(in)); err != nil {
			errs = append(errs, within(nodeContext(named, fmt.Sprintf("%s[%d]", key, i), in), err))
			continue
		}
		items = append(items, v)
	}
	return items, errors.Join(errs...)
}

// nodeContext names the mapping n in errors: by its name key, formatted
// with named, if it has a usable one, else as byPosition.
func nodeContext(named, byPosition string, n *yaml.Node) string {
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := resolve(n.Content[j]), resolve(n.Content[j+1])
			if k.Value == "name" && v.Kind == yaml.ScalarNode && v.Value != "" && checkName(v.Value) == nil {
				return fmt.Sprintf(named, v.Value)
			}
		}
	}
	return byPosition
}

// UnmarshalYAML decodes a module, starting from DefaultModule so that keys
// it leaves out take the built-in values. Unknown, duplicate and mistyped
// keys are errors that name the key. Ranges are checked by Validate, so that
// one run reports every problem of the file.
func (m *Module) UnmarshalYAML(node *yaml.Node) error {
	// plain has Module's fields but not its methods, so decoding into it
	// cannot recurse into this method.
	type plain Module
	p := plain(DefaultModule())
	if err := decodeStruct(node, moduleKeys, &p); err != nil {
		return err
	}
	*m = Module(p)
	return nil
}

// UnmarshalYAML decodes a target. Unknown, duplicate and mistyped keys are
// errors that name the key. Empty labels decode as nil, so that a target
// survives a round trip through YAML unchanged.
func (t *Target) UnmarshalYAML(node *yaml.Node) error {
	// plain has Target's fields but not its methods, so decoding into it
	// cannot recurse into this method.
	type plain Target
	var p plain
	if err := decodeStruct(node, targetKeys, &p); err != nil {
		return err
	}
	if len(p.Labels) == 0 {
		p.Labels = nil
	}
	*t = Target(p)
	return nil
}
