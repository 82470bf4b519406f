#!/usr/bin/env bash
# Offloading benchmark: a long-term imbalance, without and with buddy-group
# offloading, on the same traffic in one run.
#
# All traffic is aimed at queue 0 of a 4-queue veth (RSS gone wrong: one
# elephant queue); 4 workers; each worker pays a per-packet cost as a sleep
# per chunk (bench --cost-mode sleep), so one worker sustains 1e9 / COST_NS
# packets per second without using a CPU (four workers fit on 2 cores).
# The default: 25 us per packet, 40 kpps per worker, 100 kpps offered: one
# worker can do 40% of it.
#
# Printed per run: packets sent, captured, lost (sent - captured, with the
# cause), reordered across workers, bucket moves, returns, time from the
# first packet to the first and the last move (converged), and the pool's
# high-water mark; then the ratio of captured fractions.
#
# Environment: WC_BUILD, BENCH_RATE (default 100000), BENCH_COST_NS (25000),
# BENCH_N (packets, default 800000), BENCH_POOL_CHUNKS (default 3125: 200k
# frames per queue).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"
WCT_NAME=bench-offload

RATE=${BENCH_RATE:-100000}
COST=${BENCH_COST_NS:-25000}
N=${BENCH_N:-800000}
CHUNKS=${BENCH_POOL_CHUNKS:-3125}

[ "$(id -u)" -eq 0 ] || { echo "bench-offload: needs root" >&2; exit 1; }
[ -x "$WIRECAP" ] || { echo "bench-offload: missing $WIRECAP (make)" >&2; exit 1; }

wct_init
wct_make_veth
IF=$WCT_IF_RX

run() { # NAME on|off
	local name=$1 off=$2 bp
	run_in "$WCT_NS_RX" "$WIRECAP" attach "$IF" --mode native --workers 4 --offload "$off" >/dev/null ||
		return 1
	rm -f "$WCT_DIR/ready"
	run_in "$WCT_NS_RX" timeout 120 "$WIRECAP" bench -i "$IF" --idle-exit 1.5 \
		--cost-ns "$COST" --cost-mode sleep --pool-chunks "$CHUNKS" --flows 64 --expect "$N" \
		--stats-json "$WCT_DIR/$name.json" --ready-file "$WCT_DIR/ready" -q &
	bp=$!
	wct_wait_for 300 0.1 test -f "$WCT_DIR/ready" || return 1
	run_in "$WCT_NS_TX" timeout 120 "$WIRECAP" gen -i "$WCT_IF_TX" -c "$N" --pps "$RATE" \
		--weights 1,0,0,0 --flows 64 --quiet --json - >"$WCT_DIR/$name.gen"
	wait "$bp"
	run_in "$WCT_NS_RX" "$WIRECAP" detach "$IF" >/dev/null
}

echo "# offload benchmark: $N packets at $RATE pps, all on queue 0 of 4; 4 workers,"
echo "# $COST ns per packet (sleep per chunk): one worker sustains $((1000000000 / COST)) pps"
echo "# path: veth, native XDP, AF_XDP copy mode; pool $((CHUNKS * 64)) frames per queue"
printf '%-8s %9s %9s %9s %-15s %9s %6s %7s %9s %10s %8s\n' offload sent captured lost \
	cause reordered moves returns first_s converged_s hwm%
for mode in off on; do
	run "$mode" "$mode" || { echo "bench-offload: run $mode failed" >&2; exit 1; }
	j=$WCT_DIR/$mode.json
	sent=$(jq .sent "$WCT_DIR/$mode.gen")
	jq -r --arg m "$mode" --argjson sent "$sent" '
		[$m, $sent, .unique, ($sent - .unique),
		 (if .dropped.total == 0 then "-" else
		  (.dropped | to_entries | map(select(.value > 0 and .key != "total")) |
		   map(.key) | join(",")) end),
		 .reordered_global, .moves, .returns,
		 (if .first_move_s < 0 then "-" else (.first_move_s * 100 | round / 100) end),
		 (if .converged_s < 0 then "-" else (.converged_s * 100 | round / 100) end),
		 ((.queues[0].hwm * 1000 / .queues[0].frames | round) / 10)] |
		@tsv' "$j" | awk -F'\t' '{ printf "%-8s %9s %9s %9s %-15s %9s %6s %7s %9s %10s %8s\n",
			$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }'
	eval "cap_$mode=$(jq .unique "$j")"
done
# shellcheck disable=SC2154
awk -v a="$cap_on" -v b="$cap_off" -v n="$N" 'BEGIN {
	printf "captured fraction: offload off %.3f, on %.3f; ratio on/off %.2f\n",
		b / n, a / n, b ? a / b : 0 }'
wct_finish >/dev/null
