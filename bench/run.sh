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

for lib in measure table; do
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

# ------------------------------------------------------------------ phases

# go_config FILE N INTERVAL_MS PORT EXTRA_NAME EXTRA_PORT: N targets on
# HOST:PORT plus one named EXTRA_NAME on HOST:EXTRA_PORT. The N targets have
# FLOWS_NOW flows (default 1); the extra one always has one, as the wire
# capture matches one connection's sequence numbers, and a fixed timeout of
# EXTRA_TIMEOUT: a timeout on it would break the match of reply k to seq k
# (go_wire), and a machine shared with other work can stall a reply past
# the adaptive timeout's 100 ms floor. How an RTT is measured does not
# depend on the timeout.
go_config() {
	local f=$1 n=$2 iv=$3 port=$4 xname=$5 xport=$6 i
	{
		echo "modules:"
		echo "  bench:"
		echo "    interval: ${iv}ms"
		echo "    ip_protocol: ip4"
		echo "    kernel_timestamps: $KERNEL_TIMESTAMPS"
		echo "    tx_timestamps: $TX_TIMESTAMPS"
		echo "    echo_protocol: $ECHO_PROTOCOL"
		if ((${FLOWS_NOW:-1} > 1)); then echo "    flows: $FLOWS_NOW"; fi
		if [[ -n $EXTRA_TIMEOUT ]] || ((${FLOWS_NOW:-1} > 1)); then
			echo "  extra:"
			echo "    interval: ${iv}ms"
			echo "    ip_protocol: ip4"
			echo "    kernel_timestamps: $KERNEL_TIMESTAMPS"
			echo "    tx_timestamps: $TX_TIMESTAMPS"
			echo "    echo_protocol: $ECHO_PROTOCOL"
			if [[ -n $EXTRA_TIMEOUT ]]; then
				echo "    adaptive: false"
				echo "    timeout: $EXTRA_TIMEOUT"
				echo "    max_timeout: $EXTRA_TIMEOUT"
			fi
		fi
		echo "targets:"
		for ((i = 0; i < n; i++)); do
			printf '  - {name: t%05d, address: "%s:%d", module: bench}\n' "$i" "$HOST" "$port"
		done
		printf '  - {name: %s, address: "%s:%d", module: %s}\n' "$xname" "$HOST" "$xport" "$( [[ -n $EXTRA_TIMEOUT ]] || ((${FLOWS_NOW:-1} > 1)) && echo extra || echo bench)"
	} >"$f"
}

# echo_start KIND ID N PORT0: an echo server, Go (tcpping_exporter --no-...
# with no targets) or C, on ports PORT0 (main) and PORT0+1 (extra), for N+1
# connections. Sets EPID, EKIND, EID and EURL (Go: its /metrics).
echo_start() {
	EKIND=$1 EID=$2
	local n=$3 pe=$4 px=$(($4 + 1)) i
	if [[ $EKIND == go ]]; then
		EURL="http://$HOST:$(($4 + 2))/metrics"
		start "$EID.echo" $(pin echo) env $GO_ENV "$BIN" --config.file="$WORKDIR/empty.yml" \
			--web.listen-address="$HOST:$(($4 + 2))" \
			--echo.listen-address="$HOST:$pe" --echo.listen-address="$HOST:$px" \
			--echo.max-connections=$((n + 100)) --log.level=warn
		EPID=$LAST_PID
		promstat wait -url "$EURL" -connected 0 -timeout 20s || fail "$EID: echo server did not start"
		snap "$EURL" >/dev/null
	else
		start "$EID.echo" $(pin echo) "$WORKDIR/floor/echo" -l "$HOST:$pe" -l "$HOST:$px" -t "$MAX_RUNTIME"
		EPID=$LAST_PID
		for i in $(seq 100); do
			grep -qs listening "$WORKDIR/$EID.echo.log" && break
			sleep 0.05
		done
	fi
	ERSS0=$(rss_kib "$EPID")
}

# echo_count: "frames=N t=T" from the running echo server.
echo_count() {
	local line
	if [[ $EKIND == go ]]; then
		line=$(snap "$EURL")
		echo "frames=$(kv "$line" echo_frames) t=$(kv "$line" t)"
	else
		stats "$EPID" "$WORKDIR/$EID.echo.log"
	fi
}

# echo_results E0 E1 C0 C1 N: the echo server's CPU per echo (the second
# process of the cpu_now lines) and RSS per connection.
echo_results() {
	R[$EID.cpu_echo_us]=$(calc "div($(cpu_rate "$3" "$4" 2), $(rate frames "$1" "$2")) * 1e6" 2)
	R[$EID.rss_e]=$(rss_kib "$EPID")
	R[$EID.rss_kib_conn_e]=$(calc "div(${R[$EID.rss_e]} - $ERSS0, $5 + 1)" 2)
}

# go_phase ID ECHO N INTERVAL_MS WINDOW PORT0 [scrapes]: the tcpping_exporter
# prober process (--no-echo, N targets plus one named extra on its own echo
# port, captured on the wire) against an echo server of kind ECHO (go or
# c). Results go to R[ID.*]; with "scrapes", a second window is scraped.
# With FLOWS_NOW=F the N targets have F flows each: N x F connections, and
# the per-target results are per connection (flow).
go_phase() {
	local id=$1 ekind=$2 targets=$3 iv=$4 window=$5 p=$6 scrapes=${7:-}
	local n=$((targets * ${FLOWS_NOW:-1}))
	local pe=$p px=$((p + 1)) wp=$((p + 3))
	local purl="http://$HOST:$wp/metrics"
	log "$id: tcpping_exporter prober, $targets targets x ${FLOWS_NOW:-1} flows + 1 extra @ ${iv} ms, $ekind echo server"
	go_config "$WORKDIR/$id.yml" "$targets" "$iv" "$pe" extra "$px"
	echo_start "$ekind" "$id" "$n" "$pe"
	cap_start "$px" "$id"
	start "$id.prober" $(pin prober) env $GO_ENV "$BIN" --no-echo --config.file="$WORKDIR/$id.yml" \
		--web.listen-address="$HOST:$wp" --log.level=warn $PROBER_FLAGS
	local ppid=$LAST_PID
	# Wait for the connections without scraping, so that the first RSS
	# reading shows probing alone, before any scrape garbage.
	wait_established $((n + 1)) $((30 + n / 200)) "$pe" "$px" || fail "$id: not all targets connected"
	sleep "$WARMUP"
	R[$id.rss_p_noscrape]=$(rss_kib "$ppid")
	R[$id.rss_noscrape_kib_target]=$(calc "div(${R[$id.rss_p_noscrape]} - ${R[base.rss]}, $n + 1)" 2)
	log "$id: prober RSS ${R[$id.rss_p_noscrape]} KiB before any scrape: ${R[$id.rss_noscrape_kib_target]} KiB/target"
	promstat wait -url "$purl" -connected $((n + 1)) -timeout 10s || fail "$id: not all targets connected"

	# Window A: no scrape but the two that delimit it.
	local s0 e0 c0 c1 s1 e1
	s0=$(snap "$purl" extra)
	e0=$(echo_count)
	c0=$(cpu_now "$ppid" "$EPID")
	sleep "$window"
	c1=$(cpu_now "$ppid" "$EPID")
	s1=$(snap "$purl" extra)
	e1=$(echo_count)
	# The RSS of the goal row: after RSS_SCRAPES more scrapes a second
	# apart, on top of the few above, as a scraped exporter runs (scrape
	# garbage raises the heap peak).
	local k
	for ((k = 0; k < RSS_SCRAPES; k++)); do
		sleep 1
		snap "$purl" >/dev/null
	done
	R[$id.rss_p]=$(rss_kib "$ppid")
	log "$id: prober RSS ${R[$id.rss_p]} KiB after window A and $RSS_SCRAPES more scrapes: $(calc "div(${R[$id.rss_p]} - ${R[base.rss]}, $n + 1)" 2) KiB/target"
	echo "A0 $s0" >>"$WORKDIR/$id.snaps"
	echo "A1 $s1" >>"$WORKDIR/$id.snaps"
	go_results "$id" "$n" "$s0" "$s1" "$c0" "$c1"
	echo_results "$e0" "$e1" "$c0" "$c1" "$n"

	if [[ -n $scrapes ]]; then
		go_scrapes "$id" "$n" "$purl" "$window" "$ppid"
	fi

	stop "$ppid"
	cap_stop "$id"
	R[$id.cap_drops]=$CAP_DROPS
	stop "$EPID"
	go_wire "$id" "$px" "$s0" "$s1"
}

# go_scrapes ID N URL WINDOW PPID: window B, as long as A, cut into
# 2 x SCRAPE_PAIRS slices, alternately quiet and scraped every SCRAPE_EVERY
# s (quiet, scraped, scraped, quiet, ...), cycling through SCRAPE_FORMATS.
# The scrape impact compares the scraped slices with the quiet ones of the
# same window, not window B with window A: one minute after another, the
# mean RTT on a shared VM can move by more than the 5 % being measured.
go_scrapes() {
	local id=$1 n=$2 purl=$3 window=$4 ppid=$5 f line slice
	slice=$(calc "div($window, 2 * $SCRAPE_PAIRS)" 3)
	log "$id: scrape window, ${window} s in $((2 * SCRAPE_PAIRS)) slices of ${slice} s, alternately quiet and scraped every ${SCRAPE_EVERY} s"
	promstat impact -url "$purl" -extra extra -every "${SCRAPE_EVERY}s" -slice "${slice}s" -pairs "$SCRAPE_PAIRS" \
		-formats "$SCRAPE_FORMATS" >"$WORKDIR/$id.scrapes" || fail "$id: scrapes"
	R[$id.rss_p_scraped]=$(rss_kib "$ppid")
	R[$id.rss_p_scraped_kib_target]=$(calc "div(${R[$id.rss_p_scraped]} - ${R[base.rss]}, $n + 1)" 2)
	log "$id: prober RSS ${R[$id.rss_p_scraped]} KiB after the scrape window: ${R[$id.rss_p_scraped_kib_target]} KiB/target"
	for f in ${SCRAPE_FORMATS//,/ }; do
		line=$(grep "^format=$f " "$WORKDIR/$id.scrapes")
		R[$id.scrape_${f}_ms]=$(calc "$(kv "$line" median_ms)" 1)
		R[$id.scrape_${f}_kib]=$(calc "$(kv "$line" median_bytes) / 1024" 0)
	done
	line=$(grep "^impact " "$WORKDIR/$id.scrapes")
	R[$id.rtt_quiet_us]=$(calc "$(kv "$line" quiet_rtt_us)" 1)
	R[$id.rtt_scraped_us]=$(calc "$(kv "$line" scraped_rtt_us)" 1)
	R[$id.rtt_scraped_ratio]=$(calc "$(kv "$line" ratio)" 3)
	R[$id.cpu_scrape_ms]=$(calc "$(kv "$line" cpu_ms_per_scrape)" 1)
}

# go_results ID N S0 S1 C0 C1: the prober's numbers over window A.
go_results() {
	local id=$1 n=$2 s0=$3 s1=$4 c0=$5 c1=$6 probes_s
	probes_s=$(calc "$(rate sent "$s0" "$s1") + $(rate x_sent "$s0" "$s1")" 3)
	R[$id.probes_s]=$(calc "$probes_s" 0)
	R[$id.cpu_rate_p]=$(cpu_rate "$c0" "$c1" 1)
	R[$id.cpu_probe_us]=$(calc "div(${R[$id.cpu_rate_p]}, $probes_s) * 1e6" 2)
	R[$id.rtt_us]=$(calc "div($(kv "$s1" rtt_sum) - $(kv "$s0" rtt_sum), $(kv "$s1" rtt_count) - $(kv "$s0" rtt_count)) * 1e6" 1)
	R[$id.xrtt_us]=$(calc "div($(kv "$s1" x_rtt_sum) - $(kv "$s0" x_rtt_sum), $(kv "$s1" x_rtt_count) - $(kv "$s0" x_rtt_count)) * 1e6" 1)
	R[$id.timeouts]=$(calc "$(kv "$s1" timeouts) + $(kv "$s1" x_timeouts) - $(kv "$s0" timeouts) - $(kv "$s0" x_timeouts)" 0)
	R[$id.connected]=$(calc "$(kv "$s1" connected) + $(kv "$s1" x_connected)" 0)/$((n + 1))
	R[$id.rss_kib_target]=$(calc "div(${R[$id.rss_p]} - ${R[base.rss]}, $n + 1)" 2)
}

# go_wire ID PORT S0 S1: the extra target's reported mean vs its wire mean,
# over exactly the replies received between the two snapshots: seq numbers
# start at 1 and, without timeouts, reply k carries seq k.
go_wire() {
	local id=$1 port=$2 s0=$3 s1=$4 lo hi
	lo=$(calc "$(kv "$s0" x_rtt_count) + 1" 0)
	hi=$(calc "$(kv "$s1" x_rtt_count)" 0)
	wire_results "$id" "$port" "$lo" "$hi"
	if [[ $(kv "$s1" x_timeouts) != 0 || $(kv "$s1" x_late) != 0 ]]; then
		approximate "$id"
	fi
}

# c_phase ID ECHO N INTERVAL_MS WINDOW PORT0 [SLACK_US]: the C pinger at
# the same load against an echo server of kind ECHO (c or go), waking up to
# SLACK_US (default C_SLACK_US) after a send is due.
c_phase() {
	local id=$1 ekind=$2 n=$3 iv=$4 window=$5 p=$6 slack=${7:-$C_SLACK_US}
	local pe=$p px=$((p + 1)) limit=$((window + WARMUP + 60 + n / 200)) i
	log "$id: C pinger, $n connections + 1 extra @ ${iv} ms, $ekind echo server"
	echo_start "$ekind" "$id" "$n" "$pe"
	cap_start "$px" "$id"
	start "$id.pinger" $(pin prober) "$WORKDIR/floor/pinger" -n "$n" -x "$px" -i $((iv * 1000)) -s "$slack" -t "$limit" "$HOST" "$pe"
	local ppid=$LAST_PID
	for i in $(seq $((200 + n / 20))); do
		grep -qs connected "$WORKDIR/$id.pinger.log" && break
		kill -0 "$ppid" 2>/dev/null || fail "$id: C pinger: $(cat "$WORKDIR/$id.pinger.log")"
		sleep 0.05
	done
	sleep "$WARMUP"
	local s0 e0 c0 c1 s1 e1 probes_s
	s0=$(stats "$ppid" "$WORKDIR/$id.pinger.log")
	e0=$(echo_count)
	c0=$(cpu_now "$ppid" "$EPID")
	sleep "$window"
	c1=$(cpu_now "$ppid" "$EPID")
	s1=$(stats "$ppid" "$WORKDIR/$id.pinger.log")
	e1=$(echo_count)
	R[$id.rss_p]=$(rss_kib "$ppid")
	echo_results "$e0" "$e1" "$c0" "$c1" "$n"
	stop "$ppid"
	cap_stop "$id"
	R[$id.cap_drops]=$CAP_DROPS
	stop "$EPID"

	probes_s=$(calc "$(rate sent "$s0" "$s1") + $(rate xsent "$s0" "$s1")" 3)
	R[$id.probes_s]=$(calc "$probes_s" 0)
	R[$id.cpu_probe_us]=$(calc "div($(cpu_rate "$c0" "$c1" 1), $probes_s) * 1e6" 2)
	R[$id.rtt_us]=$(calc "div($(kv "$s1" rtt_sum_ns) - $(kv "$s0" rtt_sum_ns), $(kv "$s1" recv) - $(kv "$s0" recv)) / 1e3" 1)
	R[$id.xrtt_us]=$(calc "div($(kv "$s1" xrtt_sum_ns) - $(kv "$s0" xrtt_sum_ns), $(kv "$s1" xrecv) - $(kv "$s0" xrecv)) / 1e3" 1)
	R[$id.timeouts]=$(calc "$(kv "$s1" overwritten) - $(kv "$s0" overwritten)" 0)
	R[$id.connected]="$(kv "$s1" conns)/$((n + 1))"
	R[$id.rss_kib_target]=$(calc "div(${R[$id.rss_p]}, $n + 1)" 2)

	local lo hi
	lo=$(($(kv "$s0" xrecv) + 1))
	hi=$(kv "$s1" xrecv)
	wire_results "$id" "$px" "$lo" "$hi"
	[[ $(kv "$s1" xoverwritten) == 0 ]] || approximate "$id"
}

# wire_results ID PORT LO HI: the wire rows of ID's extra connection (on
# PORT) over seq LO..HI, from the capture (wiretruth), next to its
# reported mean RTT (R[ID.xrtt_us]).
wire_results() {
	local id=$1 lo=$3 hi=$4 line
	line=$(wire "$id" "$2" "$lo" "$hi")
	echo "$line" >"$WORKDIR/$id.wire"
	R[$id.wire_us]=$(calc "$(kv "$line" mean_us)" 1)
	R[$id.wire_frames]="$(kv "$line" frames)/$((hi - lo + 1))"
	R[$id.over_wire_us]=$(calc "${R[$id.xrtt_us]} - ${R[$id.wire_us]}" 1)
	R[$id.send_us]=$(calc "$(kv "$line" send_mean_us)" 1)
	depart_results "$id" "$line" "$lo" "$hi"
}

# depart_results ID LINE LO HI: the rows of the requests timed at their
# departure (txcap) from wiretruth's LINE, over seq LO..HI.
depart_results() {
	local id=$1 line=$2
	R[$id.dwire_us]=$(calc "$(kv "$line" depart_mean_us)" 1)
	R[$id.dwire_frames]="$(kv "$line" depart_frames)/$(($4 - $3 + 1))"
	R[$id.over_dwire_us]=$(calc "${R[$id.xrtt_us]} - ${R[$id.dwire_us]}" 1)
	R[$id.transit_us]=$(calc "$(kv "$line" lo_transit_mean_us)" 1)
	R[$id.dsend_us]=$(calc "$(kv "$line" send_depart_mean_us)" 1)
	R[$id.ddwire_us]=$(calc "$(kv "$line" dd_mean_us)" 1)
	R[$id.over_ddwire_us]=$(calc "${R[$id.xrtt_us]} - ${R[$id.ddwire_us]}" 1)
	R[$id.rtransit_us]=$(calc "$(kv "$line" reply_transit_mean_us)" 1)
	R[$id.rxlag_us]=$(calc "$(kv "$line" rx_stamp_lag_mean_us)" 1)
}

# approximate ID: the extra connection had a timeout, so reply k no longer
# carries seq k: the reported and wire means cover different probes.
approximate() {
	R[$1.wire_frames]+=" (extra had timeouts: not the same probes)"
	R[$1.over_wire_us]+=" (approx.)"
	R[$1.over_dwire_us]+=" (approx.)"
	R[$1.over_ddwire_us]+=" (approx.)"
}

# baseline: RSS of a prober process with no targets, after a scrape.
baseline() {
	local wp=$((PORT_BASE + 40))
	start base $(pin prober) env $GO_ENV "$BIN" --no-echo --config.file="$WORKDIR/empty.yml" \
		--web.listen-address="$HOST:$wp" --log.level=warn $PROBER_FLAGS
	local pid=$LAST_PID
	promstat wait -url "http://$HOST:$wp/metrics" -connected 0 -timeout 20s || fail "baseline did not start"
	sleep 1
	snap "http://$HOST:$wp/metrics" >/dev/null
	R[base.rss]=$(rss_kib "$pid")
	log "empty prober RSS ${R[base.rss]} KiB"
	stop "$pid"
}

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
