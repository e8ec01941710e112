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

package collector

import "sync/atomic"

// kept holds one large object between scrapes (a write buffer, a gzip
// compressor) for the next scrape to reuse. Unlike a sync.Pool, which
// every garbage collection empties, it keeps the object across
// collections: the exporter collects often (GOGC 10), and a new object
// after each would be its size in garbage per scrape. Scrapes are rarely
// concurrent: one that finds the object taken makes its own, and of two
// given back the first is kept and the other dropped.
type kept[T any] struct{ p atomic.Pointer[T] }

// take returns the kept object, or nil if there is none (a concurrent
// scrape has it, or none was given back yet).
func (k *kept[T]) take() *T { return k.p.Swap(nil) }

// giveBack keeps v for the next scrape unless an object is kept already.
func (k *kept[T]) giveBack(v *T) { k.p.CompareAndSwap(nil, v) }
