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

// Package sockfd holds what the Linux epoll engines of the prober and the
// echo server share: taking a socket away from Go's netpoller, an epoll set
// with an eventfd to wake its owner, and reading the kernel's receive
// timestamp out of recvmsg's control messages.
// It is empty on other platforms.
package sockfd
