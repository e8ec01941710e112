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

# bench/lib/table.sh: bench/run.sh's results (R, filled by the phases) and
# the markdown table it prints of them, with a verdict on every goal.
# Sourced by run.sh, which also prints an earlier run's table with it
# (TABLE_FROM).

# ------------------------------------------------------------------ results

declare -A R # results by name, e.g. R[w2.go.cpu_probe_us]
ROWS=()

# r KEY: a result, or n/a.
r() { echo "${R[$1]:-n/a}"; }

# row WORKLOAD METRIC GO_KEY C_KEY GOAL: one table row. GOAL is a verdict
# text or "—". The ratio is GO/C where both are numbers. A row with no
# result on either side (its phases did not run) is left out.
row() {
	[[ -z ${R[$3]+set} && -z ${R[$4]+set} ]] && return 0
	local go=${R[$3]:-n/a} c=${R[$4]:-—} ratio="—"
	if [[ $go =~ ^-?[0-9.]+$ && $c =~ ^-?[0-9.]+$ && $(calc "$c != 0" 0) == 1 ]]; then
		ratio=$(calc "div($go, $c)" 2)
	fi
	ROWS+=("| $1 | $2 | $go | $c | $ratio | $5 |")
}

# verdict VALUE OP LIMIT TEXT: "TEXT: met" or "TEXT: NOT met" (or "n/a").
verdict() {
	if [[ ! $1 =~ ^-?[0-9.]+$ ]]; then
		echo "$4: n/a"
	elif awk "BEGIN { exit !($1 $2 $3) }"; then
		echo "$4: met"
	else
		echo "$4: NOT met"
	fi
}

# ------------------------------------------------------------------- table

# load_rows W X NAME N: the rows of workload W (w2 or w3) with N targets;
# X is its crossed phase (x2 or x3).
#
# The CPU goals compare like with like: the Go prober and the C pinger
# each against the C echo server (X.goc and W.c), the Go and the C echo
# servers each under the C pinger (X.cgo and W.c). Go against Go (W.go)
# is shown too, but the cost of an echo depends on its client: a client
# that sends in bursts lets the server answer several frames per wake-up.
load_rows() {
	local w=$1 x=$2 name=$3 n=$4
	[[ -n ${R[$w.go.rtt_us]+set} ]] && R[$w.go.rtt_ratio]=$(calc "div($(r $w.go.rtt_us), $(r w1.go.xrtt_us))" 2)
	[[ -n ${R[$w.c.rtt_us]+set} ]] && R[$w.c.rtt_ratio]=$(calc "div($(r $w.c.rtt_us), $(r w1.c.xrtt_us))" 2)
	local cpu_ratio echo_ratio
	cpu_ratio=$(calc "div($(r $x.goc.cpu_probe_us), $(r $w.c.cpu_probe_us))" 2)
	echo_ratio=$(calc "div($(r $x.cgo.cpu_echo_us), $(r $w.c.cpu_echo_us))" 2)
	row "$name" "probes/s in window" $w.go.probes_s $w.c.probes_s "—"
	row "$name" "connected at window end" $w.go.connected $w.c.connected "—"
	row "$name" "timeouts in window (C: given up)" $w.go.timeouts $w.c.timeouts "—"
	row "$name" "prober CPU µs/probe, both against the C echo" $x.goc.cpu_probe_us $w.c.cpu_probe_us "$(verdict "$cpu_ratio" "<=" 1.2 "≤ 1.2× C")"
	row "$name" "echo CPU µs/echo, both under the C pinger" $x.cgo.cpu_echo_us $w.c.cpu_echo_us "$(verdict "$echo_ratio" "<=" 1.2 "≤ 1.2× C")"
	row "$name" "prober CPU µs/probe, Go → Go echo (C → C)" $w.go.cpu_probe_us $w.c.cpu_probe_us "—"
	row "$name" "echo CPU µs/echo, Go prober → Go echo (C → C)" $w.go.cpu_echo_us $w.c.cpu_echo_us "—"
	local rss_goal="—"
	if [[ $w == w3 ]]; then
		rss_goal=$(verdict "$(r $w.go.rss_kib_target)" "<=" 4 "≤ 4 KiB")
		if [[ $(r $w.go.connected) != "$((n + 1))/$((n + 1))" || $(r $w.go.timeouts) != 0 ]]; then
			rss_goal="≤ 4 KiB with all connected, 0 timeouts: NOT met"
		fi
	fi
	row "$name" "prober RSS KiB/target, probing before any scrape" $w.go.rss_noscrape_kib_target - "—"
	row "$name" "prober RSS KiB/target after the window and $RSS_SCRAPES more scrapes (C: VmRSS/conn)" $w.go.rss_kib_target $w.c.rss_kib_target "$rss_goal"
	row "$name" "echo RSS KiB/connection" $w.go.rss_kib_conn_e $w.c.rss_kib_conn_e "—"
	row "$name" "reported mean RTT µs" $w.go.rtt_us $w.c.rtt_us "—"
	row "$name" "mean RTT / W1 mean RTT" $w.go.rtt_ratio $w.c.rtt_ratio "$(verdict "$(r $w.go.rtt_ratio)" "<=" 1.2 "≤ 1.2")"
	row "$name" "extra target reported mean RTT µs" $w.go.xrtt_us $w.c.xrtt_us "—"
	row "$name" "extra target wire mean RTT µs" $w.go.wire_us $w.c.wire_us "—"
	local over_goal="—"
	[[ $w == w2 ]] && over_goal=$(verdict "$(r $w.go.over_wire_us)" "<=" 3 "≤ 3 µs")
	row "$name" "extra target reported − wire µs" $w.go.over_wire_us $w.c.over_wire_us "$over_goal"
	row "$name" "extra target send stamp → request on the wire µs" $w.go.send_us $w.c.send_us "—"
	row "$name" "extra target wire mean RTT µs, request timed at its departure" $w.go.dwire_us $w.c.dwire_us "—"
	row "$name" "extra target reported − wire (departure) µs" $w.go.over_dwire_us $w.c.over_dwire_us "—"
	row "$name" "extra target request's loopback transit µs" $w.go.transit_us $w.c.transit_us "—"
	row "$name" "extra target wire mean RTT µs, departure to departure" $w.go.ddwire_us $w.c.ddwire_us "—"
	row "$name" "extra target reported − wire (departures) µs" $w.go.over_ddwire_us $w.c.over_ddwire_us "—"
	row "$name" "extra target reply's loopback transit µs" $w.go.rtransit_us $w.c.rtransit_us "—"
	row "$name" "extra target echo's kernel receive stamp − capture of the request µs" $w.go.rxlag_us - "—"
}

# crossed_rows X W NAME: the RTTs of crossed phase X next to W's C run;
# nothing if X did not run.
crossed_rows() {
	local x=$1 w=$2 name=$3
	[[ -n ${R[$x.goc.rtt_us]+set} || -n ${R[$x.cgo.rtt_us]+set} ]] || return 0
	row "$name" "reported mean RTT µs, Go prober → C echo" $x.goc.rtt_us $w.c.rtt_us "—"
	row "$name" "reported mean RTT µs, C pinger → Go echo" $x.cgo.rtt_us $w.c.rtt_us "—"
	row "$name" "extra wire mean RTT µs, Go prober → C echo" $x.goc.wire_us $w.c.wire_us "—"
	row "$name" "extra wire mean RTT µs, C pinger → Go echo" $x.cgo.wire_us $w.c.wire_us "—"
	row "$name" "extra reported − wire µs, Go prober → C echo" $x.goc.over_wire_us $w.c.over_wire_us "—"
	row "$name" "extra reported − wire (departure) µs, Go prober → C echo" $x.goc.over_dwire_us $w.c.over_dwire_us "—"
}

table() {
	local w1="W1 1 target @${W1_INTERVAL_MS} ms"
	local w2="W2 ${W2_TARGETS} targets @${W2_INTERVAL_MS} ms"
	local w3="W3 ${W3_TARGETS} targets @${W3_INTERVAL_MS} ms"
	R[w1.go.over_goal]=$(verdict "$(r w1.go.over_wire_us)" "<=" 3 "≤ 3 µs")
	echo "| workload | metric | tcpping_exporter | C reference | ratio | goal |"
	echo "|---|---|---|---|---|---|"
	row "$w1" "reported mean RTT µs" w1.go.xrtt_us w1.c.xrtt_us "—"
	row "$w1" "wire mean RTT µs (frames matched)" w1.go.wire_us w1.c.wire_us "—"
	row "$w1" "reported − wire µs" w1.go.over_wire_us w1.c.over_wire_us "$(r w1.go.over_goal)"
	row "$w1" "send stamp → request on the wire µs" w1.go.send_us w1.c.send_us "—"
	row "$w1" "wire mean RTT µs, request timed at its departure (frames matched)" w1.go.dwire_us w1.c.dwire_us "—"
	row "$w1" "reported − wire (departure) µs" w1.go.over_dwire_us w1.c.over_dwire_us "—"
	row "$w1" "request's loopback transit, departure → capture µs" w1.go.transit_us w1.c.transit_us "—"
	row "$w1" "send stamp → request's departure µs" w1.go.dsend_us w1.c.dsend_us "—"
	row "$w1" "wire mean RTT µs, departure to departure (frames matched)" w1.go.ddwire_us w1.c.ddwire_us "—"
	row "$w1" "reported − wire (departures) µs" w1.go.over_ddwire_us w1.c.over_ddwire_us "—"
	row "$w1" "reply's loopback transit, departure → capture µs" w1.go.rtransit_us w1.c.rtransit_us "—"
	row "$w1" "echo's kernel receive stamp − capture of the request µs" w1.go.rxlag_us - "—"
	load_rows w2 x2 "$w2" "$W2_TARGETS"
	crossed_rows x2 w2 "W2 crossed"
	local s2="W2, C pinger slack ${C_SLACK2_US} µs"
	row "$s2" "prober CPU µs/probe against the C echo (Go: its own slack)" x2.goc.cpu_probe_us s2.c.cpu_probe_us "—"
	row "$s2" "C echo CPU µs/echo under this pinger" - s2.c.cpu_echo_us "—"
	row "$s2" "reported mean RTT µs, C echo (Go: its own slack)" x2.goc.rtt_us s2.c.rtt_us "—"
	load_rows w3 x3 "$w3" "$W3_TARGETS"
	row "$w3" "prober RSS KiB/target after the scrape window" w3.go.rss_p_scraped_kib_target - "$(verdict "$(r w3.go.rss_p_scraped_kib_target)" "<=" 4 "≤ 4 KiB")"
	local f goal
	for f in ${SCRAPE_FORMATS//,/ }; do
		goal="—"
		[[ $f == text ]] && goal=$(verdict "$(r w3.go.scrape_text_ms)" "<=" 120 "≤ 120 ms")
		row "$w3" "/metrics scrape median ms, $f" "w3.go.scrape_${f}_ms" - "$goal"
		row "$w3" "/metrics scrape median KiB, $f" "w3.go.scrape_${f}_kib" - "—"
	done
	row "$w3" "prober CPU ms per scrape" w3.go.cpu_scrape_ms - "—"
	row "$w3" "mean RTT µs, window B's quiet slices" w3.go.rtt_quiet_us - "—"
	row "$w3" "mean RTT µs, window B's slices scraped every ${SCRAPE_EVERY} s" w3.go.rtt_scraped_us - "—"
	row "$w3" "mean RTT scraped / not scraped (interleaved slices)" w3.go.rtt_scraped_ratio - "$(verdict "$(r w3.go.rtt_scraped_ratio)" "<=" 1.05 "≤ 1.05")"
	crossed_rows x3 w3 "W3 crossed"
	printf '%s\n' "${ROWS[@]}"
	[[ " $PHASES " == *" f "* ]] && flows_table
	return 0
}

# flows_table: phase f, F_TARGETS targets of F_FLOWS flows against as many
# targets of one flow, in a table of its own: a flow should cost what a
# target costs.
flows_table() {
	local many="$F_TARGETS × $F_FLOWS flows" one="$((F_TARGETS * F_FLOWS)) × 1 flow"
	local cpu_ratio rss_ratio
	cpu_ratio=$(calc "div($(r f8.go.cpu_probe_us), $(r f1.go.cpu_probe_us))" 2)
	rss_ratio=$(calc "div($(r f8.go.rss_kib_target), $(r f1.go.rss_kib_target))" 2)
	ROWS=()
	row "F @${F_INTERVAL_MS} ms" "probes/s in window" f8.go.probes_s f1.go.probes_s "—"
	row "F @${F_INTERVAL_MS} ms" "connected at window end" f8.go.connected f1.go.connected "—"
	row "F @${F_INTERVAL_MS} ms" "timeouts in window" f8.go.timeouts f1.go.timeouts "—"
	row "F @${F_INTERVAL_MS} ms" "prober CPU µs/probe, Go echo" f8.go.cpu_probe_us f1.go.cpu_probe_us "$(verdict "$cpu_ratio" "<=" 1.1 "≤ 1.1× one flow")"
	row "F @${F_INTERVAL_MS} ms" "prober RSS KiB/flow, probing before any scrape" f8.go.rss_noscrape_kib_target f1.go.rss_noscrape_kib_target "—"
	row "F @${F_INTERVAL_MS} ms" "prober RSS KiB/flow after the window" f8.go.rss_kib_target f1.go.rss_kib_target "$(verdict "$rss_ratio" "<=" 1.1 "≤ 1.1× one flow")"
	row "F @${F_INTERVAL_MS} ms" "reported mean RTT µs" f8.go.rtt_us f1.go.rtt_us "—"
	echo
	echo "| workload | metric | $many | $one | ratio | goal |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
}

# header: the run's conditions, above the table.
header() {
	echo
	echo "tcpping_exporter benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "windows: W1 ${W1_WINDOW} s, W2 ${W2_WINDOW} s, W3 ${W3_WINDOW} s; warm-up ${WARMUP} s; empty prober RSS $(r base.rss) KiB; GO_ENV \"${GO_ENV}\"; prober flags \"${PROBER_FLAGS}\"; taskset prober \"${TASKSET_PROBER}\" echo \"${TASKSET_ECHO}\";" \
		"capture drops (go/C): w1 $(r w1.go.cap_drops)/$(r w1.c.cap_drops), w2 $(r w2.go.cap_drops)/$(r w2.c.cap_drops), x2 $(r x2.goc.cap_drops)/$(r x2.cgo.cap_drops), s2 -/$(r s2.c.cap_drops), w3 $(r w3.go.cap_drops)/$(r w3.c.cap_drops), x3 $(r x3.goc.cap_drops)/$(r x3.cgo.cap_drops);" \
		"wire frames matched of expected: w1 go $(r w1.go.wire_frames), C $(r w1.c.wire_frames); w2 go $(r w2.go.wire_frames), C $(r w2.c.wire_frames);" \
		"departures matched: w1 go $(r w1.go.dwire_frames), C $(r w1.c.dwire_frames); w2 go $(r w2.go.dwire_frames), C $(r w2.c.dwire_frames);" \
		"x2 go→C $(r x2.goc.wire_frames), C→go $(r x2.cgo.wire_frames); s2 C $(r s2.c.wire_frames); w3 go $(r w3.go.wire_frames), C $(r w3.c.wire_frames);" \
		"x3 go→C $(r x3.goc.wire_frames), C→go $(r x3.cgo.wire_frames); C pinger slack ${C_SLACK_US} µs (s2: ${C_SLACK2_US} µs)"
	echo
}
