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

// What Prometheus' own discoverers do on each kind of failure, run bare
// (no Runner): source.go is built on these answers.

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/targetgroup"
)

// rawDiscoverer is a Prometheus discoverer running bare, with what it sends
// and the error records it logs.
type rawDiscoverer struct {
	updates chan []*targetgroup.Group
	errs    chan logRecord
}

// runRaw runs the discoverer of the first source of the entry in yml
// until the test ends.
func runRaw(t *testing.T, yml string) *rawDiscoverer {
	t.Helper()
	cfg := parseConfig(t, yml).Discovery[0]
	sd, err := promdiscovery.CreateAndRegisterSDMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	// Buffered, with a goroutine reading the discoverer's own channel, so
	// that the discoverer never waits for the test.
	raw := &rawDiscoverer{updates: make(chan []*targetgroup.Group, 100), errs: make(chan logRecord, 100)}
	up := make(chan []*targetgroup.Group)
	handler := newSourceHandler(slog.DiscardHandler, func(r logRecord) {
		select {
		case raw.errs <- r:
		default:
		}
	})
	d, err := newDiscoverer(items(cfg)[0].cfg, cfg.Name, sd, slog.New(handler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, forwarded := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx, up)
	}()
	go func() {
		defer close(forwarded)
		for {
			select {
			case u := <-up:
				select {
				case raw.updates <- u:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		<-forwarded
	})
	return raw
}

// next returns the next update within timeout, or nil.
func (r *rawDiscoverer) next(timeout time.Duration) []*targetgroup.Group {
	select {
	case u := <-r.updates:
		return u
	case <-time.After(timeout):
		return nil
	}
}

// nextErr returns the next error record within timeout, and whether one
// came.
func (r *rawDiscoverer) nextErr(timeout time.Duration) (logRecord, bool) {
	select {
	case e := <-r.errs:
		return e, true
	case <-time.After(timeout):
		return logRecord{}, false
	}
}

// drain discards what the discoverer sent or logged until it has been
// silent for a second: inotify may report one rewrite as several events,
// each a refresh.
func (r *rawDiscoverer) drain() {
	for {
		select {
		case <-r.updates:
		case <-r.errs:
		case <-time.After(time.Second):
			return
		}
	}
}

// errWith returns the first error record within timeout whose err contains
// sub, skipping others (a refresh under way when the test changed the
// answer logs the old error).
func (r *rawDiscoverer) errWith(sub string, timeout time.Duration) (logRecord, bool) {
	deadline := time.After(timeout)
	for {
		select {
		case e := <-r.errs:
			if strings.Contains(e.attrs["err"], sub) {
				return e, true
			}
		case <-deadline:
			return logRecord{}, false
		}
	}
}

// groupTargets counts the targets of each group Source in u.
func groupTargets(u []*targetgroup.Group) map[string]int {
	out := map[string]int{}
	for _, g := range u {
		out[g.Source] = len(g.Targets)
	}
	return out
}

func TestPrometheusFileSD(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	writeAtomic(t, path, jsonTargets([]string{"10.0.0.1:4000", "10.0.0.2:4000"}))
	raw := runRaw(t, "discovery:\n  - name: f\n    file_sd_configs: [{files: ["+path+"], refresh_interval: 1h}]\n")
	if u := raw.next(fileChange); groupTargets(u)[path+":0"] != 2 {
		t.Fatalf("first update %v, want group %s:0 with 2 targets", groupTargets(u), path)
	}

	t.Run("parse error sends nothing and logs the path", func(t *testing.T) {
		raw.drain()
		writeAtomic(t, path, "{garbage")
		rec, ok := raw.nextErr(fileChange)
		if !ok || rec.msg != "Error reading file" || rec.attrs["path"] != path {
			t.Fatalf("error record %+v (came: %v), want \"Error reading file\" with the path", rec, ok)
		}
		if u := raw.next(time.Second); u != nil {
			t.Errorf("sent %v after a parse error, want nothing", groupTargets(u))
		}
	})
	t.Run("good again sends the file's groups", func(t *testing.T) {
		raw.drain()
		writeAtomic(t, path, jsonTargets([]string{"10.0.0.3:4000"}))
		if u := raw.next(fileChange); groupTargets(u)[path+":0"] != 1 {
			t.Errorf("update %v, want group %s:0 with 1 target", groupTargets(u), path)
		}
	})
	t.Run("empty JSON file is a parse error", func(t *testing.T) {
		raw.drain()
		writeAtomic(t, path, "")
		if _, ok := raw.errWith("unexpected end of JSON input", fileChange); !ok {
			t.Error("no error record for an empty JSON file")
		}
		if u := raw.next(time.Second); u != nil {
			t.Errorf("sent %v for an empty JSON file, want nothing", groupTargets(u))
		}
		writeAtomic(t, path, jsonTargets([]string{"10.0.0.3:4000"}))
		raw.next(fileChange)
	})
	t.Run("no targets sends an empty list and empties the old group", func(t *testing.T) {
		raw.drain()
		writeAtomic(t, path, "[]")
		// The temporary file's events may make the discoverer send the
		// old content once more first.
		for u := raw.next(fileChange); u == nil || len(u) != 0; u = raw.next(fileChange) {
			if u == nil || groupTargets(u)[path+":0"] != 1 {
				t.Fatalf("update %v (%d groups), want an empty list, or the old group again", groupTargets(u), len(u))
			}
		}
		if u := raw.next(fileChange); groupTargets(u)[path+":0"] != 0 || len(u) != 1 {
			t.Errorf("then %v, want group %s:0 sent empty", groupTargets(u), path)
		}
	})
	t.Run("removed file empties its groups", func(t *testing.T) {
		writeAtomic(t, path, jsonTargets([]string{"10.0.0.3:4000"}))
		raw.next(fileChange)
		raw.drain()
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if u := raw.next(fileChange); len(u) != 1 || groupTargets(u)[path+":0"] != 0 {
			t.Errorf("update %v, want group %s:0 sent empty", groupTargets(u), path)
		}
	})
}

func TestPrometheusHTTPSD(t *testing.T) {
	srv := newSDServer(t, jsonTargets([]string{"10.0.0.1:4000"}))
	raw := runRaw(t, "discovery:\n  - name: w\n    http_sd_configs: [{url: "+srv.URL+", refresh_interval: 1s}]\n")
	if u := raw.next(httpChange); groupTargets(u)[srv.URL+":0"] != 1 {
		t.Fatalf("first update %v, want group %s:0 with 1 target", groupTargets(u), srv.URL)
	}
	for _, f := range []struct {
		name, contentType, body, inErr string
		status                         int
	}{
		{"HTTP 500", "text/plain", "", "500", http.StatusInternalServerError},
		{"garbage", "application/json", "{]", "invalid character", http.StatusOK},
		{"wrong content type", "text/html", "[]", "content type", http.StatusOK},
	} {
		t.Run(f.name+" sends nothing and logs the error", func(t *testing.T) {
			srv.set(f.status, f.contentType, f.body)
			raw.drain()
			// Two refreshes fail, logging the error, and send nothing.
			for range 2 {
				if _, ok := raw.errWith(f.inErr, httpChange); !ok {
					t.Errorf("no error record with %q", f.inErr)
				}
			}
			if u := raw.next(1500 * time.Millisecond); u != nil {
				t.Errorf("sent %v while failing, want nothing", groupTargets(u))
			}
		})
	}
	t.Run("an empty list sends the old groups empty", func(t *testing.T) {
		srv.set(http.StatusOK, "application/json", jsonTargets([]string{"10.0.0.1:4000"}))
		if u := raw.next(httpChange); groupTargets(u)[srv.URL+":0"] != 1 {
			t.Fatalf("update %v once good again, want group %s:0 with 1 target", groupTargets(u), srv.URL)
		}
		srv.set(http.StatusOK, "application/json", "[]")
		if u := raw.next(httpChange); len(u) != 1 || groupTargets(u)[srv.URL+":0"] != 0 {
			t.Errorf("update %v, want group %s:0 sent empty", groupTargets(u), srv.URL)
		}
	})
}
