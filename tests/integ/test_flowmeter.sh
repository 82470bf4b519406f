#!/usr/bin/env bash
# Flow meters from Debian that capture live with libpcap, unmodified,
# through wirecap:IF (issue 13), in native and in generic XDP mode (the
# interface attached first, so the programs' engines use it):
#  softflowd (`wirecap exec -- softflowd -i 0:wirecap:IF -n 127.0.0.1:P`)
#  exports NetFlow v9 to an nfcapd collector; `nfdump -R` then shows the 64
#  flows `wirecap gen` sent, each with exactly the packets sent, and every
#  packet went through wirecap's engine (delivered), none to the stack
#  (where an AF_PACKET socket would have seen it).
# softflowd parses `-i IDX:NAME` (the NetFlow interface index, then the
# device): `-i wirecap:IF` would capture IF with the kernel's packet socket;
# `-i 0:wirecap:IF` names the wirecap device. (nfdump's own nfpcapd reads
# live traffic with its own TPACKET_V3 socket, never libpcap: see README.)
# The flows are flushed by counters, not timeouts: once the engine handed
# every packet to softflowd and softflowd processed them all,
# `softflowctl expire-all` exports them; once it says so, `softflowctl
# shutdown` ends softflowd; once the collector's socket is empty, the
# collector stops (SIGTERM) and writes its file.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq softflowd softflowctl nfcapd nfdump ss; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps)"
		wct_finish
	fi
done
if [ ! -r "$WC_BUILD/libwirecap-pcap.so" ]; then
	fail "no $WC_BUILD/libwirecap-pcap.so (make)"
	wct_finish
fi

RX=$WCT_NS_RX
TX=$WCT_NS_TX
IF=$WCT_IF_RX
FLOWS=64
PER=$(wct_count 1000)
N=$((PER * FLOWS))
PPS=$(wct_rate 100000)
PORT=9995
export WIRECAP_PCAP_OPTS="${WCT_POOL[*]}"
# a sanitizer build of the front (make test-san): its runtime first
asan=$(ldd "$WC_BUILD/libwirecap-pcap.so" | awk '/libasan/ { print $3; exit }')
if [ -n "$asan" ]; then
	export LD_PRELOAD=$asan
	export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
fi

gen() { run_in "$TX" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@"; }
rx_stats() { run_in "$RX" "$WIRECAP" stats "$IF" --json --no-rate 2>/dev/null; }
engine_up() { [ "$(rx_stats | jq -r '.engine.running' 2>/dev/null)" = true ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# stop_wait PID SEC: PID ended within SEC (SIGKILL after); EXIT_RC
stop_wait() {
	if ! timeout "$2" tail --pid="$1" -f /dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		EXIT_RC=timeout
		return 1
	fi
	wait "$1"
	EXIT_RC=$?
}

# sfctl CMD: softflowctl on this test's control socket
sfctl() { timeout 10 softflowctl -c "$WCT_DIR/sf.ctl" "$@" 2>&1; }
# sf_stat NAME: a number of softflowctl's statistics ("Packets processed")
sf_stat() { sfctl statistics | sed -n "s/^$1: \([0-9]*\).*/\1/p" | head -1; }
sf_processed() { [ "$(sf_stat 'Packets processed')" = "$1" ]; }
sf_exported() { [ "$(sf_stat 'Flows exported')" = "$1" ]; }
# every packet that arrived was delivered or dropped by the engine, and
# every frame is back in its pool (softflowd's callbacks returned)
accounted() {
	local v
	v=$(rx_stats | jq -r '"\((.totals.delivered // 0) + (.totals.dropped.total // 0)) \(.totals.pool_in_use // 1)"')
	# shellcheck disable=SC2086 # two numbers
	set -- "$1" $v
	[ "$#" -eq 3 ] && [ "$2" -ge "$1" ] && [ "$3" = 0 ]
}
# the collector's socket holds no datagram
rxq_empty() {
	[ "$(run_in "$RX" ss -Hun state all "sport = :$PORT" | awk '{ print $2 }' | head -1)" = 0 ]
}

test_softflowd() {
	local m=$1 d g col sf arr gd delivered dropped passed out
	d=$WCT_DIR/flows-$m
	g=$WCT_DIR/gen-$m.json
	mkdir -p "$d"
	rm -f "$WCT_DIR/sf.ctl" "$WCT_DIR/sf.pid"
	wct_bg col nsenter --net=/run/netns/"$RX" -- nfcapd -w "$d" -b 127.0.0.1 -p "$PORT" \
		-P "$WCT_DIR/nfcapd-$m.pid" >"$WCT_DIR/nfcapd-$m.out" 2>&1
	wct_bg sf nsenter --net=/run/netns/"$RX" -- "$WIRECAP" exec -- softflowd -d \
		-i "0:wirecap:$IF" -n "127.0.0.1:$PORT" -v 9 -p "$WCT_DIR/sf.pid" -c "$WCT_DIR/sf.ctl" \
		>"$WCT_DIR/sf-$m.out" 2>&1
	if ! wct_wait_for "$(wct_tries 300)" 0.1 engine_up ||
		! wct_wait_for "$(wct_tries 100)" 0.1 test -S "$WCT_DIR/sf.ctl" ||
		! wct_wait_for "$(wct_tries 100)" 0.1 rxq_empty; then
		fail "$m softflowd: did not start: $(tr '\n' '|' <"$WCT_DIR/sf-$m.out" | head -c 300) / nfcapd: $(tr '\n' '|' <"$WCT_DIR/nfcapd-$m.out" | head -c 200)"
		kill -9 "$sf" "$col" 2>/dev/null
		wait "$sf" "$col" 2>/dev/null
		return
	fi
	gen -c "$N" --flows "$FLOWS" --pps "$PPS" --json "$g"
	check_eq "$m softflowd: gen sent" "$N" "$(jq -r .sent "$g")"
	arr=$(wct_arrived "$(cat "$g")")
	gd=$(wct_gen_dropped "$(cat "$g")")
	wct_wait_for "$(wct_tries 600)" 0.1 accounted "$arr" ||
		fail "$m softflowd: the engine did not account for the $arr packets that arrived"
	delivered=$(rx_stats | jq -r '.totals.delivered // 0')
	dropped=$(rx_stats | jq -r '.totals.dropped.total // 0')
	passed=$(rx_stats | jq -r '.totals.passed // 0')
	check_eq "$m softflowd: delivered + dropped by wirecap == arrived" "$arr" "$((delivered + dropped))"
	check_eq "$m softflowd: nothing passed to the stack (no packet socket saw them)" 0 "$passed"
	# a program blocked in pcap_dispatch serves neither its control
	# socket nor its signals (the selectable fd must not be readable
	# when there is nothing to read)
	if ! out=$(sfctl statistics); then
		fail "$m softflowd: does not answer its control socket (blocked in pcap_dispatch?): $(tr '\n' '|' <<<"$out" | head -c 200) / $(tr '\n' '|' <"$WCT_DIR/sf-$m.out" | head -c 300)"
		kill -9 "$sf" "$col" 2>/dev/null
		wait "$sf" "$col" 2>/dev/null
		return
	fi
	check_ok "$m softflowd: processed every packet delivered ($delivered)" \
		wct_wait_for "$(wct_tries 300)" 0.1 sf_processed "$delivered"
	check_eq "$m softflowd: pcap_stats received (ps_recv) == delivered + dropped" \
		"$((delivered + dropped))" "$(sf_stat 'Packets received by libpcap')"
	check_eq "$m softflowd: pcap_stats dropped (ps_drop) == wirecap's drops" \
		"$dropped" "$(sf_stat 'Packets dropped by libpcap')"
	sfctl expire-all >/dev/null
	check_ok "$m softflowd: expire-all exported the 64 flows" \
		wct_wait_for "$(wct_tries 300)" 0.1 sf_exported "$FLOWS"
	# in the foreground (-d) softflowd leaves SIGTERM to its default
	# action (no export): its control socket ends it gracefully
	check_match "$m softflowd: softflowctl shutdown" "Shutting down gracefully" "$(sfctl shutdown)"
	stop_wait "$sf" "$(wct_time 60)"
	# (1.1.0 returns 1 after a control-socket shutdown: poll's count
	# left in its status variable)
	check_match "$m softflowd: ended by itself, gracefully" "^[01] .*Shutting down on user request" \
		"$EXIT_RC $(tr '\n' ' ' <"$WCT_DIR/sf-$m.out")"
	wct_wait_for "$(wct_tries 100)" 0.1 rxq_empty ||
		fail "$m softflowd: the collector did not read every datagram"
	kill -TERM "$col" 2>/dev/null
	stop_wait "$col" "$(wct_time 60)"
	check_eq "$m nfcapd: exit status" 0 "$EXIT_RC"
	out=$(nfdump -R "$d" -q -o "fmt:%sa %da %sp %dp %pkt" 2>&1)
	check_eq "$m softflowd: nfdump shows 64 flows" 64 "$(grep -c '198\.19\.' <<<"$out")"
	check_eq "$m softflowd: their packets == delivered" "$delivered" \
		"$(awk '/198\.19\./ { s += $NF } END { print s + 0 }' <<<"$out")"
	if [ "$gd" = 0 ] && [ "$dropped" = 0 ]; then
		check_eq "$m softflowd: every flow with the $PER packets sent" "64 $PER" \
			"$(awk '/198\.19\./ { c[$NF]++ } END { for (k in c) print c[k], k }' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
	else
		skip "$m softflowd: every flow with the $PER packets sent" \
			"$gd dropped by the sending veth, $dropped by wirecap (counted; the program did not keep up on this loaded machine)"
	fi
	check_eq "$m softflowd: flow 2 is 198.18.0.2:32770 -> 198.19.0.2:4096" 1 \
		"$(awk '$1 == "198.18.0.2" && $2 == "198.19.0.2" && $3 == 32770 && $4 == 4096' <<<"$out" | grep -c .)"
	rm -rf "$d"
}

for mode in ${WCT_XDP_MODES:-native generic}; do
	case "$mode" in native | generic) ;; *) fail "WCT_XDP_MODES: unknown mode '$mode'"; continue ;; esac
	if ! run_in "$RX" "$WIRECAP" attach "$IF" --mode "$mode" --force >/dev/null 2>"$WCT_DIR/attach.err"; then
		fail "$mode: attach: $(cat "$WCT_DIR/attach.err")"
		continue
	fi
	test_softflowd "$mode"
	run_in "$RX" "$WIRECAP" detach "$IF" >/dev/null 2>&1
done

wct_finish
