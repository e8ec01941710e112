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

package graph

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpping/tcpping_exporter/internal/history"
)

// t0 is the start of the tests' windows.
var t0 = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)

// ms returns x milliseconds.
func ms(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }

// slot returns the one-minute Point i minutes after t0, with sent and
// lost probes and, if any came back, the RTT quantiles rtts (ms).
func slot(i, sent, lost int, rtts ...float64) history.Point {
	p := history.Point{Start: t0.Add(time.Duration(i) * time.Minute), Sent: sent, Lost: lost}
	p.End = p.Start.Add(time.Minute)
	for q, v := range rtts {
		p.RTT[q] = ms(v)
	}
	return p
}

// node is an element of a parsed picture.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

// parse checks that b is well-formed XML with an svg root, and returns it.
func parse(t *testing.T, b []byte) *node {
	t.Helper()
	var root node
	if err := xml.Unmarshal(b, &root); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, b)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v, want svg in the SVG namespace", root.XMLName)
	}
	return &root
}

// attr returns n's attribute name, "" if it has none.
func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// num returns n's attribute name as a number.
func (n *node) num(t *testing.T, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("<%s class=%q> attribute %s: %v", n.XMLName.Local, n.attr("class"), name, err)
	}
	return v
}

// walk calls f with n and every element under it, in document order.
func (n *node) walk(f func(*node)) {
	f(n)
	for i := range n.Nodes {
		n.Nodes[i].walk(f)
	}
}

// all returns the elements of class class.
func (n *node) all(class string) []*node {
	var out []*node
	n.walk(func(m *node) {
		if m.attr("class") == class {
			out = append(out, m)
		}
	})
	return out
}

// at returns the elements of class class whose data-t is slot start's.
func (n *node) at(class string, start time.Time) []*node {
	var out []*node
	for _, m := range n.all(class) {
		if m.attr("data-t") == strconv.FormatInt(start.Unix(), 10) {
			out = append(out, m)
		}
	}
	return out
}

// child returns n's first child element named name.
func (n *node) child(name string) *node {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

// near reports whether a and b are the same pixel: pictures are drawn
// to a tenth of a pixel, and the tests read sums of coordinates and
// scales fitted through rounded ticks.
func near(a, b float64) bool { return a-b <= 0.2 && b-a <= 0.2 }

// checkAirGapped checks the picture needs nothing from elsewhere and
// runs nothing: no script, no link, no external reference of any kind.
func checkAirGapped(t *testing.T, b []byte, root *node) {
	t.Helper()
	root.walk(func(n *node) {
		switch n.XMLName.Local {
		case "script", "foreignObject", "image", "use", "a", "style":
			t.Errorf("the picture has a <%s> element", n.XMLName.Local)
		}
		for _, a := range n.Attrs {
			if a.Name.Local == "href" || strings.HasPrefix(a.Name.Local, "on") || a.Name.Local == "id" {
				t.Errorf("<%s> has attribute %s=%q", n.XMLName.Local, a.Name.Local, a.Value)
			}
		}
	})
	if bytes.Contains(b, []byte("url(")) || bytes.Contains(b, []byte("<script")) {
		t.Errorf("the picture refers to something: %s", b)
	}
}
