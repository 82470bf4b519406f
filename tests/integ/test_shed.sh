#!/usr/bin/env bash
# wirecap forward under overload: admission control in XDP (issue 15).
#
#   client --veth-- [A  forward  B] --veth-- server
#
# The middlebox is made slower than the traffic (--cost-ns: the worker
# sleeps 1 ms per packet, 1,000 packets per second at most, whatever the
# machine's speed), with a small latency budget. With shedding (the
# default) the XDP program refuses packets while a queue's backlog is past
# its budget: shed > 0. Without it (--no-shed) nothing is shed and the
# overload is dropped as pool exhausted. Both ways every packet reconciles
# exactly: received (== sent, less what the client's veth dropped) ==
# forwarded + dropped by rule + dropped by cause + shed + passed, and the
# server receives exactly the forwarded ones. No rate is asserted.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
for t in jq ethtool; do
	command -v "$t" >/dev/null || { fail "$t is not installed (make deps)"; wct_finish; }
done

wct_make_middlebox
MAC_S=$(ip -n "$NS_S" -br link show "$IF_S" | awk '{print $3}')
D=$WCT_DIR
N=$(wct_count 20000)

mb_packets() { run_in "$NS_M" "$WIRECAP" status "$IF_A" --json 2>/dev/null | jq -r '.totals.packets // 0'; }
mb_saw() { [ "$(mb_packets)" -ge "$1" ]; }
srv_rx() { ip -n "$NS_S" -j -s link show "$IF_S" | jq '.[0].stats64.rx.packets'; }

# overload NAME FORWARD-ARGS...: N packets at the generator's top speed
# into a middlebox of 1 kpps with a 64-frame budget per queue
overload() {
	local name=$1 pid rc=0 sent vd s0 j=$D/$1.json
	shift
	rm -f "$D/$name.ready"
	s0=$(srv_rx)
	wct_bg pid nsenter --net=/run/netns/"$NS_M" -- timeout 300 "$WIRECAP" forward \
		-i "$IF_A" -o "$IF_B" --workers 1 --cost-ns 1000000 \
		--latency-budget-ms 1 --expected-pps 100000 "$@" \
		--ready-file "$D/$name.ready" --stats-json "$j" -q 2>"$D/$name.err"
	if ! wct_wait_for "$(wct_tries 300)" 0.1 test -e "$D/$name.ready"; then
		fail "$name: forward did not start: $(tr '\n' ' ' <"$D/$name.err")"
		kill "$pid" 2>/dev/null
		return
	fi
	run_in "$NS_C" timeout 60 "$WIRECAP_GEN" gen -i "$IF_C" --quiet -c "$N" --flows 64 \
		$(wct_pace) --dst-mac "$MAC_S" --json "$D/$name.gen.json"
	sent=$(jq .sent "$D/$name.gen.json")
	vd=$(jq .tx_busy_drops "$D/$name.gen.json")
	wct_wait_for "$(wct_tries 300)" 0.1 mb_saw $((sent - vd)) ||
		log "$name: the middlebox saw $(mb_packets) of $((sent - vd)) packets"
	kill -INT "$pid" 2>/dev/null
	timeout 60 tail --pid="$pid" -f /dev/null
	wait "$pid" || rc=$?
	check_eq "$name: forward exits 0" 0 "$rc"
	if ! jq -e . "$j" >/dev/null 2>&1; then
		fail "$name: no accounting JSON: $(tr '\n' ' ' <"$D/$name.err" | cut -c1-300)"
		return
	fi
	a() { jq ".directions[0].$1" "$j"; }
	check_eq "$name: generator sent $N" "$N" "$sent"
	check_eq "$name: received == sent (less the client veth's drops)" "$((sent - vd))" "$(a received)"
	check_eq "$name: received == forwarded + dropped by rule + dropped by cause + shed + passed" \
		"$(a received)" "$(jq '.directions[0] | .forwarded + .dropped_by_rule + .dropped.total + .shed + .passed' "$j")"
	check_eq "$name: unaccounted" 0 "$(a unaccounted)"
	check_eq "$name: the engine's own accounting (shed included) is exact" 0 "$(a engine.unaccounted)"
	check_eq "$name: shed per queue adds up" "$(a shed)" "$(jq '[.directions[0].engine.queues[].shed] | add' "$j")"
	wct_wait_for 50 0.1 test "$(srv_rx)" -ge $((s0 + $(a forwarded)))
	check_eq "$name: the server received exactly the forwarded packets" "$(a forwarded)" "$(($(srv_rx) - s0))"
	log "$name: $(jq -c '.directions[0] | {received, forwarded, shed, dropped: .dropped.total, pool_exhausted: .dropped.pool_exhausted, passed}' "$j")"
	[ "$vd" -eq 0 ] || log "$name: the client's veth dropped $vd generator frames (ring full)"
}

overload shed
check_match "shedding on: packets were shed under overload" '^[1-9][0-9]*$' "$(jq .directions[0].shed "$D/shed.json" 2>/dev/null)"

overload noshed --no-shed
check_eq "shedding off: nothing shed" 0 "$(jq .directions[0].shed "$D/noshed.json" 2>/dev/null)"
check_match "shedding off: the overload is dropped as pool exhausted" '^[1-9][0-9]*$' \
	"$(jq .directions[0].dropped.pool_exhausted "$D/noshed.json" 2>/dev/null)"

wct_finish
