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

//go:build unix

package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// portLocker holds, for this process, a POSIX record lock on byte p of a
// lock file for each port p handed out, so that the test processes of one
// user (go test runs packages in parallel; several people may share the
// machine) never hand out the same port at once. The kernel drops the
// locks when the process exits. The file stays open: closing any
// descriptor of it would drop every lock this process holds on it.
type portLocker struct{ f *os.File }

func openPortLocker() (portLocker, error) {
	name := filepath.Join(os.TempDir(), fmt.Sprintf("tcpping_exporter-test-ports-%d.lock", os.Getuid()))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return portLocker{}, fmt.Errorf("port lock file: %w", err)
	}
	return portLocker{f}, nil
}

// lock takes the lock of port p, and reports false if another process
// holds it.
func (l portLocker) lock(p int) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: int64(p), Len: 1}
	err := unix.FcntlFlock(l.f.Fd(), unix.F_SETLK, &lk)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
		return false, nil
	default:
		return false, fmt.Errorf("lock port %d in %s: %w", p, l.f.Name(), err)
	}
}
