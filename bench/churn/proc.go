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

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// proc is a process the bench started.
type proc struct {
	cmd *exec.Cmd
	log *os.File
}

// start starts the binary with args, its output in dir/name.log.
func start(o options, name string, args ...string) (*proc, error) {
	log, err := os.Create(filepath.Join(o.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	return &proc{cmd: cmd, log: log}, nil
}

// stop ends the process with SIGTERM and waits for it.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.log.Close()
}

// usage is a process's resources at one moment.
type usage struct {
	cpu        time.Duration // user + system since start
	rss        int64
	fds        int
	goroutines float64
	probers    float64 // discovered
}

// procUsage reads CPU time, RSS and open files from /proc.
func procUsage(pid int) (usage, error) {
	var u usage
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return u, err
	}
	st, err := proc.Stat()
	if err != nil {
		return u, err
	}
	u.cpu = time.Duration(st.CPUTime() * float64(time.Second))
	u.rss = int64(st.ResidentMemory())
	u.fds, err = proc.FileDescriptorsLen()
	return u, err
}
