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

// The worker's timer heap: its tasks with a wake time, earliest first.

// reschedule puts t at its place in the timer heap (out of it if it has
// no wake time).
func (w *worker) reschedule(t *task) {
	switch {
	case t.wakeAt.IsZero() && t.hidx >= 0:
		w.heapRemove(int(t.hidx))
	case t.wakeAt.IsZero():
	case t.hidx < 0:
		t.hidx = int32(len(w.timers))
		w.timers = append(w.timers, t)
		w.up(int(t.hidx))
	default:
		if !w.down(int(t.hidx)) {
			w.up(int(t.hidx))
		}
	}
}

func (w *worker) heapRemove(i int) {
	h := w.timers
	last := len(h) - 1
	h[i].hidx = -1
	if i != last {
		h[i] = h[last]
		h[i].hidx = int32(i)
	}
	h[last] = nil
	w.timers = h[:last]
	if i != last {
		if !w.down(i) {
			w.up(i)
		}
	}
}

func (w *worker) less(i, j int) bool { return w.timers[i].wakeAt.Before(w.timers[j].wakeAt) }

func (w *worker) swap(i, j int) {
	h := w.timers
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = int32(i), int32(j)
}

func (w *worker) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !w.less(i, parent) {
			return
		}
		w.swap(i, parent)
		i = parent
	}
}

func (w *worker) down(i0 int) bool {
	i, n := i0, len(w.timers)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && w.less(r, l) {
			j = r
		}
		if !w.less(j, i) {
			break
		}
		w.swap(i, j)
		i = j
	}
	return i > i0
}
