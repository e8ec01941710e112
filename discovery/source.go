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

// What a source holds (its last good targets) and whether it is failing.
//
// Prometheus' discoverers send target groups, each with a Source, and only
// the groups that changed or were refreshed: a group not sent keeps its
// targets, a group sent empty loses them (discovery.Manager works the same
// way). They never send an error; they log it. What each does on failure,
// as the tests in source_test.go check:
//
//   - file: a file that cannot be read or parsed is not sent at all, so its
//     groups keep their targets; Prometheus logs "Error reading file" with
//     the path. A file that reads well sends its groups, and empty groups
//     for those it no longer has; a file that disappears sends empty groups.
//     A file that reads well as an empty list sends an update with no
//     group, which does not say which file it was.
//   - dns: every refresh sends one group per name that got an answer
//     (NXDOMAIN is an answer: an empty group); a name whose lookup failed
//     (timeout, refused, SERVFAIL) is left out of the update, so its group
//     keeps its targets. The failure is only logged.
//   - http: a refresh that fails (connection error, a status other than 200,
//     a content type other than JSON, a body that is not target groups)
//     sends nothing and logs "Unable to refresh target groups"; one that
//     succeeds sends every group, and empty ones for those gone.
//
// A source therefore keeps its last good targets on every failure by
// itself; what this file adds is knowing that it is failing, and since
// when.

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/dns"
	"github.com/prometheus/prometheus/discovery/file"
	"github.com/prometheus/prometheus/discovery/http"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/tcpping/tcpping_exporter/config"
)

// source is one running Prometheus discoverer: one item of an entry's
// file_sd_configs, dns_sd_configs or http_sd_configs.
type source struct {
	entry string // the entry's name
	id    string // the item, e.g. "dns_sd_configs[0]"
	cfg   promdiscovery.Config
	disc  promdiscovery.Discoverer

	// groups are the last good target groups, by Source.
	groups map[string]*targetgroup.Group
	// failing holds what failed and has not recovered: a file path or glob,
	// a DNS name, the URL (httpKey), or "" for the discoverer itself.
	failing map[string]*failure
	// dnsErrs are the errors the DNS discoverer logged since its last
	// update, and dnsServerErrs its servers' errors by name (without the
	// final dot); the update says which names failed, these say why.
	dnsErrs       []string
	dnsServerErrs map[string]string
	// warned holds the messages of other error records, logged once.
	warned map[string]bool
	// reported is set once the discoverer sent an update or a failure,
	// good once it sent the result of a refresh that worked (for DNS, of
	// one name at least).
	reported, good bool
	// removed is set when a reload dropped the source; what it sends after
	// that is ignored.
	removed bool
	// cancel stops the discoverer; nil while it is not running.
	cancel context.CancelFunc
}

// failure is something of a source that failed and has not recovered.
type failure struct {
	err   string
	since time.Time // first failure of the streak
	seen  time.Time // latest failure of the streak
	// pattern is set for a file discoverer's glob that cannot be
	// expanded, as opposed to a file.
	pattern bool
}

// transition is a change of what a source has failing, for the Runner to
// log and count.
type transition struct {
	key       string // what failed or recovered
	err       string // the error, when it failed
	recovered bool
	duration  time.Duration // how long it failed, when it recovered
}

// newSource returns a source of entry for cfg, the item id.
func newSource(entry, id string, cfg promdiscovery.Config) *source {
	return &source{
		entry:   entry,
		id:      id,
		cfg:     cfg,
		groups:  map[string]*targetgroup.Group{},
		failing: map[string]*failure{},
		warned:  map[string]bool{},
	}
}

// sortedGroups returns the last good groups in Source order, so that the
// first of two targets with the same module and address is the same on
// every host.
func (s *source) sortedGroups() []*targetgroup.Group {
	keys := make([]string, 0, len(s.groups))
	for k := range s.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*targetgroup.Group, len(keys))
	for i, k := range keys {
		out[i] = s.groups[k]
	}
	return out
}

// update applies what the discoverer sent and returns the failures and
// recoveries it shows.
func (s *source) update(tgs []*targetgroup.Group, now time.Time) []transition {
	s.reported = true
	for _, tg := range tgs {
		if tg == nil {
			continue
		}
		if len(tg.Targets) > 0 {
			s.groups[tg.Source] = tg
		} else {
			delete(s.groups, tg.Source)
		}
	}
	var out []transition
	switch c := s.cfg.(type) {
	case *dns.SDConfig:
		// A refresh sends the groups of the names that got an answer; the
		// others failed.
		answered := make(map[string]bool, len(tgs))
		for _, tg := range tgs {
			if tg != nil {
				answered[tg.Source] = true
			}
		}
		s.good = s.good || len(answered) > 0
		for _, name := range c.Names {
			if answered[name] {
				out = appendIf(out, s.recover(name, now))
			} else {
				out = appendIf(out, s.fail(name, dnsError(s.dnsErrs, s.dnsServerErrs, name), now))
			}
		}
		s.dnsErrs, s.dnsServerErrs = nil, nil
	case *http.SDConfig:
		s.good = true
		out = appendIf(out, s.recover(httpKey(c), now))
	case *file.SDConfig:
		s.good = true
		out = s.fileUpdate(c, tgs, now)
	}
	return out
}

// report applies a warning or error the discoverer logged and returns the
// failure it shows, if any. other is set when an error record is not a
// failed refresh: the Runner logs those once.
func (s *source) report(rec logRecord, now time.Time) (t *transition, other bool) {
	err := rec.attrs["err"]
	if err == "" {
		err = rec.msg
	}
	if _, ok := s.cfg.(*dns.SDConfig); ok {
		// The update that follows says which names failed; these say why:
		// the failed refresh (error) and each server's failure (warning).
		if rec.level >= slog.LevelError {
			s.dnsErrs = append(s.dnsErrs, err)
		} else if name := rec.attrs["name"]; name != "" && rec.attrs["err"] != "" {
			if s.dnsServerErrs == nil {
				s.dnsServerErrs = map[string]string{}
			}
			s.dnsServerErrs[strings.TrimSuffix(name, ".")] = err
		}
		return nil, false
	}
	if rec.level < slog.LevelError {
		return nil, false
	}
	s.reported = true
	switch c := s.cfg.(type) {
	case *http.SDConfig:
		return s.fail(httpKey(c), err, now), false
	case *file.SDConfig:
		switch {
		case strings.Contains(rec.msg, "reading file"):
			return s.fail(rec.attrs["path"], err, now), false
		case strings.Contains(rec.msg, "expanding glob"):
			t := s.fail(rec.attrs["glob"], err, now)
			s.failing[rec.attrs["glob"]].pattern = true
			return t, false
		}
	}
	return nil, true
}

// httpKey names what an HTTP source fetches, in its failures and the log:
// its URL without the password, as Go's errors about it write it.
func httpKey(c *http.SDConfig) string { return config.RedactURL(c.URL) }

// stopped records that the discoverer returned while it should be running:
// it will send nothing more.
func (s *source) stopped(now time.Time) *transition {
	return s.fail("", "the discoverer stopped; restart the exporter or reload the config", now)
}

// expire recovers the failures of files that have not failed again for
// twice the refresh interval: a file that failed and then disappeared
// without ever holding targets sends nothing more, and would otherwise stay
// failing forever. A file that still fails is read, and fails, at least
// once per refresh interval.
func (s *source) expire(now time.Time) []transition {
	c, ok := s.cfg.(*file.SDConfig)
	if !ok {
		return nil
	}
	var out []transition
	for _, key := range s.failingKeys() {
		if key != "" && now.Sub(s.failing[key].seen) > expireAfter(c) {
			out = appendIf(out, s.recover(key, now))
		}
	}
	return out
}

// nextExpiry returns when expire next has work, or the zero time.
func (s *source) nextExpiry() time.Time {
	c, ok := s.cfg.(*file.SDConfig)
	if !ok {
		return time.Time{}
	}
	var next time.Time
	for key, f := range s.failing {
		if key == "" {
			continue
		}
		if at := f.seen.Add(expireAfter(c) + time.Millisecond); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// fail records that key failed with err; it returns a transition when key
// was not failing already.
func (s *source) fail(key, err string, now time.Time) *transition {
	if f, ok := s.failing[key]; ok {
		f.err, f.seen = err, now
		return nil
	}
	s.failing[key] = &failure{err: err, since: now, seen: now}
	return &transition{key: key, err: err}
}

// recover records that key works; it returns a transition when key was
// failing.
func (s *source) recover(key string, now time.Time) *transition {
	f, ok := s.failing[key]
	if !ok {
		return nil
	}
	delete(s.failing, key)
	return &transition{key: key, recovered: true, duration: now.Sub(f.since)}
}

// failingKeys returns what is failing, sorted.
func (s *source) failingKeys() []string {
	keys := make([]string, 0, len(s.failing))
	for k := range s.failing {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// dnsError says why the lookup of name failed: of the errors the DNS
// discoverer logged, the one about name (Prometheus quotes the name in it),
// else the first, followed by the last server's error for name (a timeout,
// a refused connection), which the first does not give.
func dnsError(errs []string, serverErrs map[string]string, name string) string {
	msg := "no answer"
	if len(errs) > 0 {
		msg = errs[0]
	}
	for _, e := range errs {
		if strings.Contains(e, `"`+name+`"`) {
			msg = e
			break
		}
	}
	if e, ok := serverErrs[strings.TrimSuffix(name, ".")]; ok {
		msg += ": " + e
	}
	return msg
}

// appendIf appends t to ts unless it is nil.
func appendIf(ts []transition, t *transition) []transition {
	if t == nil {
		return ts
	}
	return append(ts, *t)
}
