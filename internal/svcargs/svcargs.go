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

// Package svcargs rewrites the command line that tcpping_exporter
// --service=install records as the Windows service's: it is plain string
// work, kept apart from the Windows-only service code so that it is tested
// on every platform.
package svcargs

import (
	"fmt"
	"strings"
)

// Flag is the name of the flag that controls the Windows service
// (service_windows.go). It is one flag taking an action, like the original
// tool's -svc, rather than four booleans: the actions exclude each other,
// and there is exactly one flag to leave out of the installed command line.
const Flag = "service"

// Args returns the arguments that a service installed from the
// command line args runs with: args without --service and its value, and
// with the values of file path flags made absolute by abs (filepath.Abs in
// production), because a service starts in %WINDIR%\System32. It accepts
// "--flag=value" and "--flag value", as kingpin does, and passes everything
// from "--" on unchanged.
func Args(args []string, abs func(string) (string, error)) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...), nil
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		switch {
		case !strings.HasPrefix(arg, "--"):
			out = append(out, arg)
		case name == Flag:
			if !hasValue {
				i++ // the value is the next argument
			}
		case isPathFlag(name):
			if !hasValue {
				if i+1 == len(args) {
					return nil, fmt.Errorf("--%s: missing value", name)
				}
				i++
				value = args[i]
			}
			if value != "" {
				p, err := abs(value)
				if err != nil {
					return nil, fmt.Errorf("--%s: %w", name, err)
				}
				value = p
			}
			out = append(out, "--"+name+"="+value)
		default:
			out = append(out, arg)
		}
	}
	return out, nil
}

// isPathFlag reports whether the flag name takes a file path.
func isPathFlag(name string) bool {
	switch name {
	case "config.file", "web.config.file":
		return true
	}
	return false
}
