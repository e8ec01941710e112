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
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// metricKeys maps the metric names summed by snap to their output keys, in
// output order. Per-target metrics are split between the main targets and
// the extra one.
var metricKeys = []struct{ name, key string }{
	{"tcp_echo_connected", "connected"},
	{"tcp_echo_sent_total", "sent"},
	{"tcp_echo_received_total", "received"},
	{"tcp_echo_timeouts_total", "timeouts"},
	{"tcp_echo_late_total", "late"},
	{"tcp_echo_dropped_total", "dropped"},
	{"tcp_echo_unexpected_replies_total", "unexpected"},
	{"tcp_echo_rtt_seconds_sum", "rtt_sum"},
	{"tcp_echo_rtt_seconds_count", "rtt_count"},
	{"tcp_echo_server_frames_total", "echo_frames"},
	{"tcp_echo_server_connections", "echo_conns"},
	{"process_resident_memory_bytes", "rss_bytes"},
	{"process_cpu_seconds_total", "cpu_seconds"},
	{"go_goroutines", "goroutines"},
}

// sums holds per-key sums; "targets" counts tcp_echo_connected series.
type sums struct {
	keys []string
	v    map[string]float64
}

func (s *sums) get(k string) float64 { return s.v[k] }

func (s *sums) add(k string, v float64) {
	if _, ok := s.v[k]; !ok {
		s.keys = append(s.keys, k)
	}
	s.v[k] += v
}

func (s *sums) String() string {
	var b strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + strconv.FormatFloat(s.v[k], 'g', -1, 64))
	}
	return b.String()
}

// sumText sums the samples of the text exposition format by metricKeys.
// Samples whose target label is extra go to x_-prefixed keys.
func sumText(text, extra string) (*sums, error) {
	index := make(map[string]string, len(metricKeys))
	s := &sums{v: make(map[string]float64)}
	for _, m := range metricKeys {
		index[m.name] = m.key
	}
	// Every key is printed, at 0 if absent, in a fixed order.
	for _, m := range metricKeys {
		s.add(m.key, 0)
	}
	s.add("targets", 0)
	if extra != "" {
		for _, m := range metricKeys[:9] {
			s.add("x_"+m.key, 0)
		}
	}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, err := parseSample(line)
		if err != nil {
			return s, err
		}
		k, ok := index[name]
		if !ok {
			continue
		}
		if extra != "" && labelValue(labels, "target") == extra {
			k = "x_" + k
		} else if name == "tcp_echo_connected" {
			s.add("targets", 1)
		}
		s.add(k, value)
	}
	return s, nil
}

// parseSample splits `name{labels} value [timestamp]`.
func parseSample(line string) (name, labels string, value float64, err error) {
	rest := line
	if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
		name = line[:i]
		end := labelsEnd(line, i)
		if end < 0 {
			return "", "", 0, fmt.Errorf("unterminated labels: %q", line)
		}
		labels, rest = line[i+1:end], line[end+1:]
	} else if i >= 0 {
		name, rest = line[:i], line[i:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", "", 0, fmt.Errorf("no value: %q", line)
	}
	value, err = strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "", "", 0, fmt.Errorf("value of %q: %w", line, err)
	}
	return name, labels, value, nil
}

// labelsEnd returns the index of the '}' closing the label set opened at
// open, skipping quoted values.
func labelsEnd(line string, open int) int {
	quoted := false
	for i := open + 1; i < len(line); i++ {
		switch {
		case quoted && line[i] == '\\':
			i++
		case line[i] == '"':
			quoted = !quoted
		case !quoted && line[i] == '}':
			return i
		}
	}
	return -1
}

// labelValue returns the (unescaped enough for target names) value of
// label name in a label set.
func labelValue(labels, name string) string {
	for rest := labels; rest != ""; {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 || eq+1 >= len(rest) || rest[eq+1] != '"' {
			return ""
		}
		n := strings.TrimSpace(strings.TrimPrefix(rest[:eq], ","))
		end := eq + 2
		for ; end < len(rest) && rest[end] != '"'; end++ {
			if rest[end] == '\\' {
				end++
			}
		}
		if end >= len(rest) {
			return ""
		}
		if n == name {
			return rest[eq+2 : end]
		}
		rest = rest[end+1:]
	}
	return ""
}

// summarise prints one format's scrapes: count, median and max time,
// median size.
func summarise(format string, ss []scrape) string {
	ds := make([]time.Duration, len(ss))
	sizes := make([]int, len(ss))
	for i, s := range ss {
		ds[i], sizes[i] = s.duration, s.size
	}
	slices.Sort(ds)
	slices.Sort(sizes)
	return fmt.Sprintf("format=%s n=%d median_ms=%.3f max_ms=%.3f median_bytes=%d",
		format, len(ss), median(ds).Seconds()*1e3, ds[len(ds)-1].Seconds()*1e3, sizes[len(sizes)/2])
}

// median of sorted d: the mean of the middle two for an even count.
func median(d []time.Duration) time.Duration {
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}
