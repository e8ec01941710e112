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

//go:build !linux

package prober

import (
	"context"
	"errors"
)

// engineSupported reports whether this platform has the epoll engine: the
// engine is Linux only, and every prober here runs the goroutine loop of
// loop.go.
const engineSupported = false

// engine has no implementation off Linux; newEngine says so.
type engine struct{}

func newEngine() (*engine, error) { return nil, errors.New("the epoll engine is Linux only") }

func (*engine) start(context.Context, *Prober) {}

func (*engine) stop() {}
