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
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/dns"
	"github.com/prometheus/prometheus/discovery/file"
	"github.com/prometheus/prometheus/discovery/http"
	"github.com/prometheus/prometheus/discovery/targetgroup"
)

// step is one event a source gets in a test: an update (tgs) or a log
// record (rec), at a time, with the failing keys expected after it.
type step struct {
	at      time.Duration // since the start
	tgs     []*targetgroup.Group
	rec     *logRecord
	expire  bool // run expire at this time instead
	failing []string
	groups  []string // the Sources held after it
}

// errRec returns an error record.
func errRec(msg string, attrs ...string) *logRecord {
	r := &logRecord{level: slog.LevelError, msg: msg, attrs: map[string]string{}}
	for i := 0; i+1 < len(attrs); i += 2 {
		r.attrs[attrs[i]] = attrs[i+1]
	}
	return r
}

// grp returns a group of n targets.
func grp(source string, n int) *targetgroup.Group {
	g := &targetgroup.Group{Source: source}
	for i := range n {
		g.Targets = append(g.Targets, model.LabelSet{model.AddressLabel: model.LabelValue(fmt.Sprintf("10.0.0.%d:4000", i+1))})
	}
	return g
}

func TestSourceFailures(t *testing.T) {
	fileCfg := &file.SDConfig{Files: []string{"/sd/*.json"}, RefreshInterval: model.Duration(time.Minute)}
	dnsCfg := &dns.SDConfig{Names: []string{"a.example", "b.example"}, Type: "A", Port: 4000}
	httpCfg := &http.SDConfig{URL: "http://sd/"}
	tests := []struct {
		name  string
		cfg   promdiscovery.Config
		steps []step
	}{
		{"file read error, then good", fileCfg, []step{
			{tgs: []*targetgroup.Group{grp("/sd/a.json:0", 2)}, groups: []string{"/sd/a.json:0"}},
			{rec: errRec("Error reading file", "path", "/sd/a.json", "err", "unexpected end of JSON input"), failing: []string{"/sd/a.json"}, groups: []string{"/sd/a.json:0"}},
			{rec: errRec("Error reading file", "path", "/sd/a.json", "err", "again"), failing: []string{"/sd/a.json"}, groups: []string{"/sd/a.json:0"}},
			{tgs: []*targetgroup.Group{grp("/sd/a.json:0", 1)}, groups: []string{"/sd/a.json:0"}},
		}},
		{"file fails, another reads well", fileCfg, []step{
			{tgs: []*targetgroup.Group{grp("/sd/a.json:0", 1), grp("/sd/b.json:0", 1)}, groups: []string{"/sd/a.json:0", "/sd/b.json:0"}},
			{rec: errRec("Error reading file", "path", "/sd/a.json", "err", "x"), failing: []string{"/sd/a.json"}, groups: []string{"/sd/a.json:0", "/sd/b.json:0"}},
			{tgs: []*targetgroup.Group{grp("/sd/b.json:0", 2)}, failing: []string{"/sd/a.json"}, groups: []string{"/sd/a.json:0", "/sd/b.json:0"}},
		}},
		{"failing file that held targets comes back empty", fileCfg, []step{
			{tgs: []*targetgroup.Group{grp("/sd/a.json:0", 1)}, groups: []string{"/sd/a.json:0"}},
			{rec: errRec("Error reading file", "path", "/sd/a.json", "err", "x"), failing: []string{"/sd/a.json"}, groups: []string{"/sd/a.json:0"}},
			{tgs: []*targetgroup.Group{}, failing: []string{"/sd/a.json"}, groups: []string{"/sd/a.json:0"}},
			{tgs: []*targetgroup.Group{{Source: "/sd/a.json:0"}}, groups: []string{}},
		}},
		{"failing file that never held targets is gone", fileCfg, []step{
			{rec: errRec("Error reading file", "path", "/sd/a.json", "err", "x"), failing: []string{"/sd/a.json"}, groups: []string{}},
			{tgs: []*targetgroup.Group{}, groups: []string{}},
		}},
		{"bad glob stays failing", fileCfg, []step{
			{rec: errRec("Error expanding glob", "glob", "/sd/[", "err", "syntax error in pattern"), failing: []string{"/sd/["}, groups: []string{}},
			{tgs: []*targetgroup.Group{}, failing: []string{"/sd/["}, groups: []string{}},
		}},
		{"file failure expires when the file stops failing", fileCfg, []step{
			{rec: errRec("Error reading file", "path", "/sd/a.json", "err", "x"), failing: []string{"/sd/a.json"}, groups: []string{}},
			{at: time.Minute, rec: errRec("Error reading file", "path", "/sd/a.json", "err", "x"), failing: []string{"/sd/a.json"}, groups: []string{}},
			{at: 2*time.Minute + 5*time.Second, expire: true, failing: []string{"/sd/a.json"}, groups: []string{}},
			{at: 3*time.Minute + 11*time.Second, expire: true, groups: []string{}},
		}},
		{"bad glob", fileCfg, []step{
			{rec: errRec("Error expanding glob", "glob", "/sd/[", "err", "syntax error in pattern"), failing: []string{"/sd/["}, groups: []string{}},
		}},
		{"file watch errors are not failures", fileCfg, []step{
			{rec: errRec("Error adding file watch", "path", "/sd/", "err", "no such file or directory"), groups: []string{}},
		}},
		{"DNS name missing from an update failed", dnsCfg, []step{
			{tgs: []*targetgroup.Group{grp("a.example", 1), grp("b.example", 2)}, groups: []string{"a.example", "b.example"}},
			{tgs: []*targetgroup.Group{grp("a.example", 1)}, failing: []string{"b.example"}, groups: []string{"a.example", "b.example"}},
			{tgs: []*targetgroup.Group{}, failing: []string{"a.example", "b.example"}, groups: []string{"a.example", "b.example"}},
			{tgs: []*targetgroup.Group{grp("a.example", 1), {Source: "b.example"}}, groups: []string{"a.example"}},
		}},
		{"DNS error records alone change nothing", dnsCfg, []step{
			{rec: errRec("Error refreshing DNS targets", "err", `could not resolve "a.example": x`), groups: []string{}},
		}},
		{"HTTP error, then an update", httpCfg, []step{
			{tgs: []*targetgroup.Group{grp("http://sd/:0", 1)}, groups: []string{"http://sd/:0"}},
			{rec: errRec("Unable to refresh target groups", "err", "server returned HTTP status 500"), failing: []string{"http://sd/"}, groups: []string{"http://sd/:0"}},
			{tgs: []*targetgroup.Group{{Source: "http://sd/:0"}}, groups: []string{}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Unix(1000, 0)
			s := newSource("e", "x", tt.cfg)
			for i, st := range tt.steps {
				now := start.Add(st.at)
				switch {
				case st.expire:
					s.expire(now)
				case st.rec != nil:
					s.report(*st.rec, now)
				default:
					s.update(st.tgs, now)
				}
				if got := s.failingKeys(); !slices.Equal(got, append([]string{}, st.failing...)) {
					t.Errorf("step %d: failing %q, want %q", i, got, st.failing)
				}
				var groups []string
				for _, g := range s.sortedGroups() {
					groups = append(groups, g.Source)
				}
				if !slices.Equal(append([]string{}, groups...), st.groups) {
					t.Errorf("step %d: groups %q, want %q", i, groups, st.groups)
				}
			}
		})
	}
}

func TestSourceTransitions(t *testing.T) {
	s := newSource("e", "http_sd_configs[0]", &http.SDConfig{URL: "http://sd/"})
	now := time.Unix(1000, 0)
	tr, other := s.report(*errRec("Unable to refresh target groups", "err", "HTTP 500"), now)
	if tr == nil || tr.recovered || tr.key != "http://sd/" || tr.err != "HTTP 500" || other {
		t.Errorf("first failure: %+v, other %v; want a failure of the URL with its error", tr, other)
	}
	if tr, _ := s.report(*errRec("Unable to refresh target groups", "err", "garbage"), now.Add(time.Second)); tr != nil {
		t.Errorf("second failure of the streak: %+v, want none", tr)
	}
	ts := s.update(nil, now.Add(5*time.Second))
	if len(ts) != 1 || !ts[0].recovered || ts[0].duration != 5*time.Second {
		t.Errorf("recovery: %+v, want one of 5s", ts)
	}
	f := newSource("e", "file_sd_configs[0]", &file.SDConfig{Files: []string{"/sd/a.json"}})
	if tr, other := f.report(*errRec("Error adding file watch", "path", "/sd/", "err", "no such file"), now); tr != nil || !other {
		t.Errorf("a file watch error: %+v, other %v; want no failure, and other", tr, other)
	}
	if tr := s.stopped(now); tr == nil || tr.key != "" {
		t.Errorf("stopped: %+v, want a failure of the discoverer itself", tr)
	}
}

func TestDNSErrorText(t *testing.T) {
	s := newSource("e", "dns_sd_configs[0]", &dns.SDConfig{Names: []string{"a.example", "b.example"}, Type: "A", Port: 4000})
	now := time.Unix(1000, 0)
	s.report(logRecord{level: slog.LevelWarn, msg: "DNS resolution failed", attrs: map[string]string{"name": "b.example.", "err": "read udp: i/o timeout"}}, now)
	s.report(*errRec("Error refreshing DNS targets", "err", `could not resolve "b.example": all servers responded with errors`), now)
	ts := s.update([]*targetgroup.Group{grp("a.example", 1)}, now)
	if len(ts) != 1 || ts[0].key != "b.example" {
		t.Fatalf("transitions %+v, want b.example failing", ts)
	}
	for _, want := range []string{`could not resolve "b.example"`, "i/o timeout"} {
		if !strings.Contains(ts[0].err, want) {
			t.Errorf("error %q lacks %q", ts[0].err, want)
		}
	}
	if s.dnsErrs != nil || s.dnsServerErrs != nil {
		t.Error("the errors of one refresh carry over to the next")
	}
}

// TestFileFailureWhichFile checks which updates end the failure of a file
// that holds no groups, on real files: an update with no group names no
// file, so it ends the failure only when the failing file is the only one
// the glob matches, or is gone.
func TestFileFailureWhichFile(t *testing.T) {
	tests := []struct {
		name    string
		files   []string // the files that exist
		update  []string // the Sources of the groups of the update, none for an empty list
		failing bool     // bad.json still fails after the update
	}{
		{"the only file comes back empty", []string{"bad.json"}, nil, false},
		{"an empty sibling", []string{"a.json", "bad.json"}, nil, true},
		{"a sibling with targets", []string{"a.json", "bad.json"}, []string{"a.json:0"}, true},
		{"its own targets", []string{"a.json", "bad.json"}, []string{"bad.json:0"}, false},
		{"gone, beside an empty sibling", []string{"a.json"}, nil, false},
		{"gone, beside a sibling with targets", []string{"a.json"}, []string{"a.json:0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("[]"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := newSource("e", "x", &file.SDConfig{Files: []string{filepath.Join(dir, "*.json")}, RefreshInterval: model.Duration(time.Minute)})
			now := time.Unix(1000, 0)
			bad := filepath.Join(dir, "bad.json")
			s.report(*errRec("Error reading file", "path", bad, "err", "unexpected end of JSON input"), now)
			tgs := []*targetgroup.Group{}
			for _, src := range tt.update {
				tgs = append(tgs, grp(filepath.Join(dir, src), 1))
			}
			ts := s.update(tgs, now.Add(time.Second))
			if got := slices.Contains(s.failingKeys(), bad); got != tt.failing {
				t.Errorf("bad.json failing = %v after the update, want %v (transitions %+v)", got, tt.failing, ts)
			}
		})
	}
}
