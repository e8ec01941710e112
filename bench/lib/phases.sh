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

# bench/lib/phases.sh: bench/run.sh's phases. A Go phase runs the
# tcpping_exporter prober against an echo server (go_phase), a C phase the
# C pinger (c_phase); each leaves its figures in R. Sourced by run.sh.

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
	log "$id: prober memory then: $(memstats "$purl" $((n + 1)))"
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
	log "$id: prober memory then: $(memstats "$purl" $((n + 1)))"
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
