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

//go:build linux

package faults

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// sample is one scrape taken by a sampler.
type sample struct {
	at   time.Time
	took time.Duration
	m    metrics
}

// sampler scrapes an exporter every 500 ms in the background and checks
// every scrape with checkHonest, as long as the test runs.
type sampler struct {
	e           *exporter
	maxInFlight map[string]int

	stopOnce sync.Once
	stopc    chan struct{}
	done     chan struct{}

	mu      sync.Mutex
	samples []sample
	scrapes int
	errs    []string
	maxTook time.Duration
}

// sampleEvery is the period of background scrapes.
const sampleEvery = 500 * time.Millisecond

func newSampler(t *testing.T, e *exporter, maxInFlight map[string]int) *sampler {
	s := &sampler{e: e, maxInFlight: maxInFlight, stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(sampleEvery)
		defer tk.Stop()
		for {
			s.take()
			select {
			case <-s.stopc:
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(func() {
		s.stop()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, err := range s.errs {
			t.Error(err)
		}
		t.Logf("%s: %d scrapes checked, slowest %v", e.name, s.scrapes, s.maxTook.Round(time.Millisecond))
	})
	return s
}

// stop ends the background scrapes and waits for the last one.
func (s *sampler) stop() {
	s.stopOnce.Do(func() { close(s.stopc) })
	<-s.done
}

// take scrapes once and checks the result.
func (s *sampler) take() {
	if s.e.exited() {
		return
	}
	start := time.Now()
	m, err := s.e.scrape()
	took := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if !s.e.exited() {
			s.errs = append(s.errs, fmt.Sprintf("%s: scrape at %s: %v", s.e.name, start.Format("15:04:05.000"), err))
		}
		return
	}
	s.scrapes++
	s.maxTook = max(s.maxTook, took)
	s.errs = append(s.errs, checkHonest(m, s.maxInFlight)...)
	s.samples = append(s.samples, sample{at: start, took: took, m: m})
}

// last returns the most recent sample, waiting for the first one.
func (s *sampler) last(t *testing.T) sample {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.samples)
		var last sample
		if n > 0 {
			last = s.samples[n-1]
		}
		s.mu.Unlock()
		if n > 0 {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatal("no successful scrape in 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// since returns the samples taken at or after from.
func (s *sampler) since(from time.Time) []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sample
	for _, sm := range s.samples {
		if !sm.at.Before(from) {
			out = append(out, sm)
		}
	}
	return out
}

// waitFor waits until cond holds on a sample taken at or after from, and
// returns that sample; it fails the test after within.
func (s *sampler) waitFor(t *testing.T, what string, from time.Time, within time.Duration, cond func(metrics) bool) sample {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, sm := range s.since(from) {
			if cond(sm.m) {
				return sm
			}
		}
		if time.Now().After(deadline) {
			last := s.last(t)
			var state []string
			for _, name := range last.m.targets() {
				state = append(state, name+": "+last.m.target(name).String())
			}
			t.Fatalf("%s: not seen within %v of %s; last scrape:\n%s", what, within, from.Format("15:04:05.000"), strings.Join(state, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
