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

// Package lowprio runs work that must not delay the probes, such as
// writing a /metrics response, at the lowest CPU priority the operating
// system gives an unprivileged thread.
package lowprio

// Nice is the priority (Linux nice value) Run gives its thread.
const Nice = 19

// Run calls fn and returns its result. On Linux fn runs on a new OS thread
// of nice value Nice, which the scheduler preempts as soon as a normal
// thread, such as a prober or echo worker woken by a reply, wants its CPU;
// it still gets a share of a busy CPU, so the work is slowed rather than
// starved. The thread ends with fn, as its priority cannot be raised back
// without privileges (the Go runtime parks the process's main thread for
// good instead of ending it). Elsewhere fn runs on the calling goroutine.
//
// A lock fn takes that the probe path also takes should be held only for
// a copy: a low-priority thread preempted while holding it makes its
// waiter wait for it. A panic in fn is raised again in the caller.
func Run(fn func() error) error { return run(fn) }
