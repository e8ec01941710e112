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

// The bridge to Prometheus' config types. They unmarshal with
// go.yaml.in/yaml/v2 (UnmarshalYAML(func(any) error)), where their defaults
// and checks live, while this package decodes with yaml.v3. Each item of a
// Prometheus list is therefore re-encoded from its yaml.v3 node and decoded
// by yaml.v2 in strict mode, which rejects unknown and duplicate keys at
// every depth. yaml.v2's messages count lines in the re-encoded text and
// name Go types; they are rewritten to name the key and the line of the
// file.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
)

// maxExpandedNodes bounds the nodes that expanding the aliases of one
// Prometheus config item may create, so that a few nested aliases (a
// "billion laughs") cannot exhaust memory.
const maxExpandedNodes = 100000

// decodePrometheus decodes n, one item of a Prometheus config list, into
// out (a pointer to a Prometheus config type) with Prometheus' own
// UnmarshalYAML methods. Every error names the key and the line in the
// file where yaml.v2 gives one, and the item's line otherwise.
func decodePrometheus(n *yaml.Node, out any) error {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("want a mapping, got %s (line %d)", describe(n), n.Line)
	}
	if _, err := entries(n); err != nil {
		return err
	}
	budget := maxExpandedNodes
	expanded, err := expand(n, map[*yaml.Node]bool{}, &budget)
	if err != nil {
		return err
	}
	text, err := yaml.Marshal(expanded)
	if err != nil {
		return fmt.Errorf("re-encode (line %d): %w", n.Line, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return fmt.Errorf("re-encode (line %d): the text does not parse back: %v", n.Line, err)
	}
	lines := map[int][]lineInfo{}
	mapLines(doc.Content[0], expanded, nil, "", lines)
	if err := yamlv2.UnmarshalStrict(text, out); err != nil {
		if hidden := urlPasswordError(err, n); hidden != nil {
			return hidden
		}
		return rewriteV2Error(err, lines, expanded)
	}
	return nil
}

// expand returns a copy of n with every alias replaced by a copy of what its
// anchor names, and without comments, so that the item can be encoded on its
// own. Mappings and lists lose their flow style: written in block style,
// each key and list item starts a line of its own, by which an error of
// yaml.v2 is traced back to its key (mapLines). stack holds the nodes being expanded, to catch an alias to one of
// its own ancestors; budget counts down the nodes still allowed.
func expand(n *yaml.Node, stack map[*yaml.Node]bool, budget *int) (*yaml.Node, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if stack[n.Alias] {
			return nil, fmt.Errorf("alias *%s refers to a mapping or list that contains it (line %d)", n.Value, n.Line)
		}
		n = n.Alias
	}
	if *budget--; *budget < 0 {
		return nil, fmt.Errorf("aliases expand to more than %d values (line %d)", maxExpandedNodes, n.Line)
	}
	c := *n
	c.Anchor, c.HeadComment, c.LineComment, c.FootComment = "", "", "", ""
	if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
		c.Style &^= yaml.FlowStyle
	}
	c.Content = nil
	stack[n] = true
	defer delete(stack, n)
	for _, child := range n.Content {
		e, err := expand(child, stack, budget)
		if err != nil {
			return nil, err
		}
		c.Content = append(c.Content, e)
	}
	return &c, nil
}

// lineInfo is a value that starts on a line of the re-encoded text: the
// value in the file, the key it is the value of (nil for a list item or the
// item itself), and the path of keys and list indexes that leads to it.
type lineInfo struct {
	key, value *yaml.Node
	path       string
}

// line returns the line in the file of what the re-encoded line holds.
func (l lineInfo) line() int {
	if l.key != nil {
		return l.key.Line
	}
	return l.value.Line
}

// mapLines walks the re-encoded tree enc and the tree it came from, orig,
// side by side (they have the same shape), and records for each line of the
// re-encoded text the values that start on it, in the order they start:
// in block style a mapping, its first key and that key's value may share a
// line (see pick). key is orig's key, if orig is the value of one, and path
// the path to orig.
func mapLines(enc, orig, key *yaml.Node, path string, lines map[int][]lineInfo) {
	lines[enc.Line] = append(lines[enc.Line], lineInfo{key: key, value: orig, path: path})
	if len(enc.Content) != len(orig.Content) {
		return
	}
	switch orig.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(orig.Content); i += 2 {
			k := orig.Content[i]
			p := joinPath(path, k.Value)
			if isMerge(k) {
				// A merged mapping's keys belong to this mapping.
				p = path
			}
			// yaml.v2 reports an unknown key on the key's line, which in
			// block style is also where a scalar value starts.
			if enc.Content[i].Line != enc.Content[i+1].Line {
				lines[enc.Content[i].Line] = append(lines[enc.Content[i].Line], lineInfo{key: k, value: orig.Content[i+1], path: p})
			}
			mapLines(enc.Content[i+1], orig.Content[i+1], k, p, lines)
		}
	case yaml.SequenceNode:
		for i := range orig.Content {
			mapLines(enc.Content[i], orig.Content[i], nil, path+"["+strconv.Itoa(i)+"]", lines)
		}
	}
}

// joinPath appends key to path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yaml.v2's type error messages, as go.yaml.in/yaml/v2 v2.4 words them.
var (
	v2Line      = regexp.MustCompile(`^line (\d+): (.*)$`)
	v2Unknown   = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	v2Duplicate = regexp.MustCompile(`^(?:field|key) "?([^"]+)"? already set in (?:type|map) ?\S*$`)
	v2WrongType = regexp.MustCompile(`^cannot unmarshal (\S+)(?: ` + "`" + `[^` + "`" + `]*` + "`" + `)? into (\S+)$`)
)

// rewriteV2Error turns an error of yaml.v2's UnmarshalStrict on the item
// into our own words: each problem on its own line, naming its key path and
// its line in the file. An error of a Prometheus type's own checks carries
// no line: it is placed by the value it quotes (see locate), else at the
// item's first line.
func rewriteV2Error(err error, lines map[int][]lineInfo, item *yaml.Node) error {
	var te *yamlv2.TypeError
	if !errors.As(err, &te) {
		return placeError(strings.TrimPrefix(err.Error(), "yaml: "), item)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, e := range te.Errors {
		errs = append(errs, rewriteV2Problem(e, lines, item.Line))
	}
	return errors.Join(errs...)
}

// rewriteV2Problem rewrites one line of a yaml.v2 TypeError.
func rewriteV2Problem(problem string, lines map[int][]lineInfo, itemLine int) error {
	m := v2Line.FindStringSubmatch(problem)
	if m == nil {
		return fmt.Errorf("%s (line %d)", problem, itemLine)
	}
	encLine, _ := strconv.Atoi(m[1])
	candidates := lines[encLine]
	if len(candidates) == 0 {
		return fmt.Errorf("%s (line %d)", m[2], itemLine)
	}
	switch {
	case v2Unknown.MatchString(m[2]):
		key := v2Unknown.FindStringSubmatch(m[2])[1]
		info := pick(candidates, func(l lineInfo) bool { return l.key != nil && l.key.Value == key })
		parent, _ := splitPath(info.path)
		return withPath(parent, fmt.Errorf("unknown key %q (line %d)", key, info.line()))
	case v2Duplicate.MatchString(m[2]):
		key := v2Duplicate.FindStringSubmatch(m[2])[1]
		info := pick(candidates, func(l lineInfo) bool { return l.key != nil && l.key.Value == key })
		parent, _ := splitPath(info.path)
		return withPath(parent, fmt.Errorf("duplicate key %q (line %d)", key, info.line()))
	case v2WrongType.MatchString(m[2]):
		sub := v2WrongType.FindStringSubmatch(m[2])
		kind := tagKind(sub[1])
		info := pick(candidates, func(l lineInfo) bool { return resolve(l.value).Kind == kind })
		return withPath(info.path, fmt.Errorf("want %s, got %s (line %d)", wantGo(sub[2]), describe(info.value), resolve(info.value).Line))
	}
	info := candidates[0]
	return withPath(info.path, fmt.Errorf("%s (line %d)", m[2], info.line()))
}

// pick returns the first of a line's values that ok accepts, else the
// first: the one that starts the line.
func pick(candidates []lineInfo, ok func(lineInfo) bool) lineInfo {
	for _, c := range candidates {
		if ok(c) {
			return c
		}
	}
	return candidates[0]
}

// tagKind returns the kind of node that yaml.v2 names by tag in a type
// error: !!map, !!seq or a scalar's.
func tagKind(tag string) yaml.Kind {
	switch tag {
	case "!!map":
		return yaml.MappingNode
	case "!!seq":
		return yaml.SequenceNode
	}
	return yaml.ScalarNode
}

// placeError returns msg, an error of a Prometheus type's own checks about
// item, with the key path and line of the value it is about if locate finds
// it, else with the item's line.
func placeError(msg string, item *yaml.Node) error {
	item = resolve(item)
	if path, line, ok := locate(msg, item, ""); ok {
		return withPath(path, fmt.Errorf("%s (line %d)", msg, line))
	}
	return fmt.Errorf("%s (line %d)", msg, item.Line)
}

// quoted finds the Go-quoted strings in an error message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// locate finds the value an error message of a Prometheus type is about,
// such as `unknown unit "x" in duration "5x"`: the scalar of the item whose
// value the message quotes, if exactly one scalar has it (the longest
// quoted string that does wins). It returns that value's key path and line.
func locate(msg string, item *yaml.Node, path string) (string, int, bool) {
	quotes := quoted.FindAllString(msg, -1)
	slices.SortStableFunc(quotes, func(a, b string) int { return len(b) - len(a) })
	for _, q := range quotes {
		s, err := strconv.Unquote(q)
		if err != nil || s == "" {
			continue
		}
		var found []lineInfo
		findScalar(item, nil, path, func(v string) bool { return v == s }, &found)
		if len(found) == 1 {
			return found[0].path, found[0].value.Line, true
		}
	}
	return "", 0, false
}

// findScalar appends to found every scalar value under n that match
// accepts, with its key path.
func findScalar(n, key *yaml.Node, path string, match func(string) bool, found *[]lineInfo) {
	switch n.Kind {
	case yaml.ScalarNode:
		if key != nil && match(n.Value) {
			*found = append(*found, lineInfo{key: key, value: n, path: path})
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			findScalar(n.Content[i+1], k, joinPath(path, k.Value), match, found)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			findScalar(c, key, path+"["+strconv.Itoa(i)+"]", match, found)
		}
	}
}

// splitPath splits a key path into its parent and its last key.
func splitPath(path string) (parent, last string) {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return "", path
	}
	return path[:i], strings.TrimPrefix(path[i:], ".")
}

// withPath prefixes err with path, if there is one.
func withPath(path string, err error) error {
	if path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// wantGo names what a value of the Go type yaml.v2 names is written as.
func wantGo(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"), strings.HasSuffix(goType, ".LabelNames"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "an integer"
	}
	return "a mapping"
}

// encodePrometheus encodes v, a Prometheus config value, as Prometheus
// does (yaml.v2, secrets hidden by their MarshalYAML), and returns the
// result as a yaml.v3 node to embed in our own output.
func encodePrometheus(v any) (*yaml.Node, error) {
	text, err := yamlv2.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("encoding %T gave no single YAML value", v)
	}
	return doc.Content[0], nil
}
