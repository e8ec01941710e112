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

import "golang.org/x/sys/unix"

// disableTxRehash turns SO_TXREHASH off on a flow's socket (Linux 5.18
// and later; socket(7)): otherwise a retransmission timeout picks a new
// transmit hash, which for IPv6 is a new flow label, and so, for routers
// that hash the flow label, a new path. A kernel without the option
// rehashes as it always did: there is nothing else to do about it.
func disableTxRehash(fd uintptr) {
	_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TXREHASH, unix.SOCK_TXREHASH_DISABLED)
}
