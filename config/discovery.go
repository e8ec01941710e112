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
	"net/url"
	"reflect"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/dns"
	"github.com/prometheus/prometheus/discovery/file"
	"github.com/prometheus/prometheus/discovery/http"
	"github.com/prometheus/prometheus/model/relabel"
	"go.yaml.in/yaml/v3"
)

// Discovery is one entry of the discovery list: where to find targets
// (Prometheus' file, DNS and HTTP service discovery, in Prometheus' own
// syntax and types), how to turn what they find into targets (Prometheus'
// relabeling), and which of them this exporter probes.
type Discovery struct {
	// Name identifies the entry; it is the discovery label of its metrics.
	Name string `yaml:"name"`
	// Module names the module of the targets found, unless relabeling sets
	// __module__. Decoding sets it to DefaultModuleName when it is left out.
	Module string `yaml:"module"`
	// FileSDConfigs read targets from files, as file_sd_configs in
	// prometheus.yml.
	FileSDConfigs []*file.SDConfig `yaml:"file_sd_configs,omitempty"`
	// DNSSDConfigs find targets in DNS (A and AAAA with a port, SRV), as
	// dns_sd_configs in prometheus.yml.
	DNSSDConfigs []*dns.SDConfig `yaml:"dns_sd_configs,omitempty"`
	// HTTPSDConfigs fetch targets from an HTTP endpoint, as
	// http_sd_configs in prometheus.yml.
	HTTPSDConfigs []*http.SDConfig `yaml:"http_sd_configs,omitempty"`
	// RelabelConfigs rewrite and filter what the sources find, as
	// relabel_configs in prometheus.yml.
	RelabelConfigs []*relabel.Config `yaml:"relabel_configs,omitempty"`
	// ExcludeSelf drops the targets that are this exporter's own echo
	// server.
	ExcludeSelf bool `yaml:"exclude_self"`
	// Peers is 0 to probe every target, or the number of targets to probe,
	// chosen on a ring of the targets' addresses.
	Peers int `yaml:"peers"`
}

// discoveryKeys are the YAML keys of a discovery entry, from the tags.
var discoveryKeys = keysOf(reflect.TypeFor[Discovery]())

// SDConfigs returns the sources of the entry as Prometheus discovery
// configs: file, then DNS, then HTTP, each in file order.
func (d Discovery) SDConfigs() []discovery.Config {
	out := make([]discovery.Config, 0, len(d.FileSDConfigs)+len(d.DNSSDConfigs)+len(d.HTTPSDConfigs))
	for _, c := range d.FileSDConfigs {
		out = append(out, c)
	}
	for _, c := range d.DNSSDConfigs {
		out = append(out, c)
	}
	for _, c := range d.HTTPSDConfigs {
		out = append(out, c)
	}
	return out
}

// setDirectory makes the relative paths of the entry's sources (files,
// certificates, password files) relative to dir, as Prometheus does for
// the directory of its config file.
func (d *Discovery) setDirectory(dir string) {
	for _, c := range d.FileSDConfigs {
		c.SetDirectory(dir)
	}
	for _, c := range d.HTTPSDConfigs {
		c.SetDirectory(dir)
	}
}

// UnmarshalYAML decodes a discovery entry. Its own keys decode like those of
// a target; the sources and relabel_configs are decoded by Prometheus' own
// code (see decodePrometheus), strictly. Every error names the key and the
// line.
func (d *Discovery) UnmarshalYAML(node *yaml.Node) error {
	es, err := entries(node)
	if err != nil {
		return err
	}
	out := Discovery{}
	v := reflect.ValueOf(&out).Elem()
	var errs []error
	for _, e := range es {
		key := e.key.Value
		i, ok := discoveryKeys[key]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown key %q (line %d)", key, e.key.Line))
			continue
		}
		if isNull(e.value) {
			continue
		}
		switch key {
		case "file_sd_configs":
			out.FileSDConfigs, err = decodePrometheusList[file.SDConfig](key, e.value)
		case "dns_sd_configs":
			out.DNSSDConfigs, err = decodePrometheusList[dns.SDConfig](key, e.value)
		case "http_sd_configs":
			out.HTTPSDConfigs, err = decodePrometheusList[http.SDConfig](key, e.value)
		case "relabel_configs":
			out.RelabelConfigs, err = decodeRelabelConfigs(key, e.value)
		default:
			err = decodeValue(e.value, v.Field(i))
			if err != nil {
				err = fmt.Errorf("%s: %w", key, err)
			}
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if out.Module == "" {
		out.Module = DefaultModuleName
	}
	*d = out
	return nil
}

// decodePrometheusList decodes the list n, the value of key, into values of
// the Prometheus config type T. An empty item is an error, as in
// Prometheus.
func decodePrometheusList[T any](key string, n *yaml.Node) ([]*T, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: want a list, got %s (line %d)", key, describe(n), n.Line)
	}
	out := make([]*T, 0, len(n.Content))
	var errs []error
	for i, item := range n.Content {
		ctx := fmt.Sprintf("%s[%d]", key, i)
		if isNull(item) {
			errs = append(errs, fmt.Errorf("%s: empty item (line %d)", ctx, resolve(item).Line))
			continue
		}
		v := new(T)
		if err := decodePrometheus(item, v); err != nil {
			errs = append(errs, within(ctx, err))
			continue
		}
		if err := checkRefreshInterval(v, item); err != nil {
			errs = append(errs, within(ctx, err))
			continue
		}
		if err := checkTokenURL(v, item); err != nil {
			errs = append(errs, within(ctx, err))
			continue
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, errors.Join(errs...)
}

// checkRefreshInterval reports a source's refresh_interval that is not
// positive, with the line of the key in item. Prometheus' parsers take 0s,
// and its discoverers then panic in time.NewTicker, which would end the
// exporter at the load or reload that starts them.
func checkRefreshInterval(v any, item *yaml.Node) error {
	var d model.Duration
	switch c := v.(type) {
	case *file.SDConfig:
		d = c.RefreshInterval
	case *dns.SDConfig:
		d = c.RefreshInterval
	case *http.SDConfig:
		d = c.RefreshInterval
	default:
		return nil
	}
	if d > 0 {
		return nil
	}
	line := resolve(item).Line
	if es, err := entries(item); err == nil {
		for _, e := range es {
			if e.key.Value == "refresh_interval" {
				line = e.key.Line
			}
		}
	}
	return fmt.Errorf("refresh_interval: must be greater than 0, got %s (line %d)", d, line)
}

// decodeRelabelConfigs decodes relabel_configs and checks each rule as
// Prometheus does, with the legacy label name syntax: the labels they make
// end up as label names on /metrics.
func decodeRelabelConfigs(key string, n *yaml.Node) ([]*relabel.Config, error) {
	cfgs, err := decodePrometheusList[relabel.Config](key, n)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, c := range cfgs {
		if len(c.SourceLabels) == 0 {
			// source_labels: [] says what leaving it out says, and /config
			// writes neither: one value for both.
			c.SourceLabels = nil
		}
		if err := c.Validate(model.LegacyValidation); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", key, i, placeError(err.Error(), resolve(n).Content[i])))
		}
	}
	return cfgs, errors.Join(errs...)
}

// MarshalYAML writes the entry for /config: its own keys, then the sources
// and relabel_configs as Prometheus writes them (secrets as <secret>), but
// for the password of an http_sd_configs url or oauth2 token_url, which
// Prometheus writes as given and /config as RedactURL does (redactHTTP).
func (d Discovery) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v any) error {
		var value *yaml.Node
		switch v := v.(type) {
		case *yaml.Node:
			value = v
		default:
			value = &yaml.Node{}
			if err := value.Encode(v); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, value)
		return nil
	}
	prom := func(key string, v any, empty bool) error {
		if empty {
			return nil
		}
		value, err := encodePrometheus(v)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return add(key, value)
	}
	err := errors.Join(
		add("name", d.Name),
		add("module", d.Module),
		prom("file_sd_configs", d.FileSDConfigs, len(d.FileSDConfigs) == 0),
		prom("dns_sd_configs", d.DNSSDConfigs, len(d.DNSSDConfigs) == 0),
		prom("http_sd_configs", redactHTTP(d.HTTPSDConfigs), len(d.HTTPSDConfigs) == 0),
		prom("relabel_configs", d.RelabelConfigs, len(d.RelabelConfigs) == 0),
		add("exclude_self", d.ExcludeSelf),
		add("peers", d.Peers),
	)
	if err != nil {
		return nil, fmt.Errorf("discovery %q: %w", d.Name, err)
	}
	return n, nil
}

// RedactURL returns u with the password of its user information, if any,
// replaced by "xxxxx" (url.URL.Redacted): how /config and the log show an
// HTTP source's URL. A URL that does not parse is returned as it is.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Redacted()
}

// urlPasswordError returns the error to report in place of err, an error
// of decoding item (a Prometheus config), if err is url.Parse's for a URL
// with user information (an http_sd_configs url, a proxy_url), else nil:
// url.Parse's message quotes the URL as written up to any #, password
// included, and would reach --config.check, the log and the answer to
// POST /-/reload, where RedactURL cannot help, as the URL does not parse.
// The error names the URL's key and line, not the reason, which may quote
// part of the password too.
func urlPasswordError(err error, item *yaml.Node) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return nil
	}
	var found []lineInfo
	findScalar(resolve(item), nil, "", func(v string) bool {
		return strings.HasPrefix(v, ue.URL) && strings.Contains(v, "@")
	}, &found)
	const msg = "does not parse as a URL; not shown, as its user information may hold a password " +
		"(percent-encode any %%, @, :, /, ? or # in the user name or password)"
	switch {
	case len(found) > 0:
		return withPath(found[0].path, fmt.Errorf(msg+" (line %d)", found[0].line()))
	case strings.Contains(ue.URL, "@"):
		return fmt.Errorf("a URL "+msg+" (line %d)", resolve(item).Line)
	}
	return nil
}

// checkTokenURL checks the oauth2 token_url of v, if v is an http_sd
// source: Prometheus does not parse it when it loads the config, and one
// with a password that does not parse would be shown as written on /config
// (RedactURL cannot redact it) and logged, password included, in
// url.Parse's error at every refresh. Such a URL is an error naming the
// key (urlPasswordError); one without user information is left, as
// Prometheus leaves it, to fail at refresh.
func checkTokenURL(v any, item *yaml.Node) error {
	c, ok := v.(*http.SDConfig)
	if !ok || c.HTTPClientConfig.OAuth2 == nil {
		return nil
	}
	if _, err := url.Parse(c.HTTPClientConfig.OAuth2.TokenURL); err != nil {
		return urlPasswordError(err, item)
	}
	return nil
}

// redactHTTP returns copies of cs whose URLs are redacted (RedactURL):
// the source's url and its oauth2 token_url, both strings Prometheus
// writes as given (its proxy_urls it redacts itself).
func redactHTTP(cs []*http.SDConfig) []*http.SDConfig {
	out := make([]*http.SDConfig, len(cs))
	for i, c := range cs {
		r := *c
		r.URL = RedactURL(c.URL)
		if o := c.HTTPClientConfig.OAuth2; o != nil {
			ro := *o
			ro.TokenURL = RedactURL(o.TokenURL)
			r.HTTPClientConfig.OAuth2 = &ro
		}
		out[i] = &r
	}
	return out
}

// context names entry d, the i-th, in errors: by its name if it is usable,
// else by its position.
func (d Discovery) context(i int) string {
	if d.Name != "" && checkName(d.Name) == nil {
		return fmt.Sprintf("discovery %q", d.Name)
	}
	return fmt.Sprintf("discovery[%d]", i)
}

// validate checks what concerns one entry alone; each error starts with the
// key it is about. Validate checks what needs the whole config (unique
// names, known module).
func (d Discovery) validate() []error {
	var errs []error
	if err := checkName(d.Name); err != nil {
		errs = append(errs, fmt.Errorf("name: %w", err))
	}
	if len(d.FileSDConfigs)+len(d.DNSSDConfigs)+len(d.HTTPSDConfigs) == 0 {
		errs = append(errs, errors.New("needs at least one of file_sd_configs, dns_sd_configs and http_sd_configs"))
	}
	if d.Peers < 0 {
		errs = append(errs, fmt.Errorf("peers: must be 0 (every target) or more, got %d", d.Peers))
	}
	return errs
}

// Summary says in one line what the entry does, for --config.check: its
// module, its sources and what it does with the targets they find.
func (d Discovery) Summary() string {
	var parts []string
	for _, s := range []struct {
		key string
		n   int
	}{{"file_sd_configs", len(d.FileSDConfigs)}, {"dns_sd_configs", len(d.DNSSDConfigs)}, {"http_sd_configs", len(d.HTTPSDConfigs)}} {
		if s.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.n, s.key))
		}
	}
	if n := len(d.RelabelConfigs); n > 0 {
		parts = append(parts, fmt.Sprintf("%d relabel_configs", n))
	}
	if d.ExcludeSelf {
		parts = append(parts, "exclude_self")
	}
	if d.Peers > 0 {
		parts = append(parts, fmt.Sprintf("peers %d", d.Peers))
	}
	return fmt.Sprintf("module %s, %s", d.Module, strings.Join(parts, ", "))
}
