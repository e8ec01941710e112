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

package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// restrictFamiliesEnv, set to a systemd RestrictAddressFamilies= list,
// makes the test binary a wrapper that runs its arguments as a command
// under that restriction: socket(2) with any other family fails with
// EAFNOSUPPORT, which is how systemd enforces the directive (a seccomp
// filter), so a unit's policy can be tried where systemd does not run.
const restrictFamiliesEnv = "TCPPING_E2E_RESTRICT_ADDRESS_FAMILIES"

// canRestrictFamilies reports whether this platform has the wrapper.
const canRestrictFamilies = true

// addressFamilies are the families a RestrictAddressFamilies= list may
// name here.
var addressFamilies = map[string]uint32{
	"AF_UNIX": unix.AF_UNIX, "AF_INET": unix.AF_INET, "AF_INET6": unix.AF_INET6,
	"AF_NETLINK": unix.AF_NETLINK, "AF_PACKET": unix.AF_PACKET,
}

// runRestrictedIfAsked execs os.Args[1:] under the families of
// restrictFamiliesEnv when it is set, and returns otherwise.
func runRestrictedIfAsked() {
	list, ok := os.LookupEnv(restrictFamiliesEnv)
	if !ok {
		return
	}
	if err := execRestricted(strings.Fields(list), os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", restrictFamiliesEnv, err)
		os.Exit(127)
	}
}

// execRestricted installs a seccomp filter that lets socket(2) create
// only the families named, then execs argv.
func execRestricted(families, argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("no command")
	}
	// Load the syscall number; anything but socket is allowed. Then load
	// the family (the first argument's low 32 bits, little-endian) and
	// allow it if it is listed; refuse it otherwise.
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_SOCKET, Jt: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 16},
	}
	for _, name := range families {
		af, ok := addressFamilies[name]
		if !ok {
			return fmt.Errorf("unknown address family %q", name)
		}
		prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: af, Jt: 0, Jf: 1},
			unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW})
	}
	prog = append(prog, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EAFNOSUPPORT)})
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}

	// The filter applies to every thread (TSYNC) and survives exec.
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		return fmt.Errorf("seccomp: %w", errno)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, restrictFamiliesEnv+"=") {
			env = append(env, kv)
		}
	}
	return syscall.Exec(argv[0], argv, env)
}
