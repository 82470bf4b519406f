#!/usr/bin/env bash
# Filters in XDP (issue 12), in native and in generic XDP mode:
#  (a) attach --filter: status and the pinned config say it is installed;
#  (b) capture with a filter matching 1 of 64 flows (paced): the file holds
#      exactly that flow's packets, every one, in order (wirecap verify,
#      tshark); `filtered` counts exactly the others; received == delivered
#      + passed + dropped + filtered; at exit the attachment's own filter is
#      back;
#  (c) live replacement under traffic: a bench runs while the filter is
#      replaced again and again (flow 2, flow 3, ...): every packet sent was
#      judged by one filter or the other (received == sent, delivered +
#      filtered == received, unaccounted 0) and only flows 2 and 3 arrived;
# then once:
#  (d) bad input: an expression libpcap cannot compile, one XDP cannot run
#      (named), a filter on an interface that is not attached: one line
#      each, non-zero exit, nothing left attached.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq tshark bpftool tcpdump; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps)"
		wct_finish
	fi
done

RX=$WCT_NS_RX
TX=$WCT_NS_TX
IF=$WCT_IF_RX
FLOWS=64
PPS=$(wct_rate 50000)
N=$((FLOWS * $(wct_count 500))) # 32000 on the host
PIN=$WIRECAP_PIN_ROOT/$IF
# flow f of `wirecap gen`: 198.18.0.2:(32768 + f) -> 198.19.0.2:4096
FLOW=2
EXPR="udp src port $((32768 + FLOW))"

gen() { run_in "$TX" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@"; }
# flow 3 as a classic program, as tcpdump prints it
tcpdump -ddd "udp src port 32771" >"$WCT_DIR/flow3.ddd" 2>/dev/null
status_json() { run_in "$RX" "$WIRECAP" status "$IF" --json; }
# the XDP program's packet count on the interface since attach
xdp_packets() { status_json | jq -r '.totals.packets // 0'; }
xdp_saw_at_least() { [ "$(xdp_packets)" -ge "$1" ]; }
xdp_seen() { status_json | jq -r '.totals.packets'; }
# at_least N CMD...: CMD prints a number >= N
at_least() {
	local n=$1 v
	shift
	v=$("$@" 2>/dev/null)
	[ "${v:-0}" -ge "$n" ] 2>/dev/null
}

# wait_exit PID SEC: bounded wait; sets EXIT_RC
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

# check_invariant NAME JSON: received == delivered + passed + dropped + filtered
check_invariant() {
	local v
	v=$(jq -r '"\(.received) \(.delivered + .passed + .dropped.total + .xdp_filtered) \(.unaccounted)"' "$2")
	set -- "$1" $v
	if [ "$#" -eq 4 ] && [ "$2" = "$3" ] && [ "$4" = 0 ]; then
		pass "$1: received $2 == delivered + passed + dropped + filtered, unaccounted 0"
	else
		fail "$1: received, delivered + passed + dropped + filtered, unaccounted = ${*:2}"
	fi
}

# ---- (b) one flow of 64 captured through the filter in XDP -----------------------

test_capture() {
	local m=$1 f j g base arrived per pid v
	f=$WCT_DIR/cap-$m.pcapng
	j=$WCT_DIR/cap-$m.json
	base=$(xdp_seen)
	rm -f "$WCT_DIR/cap.ready"
	wct_bg pid nsenter --net=/run/netns/"$RX" -- "$WIRECAP" capture -i "$IF" -w "$f" \
		--ready-file "$WCT_DIR/cap.ready" "${WCT_POOL[@]}" --stats-json "$j" "$EXPR" \
		>"$WCT_DIR/cap.out" 2>"$WCT_DIR/cap.err"
	if ! wct_wait_for "$(wct_tries 300)" 0.1 test -e "$WCT_DIR/cap.ready"; then
		fail "$m capture did not start: $(tr '\n' '|' <"$WCT_DIR/cap.err")"
		kill -9 "$pid" 2>/dev/null
		return
	fi
	check_match "$m capture says where the filter runs" "filter in XDP, before the copy: $EXPR" \
		"$(cat "$WCT_DIR/cap.err")"
	gen -c "$N" --flows "$FLOWS" --pps "$PPS" --json "$WCT_DIR/gen-$m.json"
	g=$(cat "$WCT_DIR/gen-$m.json")
	arrived=$(wct_arrived "$g" "$N")
	# every packet judged in XDP before the capture stops
	wct_wait_for "$(wct_tries 100)" 0.1 at_least "$((base + arrived))" xdp_seen
	kill -INT "$pid"
	wait_exit "$pid" "$(wct_time 30)"
	check_eq "$m capture: exit status" 0 "$EXIT_RC"
	check_invariant "$m capture" "$j"
	per=$((N / FLOWS))
	if [ "$(wct_gen_dropped "$g")" = 0 ]; then
		check_eq "$m capture: received == sent" "$N" "$(jq -r .received "$j")"
		check_eq "$m capture: delivered and written == the flow's packets" "$per $per" \
			"$(jq -r '"\(.delivered) \(.written)"' "$j")"
		check_eq "$m capture: filtered in XDP == the other 63 flows' packets" \
			"$((N - per))" "$(jq -r .xdp_filtered "$j")"
		v=$(run_in "$RX" "$WIRECAP" verify "$f" --expect "$per" --flows 1 \
			--flow-base "$FLOW" --json 2>/dev/null)
		check_eq "$m capture: the file holds flow $FLOW, every packet, in order (verify)" \
			"$per 0 0 0" "$(jq -r '"\(.unique) \(.lost) \(.duplicates) \(.reordered)"' <<<"$v")"
	else
		check_arrived "$m capture: received" "$N" "$g" "$(jq -r .received "$j")"
	fi
	check_eq "$m capture: tshark: only udp port $((32768 + FLOW))" "$((32768 + FLOW)):$(jq -r .written "$j")" \
		"$(tshark -r "$f" -T fields -e udp.srcport 2>/dev/null | sort | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ' | sed 's/ $//')"
	check_eq "$m capture: per-queue filtered sums to the total" "$(jq -r .xdp_filtered "$j")" \
		"$(jq -r '[.queues[].filtered] | add' "$j")"
	check_eq "$m capture: the attachment's filter is back at exit" "udp port 9 1" \
		"$(status_json | jq -r '"\(.filter.expr) \(.filter.generation > 1)"' | sed 's/true/1/')"
	rm -f "$f"
}

# ---- (c) replacement under traffic ----------------------------------------------

test_replace() {
	local m=$1 j g pid gpid i=0 gen0 gen1 arrived p0
	j=$WCT_DIR/rep-$m.json
	run_in "$RX" "$WIRECAP" filter "$IF" "udp src port 32770" >/dev/null
	gen0=$(status_json | jq -r .filter.generation)
	rm -f "$WCT_DIR/rep.ready"
	# the bench runs until the test stops it, once XDP judged every packet
	# that arrived (not after an idle time: a loaded machine pauses)
	wct_bg pid nsenter --net=/run/netns/"$RX" -- timeout --foreground 300 "$WIRECAP" bench -i "$IF" \
		"${WCT_POOL[@]}" --flows "$FLOWS" --stats-json "$j" \
		--ready-file "$WCT_DIR/rep.ready" -q 2>"$WCT_DIR/rep.err"
	if ! wct_wait_for "$(wct_tries 300)" 0.1 test -e "$WCT_DIR/rep.ready"; then
		fail "$m bench did not start: $(tr '\n' '|' <"$WCT_DIR/rep.err")"
		kill -9 "$pid" 2>/dev/null
		return
	fi
	p0=$(xdp_packets)
	wct_bg gpid nsenter --net=/run/netns/"$TX" -- "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet \
		-c "$((3 * N))" --flows "$FLOWS" --pps "$PPS" --json "$WCT_DIR/gen-rep-$m.json"
	# replace while the generator runs (bounded: at most 200 times): flow 3
	# as a classic program (tcpdump -ddd), flow 2 as an expression
	while kill -0 "$gpid" 2>/dev/null && [ "$i" -lt 200 ]; do
		if [ $((i % 2)) = 0 ]; then
			run_in "$RX" "$WIRECAP" filter "$IF" --classic "$WCT_DIR/flow3.ddd" >/dev/null
		else
			run_in "$RX" "$WIRECAP" filter "$IF" "udp src port 32770" >/dev/null
		fi || fail "$m: replacement $i failed"
		i=$((i + 1))
	done
	wait_exit "$gpid" "$(wct_time 60)"
	g=$(cat "$WCT_DIR/gen-rep-$m.json")
	arrived=$(wct_arrived "$g" "$((3 * N))")
	wct_wait_for "$(wct_tries 600)" 0.1 xdp_saw_at_least $((p0 + arrived)) ||
		log "$m replace: XDP saw $(($(xdp_packets) - p0)) of $arrived packets"
	kill -INT "$pid" 2>/dev/null
	wait_exit "$pid" "$(wct_time 60)"
	check_eq "$m replace: bench exit status" 0 "$EXIT_RC"
	gen1=$(status_json | jq -r .filter.generation)
	log "$m: filter replaced $i times under traffic"
	check_eq "$m replace: every replacement counted (generation)" "$((gen0 + i))" "$gen1"
	check_match "$m replace: status shows the classic program last installed or the expression" \
		"^(classic: [0-9]+ .*|udp src port 32770)$" "$(status_json | jq -r .filter.expr)"
	check_invariant "$m replace" "$j"
	check_eq "$m replace: every packet sent was received and judged" "$arrived" \
		"$(jq -r .received "$j")"
	check_eq "$m replace: delivered + filtered == received, nothing dropped or passed" \
		"$arrived 0 0" "$(jq -r '"\(.delivered + .xdp_filtered) \(.dropped.total) \(.passed)"' "$j")"
	check_eq "$m replace: only flows 2 and 3 delivered, nothing else" "2 0" \
		"$(jq -r '"\(.flows_seen) \(.not_payload)"' "$j")"
	# (how many replacements fit in the traffic depends on the machine's load)
	[ "$i" -ge 2 ] || log "$m replace: only $i replacement(s) while the generator ran"
	run_in "$RX" "$WIRECAP" filter "$IF" "udp port 9" >/dev/null
}

for mode in ${WCT_XDP_MODES:-native generic}; do
	case "$mode" in native | generic) ;; *) fail "WCT_XDP_MODES: unknown mode '$mode'"; continue ;; esac
	log "=== XDP $mode mode"
	# (a) the attachment's filter: udp port 9 (nothing the generator sends)
	if ! run_in "$RX" "$WIRECAP" attach "$IF" --mode "$mode" --filter "udp port 9" \
		>"$WCT_DIR/attach.out" 2>"$WCT_DIR/attach.err"; then
		fail "attach --mode $mode --filter: $(cat "$WCT_DIR/attach.err")"
		continue
	fi
	check_match "$mode attach: says the filter" "filter in XDP: udp port 9" "$(cat "$WCT_DIR/attach.out")"
	check_eq "$mode status: filter text and action" "udp port 9 pass" \
		"$(status_json | jq -r '"\(.filter.expr) \(.filter.action)"')"
	check_eq "$mode pinned config: a filter is installed" 1 \
		"$(bpftool -j map lookup pinned "$PIN/config" key 0 0 0 0 | jq -r '.formatted.value.filter')"
	check_match "$mode status (human): the filter line" "filter in XDP: udp port 9 \(.*eBPF instructions" \
		"$(run_in "$RX" "$WIRECAP" status "$IF")"
	test_capture "$mode"
	test_replace "$mode"
	check_ok "$mode: filter --clear" run_in "$RX" "$WIRECAP" filter "$IF" --clear
	check_eq "$mode: cleared: status and pinned config" "null 0" \
		"$(status_json | jq -r .filter) $(bpftool -j map lookup pinned "$PIN/config" key 0 0 0 0 | jq -r '.formatted.value.filter')"
	check_ok "detach ($mode)" run_in "$RX" "$WIRECAP" detach "$IF"
done

# ---- (d) bad input -------------------------------------------------------------

log "=== bad input"
check_error "capture: an expression libpcap cannot compile" \
	"invalid filter expression 'udp prot 80': .*syntax error" \
	run_in "$RX" "$WIRECAP" capture -i "$IF" -w "$WCT_DIR/x.pcapng" udp prot 80
check_error "attach --filter: a construct XDP cannot run is named" \
	"'inbound' cannot run in XDP: .*SKF_AD_PKTTYPE" \
	run_in "$RX" "$WIRECAP" attach "$IF" --filter inbound
check_error "capture: protochain (backward jump) is refused by name" \
	"cannot run in XDP: .*backward jump" \
	run_in "$RX" "$WIRECAP" capture -i "$IF" -w "$WCT_DIR/x.pcapng" ip6 protochain 6
check_eq "bad filters: nothing attached" none "$(xdp_prog_id "$RX" "$IF")"
check_error "filter on an interface that is not attached" \
	"filter: wirecap is not attached to $IF" \
	run_in "$RX" "$WIRECAP" filter "$IF" udp
echo "3 not a program" >"$WCT_DIR/bad.ddd"
check_error "filter --classic: text that is not a classic program" \
	"classic program .*bad.ddd: classic BPF text" \
	run_in "$RX" "$WIRECAP" filter "$IF" --classic "$WCT_DIR/bad.ddd"
check_error "filter on an unknown interface" "no such interface: wctnosuch0" \
	run_in "$RX" "$WIRECAP" filter wctnosuch0 udp
check_error "bench: a bad expression" "invalid filter expression 'tcp port': " \
	run_in "$RX" "$WIRECAP" bench -i "$IF" tcp port
check_error "forward --drop: a bad expression" "invalid --drop expression 'udp prot 9'" \
	run_in "$RX" "$WIRECAP" forward -i "$IF" -o lo --drop 'udp prot 9'

wct_finish
