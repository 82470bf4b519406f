#!/usr/bin/env bash
# libwirecap-pcap.so / `wirecap exec` (issue 13): unmodified libpcap
# programs capture through wirecap:IF, in native and in generic XDP mode
# (the interface attached first, so the programs' engines use it):
#  (a) tcpdump -w -c N (N = 1,000,000 over 64 flows): verify finds every
#      packet once and in order per flow, the file is in time order, and
#      tcpdump's closing lines agree with what was sent and with wirecap's
#      accounting (received by filter == sent, dropped by kernel == 0);
#  (b) tshark (dumpcap) -c N -w: every packet; tshark -D / tcpdump -D list
#      wirecap:IF;
#  (c) tcpdump -nn -c 5 'udp and port P' prints exactly 5 packets of the
#      one flow with that port;
# then once: a program on an interface that is not attached attaches and
# detaches it (and only it).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq tcpdump tshark capinfos; do
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
N=$(wct_count "${WCT_PCAP_N:-1000000}")
N_TSHARK=$(wct_count 200000)
PPS=$(wct_rate 250000)
# tcpdump drops to its own user after opening the capture: its files go
# where that user can write
OUT=$WCT_DIR/out
mkdir -p "$OUT"
chmod 0777 "$OUT"
export WIRECAP_PCAP_OPTS="${WCT_POOL[*]}"

gen() { run_in "$TX" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@"; }
has_line() { grep -q -- "$2" "$1" 2>/dev/null; }
# the program's engine is up (tshark says "Capturing on" before its
# dumpcap opened the device)
engine_up() {
	[ "$(run_in "$RX" "$WIRECAP" stats "$IF" --json --no-rate 2>/dev/null |
		jq -r '.engine.running' 2>/dev/null)" = true ]
}
ready() { has_line "$1" "$2" && engine_up; }
# kill_tree PID: PID and its children (tshark's dumpcap), by PID
kill_tree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill -9 "$c" 2>/dev/null; done
	kill -9 "$1" 2>/dev/null
}

# start_prog TAG READY-REGEX CMD...: `wirecap exec -- CMD` in the RX
# namespace in the background (stdout TAG.out, stderr TAG.err) until its
# stderr shows READY-REGEX. Sets PROG_PID; 1 if it did not come up.
start_prog() {
	local tag=$1 ready=$2
	shift 2
	wct_bg PROG_PID nsenter --net=/run/netns/"$RX" -- "$WIRECAP" exec -- "$@" \
		>"$WCT_DIR/$tag.out" 2>"$WCT_DIR/$tag.err"
	if ! wct_wait_for "$(wct_tries 300)" 0.1 ready "$WCT_DIR/$tag.err" "$ready"; then
		fail "$tag: did not start: $(tr '\n' '|' <"$WCT_DIR/$tag.err" | head -c 400)"
		kill_tree "$PROG_PID"
		wait "$PROG_PID" 2>/dev/null
		return 1
	fi
}

# wait_prog PID SEC: bounded wait; sets EXIT_RC
wait_prog() {
	if ! timeout "$2" tail --pid="$1" -f /dev/null; then
		kill_tree "$1"
		wait "$1" 2>/dev/null
		EXIT_RC=timeout
		return 1
	fi
	wait "$1"
	EXIT_RC=$?
}

# closing NAME ERRFILE: tcpdump's "N packets <what>" number
closing() { sed -n "s/^\([0-9]*\) packets* $1\$/\1/p" "$2" | tail -1; }

verify_line() {
	run_in "$RX" "$WIRECAP" verify "$1" --expect-json "$2" --json 2>/dev/null |
		jq -r '[.lost, .duplicates, .reordered, .excess] | map(tostring) | join(" ")' 2>/dev/null
}

# ---- (a) tcpdump -w, every packet --------------------------------------------------

test_tcpdump() {
	local m=$1 f g=$WCT_DIR/gen-td.json sent e
	f=$OUT/td-$m.pcap
	e=$WCT_DIR/td-$m.err
	start_prog "td-$m" "listening on" tcpdump -i "wirecap:$IF" -w "$f" -c "$N" || return
	gen -c "$N" --flows "$FLOWS" --pps "$PPS" --json "$g"
	sent=$(jq -r .sent "$g")
	check_eq "$m tcpdump: gen sent" "$N" "$sent"
	wait_prog "$PROG_PID" "$(wct_time 120)"
	check_eq "$m tcpdump: exit status" 0 "$EXIT_RC"
	check_arrived "$m tcpdump: 'packets captured'" "$N" "$(cat "$g")" "$(closing captured "$e")"
	check_arrived "$m tcpdump: 'received by filter' (wirecap: delivered + dropped)" "$N" \
		"$(cat "$g")" "$(closing 'received by filter' "$e")"
	check_eq "$m tcpdump: 'dropped by kernel' (wirecap's drops, every cause)" 0 \
		"$(closing 'dropped by kernel' "$e")"
	check_eq "$m tcpdump: verify lost/dup/reordered/excess" "$(wct_gen_dropped "$(cat "$g")") 0 0 0" \
		"$(verify_line "$f" "$g")"
	if wct_slow; then
		skip "$m tcpdump: time order" "the merge's 2 ms margin does not hold under emulation"
	else
		check_eq "$m tcpdump: packets in time order over all queues (capinfos)" True \
			"$(capinfos -o -T -r "$f" 2>/dev/null | awk -F'\t' 'NR == 1 { print $2 }')"
	fi
	rm -f "$f"
}

# ---- (b) tshark / dumpcap ------------------------------------------------------------

test_tshark() {
	local m=$1 f g=$WCT_DIR/gen-ts.json out
	f=$OUT/ts-$m.pcapng
	out=$(run_in "$RX" "$WIRECAP" exec -- tshark -D 2>/dev/null)
	check_match "$m tshark -D lists wirecap:$IF" "[0-9]+\. wirecap:$IF\$" "$out"
	out=$(run_in "$RX" "$WIRECAP" exec -- tcpdump -D 2>/dev/null)
	check_match "$m tcpdump -D lists wirecap:$IF" "[0-9]+\.wirecap:$IF " "$out"
	start_prog "ts-$m" "Capturing on" tshark -i "wirecap:$IF" -c "$N_TSHARK" -w "$f" || return
	gen -c "$N_TSHARK" --flows "$FLOWS" --pps "$PPS" --json "$g"
	wait_prog "$PROG_PID" "$(wct_time 120)"
	check_eq "$m tshark: exit status" 0 "$EXIT_RC"
	check_eq "$m tshark: verify lost/dup/reordered/excess" "$(wct_gen_dropped "$(cat "$g")") 0 0 0" \
		"$(verify_line "$f" "$g")"
	check_arrived "$m tshark: every packet in the file" "$N_TSHARK" "$(cat "$g")" \
		"$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | grep -c .)"
	rm -f "$f"
}

# ---- (c) a filter --------------------------------------------------------------------

test_filter() {
	local m=$1 out n
	# flow 2 of `wirecap gen`: 198.18.0.2:32770 -> 198.19.0.2:4096
	start_prog "tf-$m" "listening on" tcpdump -i "wirecap:$IF" -nn -c 5 'udp and port 32770' || return
	gen -c 2000 --flows "$FLOWS" --pps "$(wct_rate 20000)"
	wait_prog "$PROG_PID" "$(wct_time 60)"
	check_eq "$m filter: exit status" 0 "$EXIT_RC"
	out=$(cat "$WCT_DIR/tf-$m.out")
	n=$(grep -c . <<<"$out")
	check_eq "$m filter: 5 packets printed" 5 "$n"
	check_eq "$m filter: all of flow 2 (198.18.0.2.32770 > 198.19.0.2.4096)" 5 \
		"$(grep -c ' IP 198\.18\.0\.2\.32770 > 198\.19\.0\.2\.4096: UDP' <<<"$out")"
}

for mode in ${WCT_XDP_MODES:-native generic}; do
	case "$mode" in native | generic) ;; *) fail "WCT_XDP_MODES: unknown mode '$mode'"; continue ;; esac
	if ! run_in "$RX" "$WIRECAP" attach "$IF" --mode "$mode" --force >/dev/null 2>"$WCT_DIR/attach.err"; then
		fail "$mode: attach: $(cat "$WCT_DIR/attach.err")"
		continue
	fi
	test_tcpdump "$mode"
	test_tshark "$mode"
	test_filter "$mode"
	check_ok "$mode: still attached after the programs (not theirs to detach)" \
		run_in "$RX" "$WIRECAP" status "$IF"
	run_in "$RX" "$WIRECAP" detach "$IF" >/dev/null 2>&1
done

# ---- a program attaches what is not attached, and detaches it ---------------------------
# (-Z root: Debian's tcpdump otherwise runs as user tcpdump after opening the
# device, and then may not detach: see README)
start_prog "own" "listening on" tcpdump -Z root -i "wirecap:$IF" -w "$OUT/own.pcap" -c 100 &&
	{
		gen -c 100 --flows "$FLOWS" --pps "$(wct_rate 20000)"
		wait_prog "$PROG_PID" "$(wct_time 60)"
		check_eq "own attachment: exit status" 0 "$EXIT_RC"
		check_eq "own attachment: 100 captured" 100 "$(closing captured "$WCT_DIR/own.err")"
		check_fails "own attachment: detached at pcap_close" run_in "$RX" "$WIRECAP" status "$IF"
	}

wct_finish
