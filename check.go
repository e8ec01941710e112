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
	"net/netip"

	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/tcpping/tcpping_exporter/discovery"
	"github.com/tcpping/tcpping_exporter/internal/web"
)

// checkedFlags are what the flag values that kingpin's parse leaves to
// us give, once checked.
type checkedFlags struct {
	logs loggers
	// allowed is --probe.allowed-target, the /probe restriction.
	allowed web.AllowedTargets
	// echoNets is --echo.allowed-network.
	echoNets []netip.Prefix
}

// checkFlags checks the flag values that kingpin's parse leaves to us,
// each a command-line error whatever the command (and with --no-echo),
// and returns what they give.
func checkFlags(f flags, stderr io.Writer) (checkedFlags, error) {
	var c checkedFlags
	var err error
	if c.logs, err = newLogger(stderr, f.logFormat, f.logLevel); err != nil {
		return checkedFlags{}, err
	}
	if err := web.ValidateTelemetryPath(f.telemetryPath); err != nil {
		return checkedFlags{}, err
	}
	if c.allowed, err = web.ParseAllowedTargets(f.probeAllowed); err != nil {
		return checkedFlags{}, err
	}
	if c.echoNets, err = parseNetworks(f.echoAllowed); err != nil {
		return checkedFlags{}, err
	}
	return c, nil
}

// checkConfig implements --config.check: the config file and, if given,
// the web config file (webConfig), as the exporter would read them at
// startup, so that a command line the service would refuse fails here too.
func checkConfig(f flags, webConfig string, stdout, stderr io.Writer) int {
	if webConfig != "" {
		if err := toolkitweb.Validate(webConfig); err != nil {
			fmt.Fprintf(stderr, "web config %s: FAILED: %s\n", webConfig, err)
			return 1
		}
	}
	cfg, found, err := f.config().Load()
	if err != nil {
		fmt.Fprintf(stderr, "config %s: FAILED: %s\n", f.configFile, err)
		return 1
	}
	if !found {
		fmt.Fprintf(stdout, "config %s: not found; the built-in default module and no static targets would run\n", f.configFile)
		return 0
	}
	if err := discovery.Check(cfg); err != nil {
		fmt.Fprintf(stderr, "config %s: FAILED: %s\n", f.configFile, err)
		return 1
	}
	fmt.Fprintf(stdout, "config %s: OK: %d modules, %d targets", f.configFile, len(cfg.Modules), len(cfg.Targets))
	if n := len(cfg.Discovery); n > 0 {
		fmt.Fprintf(stdout, ", %d discovery entries", n)
	}
	fmt.Fprintln(stdout)
	for _, d := range cfg.Discovery {
		fmt.Fprintf(stdout, "  discovery %q: %s\n", d.Name, d.Summary())
	}
	if webConfig != "" {
		fmt.Fprintf(stdout, "web config %s: OK\n", webConfig)
	}
	return 0
}

// webConfigFile returns --web.config.file, or "" if not given.
func webConfigFile(fc *toolkitweb.FlagConfig) string {
	if fc.WebConfigFile == nil {
		return ""
	}
	return *fc.WebConfigFile
}
