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

//go:build linux

package prober

import (
	"testing"
	"unsafe"
)

// TestTaskSize keeps an engine task, one per connection for the life of
// its target, within noHeaderMax (size_test.go): at 10 000 targets a byte
// more costs 640 KB.
func TestTaskSize(t *testing.T) {
	if n := unsafe.Sizeof(task{}); n > noHeaderMax {
		t.Errorf("a task is %d bytes, over %d: the allocator would round it up to 576 or more", n, noHeaderMax)
	}
}
