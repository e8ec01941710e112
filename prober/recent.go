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

import "time"

// recentWindow counts events over the last minute in six 10-second slots:
// coarse, but a handful of words per prober.
type recentWindow struct {
	slot  [6]uint32
	epoch [6]uint32 // Unix time / 10
}

func (w *recentWindow) add(now time.Time) {
	e := uint32(now.Unix() / 10)
	i := e % 6
	if w.epoch[i] != e {
		w.epoch[i], w.slot[i] = e, 0
	}
	w.slot[i]++
}

func (w *recentWindow) sum(now time.Time) uint64 {
	e := now.Unix() / 10
	var n uint64
	for i := range w.slot {
		if e-int64(w.epoch[i]) < 6 {
			n += uint64(w.slot[i])
		}
	}
	return n
}
