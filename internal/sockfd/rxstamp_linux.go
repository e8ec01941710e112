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

package sockfd

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// TimestampOOBSize is enough control-message room for recvmsg(2) to return
// an SCM_TIMESTAMPNS timestamp, with room to spare.
const TimestampOOBSize = 64

// ParseTimestampNS returns the SCM_TIMESTAMPNS time (Unix ns) in a control
// message buffer that recvmsg(2) filled, or 0 if there is none. It reads
// the cmsghdr and timespec in place rather than through
// unix.ParseSocketControlMessage, which allocates. See socket(7),
// SO_TIMESTAMPNS.
func ParseTimestampNS(oob []byte) int64 {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(oob) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l-hdrLen >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdrLen]))
			return ts.Nano()
		}
		oob = oob[min(unix.CmsgSpace(l-hdrLen), len(oob)):]
	}
	return 0
}
