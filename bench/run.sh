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

# bench/run.sh: runs the real tcpping_exporter binary at three loads next to
# the C floor references (bench/floor) and a packet capture (bench/wiretruth),
# and prints one markdown table. Run by hand on a quiet machine, as root (for
# the capture); see bench/README.md. Every knob is an environment variable:
#
#   SMOKE=1 bash bench/run.sh            # < 2 min, small sizes: checks the tooling
#   bash bench/run.sh                    # the full run, < 15 min
#   W3_TARGETS=5000 W3_WINDOW=30 bash bench/run.sh
#   PHASES=f CAPTURE=0 bash bench/run.sh # flows: 1 000 targets x 8 flows against 8 000 x 1
#
# All traffic stays on $HOST (127.0.0.1 by default).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)

if [[ ${SMOKE:-0} == 1 ]]; then
	: "${W1_WINDOW:=5}" "${W2_TARGETS:=1000}" "${W2_WINDOW:=5}"
	: "${W3_TARGETS:=1000}" "${W3_WINDOW:=10}" "${WARMUP:=2}"
fi
: "${HOST:=127.0.0.1}"             # every listener and every target
: "${PORT_BASE:=24000}"            # ports PORT_BASE .. PORT_BASE+40 are used
: "${WARMUP:=3}"                   # seconds between all connected and a window
: "${W1_INTERVAL_MS:=10}" "${W1_WINDOW:=30}"
: "${W2_TARGETS:=1000}" "${W2_INTERVAL_MS:=100}" "${W2_WINDOW:=60}"
: "${W3_TARGETS:=10000}" "${W3_INTERVAL_MS:=1000}" "${W3_WINDOW:=60}"
: "${SCRAPE_EVERY:=1}"             # seconds between scrapes in W3's scrape window
: "${SCRAPE_FORMATS:=text,proto,text-gzip}"
: "${SCRAPE_PAIRS:=3}"             # W3's window B: this many quiet and as many scraped slices
: "${RSS_SCRAPES:=5}"             # scrapes after window A before the goal row's RSS reading
: "${KERNEL_TIMESTAMPS:=true}"     # the bench module's kernel_timestamps
: "${TX_TIMESTAMPS:=true}"         # the bench module's tx_timestamps
: "${ECHO_PROTOCOL:=auto}"         # the bench module's echo_protocol (auto: extended frames with the Go echo server)
: "${EXTRA_TIMEOUT=3s}"           # the extra (captured) target's fixed timeout; empty: the bench module's adaptive one
: "${C_SLACK_US:=0}"               # C pinger wake slack: the prober engine's (none, see prober/engine_linux.go)
: "${C_SLACK2_US:=1000}"           # the C pinger's second W2 run (phase s2): more sends per wake-up
: "${CAPTURE:=1}"                  # 0: no packet capture, no wire rows
: "${MAX_RUNTIME:=1800}"           # seconds; the whole run is killed after this
: "${BIN:=}"                       # a prebuilt tcpping_exporter; empty: go build the checkout
: "${GO_ENV:=}"                    # extra environment of the Go processes, e.g. GOMAXPROCS=1
: "${PROBER_FLAGS:=}"              # extra flags of the Go prober processes, e.g. --web.history=0
: "${TASKSET_PROBER:=}"            # CPU list for the probers (Go and C), e.g. 0; empty: no pinning
: "${TASKSET_ECHO:=}"              # CPU list for the echo servers (Go and C)
: "${F_TARGETS:=1000}" "${F_FLOWS:=8}" "${F_INTERVAL_MS:=1000}" "${F_WINDOW:=60}" # phase f
: "${PHASES:=w1 w2 x2 s2 w3 x3}"   # workloads to run (x2, x3: crossed, Go prober/C echo and C pinger/Go echo; s2: C pinger at C_SLACK2_US; f: flows, not run by default)
: "${WORKDIR:=}"                   # logs, configs, captures; empty: a new /tmp dir
: "${KEEP:=0}"                     # 1: keep WORKDIR
: "${TABLE_FROM:=}"                # a results.txt of an earlier run: print its table, run nothing

OWN_WORKDIR=0
if [[ -z $WORKDIR ]]; then
	WORKDIR=$(mktemp -d /tmp/tcpping-bench.XXXXXX)
	OWN_WORKDIR=1
else
	mkdir -p "$WORKDIR"
fi
CLK_TCK=$(getconf CLK_TCK)
PIDS=()

for lib in measure table phases; do
	# shellcheck source=/dev/null
	source "$REPO/bench/lib/$lib.sh"
done

# ------------------------------------------------------------- cleaning up

# cleanup stops what is still running. It removes WORKDIR only if this run
# created it, KEEP is not 1 and the run succeeded.
cleanup() {
	local rc=$? pid
	for pid in "${PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && stop "$pid"
	done
	[[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null
	if [[ $KEEP == 1 || $OWN_WORKDIR == 0 || $rc != 0 ]]; then
		log "logs kept in $WORKDIR"
	else
		rm -rf "$WORKDIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bound the whole run in time whatever happens.
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$MAX_RUNTIME" &
	sp=$!
	wait "$sp"
	kill -TERM $$
) &
WATCHDOG=$!

# -------------------------------------------------------------------- main

main() {
	if [[ -n ${TABLE_FROM:-} ]]; then
		# Print the table of an earlier run's results.txt again.
		local k v
		while IFS='=' read -r k v; do R[$k]=$v; done <"$TABLE_FROM"
		header
		if [[ $(echo $PHASES) == f ]]; then
			flows_table
		else
			table
		fi
		return
	fi
	[[ $(uname) == Linux ]] || fail "Linux only (/proc, epoll)"
	local p
	for p in $(seq "$PORT_BASE" $((PORT_BASE + 40))); do
		if ss -Htln "sport = :$p" | grep -q .; then fail "port $p is in use: set PORT_BASE"; fi
	done
	if [[ $CAPTURE == 1 ]] && ! command -v dumpcap >/dev/null; then
		fail "dumpcap/tshark missing: apt-get install tshark, or CAPTURE=0"
	fi
	log "workdir $WORKDIR"
	mkdir -p "$WORKDIR/bin" "$WORKDIR/floor"
	if [[ -z $BIN ]]; then
		log "go build $REPO"
		(cd "$REPO" && go build -o "$WORKDIR/bin/tcpping_exporter" .) || fail "go build"
		BIN=$WORKDIR/bin/tcpping_exporter
	fi
	(cd "$REPO" && go build -o "$WORKDIR/bin/" ./bench/promstat ./bench/wiretruth ./bench/txcap) || fail "go build bench tools"
	make -s -C "$REPO/bench/floor" OUT="$WORKDIR/floor" || fail "building bench/floor"
	export PATH="$WORKDIR/bin:$PATH"
	echo "targets: []" >"$WORKDIR/empty.yml"
	"$BIN" --version 2>&1 | head -1 >&2

	baseline
	if [[ " $PHASES " == *" w1 "* ]]; then
		go_phase w1.go go 0 "$W1_INTERVAL_MS" "$W1_WINDOW" "$PORT_BASE"
		c_phase w1.c c 0 "$W1_INTERVAL_MS" "$W1_WINDOW" $((PORT_BASE + 5))
	fi
	if [[ " $PHASES " == *" w2 "* ]]; then
		go_phase w2.go go "$W2_TARGETS" "$W2_INTERVAL_MS" "$W2_WINDOW" $((PORT_BASE + 10))
		c_phase w2.c c "$W2_TARGETS" "$W2_INTERVAL_MS" "$W2_WINDOW" $((PORT_BASE + 15))
	fi
	if [[ " $PHASES " == *" x2 "* ]]; then
		go_phase x2.goc c "$W2_TARGETS" "$W2_INTERVAL_MS" "$W2_WINDOW" $((PORT_BASE + 30))
		c_phase x2.cgo go "$W2_TARGETS" "$W2_INTERVAL_MS" "$W2_WINDOW" $((PORT_BASE + 35))
	fi
	if [[ " $PHASES " == *" s2 "* ]]; then
		c_phase s2.c c "$W2_TARGETS" "$W2_INTERVAL_MS" "$W2_WINDOW" $((PORT_BASE + 5)) "$C_SLACK2_US"
	fi
	if [[ " $PHASES " == *" w3 "* ]]; then
		go_phase w3.go go "$W3_TARGETS" "$W3_INTERVAL_MS" "$W3_WINDOW" $((PORT_BASE + 20)) scrapes
		c_phase w3.c c "$W3_TARGETS" "$W3_INTERVAL_MS" "$W3_WINDOW" $((PORT_BASE + 25))
	fi
	if [[ " $PHASES " == *" x3 "* ]]; then
		go_phase x3.goc c "$W3_TARGETS" "$W3_INTERVAL_MS" "$W3_WINDOW" $((PORT_BASE + 30))
		c_phase x3.cgo go "$W3_TARGETS" "$W3_INTERVAL_MS" "$W3_WINDOW" $((PORT_BASE + 35))
	fi
	if [[ " $PHASES " == *" f "* ]]; then
		# One run, one after the other: as many connections at the same
		# probe rate, as targets of one flow and as targets of F_FLOWS.
		FLOWS_NOW=1 go_phase f1.go go $((F_TARGETS * F_FLOWS)) "$F_INTERVAL_MS" "$F_WINDOW" $((PORT_BASE + 20))
		FLOWS_NOW=$F_FLOWS go_phase f8.go go "$F_TARGETS" "$F_INTERVAL_MS" "$F_WINDOW" $((PORT_BASE + 25))
	fi

	local k
	for k in "${!R[@]}"; do echo "$k=${R[$k]}"; done | sort >"$WORKDIR/results.txt"
	{
		header
		if [[ $(echo $PHASES) == f ]]; then
			flows_table
		else
			table
		fi
	} | tee "$WORKDIR/table.md"
}

main "$@"
