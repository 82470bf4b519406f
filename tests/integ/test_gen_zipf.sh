#!/usr/bin/env bash
# wirecap gen --zipf S: flow sizes drawn from a Zipf distribution (the
# skewed-flows experiment of make bench). The draws are seeded: the same
# command sends the same packets per queue every time; flow 0 (the heaviest)
# sits on queue 0, so queue 0 sends the most. wirecap bench receives them:
# every flow's sequence numbers arrive without duplicates or reordering,
# and the counts reconcile exactly with what gen sent. No rate is checked.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

N=20000
PPS=$(wct_rate 20000)
mapfile -t POOL < <(wct_pool_args)

# the distribution: deterministic, skewed towards queue 0
for i in 1 2; do
	check_ok "gen --zipf 1.2 run $i exits 0" run_in "$WCT_NS_TX" "$WIRECAP" gen \
		-i "$WCT_IF_TX" -c "$N" --pps "$PPS" --flows 64 --zipf 1.2 --quiet \
		--json "$WCT_DIR/z$i.json"
done
q1=$(json '[.queues[].sent] | map(tostring) | join(" ")' <"$WCT_DIR/z1.json")
q2=$(json '[.queues[].sent] | map(tostring) | join(" ")' <"$WCT_DIR/z2.json")
check_eq "gen --zipf: the same per-queue counts every run" "$q1" "$q2"
check_eq "gen --zipf: per-queue counts add up" "$N" \
	"$(json '[.queues[].sent] | add' <"$WCT_DIR/z1.json")"
check_eq "gen --zipf: the summary names the exponent" 1.2 "$(json .zipf <"$WCT_DIR/z1.json")"
read -r s0 s3 <<<"$(json '"\(.queues[0].sent) \(.queues[3].sent)"' <"$WCT_DIR/z1.json")"
check_eq "gen --zipf: queue 0 (the heavy hitters) sends more than queue 3" 1 \
	"$([ "$s0" -gt $((s3 * 13 / 10)) ] && echo 1 || echo "0 ($s0 vs $s3)")"
check_ok "gen without --zipf exits 0" run_in "$WCT_NS_TX" "$WIRECAP" gen \
	-i "$WCT_IF_TX" -c "$N" --pps "$PPS" --flows 64 --quiet --json "$WCT_DIR/rr.json"
check_eq "gen without --zipf: flows round robin, equal queues" "5000 5000 5000 5000" \
	"$(json '[.queues[].sent] | map(tostring) | join(" ")' <"$WCT_DIR/rr.json")"

# received by the engine: per-flow sequences intact, sums exact
rm -f "$WCT_DIR/ready"
wct_bg bp run_in "$WCT_NS_RX" timeout 120 "$WIRECAP" bench -i "$WCT_IF_RX" \
	--idle-exit 1 --flows 64 "${POOL[@]}" --stats-json "$WCT_DIR/b.json" \
	--ready-file "$WCT_DIR/ready" -q
if wct_wait_for "$(wct_tries 300)" 0.1 test -e "$WCT_DIR/ready"; then
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i "$WCT_IF_TX" -c "$N" --pps "$PPS" \
		--flows 64 --zipf 1.2 --quiet --json "$WCT_DIR/z3.json"
	wait "$bp"
	pre=$(json .dev_tx_dropped <"$WCT_DIR/z3.json")
	check_eq "bench: no duplicates" 0 "$(json .duplicates <"$WCT_DIR/b.json")"
	check_eq "bench: no packet out of order in its flow" 0 "$(json .reordered <"$WCT_DIR/b.json")"
	check_eq "bench: delivered + dropped = sent - dropped before XDP" $((N - pre)) \
		"$(json '.delivered + .dropped.total' <"$WCT_DIR/b.json")"
	check_eq "bench: unique = delivered" "$(json .delivered <"$WCT_DIR/b.json")" \
		"$(json .unique <"$WCT_DIR/b.json")"
else
	fail "bench did not start"
fi

check_error "gen: --zipf 0" 'invalid --zipf' \
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i "$WCT_IF_TX" --zipf 0
check_error "gen: --zipf not a number" 'invalid --zipf' \
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i "$WCT_IF_TX" --zipf x
wct_finish
