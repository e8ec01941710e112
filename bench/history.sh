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
# times 15 s apart ("after scrapes"): a scrape of 10 000 targets leaves
# garbage that the Go heap keeps until its next collection.
#
# The resident sets of two processes differ by the moment their heaps were
# collected as much as by the history (±10 MiB at 10 000 targets), so each
# scrape also splits the resident set into the Go heap's resident pages
# (go_memstats_heap_sys_bytes less go_memstats_heap_released_bytes) and
# the rest, where the history's slots are (outside the Go heap), and
# reads the heap in use (go_memstats_heap_inuse_bytes), where its small
# part is. It prints every sample and the differences per target. All
# traffic stays on $HOST.
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

# memory URL: from one scrape of URL, the resident set, the Go heap's
# resident pages, the rest, and the heap in use, in bytes.
memory() {
	curl -fsS "$1" | awk '
		$1 == "process_resident_memory_bytes" { rss = $2 }
		$1 == "go_memstats_heap_sys_bytes" { sys = $2 }
		$1 == "go_memstats_heap_released_bytes" { rel = $2 }
		$1 == "go_memstats_heap_inuse_bytes" { inuse = $2 }
		END { printf "%d %d %d %d\n", rss, sys - rel, rss - (sys - rel), inuse }'
}

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

# run HISTORY: one prober run; prints its samples and sets QUIET (median of
# the last samples before scrapes) and RSS, HEAPRES, OUTSIDE and INUSE
# (medians of the scrapes but the first).
run() {
	local history=$1 conns i quiet=() m rss=() heapres=() outside=() inuse=()
	"$BIN" --config.file="$WORK/prober.yml" --no-echo --web.listen-address="$HOST:$PROBER_WEB" \
		--web.history="$history" --log.level=warn >"$WORK/prober-$history.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	for ((i = 0; i < 120; i++)); do
		conns=$(metric "http://$HOST:$ECHO_WEB/metrics" tcp_echo_server_connections || echo 0)
		[[ $conns -ge $TARGETS ]] && break
		sleep 1
	done
	echo "--web.history=$history: $conns connections after ${i}s"
	printf '  resident set (MiB) every 15 s, before scrapes:'
	for ((i = 1; i <= MINUTES * 4; i++)); do
		sleep 15
		quiet+=("$(rss "$pid")")
		printf ' %s' "$(mib "${quiet[-1]}")"
	done
	echo
	echo '  scrapes 15 s apart (MiB): resident set = Go heap resident + the rest; Go heap in use'
	for ((i = 1; i <= 4; i++)); do
		read -r -a m < <(memory "http://$HOST:$PROBER_WEB/metrics")
		rss+=("${m[0]}") heapres+=("${m[1]}") outside+=("${m[2]}") inuse+=("${m[3]}")
		printf '  %7s = %6s + %6s; %6s\n' "$(mib "${m[0]}")" "$(mib "${m[1]}")" "$(mib "${m[2]}")" "$(mib "${m[3]}")"
		sleep 15
	done
	QUIET=$(printf '%s\n' "${quiet[@]: -4}" | median)
	RSS=$(printf '%s\n' "${rss[@]: -3}" | median)
	HEAPRES=$(printf '%s\n' "${heapres[@]: -3}" | median)
	OUTSIDE=$(printf '%s\n' "${outside[@]: -3}" | median)
	INUSE=$(printf '%s\n' "${inuse[@]: -3}" | median)
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	for ((i = 0; i < 60; i++)); do
		conns=$(metric "http://$HOST:$ECHO_WEB/metrics" tcp_echo_server_connections || echo 0)
		[[ $conns -eq 0 ]] && break
		sleep 1
	done
}

run 0
quiet0=$QUIET rss0=$RSS heapres0=$HEAPRES outside0=$OUTSIDE inuse0=$INUSE
run 3h
quiet3=$QUIET rss3=$RSS heapres3=$HEAPRES outside3=$OUTSIDE inuse3=$INUSE
echo
for what in "resident set, before scrapes:quiet" "resident set, scraped:rss" "  Go heap resident:heapres" \
	"  outside the Go heap:outside" "Go heap in use:inuse"; do
	label=${what%:*} v=${what#*:}
	a=${v}0 b=${v}3
	printf '%-30s without history %6s MiB, with 3h %6s MiB: %5.0f bytes per target\n' "$label" \
		"$(mib "${!a}")" "$(mib "${!b}")" "$(echo "(${!b} - ${!a}) / $TARGETS" | bc -l)"
done
