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

package discovery

import (
	"context"
	"time"

	"github.com/go-kit/log/level"
)

// stop cancels the discoverers with cancel, Run's context, when Run's own
// is done, and waits for the goroutines that take their updates: once it
// returns, no update reaches the Runner, and so none reaches OnUpdate. It
// waits for the discoverers themselves no longer than r.timing.stopWait.
// Prometheus' DNS discoverer does not cancel a lookup in flight: to a
// server that does not answer, a lookup gives up after 2 s per server and
// name of the resolv.conf search list, tens of seconds with a pod's
// resolv.conf, which would hold up the exporter's shutdown past systemd's
// stop timeout or Kubernetes' grace period. A discoverer left running
// sends nothing more: it gives up its send on its cancelled context.
func (r *Runner) stop(cancel context.CancelFunc) {
	r.mu.Lock()
	r.runCtx = nil
	cancel()
	for _, e := range r.entries {
		for _, s := range e.sources {
			s.cancel = nil
		}
	}
	r.mu.Unlock()
	r.recv.Wait()

	done := make(chan struct{})
	go func() {
		r.discs.Wait()
		close(done)
	}()
	timer := time.NewTimer(r.timing.stopWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		level.Info(r.logger).Log("msg", "not waiting for discovery sources still stopping (a DNS lookup in flight ends on its own)", "duration_seconds", r.timing.stopWait.Seconds())
	}
}
