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

// Strict decoding. The Decoder's KnownFields(true) does not reach values
// decoded by an UnmarshalYAML method or by (*yaml.Node).Decode, so every
// struct of this package checks its own keys here, against the yaml tags of
// its Go type, and decodes one key at a time so that every error names the
// key it is about.

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// keySet maps the YAML keys of a struct type to the indexes of its fields.
type keySet map[string]int

// The key sets are derived once from the struct tags, so a field added to a
// struct is a known key without further edits. They are never modified.
var (
	configKeys = keysOf(reflect.TypeFor[Config]())
	moduleKeys = keysOf(reflect.TypeFor[Module]())
	targetKeys = keysOf(reflect.TypeFor[Target]())
)

// keysOf returns the YAML keys of struct type t as yaml.v3 names them: the
// tag's name, else the lowercased field name.
func keysOf(t reflect.Type) keySet {
	keys := make(keySet, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys[name] = i
	}
	return keys
}

// entry is one key and its value in a YAML mapping.
type entry struct{ key, value *yaml.Node }

// entries returns the entries of the mapping n in file order, with merge
// keys (<<) expanded as YAML 1.1 defines them: a key written in the mapping
// wins over a merged one, and an earlier merged mapping wins over a later
// one. Keys must be scalars and may appear only once.
func entries(n *yaml.Node) ([]entry, error) {
	return collectEntries(n, map[*yaml.Node]bool{})
}

// collectEntries implements entries. seen holds the mappings already
// expanded: merging one twice adds nothing, and anchors can form cycles.
func collectEntries(n *yaml.Node, seen map[*yaml.Node]bool) ([]entry, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("want a mapping, got %s (line %d)", describe(n), n.Line)
	}
	seen[n] = true
	var (
		out    []entry
		lines  = make(map[string]int, len(n.Content)/2)
		merges []*yaml.Node
	)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("keys must be strings, got %s (line %d)", describe(k), k.Line)
		}
		if first, dup := lines[k.Value]; dup {
			return nil, fmt.Errorf("duplicate key %q (line %d, first on line %d)", k.Value, k.Line, first)
		}
		lines[k.Value] = k.Line
		if isMerge(k) {
			merges = append(merges, v)
			continue
		}
		out = append(out, entry{key: k, value: v})
	}
	for _, m := range merges {
		sources, err := mergeSources(m)
		if err != nil {
			return nil, err
		}
		for _, s := range sources {
			if seen[s] {
				continue
			}
			merged, err := collectEntries(s, seen)
			if err != nil {
				return nil, err
			}
			for _, e := range merged {
				if _, ok := lines[e.key.Value]; ok {
					continue
				}
				lines[e.key.Value] = e.key.Line
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// mergeSources returns the mappings the value of a merge key names: one
// mapping or a list of them.
func mergeSources(v *yaml.Node) ([]*yaml.Node, error) {
	v = resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}, nil
	case yaml.SequenceNode:
		sources := make([]*yaml.Node, 0, len(v.Content))
		for _, c := range v.Content {
			c = resolve(c)
			if c.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("<<: want a mapping or a list of mappings, got %s in the list (line %d)", describe(c), c.Line)
			}
			sources = append(sources, c)
		}
		return sources, nil
	}
	return nil, fmt.Errorf("<<: want a mapping or a list of mappings, got %s (line %d)", describe(v), v.Line)
}

// isMerge reports whether k is the merge key: a plain <<, not a quoted one.
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// resolve follows an alias to the node its anchor names. An anchor is never
// set on an alias, so one step suffices.
func resolve(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// isNull reports whether n is an empty value (nothing, ~ or null).
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what n is, for error messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "an empty value"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// decodeStruct decodes the mapping n into the struct that out points to, one
// key at a time, so that every error names its key. Keys that are not in keys
// are errors; an empty value leaves its field as it is, that is at its
// default. It reports every bad key, not only the first.
func decodeStruct(n *yaml.Node, keys keySet, out any) error {
	es, err := entries(n)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(out).Elem()
	var errs []error
	for _, e := range es {
		i, ok := keys[e.key.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown key %q (line %d)", e.key.Value, e.key.Line))
			continue
		}
		if isNull(e.value) {
			continue
		}
		if err := decodeValue(e.value, v.Field(i)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.key.Value, err))
		}
	}
	return errors.Join(errs...)
}

// decodeValue decodes n into field. Maps are decoded through entries, so
// their keys follow the same rules as struct keys (strings, no duplicates)
// and a bad value names its key.
func decodeValue(n *yaml.Node, field reflect.Value) error {
	t := field.Type()
	if isInt(t) && resolve(n).ShortTag() != "!!int" {
		// yaml.v3 truncates 1.5 to 1 when decoding into an int.
		return fmt.Errorf("want %s, got %s (line %d)", want(t), describe(n), resolve(n).Line)
	}
	if t.Kind() != reflect.Map {
		if err := n.Decode(field.Addr().Interface()); err != nil {
			return typeError(n, t, err)
		}
		return nil
	}
	es, err := entries(n)
	if err != nil {
		return err
	}
	m := reflect.MakeMapWithSize(t, len(es))
	for _, e := range es {
		elem := reflect.New(t.Elem())
		if err := e.value.Decode(elem.Interface()); err != nil {
			return fmt.Errorf("%s: %w", e.key.Value, typeError(e.value, t.Elem(), err))
		}
		m.SetMapIndex(reflect.ValueOf(e.key.Value).Convert(t.Key()), elem.Elem())
	}
	field.Set(m)
	return nil
}

// typeError turns a *yaml.TypeError from decoding n into a value of type t
// into one message of our own that points at the offending value: the
// library's wording names Go types. Other errors, such as a Duration's own,
// are returned as they are.
func typeError(n *yaml.Node, t reflect.Type, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	n = resolve(n)
	if t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode {
		for i, c := range n.Content {
			if err := c.Decode(reflect.New(t.Elem()).Interface()); err != nil {
				return fmt.Errorf("item %d: %w", i, typeError(c, t.Elem(), err))
			}
		}
	}
	return fmt.Errorf("want %s, got %s (line %d)", want(t), describe(n), n.Line)
}

// want names what a value of type t is written as in YAML.
func want(t reflect.Type) string {
	if t == reflect.TypeFor[Duration]() {
		return `a duration such as "1s"`
	}
	if isInt(t) {
		return "an integer"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "a mapping"
}

// within prefixes every error in err with context, so that each line of a
// joined error names its module or target. It returns nil if err is nil.
func within(context string, err error) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = within(context, e)
		}
		return errors.Join(out...)
	}
	return fmt.Errorf("%s: %w", context, err)
}

// isInt reports whether t is an integer type (Duration is one, but decodes
// itself from a string).
func isInt(t reflect.Type) bool {
	if t == reflect.TypeFor[Duration]() {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}
