#!/usr/bin/env bash
# wirecap capture / bench / stats: the acceptance of issue 3, in native and
# in generic XDP mode (the interface is attached explicitly first, so the
# capture engine uses that attachment and leaves it in place).
#  (a) lossless: 128,000 packets over 64 flows (fewer than the pool holds) captured to pcapng on tmpfs:
#      verify finds 0 lost / 0 dup / 0 reordered, capinfos counts them all,
#      the accounting reconciles exactly, the closing ISB carries it;
#  (b) bursts (bench --stall-until: the consumer stalls until the whole
#      burst of 120,000 packets has arrived): a pool larger than the burst
#      loses nothing; a smaller pool loses exactly sent - captured, all
#      counted as pool_exhausted; an RX ring smaller than the pool: all
#      counted as ring_full;
#  (c) SIGINT mid-capture: summary printed, tshark reads the whole file,
#      `wirecap stats` saw the running engine;
#  (d) a full tmpfs: one-line error, non-zero exit, a file tshark reads,
#      accounting printed and reconciled;
#  (f) filter `udp port X` keeps exactly one flow; -c writes exactly COUNT;
#      -C and -G rotation give several valid files holding every packet;
#  (g) a capture started while traffic flows: nothing dropped at its start,
#      every queue's sums reconcile exactly;
# then once:
#  (e) bad input: unknown interface, unwritable output, bad filter, a second
#      capture (busy), a pool larger than memory (nothing left attached), the
#      interface deleted mid-capture (clean exit with an error, valid file;
#      a link that goes down and up is ridden out: test_flap.sh).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq tshark capinfos; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps)"
		wct_finish
	fi
done

# every capture file on a tmpfs of our own
SHM=$WCT_DIR/shm
FULL=$WCT_DIR/full
mkdir -p "$SHM" "$FULL"
mount -t tmpfs -o size=512m wct-shm "$SHM"
cap_cleanup() {
	local rc=$?
	# stop our processes before unmounting what they write to
	for pid in "${WCT_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && timeout 5 tail --pid="$pid" -f /dev/null
	done
	mountpoint -q "$SHM" && umount -l "$SHM"
	mountpoint -q "$FULL" && umount -l "$FULL"
	(exit "$rc")
	wct_cleanup
}
trap cap_cleanup EXIT

RX=$WCT_NS_RX
TX=$WCT_NS_TX
IF=$WCT_IF_RX
FLOWS=64
# the workload scales down on a slow machine (WCT_SLOW, tests/lib/net.sh):
# counts and rates divided by it, waits multiplied
# The lossless case checks a property, not the machine's speed: a pool
# larger than the traffic loses nothing however slowly the capture drains
# it. WCT_POOL holds 65,536 frames per queue. 64 flows do not spread
# evenly over 4 queues (the hash put 21 on one: 21 x 3,125 = 65,625 of
# 200,000 packets, more than its pool, and a stalled capture lost a few),
# so N keeps even 32 flows on one queue within its pool: 32 x N/64 <
# 65,536. (Whether a capture keeps up with a rate is for `make bench`.)
N=$(wct_count 128000)
PPS_HI=$(wct_rate 500000)
PPS_MID=$(wct_rate 100000)
PPS_LO=$(wct_rate 20000)

# ---- helpers -------------------------------------------------------------------

wait_file() { [ -e "$1" ]; }

# start_capture TAG ARGS...: `wirecap capture -i $IF ARGS` in the background,
# stdout in $WCT_DIR/TAG.out, stderr in $WCT_DIR/TAG.err; waits until it is
# ready. Sets CAP_PID. Returns 1 if it did not come up.
start_capture() {
	local tag=$1
	shift
	rm -f "$WCT_DIR/$tag.ready"
	local -a pool
	mapfile -t pool < <(wct_pool_args "$@")
	wct_bg CAP_PID nsenter --net=/run/netns/"$RX" -- "$WIRECAP" capture -i "$IF" \
		--ready-file "$WCT_DIR/$tag.ready" "${pool[@]}" "$@" \
		>"$WCT_DIR/$tag.out" 2>"$WCT_DIR/$tag.err"
	# large pools take a while to pin, more so on a loaded machine
	if ! wct_wait_for "$(wct_tries 300)" 0.1 wait_file "$WCT_DIR/$tag.ready"; then
		fail "$tag: capture did not start: $(tr '\n' '|' <"$WCT_DIR/$tag.err")"
		# never leave it behind to make the next capture "busy"
		kill -9 "$CAP_PID" 2>/dev/null
		wait "$CAP_PID" 2>/dev/null
		return 1
	fi
}

# wait_exit PID SEC: wait (bounded) for PID to exit; sets EXIT_RC
wait_exit() {
	if ! timeout "$2" tail --pid="$1" -f /dev/null; then
		kill -9 "$1" 2>/dev/null
		EXIT_RC=timeout
		wait "$1" 2>/dev/null
		return 1
	fi
	wait "$1"
	EXIT_RC=$?
}

# stop_capture PID: SIGINT, then wait; sets EXIT_RC
stop_capture() {
	kill -INT "$1" 2>/dev/null
	wait_exit "$1" "$(wct_time 20)"
}

# pow2_floor N: the largest power of two <= N, at least 64 (ring sizes)
pow2_floor() {
	local p=64
	while [ $((p * 2)) -le "$1" ]; do p=$((p * 2)); done
	echo "$p"
}

gen() { run_in "$TX" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@"; }
# bg_gen PIDVAR ARGS...: gen in the background (nsenter execs: PID is gen's)
bg_gen() {
	local var=$1
	shift
	wct_bg "$var" nsenter --net=/run/netns/"$TX" -- "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@" \
		2>>"$WCT_DIR/gen-bg.err"
}

stats_json() { run_in "$RX" "$WIRECAP" stats "$IF" --json --no-rate; }

# delivered_at_least N: the running engine has delivered >= N packets
# (the engine publishes its counters every ~100 ms)
delivered_at_least() {
	local d
	d=$(stats_json | jq -r '.totals.delivered // 0')
	[ "${d:-0}" -ge "$1" ]
}

# check_accounting NAME JSON: the engine invariant, exactly
check_accounting() {
	local v
	v=$(jq -r '"\(.received) \(.delivered + .dropped.total + .passed + (.xdp_filtered // 0)) \(.unaccounted)"' "$2")
	set -- "$1" $v
	if [ "$#" -eq 4 ] && [ "$2" = "$3" ] && [ "$4" = 0 ]; then
		pass "$1: received $2 == delivered + dropped + passed, unaccounted 0"
	else
		fail "$1: accounting: received, delivered + dropped + passed, unaccounted = ${*:2}"
	fi
}

# check_capture_sums NAME JSON: delivered = written + filtered + not_written + lost
check_capture_sums() {
	local v
	v=$(jq -r '"\(.delivered) \(.written + .filtered + .not_written + .lost_write_error)"' "$2")
	set -- "$1" $v
	if [ "$#" -eq 3 ] && [ "$2" = "$3" ]; then
		pass "$1: delivered $2 == written + filtered + not_written + lost_write_error"
	else
		fail "$1: delivered vs written + filtered + not_written + lost: ${*:2}"
	fi
}

# tshark_count FILE: packets tshark reads (fails the check if tshark errors)
tshark_count() {
	local out rc=0
	out=$(tshark -r "$1" -T fields -e frame.number 2>"$WCT_DIR/tshark.err") || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "tshark-error-$rc"
		return
	fi
	printf '%s\n' "$out" | grep -c .
}

# ts_late FILE: packets of a pcapng file (little-endian, one timestamp
# resolution) older than a packet before them
ts_late() {
	timeout 300 python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    b = f.read()
late, top, o = 0, -1, 0
while o + 12 <= len(b):
    t, n = struct.unpack_from('<II', b, o)
    if n < 12:
        sys.exit('bad block at %d' % o)
    if t == 6:  # enhanced packet block: timestamp high, low
        hi, lo = struct.unpack_from('<II', b, o + 12)
        ts = hi << 32 | lo
        if ts < top:
            late += 1
        else:
            top = ts
    o += n
print(late)
EOF
}

# isb_counts FILE: "ifrecv ifdrop osdrop usrdeliv" of the file's last block,
# which must be an interface statistics block
isb_counts() {
	local f=$1 len b i code olen v k
	local -A o=()
	len=$(tail -c 4 "$f" | od -An -tu4 | tr -d ' ')
	mapfile -t b < <(tail -c "$len" "$f" | od -An -v -tu1 -w1 | tr -d ' ')
	if [ "${#b[@]}" -ne "$len" ] ||
		[ $((b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24)) -ne 5 ]; then
		echo "no-isb"
		return
	fi
	i=20
	while [ $((i + 4)) -le "$len" ]; do
		code=$((b[i] | b[i + 1] << 8))
		olen=$((b[i + 2] | b[i + 3] << 8))
		[ "$code" -eq 0 ] && break
		if [ "$olen" -eq 8 ]; then
			v=0
			for k in 7 6 5 4 3 2 1 0; do v=$((v << 8 | b[i + 4 + k])); done
			o[$code]=$v
		fi
		i=$((i + 4 + (olen + 3) / 4 * 4))
	done
	echo "${o[4]:--} ${o[5]:--} ${o[7]:--} ${o[8]:--}"
}

# ---- (a) lossless -----------------------------------------------------------------

test_lossless() {
	local m=$1 f=$SHM/lossless.pcapng sent v ga arr late
	local j=$WCT_DIR/lossless-$m.json
	start_capture "lossless-$m" -w "$f" -q --stats-json "$j" || return
	gen -c "$N" --flows "$FLOWS" --pps "$PPS_HI" --json "$WCT_DIR/gen-a.json"
	sent=$(jq -r .sent "$WCT_DIR/gen-a.json")
	check_eq "$m lossless: gen sent" "$N" "$sent"
	# what reached the interface: all of it on the host; on a slow machine
	# minus what the sending veth dropped before XDP (gen counts them)
	ga=$(cat "$WCT_DIR/gen-a.json")
	arr=$(wct_arrived "$ga" "$sent")
	wct_wait_for "$(wct_tries 100)" 0.1 delivered_at_least "$arr"
	stop_capture "$CAP_PID"
	check_eq "$m lossless: capture exit status" 0 "$EXIT_RC"
	[ -s "$j" ] || { fail "$m lossless: no --stats-json"; return; }
	check_accounting "$m lossless" "$j"
	check_capture_sums "$m lossless" "$j"
	check_arrived "$m lossless: received == sent" "$sent" "$ga" "$(jq -r .received "$j")"
	check_eq "$m lossless: dropped" 0 "$(jq -r .dropped.total "$j")"
	check_arrived "$m lossless: written == sent" "$sent" "$ga" "$(jq -r .written "$j")"
	v=$(run_in "$RX" "$WIRECAP" verify "$f" --expect-json "$WCT_DIR/gen-a.json" --json 2>/dev/null)
	check_eq "$m lossless: verify lost/dup/reordered/excess" "$(wct_gen_dropped "$ga") 0 0 0" \
		"$(printf '%s' "$v" | jq -r '[.lost, .duplicates, .reordered, .excess] | map(tostring) | join(" ")' 2>/dev/null ||
			printf '%s' "$v" | head -c 200)"
	check_arrived "$m lossless: capinfos counts every packet" "$sent" "$ga" "$(capinfos_count "$f")"
	check_eq "$m lossless: closing ISB ifrecv/ifdrop/osdrop/usrdeliv" \
		"$arr 0 0 $arr" "$(isb_counts "$f")"
	# 4 queues x 2 workers merged by timestamp. The merge assumes a frame
	# stamped by XDP is in its ring within 2 ms; a CPU descheduled between
	# the two (a loaded host, an emulated guest) breaks that, and such a
	# packet is written as it comes and counted late. Whatever the machine:
	# the packets out of time order in the file are exactly those counted.
	late=$(jq -r .time_order.late "$j")
	[ "$late" = 0 ] || log "$m lossless: $late packets written late (the machine delayed them > 2 ms)"
	check_eq "$m lossless: packets out of time order in the file == counted late" \
		"$late" "$(ts_late "$f")"
	rm -f "$f"
}

# ---- (b) bursts: the consumer stalls while the whole burst arrives ---------------------

# burst MODE NAME EXPECT(none|pool|ring) BENCH-ARGS...
# bench stalls every worker at its first packet until the file $go exists;
# the test creates it once gen has sent the whole burst and XDP has seen
# every packet of it (delivered to a ring or dropped, counted). So the pool
# and the rings alone absorb the burst, at whatever rate this machine
# sends, and what they do is checked exactly: a pool larger than the burst
# loses nothing; a smaller pool or RX ring loses exactly sent - captured,
# all counted under that cause.
burst() {
	local m=$1 name=$2 cause=$3 j=$WCT_DIR/burst.json g=$WCT_DIR/gen-b.json
	local go=$WCT_DIR/burst.go sent lost deliv pid gb d arr p0 cnt seen drops
	shift 3
	# 30,000 packets per queue on the host, 60,000 on rx queue 0 in
	# generic mode (it receives tx queues 0 and 1, see net.sh): less than
	# the tests' default pool (WCT_POOL, 65,536 frames per queue), more
	# than the small pool and the small rings of the callers
	cnt=$(wct_count 120000)
	local -a pool
	mapfile -t pool < <(wct_pool_args "$@")
	rm -f "$j" "$go" "$WCT_DIR/burst.ready"
	p0=$(xdp_packets)
	wct_bg pid nsenter --net=/run/netns/"$RX" -- "$WIRECAP" bench -i "$IF" --stall-until "$go" \
		--idle-exit 1 --flows "$FLOWS" --expect "$cnt" -q \
		--stats-json "$j" --ready-file "$WCT_DIR/burst.ready" "${pool[@]}" "$@" \
		2>"$WCT_DIR/burst.err"
	if ! wct_wait_for "$(wct_tries 300)" 0.1 wait_file "$WCT_DIR/burst.ready"; then
		fail "$m $name: bench did not start: $(tr '\n' '|' <"$WCT_DIR/burst.err")"
		kill "$pid" 2>/dev/null
		return
	fi
	gen -c "$cnt" --flows "$FLOWS" --json "$g"
	gb=$(cat "$g")
	sent=$(jq -r .sent <<<"$gb")
	check_eq "$m $name: gen sent the burst" "$cnt" "$sent"
	# frames the sending veth dropped before XDP (only counted on a slow
	# machine, see net.sh; 0 on the host): part of gen's loss, not wirecap's
	d=$(wct_gen_dropped "$gb")
	arr=$(wct_arrived "$gb" "$sent")
	# the whole burst has been through XDP before the consumer resumes
	if wct_wait_for "$(wct_tries 300)" 0.1 xdp_saw_more_than $((p0 + arr - 1)); then
		pass "$m $name: XDP saw the whole burst ($arr packets) while the consumer stalled"
	else
		fail "$m $name: XDP saw $(($(xdp_packets) - p0)) of $arr packets within $(wct_time 30) s"
	fi
	touch "$go"
	wait_exit "$pid" "$(wct_time 60)"
	[ -s "$j" ] || { fail "$m $name: bench wrote no JSON (exit $EXIT_RC): $(tr '\n' '|' <"$WCT_DIR/burst.err")"; return; }
	check_eq "$m $name: bench exit status" 0 "$EXIT_RC"
	check_accounting "$m $name" "$j"
	check_arrived "$m $name: received == sent" "$sent" "$gb" "$(jq -r .received "$j")"
	deliv=$(jq -r .delivered "$j")
	lost=$((sent - deliv))
	check_eq "$m $name: bench payload loss == sent - captured" "$lost" "$(jq -r .lost "$j")"
	check_eq "$m $name: duplicates/reordered" "0 0" "$(jq -r '"\(.duplicates) \(.reordered)"' "$j")"
	drops=$(jq -r '"\(.dropped.pool_exhausted) \(.dropped.ring_full) \(.dropped.other) \(.dropped.no_socket)"' "$j")
	seen=$((lost - d))
	case $cause in
	none)
		check_eq "$m $name: pool larger than the burst loses nothing" "$d" "$lost"
		check_eq "$m $name: no drops by any cause" "0 0 0 0" "$drops"
		;;
	pool)
		if [ "$seen" -gt 0 ]; then pass "$m $name: the small pool lost $seen"; else fail "$m $name: no loss with a pool smaller than the burst"; fi
		check_eq "$m $name: loss attributed to pool_exhausted" "$seen 0 0 0" "$drops"
		;;
	ring)
		if [ "$seen" -gt 0 ]; then pass "$m $name: the small ring lost $seen"; else fail "$m $name: no loss with a ring smaller than the burst"; fi
		check_eq "$m $name: loss attributed to ring_full" "0 $seen 0 0" "$drops"
		;;
	esac
}

# ---- (c) SIGINT mid-capture, with `wirecap stats` watching -----------------------------

test_sigint() {
	local m=$1 f=$SHM/sigint.pcapng j=$WCT_DIR/sigint.json gpid s w n
	start_capture "sigint-$m" -w "$f" --stats-json "$j" || return
	# traffic until the test stops it (SIGINT below): the checks of the
	# running engine never race the end of a fixed duration
	bg_gen gpid -d "$(wct_time 120)" --pps "$PPS_MID" --flows "$FLOWS"
	wct_wait_for "$(wct_tries 50)" 0.1 delivered_at_least "$(wct_count 50000)"
	s=$(run_in "$RX" "$WIRECAP" stats "$IF" --json --watch 0.3 --count 1 2>&1)
	check_eq "$m stats: engine running, 4 queues, 2 workers, pid" \
		"true 4 2 $CAP_PID" \
		"$(printf '%s' "$s" | jq -r '"\(.engine.running) \(.queues | length) \(.workers | length) \(.engine.pid)"' 2>/dev/null)"
	check_match "$m stats: live delivery rate" '^[1-9][0-9.]*$' \
		"$(printf '%s' "$s" | jq -r '.totals.delivered_pps' 2>/dev/null)"
	check_ok "$m stats: human output" run_in "$RX" "$WIRECAP" stats "$IF" --no-rate
	stop_capture "$CAP_PID"
	check_eq "$m sigint: exit status 0 after SIGINT" 0 "$EXIT_RC"
	kill -INT "$gpid" 2>/dev/null
	wait_exit "$gpid" "$(wct_time 10)"
	check_match "$m sigint: summary printed" 'packets received by XDP' "$(cat "$WCT_DIR/sigint-$m.err")"
	[ -s "$j" ] || { fail "$m sigint: no --stats-json"; return; }
	check_accounting "$m sigint" "$j"
	check_capture_sums "$m sigint" "$j"
	w=$(jq -r .written "$j")
	if [ "$w" -gt 0 ]; then pass "$m sigint: $w packets written before SIGINT"; else fail "$m sigint: nothing written"; fi
	n=$(tshark_count "$f")
	check_eq "$m sigint: tshark reads every packet written" "$w" "$n"
	s=$(stats_json)
	check_eq "$m stats: no engine after the capture" "false" "$(printf '%s' "$s" | jq -r .engine.running)"
	rm -f "$f"
}

# ---- (g) a capture started while traffic flows ------------------------------------------

xdp_packets() { run_in "$RX" "$WIRECAP" status "$IF" --json | jq -r '.totals.packets // 0'; }
xdp_saw_more_than() { [ "$(xdp_packets)" -gt "$1" ]; }

# The pools are filled before the first socket is plugged into the XSKMAP,
# and the XDP counters are read just before: no packet is dropped at the
# start, and the sums reconcile exactly per queue although packets are
# arriving all along (before the plug they are passed to the stack).
test_midstream() {
	local m=$1 f=$SHM/mid.pcapng j=$WCT_DIR/mid.json gpid p0 bad
	p0=$(xdp_packets)
	# until stopped below (SIGINT), however long the capture takes to start
	bg_gen gpid -d "$(wct_time 120)" --pps "$(wct_rate 50000)" --flows "$FLOWS"
	if ! wct_wait_for "$(wct_tries 100)" 0.05 xdp_saw_more_than $((p0 + $(wct_count 5000))); then
		fail "$m midstream: traffic did not start"
		kill -INT "$gpid" 2>/dev/null
		wait_exit "$gpid" 10
		return
	fi
	start_capture "mid-$m" -w "$f" --stats-json "$j" --pool-chunks 512 ||
		{ kill -INT "$gpid" 2>/dev/null; wait_exit "$gpid" 10; return; }
	wct_wait_for "$(wct_tries 50)" 0.1 delivered_at_least "$(wct_count 20000)"
	stop_capture "$CAP_PID"
	check_eq "$m midstream: exit status 0" 0 "$EXIT_RC"
	kill -INT "$gpid" 2>/dev/null
	wait_exit "$gpid" 10
	[ -s "$j" ] || { fail "$m midstream: no --stats-json"; return; }
	check_accounting "$m midstream" "$j"
	check_eq "$m midstream: nothing dropped at the start (pools full before the plug)" \
		"0 0 0" "$(jq -r '"\(.dropped.pool_exhausted) \(.dropped.ring_full) \(.dropped.other)"' "$j")"
	bad=$(jq -r '[.queues[] | select(.received != .delivered + .passed + .pool_exhausted + .ring_full + .other_dropped + .no_socket_dropped)] | length' "$j")
	check_eq "$m midstream: every queue reconciles (received == delivered + dropped + passed)" 0 "$bad"
	if [ "$(jq -r .delivered "$j")" -ge "$(wct_count 20000)" ]; then
		pass "$m midstream: $(jq -r .delivered "$j") delivered"
	else
		fail "$m midstream: only $(jq -r .delivered "$j") delivered"
	fi
	rm -f "$f"
}

# ---- (d) disk full --------------------------------------------------------------------

test_full() {
	local m=$1 f=$FULL/full.pcapng j=$WCT_DIR/full.json err n w pid
	mount -t tmpfs -o size=2m wct-full "$FULL"
	rm -f "$WCT_DIR/full.ready"
	wct_bg pid nsenter --net=/run/netns/"$RX" -- "$WIRECAP" capture -i "$IF" -w "$f" --stats-json "$j" \
		"${WCT_POOL[@]}" --ready-file "$WCT_DIR/full.ready" 2>"$WCT_DIR/full.err"
	# a capture that did not start is a failure, and never left behind
	# (the next capture would find the interface busy)
	if ! wct_wait_for "$(wct_tries 300)" 0.1 wait_file "$WCT_DIR/full.ready"; then
		fail "$m disk full: capture did not start: $(tr '\n' '|' <"$WCT_DIR/full.err")"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	else
		# 100000 packets (> 2 MB of pcapng) also on a slow machine
		gen -c 100000 --flows "$FLOWS" --pps "$PPS_HI"
		wait_exit "$pid" "$(wct_time 20)"
		check_ne "$m disk full: non-zero exit" 0 "$EXIT_RC"
		check_ne "$m disk full: capture stopped by itself" timeout "$EXIT_RC"
		err=$(grep -c 'No space left on device' "$WCT_DIR/full.err")
		check_eq "$m disk full: one error line" 1 "$err"
		check_match "$m disk full: error names the file and errno" \
			"^wirecap: write $f: No space left on device" "$(grep 'No space' "$WCT_DIR/full.err")"
		check_match "$m disk full: summary still printed" 'packets received by XDP' "$(cat "$WCT_DIR/full.err")"
		if [ -s "$j" ]; then
			check_accounting "$m disk full" "$j"
			check_capture_sums "$m disk full" "$j"
			w=$(jq -r .written "$j")
			n=$(tshark_count "$f")
			check_eq "$m disk full: tshark reads the file fully" "$w" "$n"
			check_match "$m disk full: JSON names the error" 'No space left' "$(jq -r .write_error "$j")"
		else
			fail "$m disk full: no --stats-json"
		fi
	fi
	umount "$FULL"
}

# ---- (f) filter, -c, rotation -------------------------------------------------------

test_filter() {
	local m=$1 f=$SHM/filter.pcapng j=$WCT_DIR/filter.json port=32770 cnt ports gf d w
	cnt=$((FLOWS * $(wct_count 1000))) # 64000 on the host
	# flow 2 of `wirecap gen`: 198.18.0.2:32770 -> 198.19.0.2:4096 (util/seq.c)
	# the user-space path (test_filter.sh covers the filter in XDP)
	start_capture "filter-$m" -w "$f" -q --stats-json "$j" --filter-in user udp port "$port" || return
	gen -c "$cnt" --flows "$FLOWS" --pps "$PPS_HI" --json "$WCT_DIR/gen-f.json"
	gf=$(cat "$WCT_DIR/gen-f.json")
	d=$(wct_gen_dropped "$gf")
	wct_wait_for "$(wct_tries 100)" 0.1 delivered_at_least "$(wct_arrived "$gf" "$cnt")"
	stop_capture "$CAP_PID"
	check_eq "$m filter: exit status" 0 "$EXIT_RC"
	check_accounting "$m filter" "$j"
	check_capture_sums "$m filter" "$j"
	ports=$(tshark -r "$f" -T fields -e udp.srcport 2>/dev/null | sort | uniq -c | awk '{print $2 ":" $1}')
	if [ "$d" = 0 ]; then
		check_eq "$m filter: written/filtered" "$((cnt / FLOWS)) $((cnt - cnt / FLOWS))" \
			"$(jq -r '"\(.written) \(.filtered)"' "$j")"
		check_eq "$m filter: the file holds only udp port $port" "$port:$((cnt / FLOWS))" "$ports"
	else
		# the sending veth dropped d frames of unknown flows: the sum
		# reconciles exactly, the split only up to them
		w=$(jq -r .written "$j")
		check_arrived "$m filter: written + filtered" "$cnt" "$gf" "$(jq -r '.written + .filtered' "$j")"
		check_range "$m filter: written (flow 2 of 64, $d dropped by the sending veth)" \
			"$((cnt / FLOWS - d))" "$((cnt / FLOWS + 1))" "$w"
		check_eq "$m filter: the file holds only udp port $port" "$port:$w" "$ports"
	fi
	rm -f "$f"
}

test_count_rotate() {
	local m=$1 j=$WCT_DIR/count.json n files ok=1 tot=0 x
	start_capture "count-$m" -w "$SHM/count.pcapng" -c 12345 -q --stats-json "$j" || return
	gen -c 50000 --flows "$FLOWS" --pps "$PPS_HI"
	wait_exit "$CAP_PID" "$(wct_time 20)"
	check_eq "$m -c: exits by itself, status 0" 0 "$EXIT_RC"
	check_eq "$m -c: exactly 12345 written" "12345 12345" \
		"$(jq -r .written "$j") $(capinfos_count "$SHM/count.pcapng")"
	check_capture_sums "$m -c" "$j"
	check_accounting "$m -c" "$j"

	# -C 1: files of at most 1,000,000 bytes. gen sends rounds of 40000
	# packets until 40000 have arrived (one round on the host; under
	# emulation the sending veth drops part of each): >= 4 MB of pcapng, so
	# several rotations on any machine. Stopped once every packet that
	# arrived was delivered (a --duration would have to outlast gen's start
	# and its sending, which takes what it takes on a loaded machine).
	rm -f "$SHM"/rot*
	start_capture "rot-$m" -w "$SHM/rot.pcapng" -C 1 -q --stats-json "$j" || return
	local r arrived=0 sent=0 big=0 last
	for ((r = 1; r <= 8 && arrived < 40000; r++)); do
		gen -c 40000 --flows "$FLOWS" --pps "$PPS_HI" --json "$WCT_DIR/gen-r.json"
		sent=$((sent + 40000))
		arrived=$((arrived + $(wct_arrived "$(cat "$WCT_DIR/gen-r.json")")))
	done
	wct_wait_for "$(wct_tries 300)" 0.1 delivered_at_least "$arrived"
	stop_capture "$CAP_PID"
	check_eq "$m -C: exit status 0 after SIGINT" 0 "$EXIT_RC"
	files=$(jq -r .files "$j")
	n=$(find "$SHM" -name 'rot.pcapng*' | wc -l)
	check_eq "$m -C: files reported == files on disk" "$files" "$n"
	# every file at most 1,000,000 bytes, and every one but the newest
	# rotated only when the next packet would not fit (> 900,000 bytes)
	last=$(find "$SHM" -name 'rot.pcapng*' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
	for x in "$SHM"/rot.pcapng*; do
		[ "$(stat -c %s "$x")" -le 1000000 ] || ok=0
		[ "$x" = "$last" ] || [ "$(stat -c %s "$x")" -gt 900000 ] || big=$((big + 1))
		tot=$((tot + $(capinfos_count "$x")))
	done
	if [ "$n" -ge 4 ] && [ "$ok" = 1 ] && [ "$big" = 0 ]; then
		pass "$m -C: $n files, each <= 1,000,000 bytes, each but the last > 900,000"
	else
		fail "$m -C: $n files, sizes ok=$ok, $big rotated early"
	fi
	check_eq "$m -C: the files hold every packet written" "$(jq -r .written "$j")" "$tot"
	if [ "$arrived" = "$sent" ]; then
		check_eq "$m -C: written == sent" "$sent" "$tot"
	else
		check_eq "$m -C: written == sent - dropped by the sending veth ($((sent - arrived)))" \
			"$arrived" "$tot"
	fi
	rm -f "$SHM"/rot* "$SHM/count.pcapng"

	# -G 1: a new file every second, each complete. gen is paced: its
	# 1.5 s worth of packets never take less than 1.5 s (check_paced), so
	# they span a rotation on any machine; the capture is stopped once it
	# delivered every packet that arrived
	local ng
	ng=$((PPS_LO * 3 / 2))
	start_capture "rotG-$m" -w "$SHM/g.pcapng" -G 1 -q --stats-json "$j" || return
	gen -c "$ng" --pps "$PPS_LO" --flows "$FLOWS" --json "$WCT_DIR/gen-g.json"
	check_paced "$m -G: gen took at least 1.5 s" "$ng" "$PPS_LO" \
		"$(jq -r .duration_s "$WCT_DIR/gen-g.json")"
	wct_wait_for "$(wct_tries 300)" 0.1 delivered_at_least \
		"$(wct_arrived "$(cat "$WCT_DIR/gen-g.json")")"
	stop_capture "$CAP_PID"
	check_eq "$m -G: exit status 0 after SIGINT" 0 "$EXIT_RC"
	n=$(find "$SHM" -name 'g.pcapng*' | wc -l)
	tot=0
	for x in "$SHM"/g.pcapng*; do tot=$((tot + $(capinfos_count "$x"))); done
	if [ "$n" -ge 2 ] && [ "$n" = "$(jq -r .files "$j")" ]; then
		pass "$m -G 1: $n files over a 1.5 s (or longer) send"
	else
		fail "$m -G 1: $n files on disk, $(jq -r .files "$j") reported"
	fi
	check_eq "$m -G: the files hold every packet sent" \
		"$(wct_arrived "$(cat "$WCT_DIR/gen-g.json")") $(jq -r .written "$j")" "$tot $tot"
	rm -f "$SHM"/g.pcapng*
}

# ---- per XDP mode ----------------------------------------------------------------------

# WCT_XDP_MODES: the XDP modes to run (default both; `make vmtest-ci` runs
# native only, to fit CI's time)
for mode in ${WCT_XDP_MODES:-native generic}; do
	case "$mode" in native | generic) ;; *) fail "WCT_XDP_MODES: unknown mode '$mode'"; continue ;; esac
	log "=== XDP $mode mode"
	if ! run_in "$RX" "$WIRECAP" attach "$IF" --mode "$mode" >/dev/null 2>"$WCT_DIR/attach.err"; then
		fail "attach --mode $mode: $(cat "$WCT_DIR/attach.err")"
		continue
	fi
	check_eq "attach: $mode mode" "$mode" \
		"$(run_in "$RX" "$WIRECAP" status "$IF" --json | jq -r .mode)"
	test_lossless "$mode"
	burst "$mode" "burst, pool > burst" none
	burst "$mode" "burst, pool < burst" pool --pool-chunks "$(wct_count 256)" --chunk-size 64
	burst "$mode" "burst, rx ring < pool" ring --pool-chunks "$(wct_count 1024)" --chunk-size 64 \
		--rx-ring "$(pow2_floor "$(wct_count 4096)")"
	test_filter "$mode"
	test_count_rotate "$mode"
	test_sigint "$mode"
	test_midstream "$mode"
	test_full "$mode"
	check_ok "detach ($mode)" run_in "$RX" "$WIRECAP" detach "$IF"
	check_eq "detach: no XDP program left ($mode)" none "$(xdp_prog_id "$RX" "$IF")"
done

# ---- (e) bad input (the interface is not attached: capture attaches itself) ------------

log "=== bad input"
check_error "unknown interface" 'no such interface: wctnosuch0' \
	run_in "$RX" "$WIRECAP" capture -i wctnosuch0 -w "$SHM/x.pcapng"
check_error "unwritable output path" 'cannot create /proc/x.pcapng: ' \
	run_in "$RX" "$WIRECAP" capture -i "$IF" -w /proc/x.pcapng
check_eq "unwritable output: nothing attached" none "$(xdp_prog_id "$RX" "$IF")"
check_error "bad filter expression: libpcap's message" \
	"invalid filter expression 'udp prot 80': .*syntax error" \
	run_in "$RX" "$WIRECAP" capture -i "$IF" -w "$SHM/x.pcapng" udp prot 80
check_eq "bad filter: nothing attached" none "$(xdp_prog_id "$RX" "$IF")"
check_eq "bad filter / unknown interface: no file left" 0 "$(find "$SHM" -name 'x.pcapng' | wc -l)"
check_error "pool larger than memory: error names the limit" \
	'MiB.*(available|RLIMIT_MEMLOCK)|(available|RLIMIT_MEMLOCK).*MiB' \
	run_in "$RX" "$WIRECAP" capture -i "$IF" -w "$SHM/x.pcapng" --pool-chunks 65536 --chunk-size 64
check_eq "pool larger than memory: nothing left attached" none "$(xdp_prog_id "$RX" "$IF")"

if start_capture busy1 -w "$SHM/busy1.pcapng" -q; then
	check_error "second capture on the same interface: busy" 'busy|a capture engine already runs on it \(pid [0-9]+\)' \
		run_in "$RX" "$WIRECAP" capture -i "$IF" -w "$SHM/busy2.pcapng"
	stop_capture "$CAP_PID"
	check_eq "busy: the first capture is unaffected" 0 "$EXIT_RC"
	check_eq "busy: the capture detached what it attached" none "$(xdp_prog_id "$RX" "$IF")"
fi

# the interface disappears mid-capture
if start_capture gone -w "$SHM/gone.pcapng" --stats-json "$WCT_DIR/gone.json"; then
	bg_gen gpid -d "$(wct_time 120)" --pps "$PPS_MID" --flows "$FLOWS" # ends with the veth
	wct_wait_for "$(wct_tries 50)" 0.1 delivered_at_least "$(wct_count 20000)"
	wct_del_veth
	wait_exit "$CAP_PID" "$(wct_time 20)"
	check_ne "interface deleted: capture exits by itself" timeout "$EXIT_RC"
	check_ne "interface deleted: non-zero exit" 0 "$EXIT_RC"
	check_match "interface deleted: error line" \
		"^wirecap: $IF disappeared during the capture" "$(grep -v '^ ' "$WCT_DIR/gone.err" | grep -v 'packets received' | grep -v '^wirecap: warning:')"
	kill -INT "$gpid" 2>/dev/null # if the deleted device did not end it
	wait_exit "$gpid" "$(wct_time 10)"
	if [ -s "$WCT_DIR/gone.json" ]; then
		w=$(jq -r .written "$WCT_DIR/gone.json")
		check_eq "interface deleted: tshark reads the file" "$w" "$(tshark_count "$SHM/gone.pcapng")"
		check_capture_sums "interface deleted" "$WCT_DIR/gone.json"
	else
		fail "interface deleted: no --stats-json"
	fi
fi

wct_finish
