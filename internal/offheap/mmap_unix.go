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

//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package offheap

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageSize is the unit of mappings.
var pageSize = os.Getpagesize()

// sysAlloc maps at least size bytes of zeroed anonymous memory, with its
// pages present if populate and the system can, or returns nil if the
// system refuses. MmapPtr, unlike unix.Mmap, keeps no record of the
// mapping on the Go heap.
func sysAlloc(size int, populate bool) []byte {
	size = (size + pageSize - 1) &^ (pageSize - 1)
	flags := unix.MAP_PRIVATE | unix.MAP_ANON
	if populate {
		flags |= mapPopulate
	}
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		return nil
	}
	return unsafe.Slice((*byte)(p), size)
}

// sysFree unmaps mem, a mapping of sysAlloc. Unmapping a whole mapping
// that is ours fails only on a bug, which it would be wrong to hide.
func sysFree(mem []byte) {
	if err := unix.MunmapPtr(unsafe.Pointer(&mem[0]), uintptr(len(mem))); err != nil {
		panic("offheap: munmap: " + err.Error())
	}
}
