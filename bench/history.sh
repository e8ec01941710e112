#!/usr/bin/env bash
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
# bench/history.sh: what the probers' history (--web.history) costs the
# exporter's resident set. It runs the same prober twice against one echo
# server, a separate process (each end holds TARGETS connections): with
# --web.history=0 and with the default 3h. Each run first probes for
# MINUTES with nothing reading it, sampling the prober's resident set from
# /proc every 15 s ("before scrapes"), then is scraped (/metrics) four
# times 15 s apart, sampled after each ("after scrapes"): a scrape of
# 10 000 targets leaves garbage that the Go heap keeps until its next
# collection. It prints every sample, the heap in use at the last scrape,
# and the difference per target. All traffic stays on $HOST.
#
#   bash bench/history.sh                       # 10 000 targets, 4 minutes a run
#   TARGETS=1000 MINUTES=1 KEEP=1 bash bench/history.sh   # KEEP=1 keeps the logs
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
: "${TARGETS:=10000}" "${MINUTES:=4}" "${HOST:=127.0.0.1}" "${PORT_BASE:=24100}" "${BIN:=}" "${KEEP:=0}"
ECHO_PORT=$PORT_BASE ECHO_WEB=$((PORT_BASE + 1)) PROBER_WEB=$((PORT_BASE + 2))
WORK=$(mktemp -d /tmp/tcpping-history.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ $KEEP == 1 ]]; then echo "logs in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [[ -z $BIN ]]; then
	BIN=$WORK/tcpping_exporter
	(cd "$REPO" && go build -o "$BIN" .)
fi

# metric URL NAME: the value of the unlabelled series NAME at URL, as an
# integer.
metric() { curl -fsS "$1" | awk -v n="$2" '$1 == n { v = $2 } END { printf "%d\n", v }'; }

echo "targets: []" >"$WORK/echo.yml"
{
	echo "targets:"
	for ((i = 0; i < TARGETS; i++)); do printf '  - {name: t%05d, address: "%s:%d"}\n' "$i" "$HOST" "$ECHO_PORT"; done
} >"$WORK/prober.yml"

"$BIN" --config.file="$WORK/echo.yml" --web.listen-address="$HOST:$ECHO_WEB" \
	--echo.listen-address="$HOST:$ECHO_PORT" --echo.max-connections=$((TARGETS * 2)) >"$WORK/echo.log" 2>&1 &
PIDS+=($!)
sleep 1

# rss PID: the resident set of process PID, in bytes.
rss() { awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$1/status"; }

# median: the median of the numbers on standard input.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# mib N: N bytes in MiB.
mib() { echo "scale=1; $1 / 1048576" | bc; }

# run HISTORY: one prober run; prints its samples and sets QUIET, SCRAPED
# (medians of the last samples before and after scrapes) and HEAP.
run() {
	local history=$1 conns i quiet=() scraped=()
	"$BIN" --config.file="$WORK/prober.yml" --no-echo --web.listen-address="$HOST:$PROBER_WEB" \
		--web.history="$history" --log.level=warn >"$WORK/prober-$history.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	for ((i = 0; i < 120; i++)); do
		conns=$(metric "http://$HOST:$ECHO_WEB/metrics" tcp_echo_server_connections || echo 0)
		[[ $conns -ge $TARGETS ]] && break
		sleep 1
	done
	echo "--web.history=$history: $conns connections after ${i}s; resident set (MiB) every 15 s:"
	printf '  before scrapes:'
	for ((i = 1; i <= MINUTES * 4; i++)); do
		sleep 15
		quiet+=("$(rss "$pid")")
		printf ' %s' "$(mib "${quiet[-1]}")"
	done
	printf '\n  after scrapes: '
	for ((i = 1; i <= 4; i++)); do
		HEAP=$(metric "http://$HOST:$PROBER_WEB/metrics" go_memstats_heap_inuse_bytes)
		sleep 15
		scraped+=("$(rss "$pid")")
		printf ' %s' "$(mib "${scraped[-1]}")"
	done
	echo
	QUIET=$(printf '%s\n' "${quiet[@]: -4}" | median)
	SCRAPED=$(printf '%s\n' "${scraped[@]: -3}" | median)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	for ((i = 0; i < 60; i++)); do
		conns=$(metric "http://$HOST:$ECHO_WEB/metrics" tcp_echo_server_connections || echo 0)
		[[ $conns -eq 0 ]] && break
		sleep 1
	done
}

run 0
quiet0=$QUIET scraped0=$SCRAPED heap0=$HEAP
run 3h
quiet3=$QUIET scraped3=$SCRAPED heap3=$HEAP
echo
for what in "before scrapes:quiet" "after scrapes:scraped" "heap in use, last scrape:heap"; do
	label=${what%:*} v=${what#*:}
	a=${v}0 b=${v}3
	printf '%-26s without history %6s MiB, with 3h %6s MiB: %5.0f bytes per target\n' "$label" \
		"$(mib "${!a}")" "$(mib "${!b}")" "$(echo "(${!b} - ${!a}) / $TARGETS" | bc -l)"
done
