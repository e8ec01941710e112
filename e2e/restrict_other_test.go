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

package e2e

// restrictFamiliesEnv is the Linux wrapper's switch (restrict_linux_test.go).
const restrictFamiliesEnv = "TCPPING_E2E_RESTRICT_ADDRESS_FAMILIES"

// canRestrictFamilies reports whether this platform has the wrapper.
const canRestrictFamilies = false

// runRestrictedIfAsked does nothing: only Linux has seccomp.
func runRestrictedIfAsked() {}
