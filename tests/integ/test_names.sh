#!/usr/bin/env bash
# Interface names with a '.' (VLAN sub-interfaces such as eth0.100): bpffs
# refuses names that contain one, so the pin directory is the encoded name
# (README, "Pinned maps"). On a veth pair va.10 / vb.10:
#  a) attach, status (human and JSON), pins in <root>/vb%2e10, capture -c N
#     writes N packets, stats, detach leaves no program and no pins;
#  b) a missing dotted name says "no such interface" (not "permission
#     denied") for attach, status, detach, stats and capture.
set -u
# shellcheck source=../lib/net.sh
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

A=va.10
B=vb.10
ip -n "$WCT_NS_TX" link add "$A" numtxqueues 2 numrxqueues 2 type veth \
	peer name "$B" netns "$WCT_NS_RX" numtxqueues 2 numrxqueues 2
ip -n "$WCT_NS_TX" link set "$A" up
ip -n "$WCT_NS_RX" link set "$B" up
wct_wait_for 50 0.1 wct_link_up "$WCT_NS_TX" "$A"

W() { run_in "$WCT_NS_RX" "$WIRECAP" "$@"; }
G() { run_in "$WCT_NS_TX" timeout "$(wct_time 60)" "$WIRECAP_GEN" gen -i "$A" --quiet $(wct_pace) "$@"; }
PINS=$WIRECAP_PIN_ROOT/vb%2e10
present() { [ -e "$1" ] && echo present || echo absent; }

# ---- a) attach, status, capture, stats, detach ----
check_ok "attach $B" W attach "$B" --mode native
check_eq "pins in the encoded directory" present "$(present "$PINS/prog")"
check_eq "no directory under the raw name" absent "$(present "$WIRECAP_PIN_ROOT/$B")"
check_eq "status --json: ifname" "$B" "$(W status "$B" --json | jq -r .ifname)"
check_eq "status --json: pin_dir" "$PINS" "$(W status "$B" --json | jq -r .pin_dir)"
check_eq "status --json: prog id = on the link" "$(xdp_prog_id "$WCT_NS_RX" "$B")" \
	"$(W status "$B" --json | jq -r .prog_id)"
check_match "status (human) names the interface" "^$B \(ifindex" "$(W status "$B")"
check_error "attach twice refused" "already attached" W attach "$B"

CAP=$WCT_DIR/names.pcapng
rm -f "$WCT_DIR/cap.ready"
wct_bg cpid nsenter --net=/run/netns/"$WCT_NS_RX" -- "$WIRECAP" capture -i "$B" \
	-w "$CAP" -c 10 --ready-file "$WCT_DIR/cap.ready" \
	>"$WCT_DIR/cap.out" 2>"$WCT_DIR/cap.err"
if wct_wait_for "$(wct_tries 200)" 0.1 test -e "$WCT_DIR/cap.ready"; then
	check_match "stats of the running capture" '"running":true' \
		"$(W stats "$B" --json --no-rate)"
	# a few packets more than -c: the capture stops at 10 exactly
	G -c 25 --flows 4 >/dev/null
	rc=0
	timeout 20 tail --pid="$cpid" -f /dev/null || rc=timeout
	if [ "$rc" = timeout ]; then
		kill -9 "$cpid" 2>/dev/null
		fail "capture -c 10 did not exit"
	else
		wait "$cpid"
		check_eq "capture -c 10: exit status" 0 "$?"
		check_eq "capture -c 10: 10 packets in the file" 10 "$(capinfos_count "$CAP")"
	fi
else
	kill -9 "$cpid" 2>/dev/null
	fail "capture on $B did not start: $(tr '\n' '|' <"$WCT_DIR/cap.err")"
fi
check_ok "still attached after the capture" W status "$B"
check_ok "stats" W stats "$B" --no-rate
check_ok "detach $B" W detach "$B"
check_eq "detach: no XDP program" none "$(xdp_prog_id "$WCT_NS_RX" "$B")"
check_eq "detach: no pin directory" absent "$(present "$PINS")"
check_error "detach again: not attached" "not attached" W detach "$B"

# a capture that attaches by itself, on a dotted name, and cleans up
check_ok "capture (auto-attach) --duration 1" \
	W capture -i "$B" -w "$WCT_DIR/auto.pcapng" --duration 1 -q
check_eq "auto-attach: detached at exit" none "$(xdp_prog_id "$WCT_NS_RX" "$B")"
check_eq "auto-attach: no pin directory" absent "$(present "$PINS")"

# ---- b) a missing dotted name ----
for c in attach status detach stats; do
	check_error "$c nosuch.1: no such interface" "no such interface" W "$c" nosuch.1
done
check_error "capture -i nosuch.1: no such interface" "no such interface" \
	W capture -i nosuch.1 -w "$WCT_DIR/x.pcapng" -c 1
check_eq "nosuch.1: no pins made" absent "$(present "$WIRECAP_PIN_ROOT/nosuch%2e1")"

wct_finish
