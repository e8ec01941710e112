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

// Package discovery finds the exporter's targets from the discovery entries
// of tcpping.yml. It runs Prometheus' own file, DNS and HTTP service
// discovery, applies Prometheus' relabeling, drops this exporter's own echo
// server (exclude_self), chooses peers on a ring of addresses (peers), and
// hands the consumer the full list of each entry whenever it changes. A
// source that fails keeps its last good targets; the failure is logged once
// per streak and shown in metrics.
//
// Use: New once, with the Registerer, a Self and an OnUpdate callback; Run
// once, in a goroutine (it owns every discoverer's goroutines and waits for
// them when its context ends; a second call returns ErrRunTwice);
// ApplyConfig with every config loaded, which keeps unchanged sources
// running. Check validates a config's sources without
// running them (for --config.check). Each Update holds every entry's
// targets, one per module and address in its canonical spelling
// (config.ProbeKey): a static target of the config last applied wins over
// a discovered one with its module and address, and an earlier entry over
// a later one. The consumer applies the same rule against the config it
// runs, which a reload may have replaced since.
//
// Log lines (on Options.Logger): a source failing, at warn, once per streak
// ("discovery source failing; its last good targets stand in", with
// discovery, source and err); its recovery at info, with duration_seconds;
// a change of an entry's targets at info (targets, added, removed); other
// problems Prometheus' code reports (a directory it cannot watch) at warn,
// once. Prometheus' own log lines go to Options.SlogHandler at debug level.
//
// Metrics, on the Registerer given to New:
//
//   - tcpping_exporter_discovered_targets{discovery}: targets an entry
//     probes, after relabeling, exclude_self, peers and the removal of
//     those a static target or an earlier entry already has.
//   - tcpping_exporter_discovery_failing{discovery}: 1 while a source of
//     the entry is failing and its last good targets stand in, else 0.
//   - tcpping_exporter_discovery_rejected_targets{discovery,reason}:
//     targets left out after relabeling because their address, name,
//     module or labels are unusable (reason "address", "name", "module",
//     "label").
//   - Prometheus' own prometheus_sd_* metrics, while the config has
//     discovery entries: those of the file, DNS and HTTP mechanisms, the
//     refresh metrics, and the discovery manager's
//     (prometheus_sd_discovered_targets and the update counters, with
//     name="tcpping_exporter", config the entry's name).
//
// The package imports config and no other package of this project.
package discovery
