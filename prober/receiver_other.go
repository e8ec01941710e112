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
	"errors"
	"net"
)

// enableRxTimestamps is a no-op off Linux.
func enableRxTimestamps(uintptr) error { return nil }

// newReceiver returns a user-space-time receiver: kernel receive
// timestamps are implemented on Linux only.
func newReceiver(c net.Conn, wantKernel bool) (receiver, bool, error) {
	if wantKernel {
		return connReceiver{c}, false, errors.New("kernel receive timestamps are supported on Linux only")
	}
	return connReceiver{c}, false, nil
}
