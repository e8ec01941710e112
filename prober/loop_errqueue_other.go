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

import "errors"

// errWait stands for the Linux waiter; it is never made here: without
// kernel transmit timestamps the netpoller never refuses a read for them.
type errWait struct{}

func (*errWait) wake()  {}
func (*errWait) close() {}

func (*connLink) waitErrQueue() (bool, error) {
	return false, errors.New("transmit timestamps are supported on Linux only")
}
