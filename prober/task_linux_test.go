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

// TestTaskSize checks that an engine task, one per connection for the
// life of its target, stays within the 576-byte class of Go's allocator
// (the next is 640): at 10 000 targets a byte more than 576 costs 640 KB.
func TestTaskSize(t *testing.T) {
	got := unsafe.Sizeof(task{})
	t.Logf("task is %d bytes", got)
	if got > 576 {
		t.Errorf("task is %d bytes, want at most 576", got)
	}
}
