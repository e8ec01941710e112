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
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// svg builds a picture's text. The picture is built whole and written
// once, so a failed write never leaves half an element behind it.
type svg struct{ b []byte }

// Write appends p: it makes svg an io.Writer for xml.EscapeText.
func (s *svg) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// open starts an element: "<name".
func (s *svg) open(name string) *svg {
	s.b = append(s.b, '<')
	s.b = append(s.b, name...)
	return s
}

// attr adds an attribute, its value escaped.
func (s *svg) attr(name, value string) *svg {
	s.name(name)
	s.escape(value)
	s.b = append(s.b, '"')
	return s
}

// num adds a numeric attribute, a coordinate, to a tenth of a pixel.
func (s *svg) num(name string, v float64) *svg {
	s.name(name)
	s.b = appendNum(s.b, v)
	s.b = append(s.b, '"')
	return s
}

// float adds a numeric attribute to six significant digits, for data
// attributes and opacities.
func (s *svg) float(name string, v float64) *svg {
	s.name(name)
	s.b = strconv.AppendFloat(s.b, v, 'g', 6, 64)
	s.b = append(s.b, '"')
	return s
}

// secs adds an attribute holding d in seconds, exactly.
func (s *svg) secs(name string, d time.Duration) *svg {
	s.name(name)
	s.b = strconv.AppendFloat(s.b, d.Seconds(), 'g', -1, 64)
	s.b = append(s.b, '"')
	return s
}

// unix adds an attribute holding t in Unix seconds.
func (s *svg) unix(name string, t time.Time) *svg {
	s.name(name)
	s.b = strconv.AppendInt(s.b, t.Unix(), 10)
	s.b = append(s.b, '"')
	return s
}

// name starts an attribute: ` name="`.
func (s *svg) name(name string) {
	s.b = append(s.b, ' ')
	s.b = append(s.b, name...)
	s.b = append(s.b, `="`...)
}

// end ends an element that has no content: "/>".
func (s *svg) end() { s.b = append(s.b, "/>\n"...) }

// content ends an element's start tag, writes text as its escaped
// content and closes it.
func (s *svg) content(name, text string) {
	s.b = append(s.b, '>')
	s.escape(text)
	s.close(name)
}

// start ends an element's start tag; its children follow.
func (s *svg) start() { s.b = append(s.b, ">\n"...) }

// close writes an element's end tag.
func (s *svg) close(name string) {
	s.b = append(s.b, "</"...)
	s.b = append(s.b, name...)
	s.b = append(s.b, ">\n"...)
}

// escape appends text escaped for XML content and attribute values:
// markup characters and both quotes become references, and characters
// XML cannot hold become U+FFFD.
func (s *svg) escape(text string) {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < ' ' || c >= 0x80 || strings.IndexByte(`&<>"'`, c) >= 0 {
			_ = xml.EscapeText(s, []byte(text)) // svg's Write never fails
			return
		}
	}
	s.b = append(s.b, text...) // plain ASCII: nothing to escape
}

// header opens the root element of a w×h picture.
func (s *svg) header(class string, w, h float64) {
	s.open("svg").attr("xmlns", "http://www.w3.org/2000/svg").attr("class", class).
		num("width", w).num("height", h).attr("viewBox", "0 0 "+fmtNum(w)+" "+fmtNum(h)).
		attr("role", "img").attr("font-family", "sans-serif").attr("font-size", "11").start()
}

// writeTo writes the picture to w.
func (s *svg) writeTo(w io.Writer) error {
	_, err := w.Write(s.b)
	return err
}

// appendNum appends v to a tenth, without a trailing ".0".
func appendNum(b []byte, v float64) []byte {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// fmtNum returns v as appendNum writes it.
func fmtNum(v float64) string { return string(appendNum(nil, v)) }

// itoa returns i in decimal.
func itoa(i int) string { return strconv.Itoa(i) }
