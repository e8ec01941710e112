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

# bench/stampcost.sh: what a kernel software transmit timestamp costs the
# packet it stamps, on lo. One prober target at 10 ms against the echo
# server of the same binary, with tx_timestamps on and then off; for each,
# the kernel's tracepoints net_dev_start_xmit (the loopback driver is about
# to take the segment) and netif_rx (it hands the segment to the receiving
# side, where the receive timestamp and libpcap's capture time are taken)
# are recorded for TRACE_S seconds. Between the two, a stamped segment also
# gets its timestamp: the kernel reads the clock, then queues the stamp on
# the socket's error queue and wakes its pollers, and only then passes the
# segment on. That tail is in every RTT measured from a software transmit
# timestamp, and in none measured from libpcap's captures.
#
# Prints, per mode, the mean and median microseconds from net_dev_start_xmit
# to netif_rx of the requests (the prober's segments, stamped when
# tx_timestamps is on) and of the replies (never stamped). Needs root and
# tracefs. All traffic is on 127.0.0.1, ports PORT..PORT+2.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
: "${BIN:=}" "${PORT:=24101}" "${TRACE_S:=2}"
T=/sys/kernel/tracing
[[ -d $T/events/net ]] || mount -t tracefs nodev "$T" 2>/dev/null || true
[[ -w $T/events/net/netif_rx/enable ]] || { echo "stampcost: tracefs at $T not writable (needs root)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/tcpping-stampcost.XXXXXX)
if [[ -z $BIN ]]; then
	(cd "$REPO" && go build -o "$WORK/tcpping_exporter" .)
	BIN=$WORK/tcpping_exporter
fi
EVENTS="net/net_dev_start_xmit net/netif_rx"
PIDS=()
cleanup() {
	echo 0 > "$T/tracing_on"
	for e in $EVENTS; do echo 0 > "$T/events/$e/enable"; done
	((${#PIDS[@]})) && kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
echo 'targets: []' > "$WORK/empty.yml"
"$BIN" --config.file="$WORK/empty.yml" --web.listen-address="127.0.0.1:$((PORT + 1))" \
	--echo.listen-address="127.0.0.1:$PORT" --log.level=warn > "$WORK/echo.log" 2>&1 &
PIDS+=($!)

for tx in true false; do
	cat > "$WORK/p.yml" <<YML
modules:
  m: {interval: 10ms, kernel_timestamps: true, tx_timestamps: $tx}
targets:
  - {name: t, address: "127.0.0.1:$PORT", module: m}
YML
	"$BIN" --no-echo --config.file="$WORK/p.yml" --web.listen-address="127.0.0.1:$((PORT + 2))" \
		--log.level=warn > "$WORK/prober.log" 2>&1 &
	p=$!
	sleep 2
	echo 0 > "$T/tracing_on"
	echo > "$T/trace"
	for e in $EVENTS; do echo 1 > "$T/events/$e/enable"; done
	echo 'name == "lo"' > "$T/events/net/net_dev_start_xmit/filter"
	echo 1 > "$T/tracing_on"
	sleep "$TRACE_S"
	echo 0 > "$T/tracing_on"
	for e in $EVENTS; do echo 0 > "$T/events/$e/enable"; done
	echo 0 > "$T/events/net/net_dev_start_xmit/filter"
	cp "$T/trace" "$WORK/trace.$tx"
	ls "/proc/$p/task" > "$WORK/tids.$tx"
	kill "$p"
	wait "$p" 2>/dev/null || true
	# The requests are the segments the prober's threads sent.
	/usr/bin/python3 - "$WORK/trace.$tx" "$WORK/tids.$tx" "$tx" <<'PY'
import re, statistics as st, sys
trace, tids, tx = sys.argv[1:]
prober = set(open(tids).read().split())
start, req, rep = {}, [], []
for line in open(trace):
    m = re.match(r'\s*.+?-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+): (\w+):.*skbaddr=(\w+)', line)
    if not m:
        continue
    tid, t, ev, skb = m.group(1), float(m.group(2)) * 1e6, m.group(3), m.group(4)
    if ev == 'net_dev_start_xmit':
        start[skb] = (t, tid)
    elif ev == 'netif_rx' and skb in start:
        t0, tid0 = start.pop(skb)
        (req if tid0 in prober else rep).append(t - t0)
def f(v):
    return 'n=%d mean %.2f µs, median %.1f µs' % (len(v), st.mean(v), st.median(v)) if v else 'n=0'
print('tx_timestamps: %-5s  requests (prober): %s;  replies (echo): %s' % (tx, f(req), f(rep)))
if not req or not rep:
    sys.exit('stampcost: no segments traced')
PY
done
