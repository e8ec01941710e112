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
	"unicode"
	"unicode/utf8"
)

// The server cannot measure text as the browser will draw it, so a line
// that must fit a width is measured by an estimate of each character's
// advance, in ems, on the wide side of common sans-serif fonts (bold
// DejaVu Sans is among the widest): a line it passes fits, and one that
// would just fit may be shortened.
const (
	emNarrow = 0.4  // i, l, punctuation and space
	emWide   = 1.05 // m, w, M, W, @; CJK and emoji
	emUpper  = 0.8  // other capitals
	emOther  = 0.7  // the rest: lower case, digits, other scripts
)

// ellipsis stands for what fitText leaves out.
const ellipsis = "…"

// advance returns the estimated advance of r, in ems.
func advance(r rune) float64 {
	switch {
	case r < utf8.RuneSelf && (r == ' ' || r == 'i' || r == 'l' || r == 'j' || r == 't' || r == 'f' || r == 'r' ||
		r == 'I' || unicode.IsPunct(r) && r != '%' && r != '&' && r != '#' && r != '@'):
		return emNarrow
	case r == 'm' || r == 'w' || r == 'M' || r == 'W' || r == '@' || r == '%' ||
		r >= 0x1100 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r >= 0x1F000:
		return emWide
	case r < utf8.RuneSelf && unicode.IsUpper(r):
		return emUpper
	}
	return emOther
}

// textWidth returns the estimated width of s at size pixels.
func textWidth(s string, size float64) float64 {
	var em float64
	for _, r := range s {
		em += advance(r)
	}
	return em * size
}

// fitText returns s if it fits width pixels at size, else s shortened in
// its middle to fit, with an ellipsis in place of what it leaves out: its
// end (a graph title's range) stays, with up to two fifths of the width.
func fitText(s string, width, size float64) string {
	if textWidth(s, size) <= width {
		return s
	}
	room := width - textWidth(ellipsis, size)
	rs := []rune(s)
	tail, used := len(rs), 0.0 // the tail first: up to two fifths of the room
	for ; tail > 0 && used+advance(rs[tail-1])*size <= room*2/5; tail-- {
		used += advance(rs[tail-1]) * size
	}
	head := 0 // then the head, in what the tail left
	for ; head < tail && used+advance(rs[head])*size <= room; head++ {
		used += advance(rs[head]) * size
	}
	return string(rs[:head]) + ellipsis + string(rs[tail:])
}
