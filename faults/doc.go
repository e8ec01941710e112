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

// Package faults is the fault-injection suite: its tests build the
// tcpping_exporter binary, run it as real processes in network namespaces
// joined by veth pairs (iproute2), break the link between them with nftables
// (random loss, blackholes), kill and stall the echo server, attack it with
// hostile clients, and check on every scrape that the metrics stay honest;
// they load the pages of an exporter behind random loss in Chromium and
// check its graphs, and run the ping command where nothing answers.
// TestMesh runs a fleet: six namespaces on one bridge, each running the
// binary with one identical tcpping.yml whose discovery entry finds the
// others (through dnsmasq, a file, an HTTP endpoint), and a real
// Prometheus scraping them, through whose API it checks every pair of
// nodes as nodes join, leave and die, as the source fails, and with peers.
//
// The tests run on Linux and need root, ip (iproute2), nft (nftables) and ss
// (iproute2); chromium for the pages; TestMesh also prometheus (Debian
// package prometheus) and dnsmasq. They skip without them, and fail
// instead when CI is set. This
// file exists only to hold the package comment; everything else is in
// _test.go files.
package faults
