#!/usr/bin/env bash
# A link flap does not end a capture (issue 16, item 4), in native and in
# generic XDP mode, on a capture that attached by itself:
#   traffic; `ip link set IF down; sleep 2; ip link set IF up`; traffic
# The capture keeps running (its sockets and pools stay bound across the
# flap: on veth they need no rebinding), both parts land in one valid file
# (tshark reads it, `wirecap verify` finds every packet of both runs), the
# gap is counted (JSON .link, the human summary, a comment in the closing
# interface statistics block) and the accounting reconciles exactly. Every
# wait is for an event (ready file, log line, carrier, counters), bounded;
# nothing here depends on the machine's speed.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq tshark; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps)"
		wct_finish
	fi
done

RX=$WCT_NS_RX
TX=$WCT_NS_TX
IF=$WCT_IF_RX
FLOWS=16
N=$(wct_count 5000)
PPS=$(wct_rate 20000)

gen() { run_in "$TX" timeout "$(wct_time 60)" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@"; }
stats_json() { run_in "$RX" "$WIRECAP" stats "$IF" --json --no-rate; }
delivered_at_least() {
	local d
	d=$(stats_json | jq -r '.totals.delivered // 0')
	[ "${d:-0}" -ge "$1" ]
}
# err_has FILE REGEX: the capture said it (bounded waits poll this)
err_has() { grep -Eq -- "$2" "$1"; }
alive() { kill -0 "$1" 2>/dev/null && echo running || echo gone; }

# wait_exit PID SEC: bounded wait; EXIT_RC = status or "timeout"
wait_exit() {
	if ! timeout "$2" tail --pid="$1" -f /dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		EXIT_RC=timeout
		return 1
	fi
	wait "$1"
	EXIT_RC=$?
}

flap() {
	local mode=$1 m="$1:" f j e g1 g2 a1 a2 v pid
	f=$WCT_DIR/flap-$mode.pcapng
	j=$WCT_DIR/flap-$mode.json
	e=$WCT_DIR/flap-$mode.err
	rm -f "$WCT_DIR/flap.ready"
	wct_bg pid nsenter --net=/run/netns/"$RX" -- "$WIRECAP" capture -i "$IF" \
		--mode "$mode" -w "$f" --stats-json "$j" --ready-file "$WCT_DIR/flap.ready" \
		"${WCT_POOL[@]}" 2>"$e"
	if ! wct_wait_for "$(wct_tries 300)" 0.1 test -e "$WCT_DIR/flap.ready"; then
		fail "$m capture did not start: $(tr '\n' '|' <"$e")"
		kill -9 "$pid" 2>/dev/null
		return
	fi

	# before the flap
	gen -c "$N" --flows "$FLOWS" --flow-base 0 --pps "$PPS" --json "$WCT_DIR/g1-$mode.json"
	g1=$(cat "$WCT_DIR/g1-$mode.json")
	a1=$(wct_arrived "$g1" "$N")
	wct_wait_for "$(wct_tries 100)" 0.1 delivered_at_least "$a1"

	ip -n "$RX" link set "$IF" down
	wct_wait_for "$(wct_tries 100)" 0.1 err_has "$e" "$IF: link down"
	check_match "$m link down: the capture says so" "$IF: link down" "$(cat "$e")"
	sleep 2
	check_eq "$m link down: the capture goes on" running "$(alive "$pid")"
	ip -n "$RX" link set "$IF" up
	# carrier on both ends, and the capture saw the link back
	wct_wait_for "$(wct_tries 100)" 0.1 wct_link_up "$RX" "$IF"
	wct_wait_for "$(wct_tries 100)" 0.1 wct_link_up "$TX" "$WCT_IF_TX"
	wct_wait_for "$(wct_tries 100)" 0.1 err_has "$e" "$IF: link up again"
	check_match "$m link up: the capture says so" "$IF: link up again after [0-9.]+ s down" "$(cat "$e")"
	check_eq "$m link up: still capturing" running "$(alive "$pid")"

	# after the flap: other flows, so that verify tells the runs apart
	gen -c "$N" --flows "$FLOWS" --flow-base "$FLOWS" --pps "$PPS" --json "$WCT_DIR/g2-$mode.json"
	g2=$(cat "$WCT_DIR/g2-$mode.json")
	a2=$(wct_arrived "$g2" "$N")
	wct_wait_for "$(wct_tries 100)" 0.1 delivered_at_least "$((a1 + a2))"

	kill -INT "$pid" 2>/dev/null
	wait_exit "$pid" "$(wct_time 20)"
	check_eq "$m the capture ends normally (SIGINT)" 0 "$EXIT_RC"
	if [ ! -s "$j" ]; then
		fail "$m no --stats-json: $(tr '\n' '|' <"$e")"
		return
	fi
	check_eq "$m every packet before and after written" "$((a1 + a2))" "$(jq -r .written "$j")"
	check_eq "$m tshark reads them all from one file" "$((a1 + a2))" \
		"$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | grep -c .)"
	v=$(run_in "$RX" "$WIRECAP" verify "$f" --expect-json "$WCT_DIR/g1-$mode.json" \
		--expect-json "$WCT_DIR/g2-$mode.json" --json 2>/dev/null)
	check_eq "$m verify (both runs): lost/dup/reordered/excess" \
		"$(($(wct_gen_dropped "$g1") + $(wct_gen_dropped "$g2"))) 0 0 0" \
		"$(printf '%s' "$v" | jq -r '"\(.lost) \(.duplicates) \(.reordered) \(.excess)"')"
	v=$(jq -r '"\(.received) \(.delivered + .dropped.total + .passed) \(.unaccounted)"' "$j")
	check_eq "$m received == delivered + dropped by cause + passed, unaccounted 0" \
		"$(jq -r .received "$j") $(jq -r .received "$j") 0" "$v"
	check_eq "$m received: both runs, nothing else" "$((a1 + a2))" "$(jq -r .received "$j")"
	check_eq "$m the gap counted: one down event, up at the end" "1 false" \
		"$(jq -r '"\(.link.down_events) \(.link.down_at_end)"' "$j")"
	# a lower bound only: the link was down for the 2 s sleep
	check_range "$m the gap's length (s) is the down time" 1 1000000 "$(jq -r .link.down_s "$j")"
	check_match "$m the summary says it" "link down 1 time, [0-9.]+ s in all" "$(cat "$e")"
	check_eq "$m the closing interface statistics block says it" 1 \
		"$(tail -c 512 "$f" | grep -a -c 'link down 1 time')"
	check_eq "$m the capture detached what it attached" none "$(xdp_prog_id "$RX" "$IF")"
}

for mode in ${WCT_XDP_MODES:-native generic}; do
	log "=== $mode"
	flap "$mode"
done

wct_finish
