#!/usr/bin/env bash
# --ready-file means ready (issue 15, item 3): traffic that starts the
# moment the file appears is captured whole. A paced sender is started as
# soon as `wirecap capture` creates its ready file (polled every 10 ms);
# then: XDP saw every frame that reached the device, none was passed to the
# stack or dropped for want of a socket (the sockets were plugged before the
# file was created), none dropped in the engine, and the pcapng file holds
# every one of them. Repeated for the engine's default page policy and with
# --huge-pages off. No time is asserted.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
for t in jq capinfos; do
	command -v "$t" >/dev/null || { fail "$t is not installed (make deps)"; wct_finish; }
done
wct_make_veth
D=$WCT_DIR
N=$(wct_count 20000)
PPS=$(wct_rate 20000)

rx_packets() { run_in "$WCT_NS_RX" "$WIRECAP" status "$WCT_IF_RX" --json 2>/dev/null | jq -r '.totals.packets // 0'; }
rx_saw() { [ "$(rx_packets)" -ge "$1" ]; }

ready_run() { # NAME CAPTURE-ARGS...
	local name=$1 pid rc=0 sent arrived j=$D/$1.json gj=$D/$1.gen.json
	shift
	rm -f "$D/$name.ready"
	wct_bg pid nsenter --net=/run/netns/"$WCT_NS_RX" -- timeout 600 "$WIRECAP" capture \
		-i "$WCT_IF_RX" -w "$D/$name.pcapng" "$@" \
		--ready-file "$D/$name.ready" --stats-json "$j" -q 2>"$D/$name.err"
	if ! wct_wait_for "$(wct_tries 30000)" 0.01 test -e "$D/$name.ready"; then
		if grep -q "may be pinned" "$D/$name.err"; then
			skip "$name: the machine cannot spare the pool now: $(head -1 "$D/$name.err")"
			return
		fi
		fail "$name: capture did not start: $(tr '\n' ' ' <"$D/$name.err")"
		kill "$pid" 2>/dev/null
		return
	fi
	# at once: the first frame leaves within one pacing interval
	run_in "$WCT_NS_TX" timeout 120 "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet \
		-c "$N" --flows 64 --pps "$PPS" --json "$gj"
	sent=$(jq .sent "$gj")
	arrived=$(wct_arrived "$(cat "$gj")")
	wct_wait_for "$(wct_tries 300)" 0.1 rx_saw "$arrived" ||
		log "$name: XDP saw $(rx_packets) of $arrived frames"
	kill -INT "$pid" 2>/dev/null
	timeout 60 tail --pid="$pid" -f /dev/null
	wait "$pid" || rc=$?
	check_eq "$name: capture exits 0" 0 "$rc"
	check_eq "$name: generator sent $N" "$N" "$sent"
	check_arrived "$name: XDP received every frame sent after ready" "$N" "$gj" "$(jq .received "$j")"
	check_eq "$name: none passed to the stack (no socket yet)" 0 "$(jq .passed "$j")"
	check_eq "$name: none dropped (no socket, pool, ring)" 0 "$(jq .dropped.total "$j")"
	check_eq "$name: unaccounted" 0 "$(jq .unaccounted "$j")"
	check_arrived "$name: the pcapng file holds every frame sent after ready" "$N" "$gj" \
		"$(capinfos_count "$D/$name.pcapng")"
	rm -f "$D/$name.pcapng"
}

ready_run small-pool --pool-chunks 256
ready_run default-engine

wct_finish
