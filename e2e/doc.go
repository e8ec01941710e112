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

// Package e2e is the end-to-end suite: its TestMain builds the
// tcpping_exporter binary once, and its tests run it as a real process on
// 127.0.0.1 and check what a user sees: /metrics, /probe, TLS and basic
// auth, reload, the landing page in Chromium, startup errors, resource
// bounds, and --help and the metric families against those of the binary
// before the code moved (testdata/*.golden). They also check the shipped
// files against the tools that read them, from the repository's top
// directory: the Prometheus examples, recording rules and Grafana dashboard
// with a real Prometheus and promtool, the README's and CONFIGURATION.md's
// examples, the container image (Dockerfile) with podman and runc, the
// systemd unit with systemd-analyze and, on Linux, the exporter under its
// RestrictAddressFamilies= (the test binary, run with
// TCPPING_E2E_RESTRICT_ADDRESS_FAMILIES set, execs its arguments under a
// seccomp filter as systemd's), the release build with promu and its
// tarball, and the cross builds of .promu.yml.
//
// It needs, beyond Go: prometheus and promtool (Debian package
// prometheus), chromium, podman and runc, systemd-analyze (systemd), git,
// and root for the container test (rootful podman, which also needs
// default_ulimits = [] in /etc/containers/containers.conf on this kind of
// machine); promu is built from the module proxy into the user cache. A
// test whose tool is missing skips and says what to install, and fails
// instead when CI is set. This file exists only to hold the package
// comment; everything else is in _test.go files.
package e2e
