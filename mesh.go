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
	"io"
	"os"
	"strings"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tcpping/tcpping_exporter/config"
	"github.com/tcpping/tcpping_exporter/discovery"
	"github.com/tcpping/tcpping_exporter/echo"
	"github.com/tcpping/tcpping_exporter/internal/web"
)

// newDiscovery returns the discovery Runner of the exporter: it reports
// its targets to rl, which applies every config it loads to it. Self is
// the echo server's bound ports (none without it) and the mesh ID, by
// default the host name.
func newDiscovery(f flags, echoSrv *echo.Server, rl *web.Reloader, logs loggers, reg prometheus.Registerer) (*discovery.Runner, error) {
	self := discovery.Self{MeshID: f.meshID}
	if self.MeshID == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("--mesh.id: no host name to default to: %w", err)
		}
		self.MeshID = host
	}
	if echoSrv != nil {
		var bound []string
		for _, a := range echoSrv.Addrs() {
			bound = append(bound, a.String())
		}
		ports, err := discovery.EchoPorts(bound)
		if err != nil {
			return nil, err
		}
		self.EchoPorts = ports
	}
	r, err := discovery.New(discovery.Options{
		Logger:      log.With(logs.root, "component", "discovery"),
		SlogHandler: logs.slog().Handler(),
		Registerer:  reg,
		OnUpdate:    func(u discovery.Update) { rl.Discovered(u.Seq, u.Targets()) },
		Self:        self,
	})
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	rl.SetDiscovery(r)
	return r, nil
}

// describeDiscovery writes, for --config.check, a line per discovery entry
// of cfg: its sources and what it does with the targets they find.
func describeDiscovery(w io.Writer, cfg *config.Config) {
	for _, d := range cfg.Discovery {
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
		fmt.Fprintf(w, "  discovery %q: module %s, %s\n", d.Name, d.Module, strings.Join(parts, ", "))
	}
}
