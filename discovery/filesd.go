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
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/prometheus/discovery/file"
	"github.com/prometheus/prometheus/discovery/targetgroup"
)

// What a source knows of file_sd alone: which file a group came from,
// which files the globs match, and when a file's failure has lasted.

// fileUpdate returns the recoveries an update of a file discoverer shows.
// A file read well sends its groups (Source "path:index"), and empty groups
// for those it held and no longer has: those name their file, which works
// again. A file read well as an empty list sends an update with no group
// at all, which names no file: it ends the failure of a file only when that
// file is the only one the globs match, so that an empty sibling does not
// end the failure of a file that is still unparsable. A failing file that
// holds no groups and that the globs no longer match is gone, which is an
// answer. Any other failure ends when the file has not failed again for a
// while (expire), as a file that fails is read, and fails, on every refresh.
func (s *source) fileUpdate(c *file.SDConfig, tgs []*targetgroup.Group, now time.Time) []transition {
	var out []transition
	for _, tg := range tgs {
		if tg != nil {
			out = appendIf(out, s.recover(filePath(tg.Source), now))
		}
	}
	var unheld []string
	for _, key := range s.failingKeys() {
		// A file that holds groups sends named groups when it is read
		// well or is gone; a glob that cannot be expanded never recovers.
		if key != "" && !s.failing[key].pattern && !s.holdsFile(key) {
			unheld = append(unheld, key)
		}
	}
	if len(unheld) == 0 {
		return out
	}
	matched := globFiles(c.Files)
	for _, key := range unheld {
		if !matched[key] || (len(tgs) == 0 && len(matched) == 1) {
			out = appendIf(out, s.recover(key, now))
		}
	}
	return out
}

// globFiles returns the files the globs match now, as the file discoverer
// lists them (it globs the same patterns, so the paths are spelled alike).
func globFiles(globs []string) map[string]bool {
	out := map[string]bool{}
	for _, g := range globs {
		files, _ := filepath.Glob(g) // a bad pattern fails, and is reported, in the discoverer
		for _, f := range files {
			out[f] = true
		}
	}
	return out
}

// answeredNone reports whether s is a file source whose globs are valid
// and match no file. Prometheus' file discoverer then sends nothing at
// all, which is its answer "no targets", as sending empty groups for
// files gone is once it has read some: a source that has not reported yet
// has answered all the same.
func (s *source) answeredNone() bool {
	c, ok := s.cfg.(*file.SDConfig)
	if !ok {
		return false
	}
	for _, g := range c.Files {
		files, err := filepath.Glob(g)
		if err != nil || len(files) > 0 {
			return false
		}
	}
	return true
}

// expireAfter is how long a file failure stands without failing again.
func expireAfter(c *file.SDConfig) time.Duration {
	return 2*time.Duration(c.RefreshInterval) + 10*time.Second
}

// holdsFile reports whether the source holds groups read from path.
func (s *source) holdsFile(path string) bool {
	for src := range s.groups {
		if filePath(src) == path {
			return true
		}
	}
	return false
}

// filePath returns the file of a file discoverer's group Source,
// "path:index".
func filePath(groupSource string) string {
	if i := strings.LastIndexByte(groupSource, ':'); i >= 0 {
		return groupSource[:i]
	}
	return groupSource
}
