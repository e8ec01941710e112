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

package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks c against the rules of DESIGN.md and reports every problem
// at once, joined with errors.Join: modules in name order, then targets and
// discovery entries in file order. Each error names the module or target and the key, e.g.
// `target "server1": address: missing port in "10.0.0.1"`.
func (c *Config) Validate() error {
	var errs []error
	if _, ok := c.Modules[DefaultModuleName]; !ok {
		errs = append(errs, fmt.Errorf("module %q: missing; it must always exist", DefaultModuleName))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Modules)) {
		ctx := fmt.Sprintf("module %q", name)
		if err := checkName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: name: %w", ctx, err))
		}
		errs = append(errs, within(ctx, errors.Join(c.Modules[name].validate()...)))
	}
	first := make(map[string]int, len(c.Targets))
	for i, t := range c.Targets {
		ctx := t.context(i)
		errs = append(errs, within(ctx, errors.Join(t.validate()...)))
		if j, dup := first[t.Name]; dup && t.Name != "" {
			errs = append(errs, fmt.Errorf("%s: name: used by both targets[%d] and targets[%d]", ctx, j, i))
		} else {
			first[t.Name] = i
		}
		mod, ok := c.ModuleFor(t)
		if !ok && !c.modulesIncomplete {
			errs = append(errs, fmt.Errorf("%s: module: unknown module %q", ctx, t.Module))
		}
		if err := CheckFlowLabel(t.Labels, t.ModuleName(), mod); err != nil {
			errs = append(errs, fmt.Errorf("%s: labels: %w", ctx, err))
		}
	}
	firstEntry := make(map[string]int, len(c.Discovery))
	for i, d := range c.Discovery {
		ctx := d.context(i)
		errs = append(errs, within(ctx, errors.Join(d.validate()...)))
		if j, dup := firstEntry[d.Name]; dup && d.Name != "" {
			errs = append(errs, fmt.Errorf("%s: name: used by both discovery[%d] and discovery[%d]", ctx, j, i))
		} else {
			firstEntry[d.Name] = i
		}
		if _, ok := c.Modules[d.Module]; !ok && !c.modulesIncomplete {
			errs = append(errs, fmt.Errorf("%s: module: unknown module %q", ctx, d.Module))
		}
	}
	return errors.Join(errs...)
}

// validate checks the settings of one module; each error starts with the
// key it is about.
func (m Module) validate() []error {
	var errs []error
	positive := func(key string, d Duration) bool {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be greater than 0, got %s", key, d))
			return false
		}
		return true
	}
	positive("interval", m.Interval)
	positive("dial_timeout", m.DialTimeout)
	okTimeout := positive("timeout", m.Timeout)
	okMin := positive("min_timeout", m.MinTimeout)
	okMax := positive("max_timeout", m.MaxTimeout)
	// The bounds apply whether or not adaptive is on: with adaptive off the
	// timeout is fixed, and switching adaptive on must not make it invalid.
	if okMin && okMax && m.MinTimeout > m.MaxTimeout {
		errs = append(errs, fmt.Errorf("max_timeout: must be at least min_timeout (%s), got %s", m.MinTimeout, m.MaxTimeout))
	} else if okTimeout && okMin && okMax && (m.Timeout < m.MinTimeout || m.Timeout > m.MaxTimeout) {
		errs = append(errs, fmt.Errorf("timeout: must be between min_timeout (%s) and max_timeout (%s), got %s",
			m.MinTimeout, m.MaxTimeout, m.Timeout))
	}
	if m.ReconnectAfter < 0 {
		errs = append(errs, fmt.Errorf("reconnect_after: must be 0 (never) or more, got %d", m.ReconnectAfter))
	}
	if positive("reconnect_backoff", m.ReconnectBackoff) && m.MaxReconnectBackoff < m.ReconnectBackoff {
		errs = append(errs, fmt.Errorf("max_reconnect_backoff: must be at least reconnect_backoff (%s), got %s",
			m.ReconnectBackoff, m.MaxReconnectBackoff))
	}
	if m.IPProtocol != "ip4" && m.IPProtocol != "ip6" {
		errs = append(errs, fmt.Errorf("ip_protocol: must be \"ip4\" or \"ip6\", got %q", m.IPProtocol))
	}
	if m.SourceIPAddress != "" {
		if src, err := netip.ParseAddr(m.SourceIPAddress); err != nil {
			errs = append(errs, fmt.Errorf("source_ip_address: must be empty or an IP address, got %q", m.SourceIPAddress))
		} else if err := CheckDialable(src); err != nil {
			errs = append(errs, fmt.Errorf("source_ip_address: %w", err))
		} else if err := checkSourceFamily(m, src); err != nil {
			errs = append(errs, err)
		}
	}
	if m.TOS < 0 || m.TOS > 255 {
		errs = append(errs, fmt.Errorf("tos: must be between 0 and 255, got %d", m.TOS))
	}
	if err := checkBuckets(m.Buckets); err != nil {
		errs = append(errs, fmt.Errorf("buckets: %w", err))
	}
	if f := m.NativeHistogramBucketFactor; math.IsNaN(f) || math.IsInf(f, 0) || (f != 0 && f <= 1) {
		errs = append(errs, fmt.Errorf("native_histogram_bucket_factor: must be 0 (disabled) or greater than 1, got %v", f))
	}
	if m.ResolveInterval < 0 {
		errs = append(errs, fmt.Errorf("resolve_interval: must be 0 (off) or more, got %s", m.ResolveInterval))
	}
	if m.ReconnectInterval < 0 {
		errs = append(errs, fmt.Errorf("reconnect_interval: must be 0 (off) or more, got %s", m.ReconnectInterval))
	}
	if m.EchoProtocol != EchoProtocolAuto && m.EchoProtocol != EchoProtocolV1 {
		errs = append(errs, fmt.Errorf("echo_protocol: must be %q or %q, got %q", EchoProtocolAuto, EchoProtocolV1, m.EchoProtocol))
	}
	switch {
	case m.PayloadSize < MinPayloadSize || m.PayloadSize > MaxPayloadSize:
		errs = append(errs, fmt.Errorf("payload_size: must be between %d and %d, got %d", MinPayloadSize, MaxPayloadSize, m.PayloadSize))
	case m.PayloadSize > MinPayloadSize && m.EchoProtocol == EchoProtocolV1:
		errs = append(errs, fmt.Errorf("payload_size: %d needs the extended protocol, which echo_protocol %q turns off", m.PayloadSize, EchoProtocolV1))
	}
	if f := m.RTOMargin; math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 10 {
		errs = append(errs, fmt.Errorf("rto_margin: must be between 0 and 10, got %v", f))
	}
	if m.Flows < 1 || m.Flows > MaxFlows {
		errs = append(errs, fmt.Errorf("flows: must be between 1 and %d, got %d", MaxFlows, m.Flows))
	}
	return errs
}

// checkSourceFamily reports why m, with source address src, cannot
// connect at all: a connection from src is of src's family, and an
// ip_protocol of the other one with ip_protocol_fallback off allows only
// addresses of that other family.
func checkSourceFamily(m Module, src netip.Addr) error {
	src4 := src.Unmap().Is4()
	if m.IPProtocolFallback || (m.IPProtocol != "ip4" && m.IPProtocol != "ip6") || src4 == (m.IPProtocol == "ip4") {
		return nil
	}
	fam, proto := "IPv6", "ip6"
	if src4 {
		fam, proto = "IPv4", "ip4"
	}
	return fmt.Errorf("ip_protocol: %q with ip_protocol_fallback false cannot connect from source_ip_address %s, an %s address: every connection would fail (make ip_protocol %q)",
		m.IPProtocol, src, fam, proto)
}

// checkBuckets reports why b cannot be the upper bounds of a classic
// histogram: they must be positive, finite and strictly increasing.
func checkBuckets(b []float64) error {
	if len(b) == 0 {
		return errors.New("must not be empty")
	}
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return fmt.Errorf("must be positive and finite, got %v at item %d", v, i)
		}
		if i > 0 && v <= b[i-1] {
			return fmt.Errorf("must be strictly increasing, got %v after %v at item %d", v, b[i-1], i)
		}
	}
	return nil
}

// context names target t, the i-th, in errors: by its name if it is
// usable, else by its position.
func (t Target) context(i int) string {
	if t.Name != "" && checkName(t.Name) == nil {
		return fmt.Sprintf("target %q", t.Name)
	}
	return fmt.Sprintf("targets[%d]", i)
}

// validate checks what concerns one target alone; each error starts with
// the key it is about. Validate checks what needs the whole config (unique
// names, known module).
func (t Target) validate() []error {
	var errs []error
	if err := checkName(t.Name); err != nil {
		errs = append(errs, fmt.Errorf("name: %w", err))
	}
	if err := ValidateAddress(t.Address); err != nil {
		errs = append(errs, fmt.Errorf("address: %w", err))
	}
	for _, name := range slices.Sorted(maps.Keys(t.Labels)) {
		if err := checkLabelName(name); err != nil {
			errs = append(errs, fmt.Errorf("labels: %w", err))
		}
		if !utf8.ValidString(t.Labels[name]) {
			errs = append(errs, fmt.Errorf("labels: value of %q must be valid UTF-8", name))
		}
	}
	return errs
}

// ValidateName reports why s cannot name a module, a target or a discovery
// entry. Discovered targets are named by the same rule.
func ValidateName(s string) error { return checkName(s) }

// ValidateLabelName reports why name cannot be an extra label name: it must
// be a legacy Prometheus label name, not start with "__", and not be one of
// the labels the exporter sets itself or Prometheus gives a meaning.
// Discovered targets' labels follow the same rule.
func ValidateLabelName(name string) error { return checkLabelName(name) }

// checkName reports why s cannot name a module or a target. Names end up in
// label values, log lines and web pages, so they must be printable UTF-8.
func checkName(s string) error {
	switch {
	case s == "":
		return errors.New("required")
	case !utf8.ValidString(s):
		return fmt.Errorf("%q is not valid UTF-8", s)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%q contains a control character", s)
	}
	return nil
}

// checkLabelName reports why name cannot be an extra label name.
func checkLabelName(name string) error {
	switch {
	case !validLabelName(name):
		return fmt.Errorf("invalid label name %q: must match [a-zA-Z_][a-zA-Z0-9_]*", name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("label name %q is reserved: names starting with \"__\" are for Prometheus' internal use", name)
	case reservedLabel(name):
		return fmt.Errorf("label name %q is reserved", name)
	}
	return nil
}

// reservedLabel reports whether name is a label the exporter sets itself
// (target, address, module) or one Prometheus gives a meaning (instance,
// job, le).
func reservedLabel(name string) bool {
	switch name {
	case "target", "address", "module", "instance", "job", "le":
		return true
	}
	return false
}

// validLabelName reports whether name matches the Prometheus label name
// syntax ^[a-zA-Z_][a-zA-Z0-9_]*$ (the legacy one, which every version of
// Prometheus accepts).
func validLabelName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		letter := b == '_' || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
		if !letter && (i == 0 || b < '0' || b > '9') {
			return false
		}
	}
	return true
}
