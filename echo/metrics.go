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

package echo

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// reason is why the server refused or closed a connection. Its String is the
// value of the reason label of tcp_echo_server_rejected_total.
type reason int

const (
	reasonNone reason = iota // closed by the client or by Shutdown: not counted
	// reasonBadMagic is any bad frame: a bad magic, or an extended frame's
	// bad length or kind (stream.badFrame says which, for the log).
	reasonBadMagic
	reasonLimit
	reasonIdle
	reasonNotAllowed
	// reasonWriteTimeout: a client that does not read its echoes until the
	// write deadline passes.
	reasonWriteTimeout
	numReasons
)

func (r reason) String() string {
	switch r {
	case reasonBadMagic:
		return "bad_magic"
	case reasonLimit:
		return "limit"
	case reasonIdle:
		return "idle"
	case reasonNotAllowed:
		return "not_allowed"
	case reasonWriteTimeout:
		return "write_timeout"
	default:
		return "none"
	}
}

// metrics are the echo server's self-metrics. Their names are public
// interface (DESIGN.md, "Metrics").
type metrics struct {
	connections prometheus.Gauge
	accepted    prometheus.Counter
	rejectedVec *prometheus.CounterVec
	// rejected holds the child of rejectedVec for every reason, resolved
	// once so that counting does no label lookup and every series exists
	// at 0 from the start.
	rejected [numReasons]prometheus.Counter
	frames   prometheus.Counter
}

const (
	namespace = "tcp_echo"
	subsystem = "server"
)

func newMetrics() *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "connections",
			Help: "Number of echo server connections open now.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "accepted_total",
			Help: "Total number of echo server connections accepted and served.",
		}),
		rejectedVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "rejected_total",
			Help: "Total number of echo server connections refused or closed by the server, by reason.",
		}, []string{"reason"}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "frames_total",
			Help: "Total number of frames the echo server reflected.",
		}),
	}
	for r := reasonNone + 1; r < numReasons; r++ {
		m.rejected[r] = m.rejectedVec.WithLabelValues(r.String())
	}
	return m
}

// register registers every metric on reg. A nil reg registers nothing, which
// lets tests build several servers in one process.
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.accepted, m.rejectedVec, m.frames} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// reject counts a connection the server refused or closed.
func (m *metrics) reject(r reason) {
	if r > reasonNone && r < numReasons {
		m.rejected[r].Inc()
	}
}
