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
#  (d) tests/tools/pcap_api (pcap_next_ex, non-blocking pcap_dispatch on
#      select() of the selectable fd, pcap_breakloop from a signal handler,
#      pcap_stats, a dumper): every packet counted, in the file, in order;
#  (f) pcap_inject / pcap_sendpacket on wirecap:IF: every packet leaves
#      (a plain tcpdump on the other end counts them);
#  (e) nfpcapd (nfdump's flow meter) on tcpdump's file of (a): nfdump -R
#      shows the flows with the packet counts tcpdump reads in it. (Debian's
#      nfpcapd reads live traffic with its own TPACKET_V3 socket, not with
#      libpcap: `nfpcapd -i wirecap:IF` cannot be served; see README);
# then once: a program on an interface that is not attached attaches and
# detaches it (and only it); bad input: one-line errors.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq tcpdump tshark capinfos nfpcapd nfdump; do
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
N_API=$(wct_count 100000)
PPS=$(wct_rate 200000)
# tcpdump drops to its own user after opening the capture: its files go
# where that user can write
OUT=$WCT_DIR/out
mkdir -p "$OUT"
chmod 0777 "$OUT"
export WIRECAP_PCAP_OPTS="${WCT_POOL[*]}"
# a sanitizer build of the front (make test-san): its runtime must be the
# first library of the programs it is preloaded into; their own leaks are
# not this test's business
asan=$(ldd "$WC_BUILD/libwirecap-pcap.so" | awk '/libasan/ { print $3; exit }')
if [ -n "$asan" ]; then
	export LD_PRELOAD=$asan
	export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
fi

gen() { run_in "$TX" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@"; }
has_line() { grep -q -- "$2" "$1" 2>/dev/null; }
# the program's engine is up (tshark says "Capturing on" before its
# dumpcap opened the device)
engine_up() {
	[ "$(run_in "$RX" "$WIRECAP" stats "$IF" --json --no-rate 2>/dev/null |
		jq -r '.engine.running' 2>/dev/null)" = true ]
}
ready() { { [ -z "$2" ] || has_line "$1" "$2"; } && engine_up; }
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
		fail "$tag: did not start: $(tr '\n' '|' <"$WCT_DIR/$tag.err" | head -c 400) (engine: $(run_in "$RX" "$WIRECAP" stats "$IF" --json --no-rate 2>&1 | jq -c .engine 2>&1 | head -c 200))"
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

# ts_late FILE: packets of a pcap file (little-endian, nanosecond or
# microsecond magic) older than a packet before them
ts_late() {
	timeout 300 python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    b = f.read()
magic = struct.unpack_from('<I', b, 0)[0]
mul = 1 if magic == 0xa1b23c4d else 1000
late, top, o = 0, -1, 24
while o + 16 <= len(b):
    sec, frac, incl, _ = struct.unpack_from('<IIII', b, o)
    ts = sec * 1000000000 + frac * mul
    if ts < top:
        late += 1
    else:
        top = ts
    o += 16 + incl
print(late)
EOF
}

verify_line() {
	run_in "$RX" "$WIRECAP" verify "$1" --expect-json "$2" --json 2>/dev/null |
		jq -r '[.lost, .duplicates, .reordered, .excess] | map(tostring) | join(" ")' 2>/dev/null
}

# ---- (a) tcpdump -w, every packet --------------------------------------------------

# accounted N: the running engine delivered or dropped N packets and every
# frame is back in its pool (the program's callbacks returned for all)
accounted() {
	local v
	v=$(run_in "$RX" "$WIRECAP" stats "$IF" --json --no-rate 2>/dev/null |
		jq -r '"\((.totals.delivered // 0) + (.totals.dropped.total // 0)) \(.totals.pool_in_use // 1)"')
	# shellcheck disable=SC2086 # two numbers
	set -- "$1" $v
	[ "$#" -eq 3 ] && [ "$2" -ge "$1" ] && [ "$3" = 0 ]
}
exited() { ! kill -0 "$1" 2>/dev/null; }
done_or_accounted() { exited "$1" || accounted "$2"; }

# finish_prog PID N: the program ends by itself (-c N) once it had every
# packet; if wirecap dropped some (a loaded machine), it never gets N:
# once all N are delivered or dropped and handled, it is stopped (SIGINT)
finish_prog() {
	wct_wait_for "$(wct_tries 600)" 0.1 done_or_accounted "$1" "$2"
	exited "$1" || kill -INT "$1" 2>/dev/null
	wait_prog "$1" "$(wct_time 60)"
}

# lossless NAME DROPPED: 0 drops passes; drops (counted, by cause) mean the
# program did not keep up on this machine at this moment: said, not failed
lossless() {
	if [ "$2" = 0 ]; then
		pass "$1: nothing dropped"
	else
		skip "$1: nothing dropped" "$2 dropped and counted (pool exhausted: the program did not keep up on this loaded machine)"
	fi
}

test_tcpdump() {
	local m=$1 f g=$WCT_DIR/gen-td.json sent e arr cap drop recv gd late
	f=$OUT/td-$m.pcap
	e=$WCT_DIR/td-$m.err
	# nanosecond stamps (the file's too); the handle's summary at close
	# in WIRECAP_PCAP_LOG (the packets it handed out of time order)
	rm -f "$WCT_DIR/td-$m.log"
	WIRECAP_PCAP_LOG=$WCT_DIR/td-$m.log start_prog "td-$m" "listening on" \
		tcpdump --time-stamp-precision=nano -i "wirecap:$IF" -w "$f" -c "$N" || return
	gen -c "$N" --flows "$FLOWS" --pps "$PPS" --json "$g"
	sent=$(jq -r .sent "$g")
	check_eq "$m tcpdump: gen sent" "$N" "$sent"
	arr=$(wct_arrived "$(cat "$g")" "$sent")
	gd=$(wct_gen_dropped "$(cat "$g")")
	finish_prog "$PROG_PID" "$arr"
	check_eq "$m tcpdump: exit status" 0 "$EXIT_RC"
	cap=$(closing captured "$e")
	recv=$(closing 'received by filter' "$e")
	drop=$(closing 'dropped by kernel' "$e")
	lossless "$m tcpdump" "$drop"
	check_eq "$m tcpdump: 'packets captured' + 'dropped by kernel' (wirecap's drops, every cause) == arrived" \
		"$arr" "$((${cap:-0} + ${drop:-0}))"
	check_eq "$m tcpdump: 'received by filter' == captured + dropped" "$((${cap:-0} + ${drop:-0}))" "${recv:-none}"
	check_eq "$m tcpdump: verify lost (== dropped)/dup/reordered/excess" "$((gd + ${drop:-0})) 0 0 0" \
		"$(verify_line "$f" "$g")"
	check_eq "$m tcpdump: a nanosecond file" "a1b23c4d" "$(od -An -tx4 -N4 "$f" | tr -d ' ')"
	# (worker, queue) sources merged by timestamp. The merge assumes a
	# frame stamped by XDP is in its ring within 2 ms; a CPU descheduled
	# between the two (a loaded host, an emulated guest) breaks that, and
	# such a packet is handed out as it comes and counted late. Whatever
	# the machine: the packets out of time order in the file are exactly
	# those the handle counted.
	late=$(sed -n 's/.* closed: .*, \([0-9]*\) out of time order$/\1/p' "$WCT_DIR/td-$m.log" | tail -1)
	[ "${late:-0}" = 0 ] || log "$m tcpdump: $late packets handed out late (the machine delayed them > 2 ms)"
	check_eq "$m tcpdump: packets out of time order in the file == counted late" \
		"${late:-none}" "$(ts_late "$f")"
	test_nfpcapd "$m" "$f"
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
	local arr drop
	if [ -n "$asan" ]; then
		# seen here: dumpcap with the ASan runtime preloaded hangs at exit
		# in libp11-kit's destructor (freelocale waits on glibc's locale
		# lock, with no other thread left), after its capture; not
		# understood yet, and not seen without the sanitizers
		skip "$m tshark capture" "dumpcap under the ASan runtime hangs at exit (libp11-kit destructor)"
		return
	fi
	start_prog "ts-$m" "Capturing on" tshark -i "wirecap:$IF" -c "$N_TSHARK" -w "$f" || return
	gen -c "$N_TSHARK" --flows "$FLOWS" --pps "$PPS" --json "$g"
	arr=$(wct_arrived "$(cat "$g")")
	finish_prog "$PROG_PID" "$arr"
	check_eq "$m tshark: exit status" 0 "$EXIT_RC"
	# dumpcap's pcap_stats ps_drop, as tshark reports it
	drop=$(sed -n 's/^\([0-9]*\) packets* dropped from .*/\1/p' "$WCT_DIR/ts-$m.err" | tail -1)
	lossless "$m tshark" "${drop:-0}"
	check_eq "$m tshark: verify lost (== dropped)/dup/reordered/excess" \
		"$(($(wct_gen_dropped "$(cat "$g")") + ${drop:-0})) 0 0 0" "$(verify_line "$f" "$g")"
	check_eq "$m tshark: packets in the file + dropped == arrived" "$arr" \
		"$(($(tshark -r "$f" -T fields -e frame.number 2>/dev/null | grep -c .) + ${drop:-0}))"
	rm -f "$f"
}

# ---- (c) a filter --------------------------------------------------------------------

test_filter() {
	local m=$1 out n
	# flow 2 of `wirecap gen`: 198.18.0.2:32770 -> 198.19.0.2:4096
	# -Z root: Debian's tcpdump sets its filter after it dropped to user
	# tcpdump, which may not load BPF programs (the filter then runs in
	# user space, as the log says)
	WIRECAP_PCAP_LOG=$WCT_DIR/tf-$m.log start_prog "tf-$m" "listening on" \
		tcpdump -Z root -i "wirecap:$IF" -nn -c 5 'udp and port 32770' || return
	gen -c 2000 --flows "$FLOWS" --pps "$(wct_rate 20000)"
	wait_prog "$PROG_PID" "$(wct_time 60)"
	check_eq "$m filter: exit status" 0 "$EXIT_RC"
	out=$(cat "$WCT_DIR/tf-$m.out")
	n=$(grep -c . <<<"$out")
	check_eq "$m filter: 5 packets printed" 5 "$n"
	check_eq "$m filter: all of flow 2 (198.18.0.2.32770 > 198.19.0.2.4096)" 5 \
		"$(grep -c ' IP 198\.18\.0\.2\.32770 > 198\.19\.0\.2\.4096: UDP' <<<"$out")"
	# pcap_setfilter put tcpdump's program in the XDP program: the other
	# flows never took a frame
	check_match "$m filter: run in the XDP program" 'filter installed in the XDP program' \
		"$(cat "$WCT_DIR/tf-$m.log" 2>/dev/null)"
}

# ---- (d) the C test program ---------------------------------------------------------

test_api() {
	local m=$1 f g=$WCT_DIR/gen-api.json out
	f=$OUT/api-$m.pcap
	start_prog "api-$m" "" "$WC_BUILD/tests/pcap_api" -i "wirecap:$IF" -n "$N_API" -w "$f" || return
	wct_wait_for "$(wct_tries 100)" 0.1 has_line "$WCT_DIR/api-$m.out" "^ready" ||
		fail "$m pcap_api: not ready"
	gen -c "$N_API" --flows "$FLOWS" --pps "$(wct_rate 100000)" --json "$g"
	wait_prog "$PROG_PID" "$(wct_time 120)"
	check_eq "$m pcap_api: exit status (every check of the program held)" 0 "$EXIT_RC"
	out=$(grep '^packets' "$WCT_DIR/api-$m.out")
	check_match "$m pcap_api: N packets: a quarter by pcap_next_ex, a quarter by pcap_dispatch, the rest by pcap_loop" \
		"^packets $N_API next_ex $((N_API / 4)) dispatch $((N_API / 2 - N_API / 4)) loop $((N_API - N_API / 2)) dumped $N_API " "$out"
	check_match "$m pcap_api: pcap_stats recv $N_API drop 0" "recv $N_API drop 0 ifdrop 0 " "$out"
	check_eq "$m pcap_api: verify lost/dup/reordered/excess" "$(wct_gen_dropped "$(cat "$g")") 0 0 0" \
		"$(verify_line "$f" "$g")"
	rm -f "$f"
}

# ---- (f) transmit ----------------------------------------------------------------------

test_inject() {
	local m=$1 n=1000 pid
	wct_bg pid nsenter --net=/run/netns/"$TX" -- tcpdump -Z root -i "$WCT_IF_TX" -nn -c "$n" \
		-w "$OUT/inj-$m.pcap" 'udp and dst port 9' 2>"$WCT_DIR/inj-$m.err"
	if ! wct_wait_for "$(wct_tries 300)" 0.1 has_line "$WCT_DIR/inj-$m.err" "listening on"; then
		fail "$m inject: the receiving tcpdump did not start"
		kill_tree "$pid"
		return
	fi
	check_eq "$m inject: pcap_inject + pcap_sendpacket of $n packets succeed" "injected $n" \
		"$(run_in "$RX" "$WIRECAP" exec -- "$WC_BUILD/tests/pcap_api" -i "wirecap:$IF" -j "$n" 2>&1)"
	wait_prog "$pid" "$(wct_time 30)"
	check_eq "$m inject: the other end received all $n" "$n" "$(closing captured "$WCT_DIR/inj-$m.err")"
	rm -f "$OUT/inj-$m.pcap"
}

# ---- (e) nfpcapd -------------------------------------------------------------------------

# flows in FILE as "src dst sport dport packets" lines, sorted: read by
# tcpdump (the real libpcap), independent of nfpcapd and of the front
flows_of() {
	tcpdump -nn -r "$1" 2>/dev/null |
		awk '$2 == "IP" && $4 == ">" {
			n = split($3, s, "."); m = split($5, d, "."); sub(/:$/, "", d[m])
			c[s[1] "." s[2] "." s[3] "." s[4] " " d[1] "." d[2] "." d[3] "." d[4] " " s[n] " " d[m]]++
		} END { for (k in c) print k, c[k] }' | sort
}

# nfpcapd (nfdump's pcap reader, run through the front) finds in the
# capture file exactly the flows, with their packet counts, that tcpdump
# reads in it: whatever was dropped on the way, the two must agree
test_nfpcapd() {
	local m=$1 d out want got
	d=$OUT/flows-$m
	mkdir -p "$d"
	if ! run_in "$RX" "$WIRECAP" exec -- nfpcapd -r "$2" -w "$d" >"$WCT_DIR/nf-$m.out" 2>&1; then
		fail "$m nfpcapd -r: $(tr '\n' '|' <"$WCT_DIR/nf-$m.out" | head -c 300)"
		return
	fi
	out=$(nfdump -R "$d" -q -N -o "fmt:%sa %da %sp %dp %pkt" 2>&1)
	want=$(flows_of "$2")
	got=$(awk '/198\.19\./ { print $1, $2, $3, $4, $5 }' <<<"$out" | sort)
	check_ne "$m nfpcapd: tcpdump reads flows in the file" 0 "$(grep -c . <<<"$want")"
	check_eq "$m nfpcapd: nfdump shows the flows tcpdump reads in the file" \
		"$(grep -c . <<<"$want")" "$(grep -c . <<<"$got")"
	check_eq "$m nfpcapd: each flow with the packets tcpdump counts in the file (diff)" \
		"" "$(diff <(echo "$want") <(echo "$got") | head -6 | tr '\n' '|')"
	check_eq "$m nfpcapd: flow 2 is 198.18.0.2:32770 -> 198.19.0.2:4096" 1 \
		"$(awk '$1 == "198.18.0.2" && $2 == "198.19.0.2" && $3 == 32770 && $4 == 4096' <<<"$got" | grep -c .)"
	rm -rf "$d"
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
	test_api "$mode"
	test_inject "$mode"
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

# ---- bad input --------------------------------------------------------------------------
check_error "exec: bad engine option" "invalid --workers" run_in "$RX" "$WIRECAP" exec --workers 0 -- true
check_error "exec: no command" "no command given" run_in "$RX" "$WIRECAP" exec
check_error "exec: a command that does not exist" "cannot run wct-no-such-cmd" \
	run_in "$RX" "$WIRECAP" exec -- wct-no-such-cmd
cp /bin/true "$WCT_DIR/suid-true" && chmod 4755 "$WCT_DIR/suid-true"
check_match "exec: a setuid program: warned that LD_PRELOAD is ignored" \
	"setuid/setgid or has file capabilities: the loader ignores LD_PRELOAD" \
	"$("$WIRECAP" exec -- "$WCT_DIR/suid-true" 2>&1)"
# the program prints libpcap's error its own way (tcpdump: one or two lines)
check_fails "WIRECAP_PCAP_OPTS with an unknown option: tcpdump fails" \
	env WIRECAP_PCAP_OPTS="--bogus 1" nsenter --net=/run/netns/"$RX" -- "$WIRECAP" exec -- tcpdump -i "wirecap:$IF" -c 1
check_match "WIRECAP_PCAP_OPTS with an unknown option: its error says so" \
	"WIRECAP_PCAP_OPTS: unknown option --bogus" "$WCT_OUT"
check_fails "an unknown interface: tcpdump fails" \
	run_in "$RX" "$WIRECAP" exec -- tcpdump -i wirecap:wct-nosuch -c 1
check_match "an unknown interface: its error says so" "wct-nosuch: no such interface" "$WCT_OUT"

wct_finish
