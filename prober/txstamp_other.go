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

// enableTxTimestamps refuses: kernel transmit timestamps are implemented
// on Linux only.
func enableTxTimestamps(uintptr) error {
	return errors.New("kernel transmit timestamps are supported on Linux only")
}

// connTx stands for the Linux error queue reader; it is never made here.
type connTx struct{}

// newConnTx returns nil: there is no error queue to read.
func newConnTx(net.Conn) *connTx { return nil }

func (*connTx) read() (uint32, int64, error) { return 0, 0, errWouldBlock }
