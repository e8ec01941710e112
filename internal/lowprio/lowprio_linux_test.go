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

package lowprio

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpping/tcpping_exporter/internal/testenv"
)

func TestRunLowersOnlyItsThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := testenv.ThreadNice(t)
	var (
		nice int
		tid  = -1
	)
	errWant := errors.New("from fn")
	err := Run(func() error {
		nice, tid = testenv.ThreadNice(t), unix.Gettid()
		return errWant
	})
	if err != errWant {
		t.Errorf("Run returned %v, want fn's error", err)
	}
	if nice != Nice {
		t.Errorf("fn ran at nice %d, want %d", nice, Nice)
	}
	if tid == unix.Gettid() {
		t.Error("fn ran on the caller's thread")
	}
	if after := testenv.ThreadNice(t); after != before {
		t.Errorf("caller's thread at nice %d after Run, was %d", after, before)
	}
	// The thread is gone, so no other goroutine can ever run at its
	// priority. Its exit is asynchronous to Run's return: wait for it.
	// The main thread is the exception: the runtime parks it for good
	// instead, which keeps it from other goroutines just as well.
	if tid == os.Getpid() {
		t.Log("fn ran on the main thread, which the runtime parks instead of ending")
		return
	}
	gone := false
	for range 1000 {
		if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); errors.Is(err, os.ErrNotExist) {
			gone = true
			break
		}
		runtime.Gosched()
		unix.Nanosleep(&unix.Timespec{Nsec: 1e6}, nil)
	}
	if !gone {
		t.Errorf("fn's thread %d still exists after Run", tid)
	}
}

func TestRunRaisesPanicInCaller(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want fn's panic", r)
		}
	}()
	_ = Run(func() error { panic("boom") })
	t.Error("Run returned after fn panicked")
}
