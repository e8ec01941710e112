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

import "errors"

// errWouldBlock is returned by a non-blocking receive with nothing to read.
var errWouldBlock = errors.New("no data ready")

// receiver reads reply bytes from one connection.
type receiver interface {
	// recv reads into buf. With block it waits, until the connection's
	// read deadline, for at least one byte; without, it returns
	// errWouldBlock when nothing is ready, and io.EOF when the peer closed
	// the connection. kernelNs is the kernel's
	// receive time of the data (Unix ns), or 0 if unknown.
	recv(buf []byte, block bool) (n int, kernelNs int64, err error)
}
