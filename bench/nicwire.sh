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

# bench/nicwire.sh: the fidelity of W1 over a link that behaves as a network
# card does, where run.sh's is over lo. Two network namespaces joined by
# bench/tapwire (two TAP devices and a copy in user space between them):
# the echo server of the built binary in one, a prober with one target at
# 10 ms in the other (echo port 4001; the load targets' is 4000), and
# dumpcap on the prober's device, which (unlike on
# lo) keeps the outgoing requests and stamps each incoming reply with the
# time the kernel took it in. Prints the mean reported RTT over WINDOW_S
# seconds, the mean wire RTT of the same probes (bench/wiretruth), and the
# difference; then the same for the C reference pinger (bench/floor) in
# place of the prober. LOAD_TARGETS more targets at LOAD_INTERVAL_MS in the
# same prober (connections of the pinger) put it under load; the watched
# target then probes at LOAD_INTERVAL_MS too, as run.sh's extra target
# does. Needs root, dumpcap, ip, gcc, make. Traffic stays in the two
# namespaces (10.203.0.0/24).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/measure.sh
source "$REPO/bench/lib/measure.sh" # log, fail, kv, calc, stats
: "${BIN:=}" "${WINDOW_S:=30}" "${WARMUP_S:=3}" "${LOAD_TARGETS:=0}" "${LOAD_INTERVAL_MS:=100}" "${KEEP:=0}"
NA=tpwA$$ NB=tpwB$$ DA=tpwa$$ DB=tpwb$$
WORK=$(mktemp -d /tmp/tcpping-nicwire.XXXXXX)
PIDS=()
cleanup() {
	((${#PIDS[@]})) && kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null || true
	ip netns del "$NA" 2>/dev/null || true
	ip netns del "$NB" 2>/dev/null || true
	if [[ $KEEP == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
command -v dumpcap >/dev/null || fail "dumpcap is not installed (Debian package tshark)"

(cd "$REPO" && go build -o "$WORK/" ./bench/tapwire ./bench/wiretruth) || fail "go build"
cp -r "$REPO/bench/floor" "$WORK/floor"
make -s -C "$WORK/floor" >/dev/null || fail "make bench/floor (needs gcc, make)"
if [[ -z $BIN ]]; then
	(cd "$REPO" && go build -o "$WORK/tcpping_exporter" .) || fail "go build"
	BIN=$WORK/tcpping_exporter
fi

ip netns add "$NA"
ip netns add "$NB"
"$WORK/tapwire" -a "$DA" -b "$DB" 2> "$WORK/tapwire.log" &
PIDS+=($!)
for _ in $(seq 50); do grep -qs ready "$WORK/tapwire.log" && break; sleep 0.1; done
grep -qs ready "$WORK/tapwire.log" || fail "tapwire: $(cat "$WORK/tapwire.log")"
ip link set "$DA" netns "$NA"
ip link set "$DB" netns "$NB"
ip -n "$NA" addr add 10.203.0.1/24 dev "$DA"
ip -n "$NB" addr add 10.203.0.2/24 dev "$DB"
for n in "$NA" "$NB"; do ip -n "$n" link set lo up; done
ip -n "$NA" link set "$DA" up
ip -n "$NB" link set "$DB" up

echo 'targets: []' > "$WORK/empty.yml"
ip netns exec "$NB" "$BIN" --config.file="$WORK/empty.yml" --web.listen-address=127.0.0.1:9101 \
	--echo.listen-address=10.203.0.2:4000 --echo.listen-address=10.203.0.2:4001 --log.level=warn > "$WORK/echo.log" 2>&1 &
PIDS+=($!)
iv=10
((LOAD_TARGETS == 0)) || iv=$LOAD_INTERVAL_MS
{
	cat <<YML
modules:
  w1: {interval: ${iv}ms, adaptive: false, timeout: 3s, max_timeout: 3s}
  load: {interval: ${LOAD_INTERVAL_MS}ms}
targets:
  - {name: w1, address: "10.203.0.2:4001", module: w1}
YML
	for ((i = 0; i < LOAD_TARGETS; i++)); do
		echo "  - {name: l$i, address: \"10.203.0.2:4000\", module: load}"
	done
} > "$WORK/prober.yml"

# capture NAME: dumpcap on the prober's device, for the watched port.
capture() {
	ip netns exec "$NA" dumpcap -q -i "$DA" -f "tcp port 4001" -w "$WORK/$1.pcapng" > "$WORK/$1.dumpcap.log" 2>&1 &
	DUMPCAP=$!
	for _ in $(seq 50); do grep -qs "Capturing on" "$WORK/$1.dumpcap.log" && break; sleep 0.1; done
	sleep 0.5
}

# result NAME C0 C1 S0_NS S1_NS: the line of one phase, from the replies
# C0+1..C1 and their RTT sums.
result() {
	local line wire reported
	sleep 0.2
	kill "$DUMPCAP"
	wait "$DUMPCAP" 2>/dev/null || true
	(($3 > $2)) || fail "$1: no replies in the window"
	line=$("$WORK/wiretruth" -r "$WORK/$1.pcapng" -server-port 4001 -seq-min $(($2 + 1)) -seq-max "$3")
	echo "$line" > "$WORK/$1.wire"
	wire=$(kv "$line" mean_us)
	reported=$(awk -v a="$4" -v b="$5" -v n=$(($3 - $2)) 'BEGIN { printf "%.1f", (b - a) / n / 1e3 }')
	printf '%s: replies %d, wire frames %s; reported mean RTT %s µs, wire %.1f µs, reported − wire %.1f µs (load: %d targets at %d ms)\n' \
		"$1" $(($3 - $2)) "$(kv "$line" frames)" "$reported" "$wire" \
		"$(awk -v r="$reported" -v w="$wire" 'BEGIN { print r - w }')" "$LOAD_TARGETS" "$LOAD_INTERVAL_MS"
}

# window NAME SAMPLE WHAT: after WARMUP_S, samples "replies rtt_sum_ns
# lost" with the function SAMPLE, again WINDOW_S later, and prints NAME's
# result; WHAT names the lost ones if their count moved.
window() {
	local c0 s0 l0 c1 s1 l1
	sleep "$WARMUP_S"
	read -r c0 s0 l0 < <($2)
	sleep "$WINDOW_S"
	read -r c1 s1 l1 < <($2)
	((l1 == l0)) || echo "nicwire: $1: $((l1 - l0)) $3 in the window: the reported and wire sets differ" >&2
	result "$1" "$c0" "$c1" "$s0" "$s1"
}

# The prober: the w1 target's RTT histogram count and sum (ns), timeouts.
capture go
ip netns exec "$NA" "$BIN" --no-echo --config.file="$WORK/prober.yml" --web.listen-address=127.0.0.1:9102 \
	--log.level=warn > "$WORK/prober.log" 2>&1 &
P=$!
PIDS+=($P)
sums() {
	ip netns exec "$NA" curl -sf http://127.0.0.1:9102/metrics |
		awk '/^tcp_echo_rtt_seconds_count\{.*target="w1"/ {c=$NF} /^tcp_echo_rtt_seconds_sum\{.*target="w1"/ {s=$NF}
			/^tcp_echo_timeouts_total\{.*target="w1"/ {t=$NF} END {printf "%d %.0f %d\n", c, s * 1e9, t}'
}
window go sums "timeouts"
kill "$P"
wait "$P" 2>/dev/null || true

# The C pinger: its extra connection is the watched one.
capture c
ip netns exec "$NA" "$WORK/floor/pinger" -n "$LOAD_TARGETS" -x 4001 -i $((iv * 1000)) -s 0 -t $((WINDOW_S + WARMUP_S + 30)) \
	10.203.0.2 4000 > "$WORK/pinger.log" 2>&1 &
P=$!
PIDS+=($P)
# pstats: the pinger's extra connection's replies, RTT sum (ns), probes
# given up.
pstats() {
	local line
	line=$(stats "$P" "$WORK/pinger.log")
	echo "$(kv "$line" xrecv) $(kv "$line" xrtt_sum_ns) $(kv "$line" xoverwritten)"
}
window c pstats "probes given up"
