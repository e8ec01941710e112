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

import (
	"errors"
	"io"
	"net"
	"strings"
)

// describeReadErr says why a read ended a connection, in the words of the
// prober's last error and connection events.
func describeReadErr(err error) string {
	if errors.Is(err, net.ErrClosed) {
		return "closed"
	}
	if errors.Is(err, io.EOF) {
		return "closed by peer"
	}
	return opText("read", err)
}

// opText says why a read or a write (op) ended a connection: "op: " and
// the reason, once: a goroutine loop's error names the system call again
// (write: write: ...), the engine's does not.
func opText(op string, err error) string {
	return op + ": " + strings.TrimPrefix(errText(err), op+": ")
}

// errText is err without the operation and addresses a *net.OpError
// repeats: the prober's logs and events already name the target. A
// target given by a DNS name does not name the address tried: an
// addrError keeps it.
func errText(err error) string {
	var ae *addrError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}
