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

package echo

import (
	"syscall"
	"testing"
)

// pendingErrnos are the errors Linux accept(2) returns for a network error
// already pending on the new connection, to "treat like EAGAIN by
// retrying" (accept(2), NOTES).
var pendingErrnos = []syscall.Errno{
	syscall.ENETDOWN, syscall.EPROTO, syscall.ENOPROTOOPT, syscall.EHOSTDOWN,
	syscall.ENONET, syscall.EHOSTUNREACH, syscall.EOPNOTSUPP, syscall.ENETUNREACH,
}

func TestTemporaryPendingNetworkErrors(t *testing.T) {
	for _, errno := range pendingErrnos {
		t.Run(errno.Error(), func(t *testing.T) {
			if !temporary(acceptErr(errno)) {
				t.Errorf("temporary(%v) = false, want true", acceptErr(errno))
			}
		})
	}
}

// TestAcceptPendingNetworkErrors: a pending network error of one new
// connection must not shut the echo server down; the next client is served.
func TestAcceptPendingNetworkErrors(t *testing.T) {
	for _, errno := range pendingErrnos {
		t.Run(errno.Error(), func(t *testing.T) {
			t.Parallel()
			checkAcceptErrors(t, []error{acceptErr(errno)}, nil)
		})
	}
}
