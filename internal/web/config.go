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

package web

import (
	"errors"
	"net/http"
	"os"
	"sync"
	"weak"

	"github.com/tcpping/tcpping_exporter/config"
)

// ConfigFile is the config file the exporter runs with.
type ConfigFile struct {
	// Path is the file's path (--config.file).
	Path string
	// Explicit is whether --config.file was given: then a missing file is
	// an error, not a start with the built-in default module.
	Explicit bool
}

// Load reads the config file. The default file may be missing: then Load
// returns the built-in default module with no static targets, and found
// is false.
func (f ConfigFile) Load() (cfg *config.Config, found bool, err error) {
	cfg, err = config.Load(f.Path)
	if err != nil && !f.Explicit && errors.Is(err, os.ErrNotExist) {
		return config.Default(), false, nil
	}
	return cfg, err == nil, err
}

// configHandler shows the loaded config as YAML. A loaded config never
// changes, so its YAML is made once, at its first request, and kept until
// a reload loads another: made anew per request, the YAML of 2 000
// targets allocated 32 MB, and a few requests at once for a config of
// 10 000 took the exporter to gigabytes.
type configHandler struct {
	r     *Reloader
	cache *configYAML
}

// configYAML is the YAML of the config /config last served. It holds
// that config weakly: a config a reload replaced is not kept for it.
type configYAML struct {
	mu   sync.Mutex // held while the YAML is made: requests that come meanwhile wait for it
	cfg  weak.Pointer[config.Config]
	yaml []byte
}

// newConfigHandler returns the handler of /config of r's config.
func newConfigHandler(r *Reloader) configHandler {
	return configHandler{r: r, cache: &configYAML{}}
}

// of returns cfg's YAML, made once per config.
func (c *configYAML) of(cfg *config.Config) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := weak.Make(cfg); c.cfg != p {
		out, err := cfg.YAML()
		if err != nil {
			return nil, err
		}
		c.cfg, c.yaml = p, out
	}
	return c.yaml, nil
}

func (h configHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	cfg := h.r.current.Load()
	if cfg == nil {
		http.Error(w, "no config loaded", http.StatusServiceUnavailable)
		return
	}
	out, err := h.cache.of(cfg)
	if err != nil {
		http.Error(w, "marshal config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(out)
}
