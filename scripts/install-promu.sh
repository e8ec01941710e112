#!/bin/sh
# Copyright 2026 The tcpping_exporter Authors
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
# http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# install-promu.sh DIR: builds promu $PROMU_VERSION from the Go module proxy
# into DIR/promu, unless it is already there.
#
# Not `go install github.com/prometheus/promu@VERSION`: that form looks up
# the module's latest version to print deprecation notices, and fails
# outright when the proxy refuses to list versions (HTTP 403 on
# .../promu/@v/list, as a restricted proxy does). `go get` in a throwaway
# module treats that lookup as advisory, and `go install` inside the module
# then builds the pinned version.
set -eu

dir=${1:?usage: install-promu.sh DIR}
version=${PROMU_VERSION:?set PROMU_VERSION, e.g. v0.17.0}
go=${GO:-go}

if [ -x "$dir/promu" ]; then
	exit 0
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export GOWORK=off GOFLAGS=-mod=mod
"$go" mod init promu-install >/dev/null 2>&1
"$go" get "github.com/prometheus/promu@$version"
GOBIN="$tmp/bin" "$go" install github.com/prometheus/promu
# Rename within DIR so that a concurrent run never sees half a binary.
mv "$tmp/bin/promu" "$dir/promu.$$"
mv "$dir/promu.$$" "$dir/promu"
