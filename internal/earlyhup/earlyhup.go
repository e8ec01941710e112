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

// Package earlyhup catches SIGHUP from the first moments of the process,
// long before the exporter can reload its config.
//
// SIGHUP's default action ends a process, and a Go program takes it until
// it calls signal.Notify: a SIGHUP sent while the exporter starts
// (`systemctl reload` right after `systemctl start`, as configuration
// managers do) would kill it. Most of the startup is spent before main
// runs at all, initialising the packages the program imports (35 ms of
// the first 40 on a loaded 2-core machine), so main cannot catch it early
// enough. This package's init does: it imports only os, os/signal and
// syscall, so Go, which initialises packages in import-path order as soon
// as their imports are, initialises it among the first, before any other
// package of this module ("internal/earlyhup" sorts before those that are
// ready as early).
package earlyhup

import (
	"os"
	"os/signal"
	"syscall"
)

// caught receives SIGHUP from init on. A signal belongs to the process,
// and so does this channel, the package's one piece of state: main either
// takes it (Signals) or gives the signal its default action back
// (Release).
var caught = make(chan os.Signal, 1)

func init() { signal.Notify(caught, syscall.SIGHUP) }

// Signals returns the channel SIGHUP is delivered to: one sent before the
// caller was ready waits there.
func Signals() <-chan os.Signal { return caught }

// Release gives SIGHUP its default action back, for a command that does
// not reload (ping, --config.check): a hangup ends it.
func Release() { signal.Reset(syscall.SIGHUP) }
