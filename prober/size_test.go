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

package prober

import (
	"testing"
	"unsafe"
)

// noHeaderMax is the largest object Go's allocator keeps without an
// 8-byte header when it holds pointers: one byte more and a 512-byte
// object takes the 576-byte class, a 576-byte one the 640-byte class.
const noHeaderMax = 512

// TestProberSize keeps a Prober, one per target, within noHeaderMax: the
// W3 bench's 10,000 targets at 1 s measure every byte (bench/README.md).
func TestProberSize(t *testing.T) {
	if n := unsafe.Sizeof(Prober{}); n > noHeaderMax {
		t.Errorf("a Prober is %d bytes, over %d: the allocator would round it up to 576 or more; move what few probers use into extra", n, noHeaderMax)
	}
}

// TestRTOEstimatorSize keeps a target's RTO estimator in the 64-byte size
// class (the next is 80).
func TestRTOEstimatorSize(t *testing.T) {
	if n := unsafe.Sizeof(rtoEstimator{}); n > 64 {
		t.Errorf("an rtoEstimator is %d bytes, over 64: the allocator would give it 80", n)
	}
}
