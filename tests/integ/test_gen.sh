#!/usr/bin/env bash
# wirecap gen + wirecap verify, without the capture engine: the generator
# aims flows at receive queues of a veth pair (weights 1,2,0,1), dumpcap
# captures on the receiving end, verify must find every packet exactly once
# and in order; per-queue counters of the receiving veth must match what the
# generator says it sent on each queue. Also: both directions in one capture,
# --duration, Ctrl-C, and one-line errors.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

GEN_N=20000
# dumpcap (AF_PACKET) keeps up with 20000 pps on any host; an emulated
# guest (WCT_SLOW) gets a tenth of it
GEN_PPS=$(wct_rate 20000)

for t in dumpcap jq; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps)"
		wct_finish
	fi
done

# A pass-everything XDP program on the receiver: it turns on veth's
# per-queue rx counters (rx_queue_N_xdp_packets) and changes nothing else.
xdp_pass=0
xdp_why="clang is not installed (make deps)"
if command -v clang >/dev/null; then
	xdp_why="the pass-everything XDP program did not build or attach"
	cat >"$WCT_DIR/pass.c" <<-'EOF'
		#include <linux/bpf.h>
		__attribute__((section("xdp"), used))
		int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }
		char _license[] __attribute__((section("license"), used)) = "GPL";
	EOF
	if clang -O2 -target bpf -I/usr/include/"$(gcc -print-multiarch 2>/dev/null)" \
		-c "$WCT_DIR/pass.c" -o "$WCT_DIR/pass.o" 2>/dev/null &&
		ip -n "$WCT_NS_RX" link set dev "$WCT_IF_RX" xdpdrv \
			obj "$WCT_DIR/pass.o" sec xdp; then
		xdp_pass=1
	fi
fi

rxq_packets() { # queue -> rx_queue_N_xdp_packets of the receiving veth
	run_in "$WCT_NS_RX" ethtool -S "$WCT_IF_RX" |
		awk -v k="rx_queue_$1_xdp_packets:" '$1 == k { print $2 }'
}

# check_verify_fails NAME REGEX CMD...: exits 1 with one line on stderr
# matching REGEX (the report itself is on stdout)
check_verify_fails() {
	local name=$1 re=$2 rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "$name: exit $rc, expected 1: $err"
	elif [ "$(printf '%s\n' "$err" | grep -c .)" -ne 1 ]; then
		fail "$name: expected one line on stderr: $(printf '%s' "$err" | tr '\n' '|')"
	elif ! printf '%s' "$err" | grep -Eq -- "$re"; then
		fail "$name: '$err' does not match /$re/"
	else
		pass "$name"
	fi
}

gen() { # gen ARGS...: the generator in the sending namespace, bounded
	run_in "$WCT_NS_TX" timeout 60 "$WIRECAP" gen -i "$WCT_IF_TX" "$@"
}

# ---- capture both generator runs with dumpcap on the receiving end ----------
cap=$WCT_DIR/cap.pcapng
cap_pid=
gen_pid=
cap_err=$WCT_DIR/dumpcap.err
# nsenter execs: the PID is timeout's, which passes SIGTERM on to dumpcap
wct_bg cap_pid nsenter --net=/run/netns/"$WCT_NS_RX" -- timeout 120 \
	dumpcap -q -i "$WCT_IF_RX" -B 64 -w "$cap" 2>"$cap_err"
# dumpcap -q still says "Capturing on ..." once the socket is open
if ! wct_wait_for 100 0.1 grep -q 'Capturing on' "$cap_err"; then
	fail "dumpcap did not start: $(tr '\n' ' ' <"$cap_err")"
	wct_finish
fi

declare -a rx0
for q in 0 1 2 3; do rx0[q]=$(rxq_packets $q); done

log "gen: $GEN_N packets, 64 flows, queues 0-3, weights 1,2,0,1, $GEN_PPS pps"
check_ok "gen forward exits 0" gen --queues 0-3 --weights 1,2,0,1 \
	--count "$GEN_N" --pps "$GEN_PPS" --flows 64 --dst-mac "$WCT_MAC_RX" \
	--json "$WCT_DIR/fwd.json" --quiet
fwd=$WCT_DIR/fwd.json
check_eq "gen sent exactly --count" "$GEN_N" "$(json .sent <"$fwd")"
check_eq "gen: no invalid descriptors" 0 "$(json .tx_invalid <"$fwd")"
# frames the sending veth dropped (WCT_SLOW only: its peer's ring full while
# the emulated CPU lags): every check below then reconciles with them
fdrop=$(wct_gen_dropped "$(cat "$fwd")")
if [ "$fdrop" = 0 ]; then
	check_eq "gen: no device tx drops" 0 "$(json .dev_tx_dropped <"$fwd")"
else
	skip "gen: no device tx drops" "the emulated receiver lagged: the sending veth dropped $fdrop frames (counted; the checks below reconcile with them)"
fi
check_eq "gen: flows per queue follow the weights" "16 32 0 16" \
	"$(json '[.queues[].flows] | map(tostring) | join(" ")' <"$fwd")"
check_eq "gen: weight-0 queue sent nothing" 0 "$(json '.queues[2].sent' <"$fwd")"
check_eq "gen: per-queue counts add up" "$GEN_N" \
	"$(json '[.queues[].sent] | add' <"$fwd")"
# a paced sender is never faster than asked: packet k leaves no earlier
# than k / pps after the first (how close it gets to the rate depends on
# the machine: `make bench` reports it)
check_paced "gen --pps $GEN_PPS: never faster than asked" "$GEN_N" "$GEN_PPS" \
	"$(json .duration_s <"$fwd")"

if [ "$xdp_pass" = 1 ] && [ "$fdrop" = 0 ]; then
	for q in 0 1 2 3; do
		check_eq "rx queue $q received what gen sent on tx queue $q" \
			"$(json ".queues[$q].sent" <"$fwd")" \
			"$(($(rxq_packets $q) - rx0[q]))"
	done
elif [ "$xdp_pass" = 1 ]; then
	# the veth drops are not counted per queue: the total reconciles
	# exactly, and no queue received more than gen sent on it
	tot=0
	over=
	for q in 0 1 2 3; do
		n=$(($(rxq_packets $q) - rx0[q]))
		tot=$((tot + n))
		[ "$n" -le "$(json ".queues[$q].sent" <"$fwd")" ] || over+=" $q"
	done
	check_arrived "rx queues received what gen sent" "$GEN_N" "$(cat "$fwd")" "$tot"
	check_eq "no rx queue received more than gen sent on its tx queue" "" "$over"
else
	# the per-queue counters of veth need an XDP program on the receiver
	skip "rx queue q received what gen sent on tx queue q" "$xdp_why"
fi

log "gen --reverse: the other direction of 16 flows, into the same capture"
check_ok "gen reverse exits 0" gen --queues 1 --count 1000 --pps "$GEN_PPS" \
	--flows 16 --flow-base 8 --reverse --dst-mac "$WCT_MAC_RX" \
	--json "$WCT_DIR/rev.json" --quiet
rdrop=$(wct_gen_dropped "$(cat "$WCT_DIR/rev.json")")
check_eq "gen reverse sent exactly --count" 1000 \
	"$(json .sent <"$WCT_DIR/rev.json")"
check_eq "gen reverse summary says reverse" true \
	"$(json .reverse <"$WCT_DIR/rev.json")"

# dumpcap flushes its file as it goes (for live readers): stop it once
# the file holds every packet that reached the receiver (bounded)
cap_has() { [ "$(capinfos_count "$cap")" -ge "$1" ] 2>/dev/null; }
want=$((GEN_N + 1000 - fdrop - rdrop))
wct_wait_for "$(wct_tries 300)" 0.1 cap_has "$want" ||
	log "dumpcap's file holds $(capinfos_count "$cap") of $want packets after 30 s"
kill -TERM "$cap_pid" 2>/dev/null
if ! wct_wait_for 100 0.1 sh -c "! kill -0 $cap_pid"; then
	fail "dumpcap did not stop"
fi
check_match "dumpcap dropped nothing" '\(pcap:0/dumpcap:0/flushed:0' \
	"$(cat "$cap_err")"

# ---- verify -------------------------------------------------------------------
v=$(timeout 60 "$WIRECAP" verify "$cap" --expect-json "$fwd" \
	--expect-json "$WCT_DIR/rev.json" --json)
rc=$?
# lost: what the sending veth dropped (0 on the host: nothing lost on the wire)
drops=$((fdrop + rdrop))
check_eq "verify with both summaries exits 0" "$([ "$drops" = 0 ] && echo 0 || echo 1)" "$rc"
check_eq "verify: received" $((GEN_N + 1000 - drops)) "$(json .received <<<"$v")"
check_eq "verify: lost" "$drops" "$(json .lost <<<"$v")"
check_eq "verify: duplicates" 0 "$(json .duplicates <<<"$v")"
check_eq "verify: reordered" 0 "$(json .reordered <<<"$v")"
check_eq "verify: forward flows seen" 64 "$(json .forward.flows_seen <<<"$v")"
check_eq "verify: reverse packets" $((1000 - rdrop)) "$(json .reverse.received <<<"$v")"
check_eq "verify: reverse flows seen" 16 "$(json .reverse.flows_seen <<<"$v")"

if [ "$drops" = 0 ]; then
	check_ok "verify from stdin, forward expectation only" \
		sh -c "timeout 60 '$WIRECAP' verify - --expect-json '$fwd' <'$cap'"
	check_verify_fails "verify detects a missing packet" '1 lost' \
		timeout 60 "$WIRECAP" verify "$cap" --expect-json "$WCT_DIR/rev.json" \
		--expect $((GEN_N + 1)) --flows 64
	check_verify_fails "verify detects excess packets" 'in excess' \
		timeout 60 "$WIRECAP" verify "$cap" --expect $((GEN_N - 64)) --flows 64
else
	for c in "verify from stdin, forward expectation only" \
		"verify detects a missing packet" "verify detects excess packets"; do
		skip "$c" "needs a complete capture; the sending veth dropped $drops frames (emulated receiver too slow)"
	done
fi
check_error "verify: unreadable file" 'cannot read' \
	timeout 10 "$WIRECAP" verify "$WCT_DIR/nonexistent.pcapng"

# ---- duration and Ctrl-C --------------------------------------------------------
check_ok "gen --duration 0.5 --pps 2000" gen --duration 0.5 --pps 2000 \
	--json "$WCT_DIR/dur.json" --quiet
# never more than 0.5 s at 2000 pps allows (packet k is due at k / 2000 s:
# at most 1001 due before 0.5 s); fewer when the machine is slow
n=$(json .sent <"$WCT_DIR/dur.json")
check_range "gen --duration 0.5 --pps 2000: sent some, never more than the rate allows" \
	1 1002 "$n"
check_paced "gen --duration 0.5 --pps 2000: never faster than asked" "$n" 2000 \
	"$(json .duration_s <"$WCT_DIR/dur.json")"

# no timeout wrapper: the signal must reach gen itself (bounded by --duration)
tx_packets() { ip -n "$WCT_NS_TX" -j -s link show "$WCT_IF_TX" | jq '.[0].stats64.tx.packets'; }
tx0=$(tx_packets)
wct_bg gen_pid nsenter --net=/run/netns/"$WCT_NS_TX" -- "$WIRECAP" gen \
	-i "$WCT_IF_TX" --duration 30 --pps 1000 --json "$WCT_DIR/int.json" --quiet
# signal it once it sends (its handler is in place by then): a background
# job starts with SIGINT ignored, and a slow machine (an emulated guest)
# may take longer than any fixed sleep to set its sockets up
sending() { [ "$(tx_packets)" -gt "$tx0" ]; }
wct_wait_for 300 0.1 sending || log "gen sent nothing within 30 s"
kill -INT "$gen_pid"
if wct_wait_for "$(wct_tries 50)" 0.1 sh -c "! kill -0 $gen_pid"; then
	pass "gen stops on SIGINT"
	check_eq "gen summary after SIGINT says interrupted" true \
		"$(json .interrupted <"$WCT_DIR/int.json")"
	check_match "gen counted the packets sent before SIGINT" '^[1-9][0-9]*$' \
		"$(json .sent <"$WCT_DIR/int.json")"
else
	fail "gen did not stop on SIGINT"
fi

# ---- one-line errors ------------------------------------------------------------
check_error "gen: unknown interface" "unknown interface 'nosuch0'" \
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i nosuch0
check_error "gen: queue out of range" 'queue 4 out of range' \
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i "$WCT_IF_TX" --queues 4
check_error "gen: weights per queue" 'expected 2 \(one per queue\)' \
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i "$WCT_IF_TX" -q 0,1 --weights 1,2,3
check_error "gen: no interface" 'needs an interface' "$WIRECAP" gen --count 1
ip -n "$WCT_NS_RX" link set "$WCT_IF_RX" down
# the carrier of the sending end drops a moment later (linkwatch)
no_carrier() { ip -n "$WCT_NS_TX" link show "$WCT_IF_TX" | grep -q NO-CARRIER; }
wct_wait_for "$(wct_tries 50)" 0.1 no_carrier
check_error "gen: peer down" 'no carrier' \
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i "$WCT_IF_TX" --count 1
ip -n "$WCT_NS_TX" link set "$WCT_IF_TX" down
check_error "gen: interface down" 'is down' \
	run_in "$WCT_NS_TX" "$WIRECAP" gen -i "$WCT_IF_TX" --count 1

wct_finish
