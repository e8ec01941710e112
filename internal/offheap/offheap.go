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

// Package offheap hands out memory for pointer-free values outside the Go
// heap, for work that fills a lot of memory and drops it all at once, such
// as a /metrics scrape. An Arena takes its memory from anonymous mappings
// on Linux and the other Unix systems that golang.org/x/sys/unix can map
// with, and Free returns them to the system at once; elsewhere it falls
// back to ordinary Go memory, which Free leaves to the GC.
//
// Why: the GC sets its heap goal at twice the live heap, so every byte
// kept live on the heap costs about two of RSS, and every byte allocated
// there brings the next GC cycle closer. Memory mapped for a task and
// unmapped after it costs nothing between tasks, and nothing to the GC
// while it lives.
//
// The GC neither scans nor keeps alive what an Arena holds. A value stored
// in it must therefore hold no pointers: no pointer, string, slice, map,
// channel, function or interface, directly or in a field or array
// element. Make and Grow panic for such element types. Slices from an
// Arena must not be used after its Free, which unmaps their memory
// (reading it then faults), nor handed to code that might keep them.
package offheap

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"unsafe"
)

// chunkSize is the size of the chunks that small allocations share.
// Untouched pages of a mapping cost no memory, so a chunk is cheap even
// when little of it is used.
const chunkSize = 256 << 10

// largeSize is the size from which an allocation gets a region of its
// own, so that chunks waste little at their ends and Grow can free the
// region it moves a slice from.
const largeSize = chunkSize / 4

// region is memory an Arena took from the system (or, if mapping failed
// or is unsupported, from the Go heap).
type region struct {
	mem    []byte
	large  int  // the size of the one allocation it holds; 0 for a chunk
	mapped bool // from sysAlloc
}

// Arena allocates pointer-free values outside the Go heap until Free. The
// zero Arena is ready to use. An Arena is not safe for concurrent use.
type Arena struct {
	chunk   []byte   // the chunk small allocations come from
	used    int      // chunk[:used] is handed out
	last    int      // where in chunk the last small allocation starts
	regions []region // everything to release
}

// Make returns a slice of n zeroed values of T in a. T must hold no
// pointers (see the package comment).
//
// Make is meant for memory about to be filled: on Linux, the regions it
// maps for large slices (and Reserve's) have their pages present at once
// (MAP_POPULATE), which costs about half as much as faulting them in one
// by one as they are first written. The chunks of small slices, and the
// room Grow adds, are faulted in as they are used.
func Make[T any](a *Arena, n int) []T {
	size := sizeOf[T](n)
	if size == 0 {
		return make([]T, n) // zero-size elements take no memory
	}
	var zero T
	return unsafe.Slice((*T)(a.alloc(size, int(unsafe.Alignof(zero)), true)), n)
}

// Grow returns s with room for at least n more elements: s itself if it
// has it, otherwise s's elements in a larger slice of a (twice the size at
// least) whose new elements are zeroed. If s was a's, neither it nor any
// slice sharing its memory may be used after a move: Grow may have freed
// it already. T must hold no pointers.
func Grow[T any](a *Arena, s []T, n int) []T {
	if n <= cap(s)-len(s) {
		return s
	}
	return grow(a, s, n)
}

// grow is Grow's slow path, apart so that Grow inlines.
func grow[T any](a *Arena, s []T, n int) []T {
	want := max(len(s)+n, 2*cap(s))
	size := sizeOf[T](want)
	if size == 0 {
		return slices.Grow(s, n) // zero-size elements take no memory
	}
	var zero T
	old := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), cap(s)*int(unsafe.Sizeof(zero)))
	p := a.extend(old, size)
	if p == nil {
		p = a.alloc(size, int(unsafe.Alignof(zero)), false)
		copy(unsafe.Slice((*byte)(p), size), old)
		a.release(old)
	}
	return unsafe.Slice((*T)(p), want)[:len(s)]
}

// sizeOf returns the size of n values of T, and panics if T holds
// pointers or the size overflows.
func sizeOf[T any](n int) int {
	t := reflect.TypeFor[T]()
	if hasPointers(t) {
		panic(fmt.Sprintf("offheap: %v holds pointers, which the GC would not see", t))
	}
	size := int(t.Size())
	if n < 0 || size > 0 && n > math.MaxInt/size {
		panic(fmt.Sprintf("offheap: %d values of %v", n, t))
	}
	return n * size
}

// hasPointers reports whether a value of t holds anything the GC would
// have to see: pointers, and the types made of them.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		// Through a Value: Type.Field allocates, Value.Field does not,
		// and Zero allocates only for types of over a kilobyte.
		v := reflect.Zero(t)
		for i := range t.NumField() {
			if hasPointers(v.Field(i).Type()) {
				return true
			}
		}
		return false
	}
	return true
}

// alloc returns size zeroed bytes aligned to align (a power of two no
// larger than a page), present at once if populate and they need a region
// of their own.
func (a *Arena) alloc(size, align int, populate bool) unsafe.Pointer {
	start := (a.used + align - 1) &^ (align - 1)
	if a.chunk == nil || start+size > len(a.chunk) {
		if size >= largeSize {
			return unsafe.Pointer(&a.newRegion(size, size, populate)[0])
		}
		a.chunk, start = a.newRegion(chunkSize, 0, false), 0
	}
	a.last, a.used = start, start+size
	return unsafe.Pointer(&a.chunk[start])
}

// Reserve makes a's next allocations, up to size bytes in all, come from
// one region whose pages are present at once (on Linux): for a task that
// knows about what it needs, one mapping and one unmapping in all. The
// allocations that do not fit get their own regions or chunks.
func (a *Arena) Reserve(size int) {
	if size > 0 {
		a.chunk, a.used, a.last = a.newRegion(size, 0, true), 0, 0
	}
}

// extend grows old, the memory of a slice, to size bytes in place if it is
// the last allocation of the current chunk and the chunk has room, and
// returns its start; nil otherwise.
func (a *Arena) extend(old []byte, size int) unsafe.Pointer {
	if len(old) == 0 || a.chunk == nil || &old[0] != &a.chunk[a.last] || a.last+size > len(a.chunk) {
		return nil
	}
	a.used = a.last + size
	return unsafe.Pointer(&a.chunk[a.last])
}

// release returns old to the system right away if it is a large
// allocation, whole: Grow has moved its contents.
func (a *Arena) release(old []byte) {
	if len(old) < largeSize {
		return
	}
	for i, r := range a.regions {
		if r.large == len(old) && &r.mem[0] == &old[0] {
			r.free()
			a.regions = append(a.regions[:i], a.regions[i+1:]...)
			return
		}
	}
}

// newRegion returns a zeroed region of at least size bytes, for a chunk
// (large 0) or one large allocation of that size.
func (a *Arena) newRegion(size, large int, populate bool) []byte {
	r := region{mem: sysAlloc(size, populate), large: large, mapped: true}
	if r.mem == nil {
		// Mapping failed or is unsupported: the Go heap still works, and
		// Free leaves this region to the GC.
		r = region{mem: make([]byte, size), large: large}
	}
	if a.regions == nil {
		a.regions = make([]region, 0, 16)
	}
	a.regions = append(a.regions, r)
	return r.mem
}

// free returns r to the system if it is a mapping; the GC takes the rest.
func (r region) free() {
	if r.mapped {
		sysFree(r.mem)
	}
}

// Size returns the bytes a holds now: its mappings and heap fallbacks,
// used or not.
func (a *Arena) Size() int {
	n := 0
	for _, r := range a.regions {
		n += len(r.mem)
	}
	return n
}

// Free releases all of a's memory, which no slice of a may be used after,
// and leaves a empty and ready for reuse.
func (a *Arena) Free() {
	for _, r := range a.regions {
		r.free()
	}
	clear(a.regions)
	*a = Arena{regions: a.regions[:0]}
}
