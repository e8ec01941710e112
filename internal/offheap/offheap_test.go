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

package offheap

import (
	"strings"
	"testing"
	"unsafe"
)

// row is a pointer-free struct with padding, as the collector stores.
type row struct {
	a  uint8
	b  float64
	c  [3]int32
	ok bool
}

func TestMakeWriteReadFree(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int
	}{
		{"one", 1},
		{"small", 100},
		{"just under large", largeSize/8 - 1},
		{"large", largeSize / 8},
		{"bigger than a chunk", 3*chunkSize/8 + 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a Arena
			bs := Make[byte](&a, 3)
			us := Make[uint64](&a, tt.n)
			rs := Make[row](&a, tt.n)
			for i := range us {
				if us[i] != 0 || rs[i] != (row{}) {
					t.Fatalf("element %d not zeroed", i)
				}
				us[i] = uint64(i) * 0x9e3779b97f4a7c15
				rs[i] = row{a: uint8(i), b: float64(i) / 3, c: [3]int32{int32(i), -1, 2}, ok: i%2 == 0}
			}
			copy(bs, "abc")
			for i := range us {
				if us[i] != uint64(i)*0x9e3779b97f4a7c15 || rs[i].b != float64(i)/3 || rs[i].c[0] != int32(i) || rs[i].ok != (i%2 == 0) {
					t.Fatalf("element %d reads back %d %+v", i, us[i], rs[i])
				}
			}
			if string(bs) != "abc" || len(us) != tt.n || cap(us) != tt.n {
				t.Errorf("bytes %q, %d of cap %d values, want abc and %d", bs, len(us), cap(us), tt.n)
			}
			if a.Size() < tt.n*8 {
				t.Errorf("Size %d, less than the %d bytes handed out", a.Size(), tt.n*8)
			}
			a.Free()
			if a.Size() != 0 {
				t.Errorf("Size %d after Free", a.Size())
			}
			// The arena is reusable.
			us = Make[uint64](&a, tt.n)
			us[tt.n-1] = 7
			a.Free()
		})
	}
}

func TestGrow(t *testing.T) {
	var a Arena
	defer a.Free()
	var b []byte
	var ints []int64
	for i := range 200_000 {
		// Interleaved, as the collector's buffers are: b grows in place
		// while it is the last small allocation, both then move to regions
		// of their own and on.
		b = Grow(&a, b, 1)
		b = append(b, byte(i))
		if i%3 == 0 {
			ints = Grow(&a, ints, 1)
			ints = append(ints, int64(-i))
		}
	}
	for i, c := range b {
		if c != byte(i) {
			t.Fatalf("byte %d is %d after growing", i, c)
		}
	}
	for i, v := range ints {
		if v != int64(-3*i) {
			t.Fatalf("int %d is %d after growing", i, v)
		}
	}
	// Moved-from large regions are freed as they move: what remains is
	// not much more than twice what is used.
	if used := len(b) + 8*len(ints); a.Size() > 3*used+2*chunkSize {
		t.Errorf("arena holds %d bytes for %d used", a.Size(), used)
	}
	// Grow of a heap slice moves it into the arena.
	h := Grow(&a, []int32{1, 2, 3}, 10)
	if len(h) != 3 || cap(h) < 13 || h[2] != 3 {
		t.Errorf("heap slice grown to %v of cap %d", h, cap(h))
	}
	if s := Grow(&a, h, 1); &s[0] != &h[0] {
		t.Error("Grow moved a slice that had room")
	}
	// Zero-size elements keep their length too.
	if z := Grow(&a, make([]struct{}, 2), 5); len(z) != 2 || cap(z) < 7 {
		t.Errorf("zero-size slice grown to length %d, cap %d; want 2, at least 7", len(z), cap(z))
	}
}

func TestReserve(t *testing.T) {
	var a Arena
	defer a.Free()
	const size = 3*chunkSize + 100
	a.Reserve(size)
	reserved := a.Size()
	if reserved < size {
		t.Fatalf("Size %d after Reserve(%d)", reserved, size)
	}
	// Large and small allocations alike come from the reserved region
	// while it has room, aligned for their type.
	b := Make[byte](&a, 3)
	us := Make[uint64](&a, chunkSize/8)
	rs := Make[row](&a, 100)
	if a.Size() != reserved {
		t.Errorf("Size %d after allocations that fit in the %d reserved", a.Size(), reserved)
	}
	if p := uintptr(unsafe.Pointer(&us[0])); p%8 != 0 {
		t.Errorf("uint64s at %#x", p)
	}
	b[2], us[len(us)-1], rs[99].b = 1, 2, 3
	// The last one can grow in place.
	if g := Grow(&a, rs, 1000); &g[0] != &rs[0] || a.Size() != reserved {
		t.Error("the last allocation of the reserved region moved to grow")
	}
	// What does not fit gets regions of its own.
	Make[byte](&a, size)
	if a.Size() <= reserved {
		t.Errorf("Size %d after outgrowing the %d reserved", a.Size(), reserved)
	}
}

func TestPointerTypesPanic(t *testing.T) {
	type withString struct {
		n int
		s string
	}
	type nested struct {
		a [2]struct{ p *int }
	}
	check := func(name string, f func()) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), "pointers") {
				t.Errorf("%s: panic %v, want one about pointers", name, r)
			}
		}()
		f()
	}
	var a Arena
	defer a.Free()
	check("pointer", func() { Make[*int](&a, 1) })
	check("string field", func() { Make[withString](&a, 1) })
	check("pointer in array of structs", func() { Make[nested](&a, 1) })
	check("slice", func() { Grow[[]byte](&a, nil, 1) })
	check("interface", func() { Make[any](&a, 1) })
	check("map", func() { Make[map[int]int](&a, 1) })
	_ = Make[[0]*int](&a, 4) // an empty array of pointers holds none
	_ = Make[struct{}](&a, 4)
}

func TestMakeAllocatesNothingOnTheHeap(t *testing.T) {
	var a Arena
	Make[row](&a, 1) // the region list
	if n := testing.AllocsPerRun(100, func() {
		Make[row](&a, 10)
		Make[uint64](&a, 10)
	}); n != 0 {
		t.Errorf("%v heap allocations per Make", n)
	}
	a.Free()
}

func BenchmarkArenaScrape(b *testing.B) {
	// About what a scrape of 10 000 probers asks for.
	b.ReportAllocs()
	for b.Loop() {
		var a Arena
		v := Make[float64](&a, 130_000)
		r := Make[row](&a, 10_000)
		var lbl []byte
		for i := range 10_000 {
			lbl = Grow(&a, lbl, 100)
			lbl = append(lbl, "{address=\"10.0.0.1:4000\",module=\"default\",site=\"site-1\",target=\"host-00001\""...)
			v[i] = float64(i)
			r[i].b = float64(i)
		}
		a.Free()
	}
}
