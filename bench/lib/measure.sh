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

# bench/lib/measure.sh: how bench/run.sh starts, stops and measures its
# processes and captures their traffic. Sourced by run.sh; it defines
# functions only, which use run.sh's WORKDIR, PIDS, CLK_TCK and CAPTURE.

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
fail() {
	log "FATAL: $*"
	exit 1
}

# ---------------------------------------------------------------- processes

# start NAME CMD...: runs CMD in the background, output in WORKDIR/NAME.log;
# sets LAST_PID.
start() {
	local name=$1
	shift
	"$@" >"$WORKDIR/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# pin KIND: the taskset prefix (as words) for a prober or echo process.
pin() {
	local cpus=$TASKSET_PROBER
	[[ $1 == echo ]] && cpus=$TASKSET_ECHO
	[[ -z $cpus ]] || echo "taskset -c $cpus"
}

# stop PID: TERM, then KILL after 5 s. Only ever our own children.
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# --------------------------------------------------------------- measuring

now() { echo "$EPOCHREALTIME"; }

# cpu_ticks PID: utime+stime of every thread, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# memstats URL N: where a Go process's memory is, from its /metrics, in
# bytes per target (N targets; not net of an empty process): the heap's
# objects (heap_alloc: live and not yet collected), its pages in use
# (heap_inuse: objects, and the free room between them), goroutine stacks,
# span structures, the GC's own metadata and the runtime's other memory.
# For the log, beside the RSS reading taken with it.
memstats() {
	curl -fsS "$1" | awk -v n="$2" '
		/^go_memstats_(heap_alloc|heap_inuse|gc_sys|stack_inuse|mspan_inuse|other_sys)_bytes / {
			k = $1; sub(/^go_memstats_/, "", k); sub(/_bytes$/, "", k)
			printf "%s=%.0f ", k, $2 / n
		}
		END { printf "B/target\n" }'
}

# rss_kib PID: VmRSS in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# kv LINE KEY: the value of KEY=value in a line of key=value pairs.
kv() {
	awk -v k="$2" '{for (i = 1; i <= NF; i++) {n = index($i, "="); if (substr($i, 1, n - 1) == k) {print substr($i, n + 1); exit}}}' <<<"$1"
}

# calc EXPR [DECIMALS]: EXPR in awk; nan when it divides by zero or uses nan.
# Anything not a number in EXPR (n/a, a missing value) also gives nan.
calc() {
	local v
	if [[ $1 == *n/a* || $1 == *nan* ]]; then
		echo nan
		return
	fi
	v=$(awk -v d="${2:-2}" "function div(a, b) { if (b == 0) { bad = 1; return 0 } return a / b }
		BEGIN { v = $1; if (bad) print \"nan\"; else printf \"%.*f\n\", d, v }" 2>/dev/null) || v=nan
	[[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || v=nan
	echo "$v"
}

# snap URL [EXTRA]: one /metrics snapshot, with the time it was taken.
snap() {
	local t0 line t1
	t0=$(now)
	line=$(promstat snap -url "$1" ${2:+-extra "$2"}) || fail "scrape $1"
	t1=$(now)
	echo "$line t=$(calc "($t0 + $t1) / 2" 6)"
}

# stats PID LOG: a C reference's stats line (SIGUSR1), with its time.
stats() {
	local pid=$1 logf=$2 n i t
	n=$(grep -c '^stats' "$logf" || true)
	t=$(now)
	kill -USR1 "$pid"
	for i in $(seq 100); do
		(($(grep -c '^stats' "$logf" || true) > n)) && break
		sleep 0.02
	done
	(($(grep -c '^stats' "$logf" || true) > n)) || fail "no stats from pid $pid"
	echo "$(grep '^stats' "$logf" | tail -1) t=$(calc "($t + $(now)) / 2" 6)"
}

# cpu_now PID...: prints "ticks_pid1 ticks_pid2 ... t" now.
cpu_now() {
	local out="" pid
	for pid in "$@"; do out+="$(cpu_ticks "$pid") "; done
	echo "$out$(now)"
}

# cpu_rate BEFORE AFTER I: CPU seconds per second of the I-th process
# (1-based) between two cpu_now lines.
cpu_rate() {
	local n
	n=$(awk '{print NF}' <<<"$1")
	calc "div(($(awk -v i="$3" '{print $i}' <<<"$2") - $(awk -v i="$3" '{print $i}' <<<"$1")) / $CLK_TCK, $(awk -v n="$n" '{print $n}' <<<"$2") - $(awk -v n="$n" '{print $n}' <<<"$1"))" 6
}

# rate KEY BEFORE AFTER: per second, between two snapshots.
rate() { calc "div($(kv "$3" "$1") - $(kv "$2" "$1"), $(kv "$3" t) - $(kv "$2" t))" 3; }

# wait_established N SECONDS PORT...: waits until N client sockets to the
# PORTs are established (counted by ss, without touching the prober).
wait_established() {
	local want=$1 secs=$2 filter="" p i
	shift 2
	for p in "$@"; do filter+="${filter:+ or }dport = :$p"; done
	for i in $(seq $((secs * 5))); do
		(($(ss -Htn state established "( $filter )" | wc -l) >= want)) && return 0
		sleep 0.2
	done
	return 1
}

# ----------------------------------------------------------------- capture

# cap_start PORT NAME: captures TCP to/from PORT on lo; sets CAP_PID and
# TXCAP_PID. dumpcap (libpcap) keeps only the incoming copy of a packet on
# lo, taken when the receiver picks it up; txcap captures the outgoing
# copies of the requests, when they leave (bench/README.md, "Wire truth").
cap_start() {
	CAP_PID="" TXCAP_PID=""
	[[ $CAPTURE == 1 ]] || return 0
	start "$2.dumpcap" dumpcap -q -i lo -B 64 -f "tcp port $1" -w "$WORKDIR/$2.pcapng"
	CAP_PID=$LAST_PID
	start "$2.txcap" txcap -i lo -port "$1" -o "$WORKDIR/$2.departures.tsv"
	TXCAP_PID=$LAST_PID
	local i
	for i in $(seq 100); do
		grep -qs "Capturing on" "$WORKDIR/$2.dumpcap.log" && grep -qs "listening" "$WORKDIR/$2.txcap.log" && return 0
		kill -0 "$CAP_PID" 2>/dev/null && kill -0 "$TXCAP_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "dumpcap or txcap did not start: $(cat "$WORKDIR/$2.dumpcap.log" "$WORKDIR/$2.txcap.log")"
}

# cap_stop NAME: stops the capture and sets CAP_DROPS to the packets the
# kernel dropped. dumpcap gets the kernel's packets in blocks that it may
# still be waiting for: stopped at once, it loses the last fraction of a
# second. Not in a $(...) subshell, which could not wait for dumpcap.
cap_stop() {
	CAP_DROPS=n/a
	[[ -n $CAP_PID ]] || return 0
	sleep 1
	kill -INT "$CAP_PID" "$TXCAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	wait "$TXCAP_PID" 2>/dev/null || true
	CAP_DROPS=$(sed -n "s/.*received\/dropped on interface.*: [0-9]*\/\([0-9]*\).*/\1/p" "$WORKDIR/$1.dumpcap.log" | head -1)
	CAP_DROPS+="+$(sed -n 's/.*dropped=\([0-9]*\).*/\1/p' "$WORKDIR/$1.txcap.log" | head -1)"
}

# wire NAME SERVER_PORT SEQ_MIN SEQ_MAX: wiretruth's summary over a seq range.
wire() {
	if [[ $CAPTURE != 1 ]] || (($4 < $3)); then
		echo "frames=0 mean_us=nan"
		return
	fi
	wiretruth -r "$WORKDIR/$1.pcapng" -server-port "$2" -seq-min "$3" -seq-max "$4" \
		-departures "$WORKDIR/$1.departures.tsv" -frames "$WORKDIR/$1.frames.csv" || echo "frames=0 mean_us=nan"
}
