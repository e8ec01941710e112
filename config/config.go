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

// Package config defines tcpping.yml: modules of probe settings, the static
// targets that use them and the discovery entries that find more targets. It
// loads, defaults and validates the file and imports no other package of this
// project. The sources of a discovery entry are Prometheus' own config types,
// parsed by Prometheus' own code, so that they read exactly as in
// prometheus.yml.
package config

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultModuleName is the name of the module that always exists.
const DefaultModuleName = "default"

// Config is a loaded, validated tcpping.yml. Nothing mutates a Config after
// Load or Parse returns it; a reload builds a new one.
type Config struct {
	// Modules maps module names to their settings. It always contains
	// DefaultModuleName.
	Modules map[string]Module `yaml:"modules"`
	// Targets are the static targets, in file order.
	Targets []Target `yaml:"targets"`
	// Discovery lists the discovery entries, in file order: an earlier
	// entry wins over a later one for the same module and address.
	Discovery []Discovery `yaml:"discovery,omitempty"`

	// modulesIncomplete is set while a config that failed to decode is
	// validated, if a module of the file is missing from Modules: a
	// reference to a module it lacks may be to that one, and is not
	// reported again.
	modulesIncomplete bool
}

// Module is one set of probe settings. Keys a module leaves out take the
// values of DefaultModule.
type Module struct {
	// Interval is the time between probes on the connection.
	Interval Duration `yaml:"interval"`
	// Timeout is the initial timeout, and the fixed one when Adaptive is
	// false. It lies in [MinTimeout, MaxTimeout].
	Timeout Duration `yaml:"timeout"`
	// Adaptive derives the timeout from the measured RTT (RFC 6298),
	// clamped to [MinTimeout, MaxTimeout].
	Adaptive bool `yaml:"adaptive"`
	// MinTimeout is the lower bound of the timeout.
	MinTimeout Duration `yaml:"min_timeout"`
	// MaxTimeout is the upper bound of the timeout.
	MaxTimeout Duration `yaml:"max_timeout"`
	// ReconnectAfter is the number of consecutive timeouts that declare the
	// connection dead; 0 means never.
	ReconnectAfter int `yaml:"reconnect_after"`
	// DialTimeout bounds each connection attempt.
	DialTimeout Duration `yaml:"dial_timeout"`
	// ReconnectBackoff is the first delay before a reconnection attempt; it
	// doubles, with jitter, up to MaxReconnectBackoff.
	ReconnectBackoff Duration `yaml:"reconnect_backoff"`
	// MaxReconnectBackoff is the longest delay between reconnection attempts.
	MaxReconnectBackoff Duration `yaml:"max_reconnect_backoff"`
	// IPProtocol is the preferred address family: "ip4" or "ip6".
	IPProtocol string `yaml:"ip_protocol"`
	// IPProtocolFallback allows the other family when the preferred one has
	// no address.
	IPProtocolFallback bool `yaml:"ip_protocol_fallback"`
	// SourceIPAddress is the local address to connect from; empty lets the
	// kernel choose.
	SourceIPAddress string `yaml:"source_ip_address"`
	// TOS is the IP TOS / IPv6 traffic class byte of probe packets.
	TOS int `yaml:"tos"`
	// Buckets are the upper bounds of the classic RTT histogram, in seconds.
	Buckets []float64 `yaml:"buckets,flow"`
	// NativeHistogramBucketFactor is the growth factor of the native
	// histogram's buckets; 0 disables the native histogram.
	NativeHistogramBucketFactor float64 `yaml:"native_histogram_bucket_factor"`
	// KernelTimestamps takes a reply's arrival time from the kernel (Linux).
	KernelTimestamps bool `yaml:"kernel_timestamps"`
	// ResolveInterval is how often a target given by DNS name is resolved
	// again, reconnecting when the connected address is no longer among
	// the answers; 0 turns it off.
	ResolveInterval Duration `yaml:"resolve_interval"`
	// ReconnectInterval closes and redials the connection on this period,
	// so that the handshake path is exercised too; 0 turns it off.
	ReconnectInterval Duration `yaml:"reconnect_interval"`
	// TxTimestamps takes a probe's send instant from the kernel's software
	// transmit timestamp (Linux) rather than a clock read before the write.
	TxTimestamps bool `yaml:"tx_timestamps"`
	// EchoProtocol is EchoProtocolAuto (negotiate the extended frame with an
	// echo server that offers it) or EchoProtocolV1 (24-byte frames only).
	EchoProtocol string `yaml:"echo_protocol"`
	// PayloadSize is the number of bytes of each probe on the wire,
	// MinPayloadSize to MaxPayloadSize; above MinPayloadSize it needs the
	// extended protocol.
	PayloadSize int `yaml:"payload_size"`
	// DontFragment sets the DF bit / path-MTU discovery "do" on the
	// socket, so that an MTU black hole shows as loss.
	DontFragment bool `yaml:"dont_fragment"`
	// RTOMargin keeps the adaptive timeout at least SRTT × (1 + RTOMargin),
	// so that jitter small against the RTT is not counted as loss.
	RTOMargin float64 `yaml:"rto_margin"`
	// Flows is the number of persistent connections per target, each from
	// its own source port, 1 to MaxFlows.
	Flows int `yaml:"flows"`
}

// Echo protocols of Module.EchoProtocol.
const (
	EchoProtocolAuto = "auto"
	EchoProtocolV1   = "v1"
)

// Bounds of Module.PayloadSize and Module.Flows.
const (
	MinPayloadSize = 24
	MaxPayloadSize = 9000
	MaxFlows       = 16
)

// Target is one static target.
type Target struct {
	// Name identifies the target; it is the target label on /metrics.
	Name string `yaml:"name"`
	// Address is host:port of an echo server.
	Address string `yaml:"address"`
	// Module names the module whose settings apply; empty means default.
	Module string `yaml:"module,omitempty"`
	// Labels are extra labels on this target's series.
	Labels map[string]string `yaml:"labels,omitempty"`
}

// DefaultBuckets returns the built-in classic histogram buckets, in seconds:
// 100 µs doubling up to 3.2768 s. Each call returns a fresh slice.
func DefaultBuckets() []float64 {
	b := make([]float64, 16)
	for i := range b {
		b[i] = 0.0001 * float64(uint(1)<<i)
	}
	return b
}

// DefaultModule returns the built-in module settings. Each call returns a
// fresh value, so no two modules share a slice.
func DefaultModule() Module {
	return Module{
		Interval:                    Duration(time.Second),
		Timeout:                     Duration(time.Second),
		Adaptive:                    true,
		MinTimeout:                  Duration(100 * time.Millisecond),
		MaxTimeout:                  Duration(3 * time.Second),
		ReconnectAfter:              3,
		DialTimeout:                 Duration(5 * time.Second),
		ReconnectBackoff:            Duration(500 * time.Millisecond),
		MaxReconnectBackoff:         Duration(30 * time.Second),
		IPProtocol:                  "ip6",
		IPProtocolFallback:          true,
		SourceIPAddress:             "",
		TOS:                         0,
		Buckets:                     DefaultBuckets(),
		NativeHistogramBucketFactor: 1.1,
		KernelTimestamps:            true,
		ResolveInterval:             Duration(5 * time.Minute),
		ReconnectInterval:           0,
		TxTimestamps:                true,
		EchoProtocol:                EchoProtocolAuto,
		PayloadSize:                 MinPayloadSize,
		DontFragment:                false,
		RTOMargin:                   0.5,
		Flows:                       1,
	}
}

// Default returns the configuration used when the default config file does
// not exist: the built-in default module and no static targets.
func Default() *Config {
	return &Config{Modules: map[string]Module{DefaultModuleName: DefaultModule()}}
}

// ModuleName returns the name of the module the target uses: its module,
// or DefaultModuleName when it names none.
func (t Target) ModuleName() string {
	if t.Module == "" {
		return DefaultModuleName
	}
	return t.Module
}

// ProbeKey identifies a prober: a static target wins over a discovered
// target with the same key, an earlier discovery entry over a later one
// (DESIGN.md, "Target discovery"), and /probe answers from the prober of
// its key; the discovery package and the prober Manager both decide by
// it. (Two static targets with one key each run a prober, and the Manager
// looks up the later.)
type ProbeKey struct {
	// Module is the name of the module, never empty (see ModuleName).
	Module string
	// Address is host:port of the echo server in its canonical spelling
	// (CanonicalAddress), so that one endpoint spelled two ways (port 0080
	// and 80, [0:0::1] and [::1], a DNS name in two cases) is one prober.
	Address string
}

// NewProbeKey returns the key of the prober of module moduleName (never
// empty: a target's ModuleName) and address, spelled canonically.
func NewProbeKey(moduleName, address string) ProbeKey {
	return ProbeKey{Module: moduleName, Address: CanonicalAddress(address)}
}

// ProbeKey returns the key of the target's prober: its module's name, as
// ModuleName gives it, and its address, spelled canonically.
func (t Target) ProbeKey() ProbeKey {
	return NewProbeKey(t.ModuleName(), t.Address)
}

// Compare orders keys by module, then address: -1, 0 or +1.
func (k ProbeKey) Compare(o ProbeKey) int {
	return cmp.Or(strings.Compare(k.Module, o.Module), strings.Compare(k.Address, o.Address))
}

// ModuleFor returns the module a target uses.
func (c *Config) ModuleFor(t Target) (Module, bool) {
	m, ok := c.Modules[t.ModuleName()]
	return m, ok
}

// MaxInFlight returns the most probes that can be in flight at once on one
// connection under m: ceil(T/interval) + 1, where T is the fixed timeout, or
// max_timeout when adaptive.
func (m Module) MaxInFlight() int {
	t := m.Timeout
	if m.Adaptive {
		t = m.MaxTimeout
	}
	// Divide before rounding up: t + interval can overflow for durations
	// near the largest that time.ParseDuration accepts.
	n := t / m.Interval
	if t%m.Interval != 0 {
		n++
	}
	return int(n) + 1
}

// Equal reports whether two modules have the same settings.
func (m Module) Equal(o Module) bool {
	return reflect.DeepEqual(m, o)
}

// FlowLabel is the label that tells a target's flows apart when its module
// has flows > 1: its value is the flow's number, "0" to "N-1".
const FlowLabel = "flow"

// CheckFlowLabel returns an error if a target of module (named name) has
// an extra label named FlowLabel while the module has several flows: its
// series carry the flow label already. With flows 1 the name is free, as
// it was before flows existed. Static targets (Validate), discovered ones
// and the probers' reconciliation all ask here.
func CheckFlowLabel(labels map[string]string, name string, module Module) error {
	if _, has := labels[FlowLabel]; has && module.Flows > 1 {
		return fmt.Errorf("label name %q is reserved for the flow number of a target whose module (%q) has flows %d",
			FlowLabel, name, module.Flows)
	}
	return nil
}

// LabelNames returns the label names of the static targets' series on
// /metrics besides target, address and module, each once, in sorted order:
// the extra label names of all targets, plus FlowLabel if some target's
// module has flows > 1. A target without one of them has it empty.
func (c *Config) LabelNames() []string {
	names := make(map[string]struct{})
	for _, t := range c.Targets {
		for name := range t.Labels {
			names[name] = struct{}{}
		}
		if m, ok := c.ModuleFor(t); ok && m.Flows > 1 {
			names[FlowLabel] = struct{}{}
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// YAML returns c as YAML, for the /config page: every key of every module
// (durations as strings such as "1s", buckets in flow style), modules in name
// order, targets in file order. Parse of the result gives a Config equal to c.
func (c *Config) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return buf.Bytes(), nil
}
