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

//go:build !windows

package main

import (
	"context"
	"io"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
)

// addServiceFlag adds nothing: --service controls a Windows service.
func addServiceFlag(*kingpin.Application, []string, io.Writer) {}

// serviceContext returns context.Background() and a no-op: only a Windows
// service is stopped by anything but a signal.
func serviceContext(log.Logger) (context.Context, func()) {
	return context.Background(), func() {}
}
