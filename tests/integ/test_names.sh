#!/usr/bin/env bash
# Interface names with a '.' (VLAN sub-interfaces such as eth0.100): bpffs
# refuses names that contain one, so the pin directory is the encoded name
# (README, "Pinned maps"). On a veth pair va.10 / vb.10:
#  a) attach, status (human and JSON), pins in <root>/vb%2e10, capture -c N
#     writes N packets, stats, detach leaves no program and no pins;
#  b) a missing dotted name says "no such interface" (not "permission
#     denied") for attach, status, detach, stats and capture;
#  c) JSON for any name: on a veth named q"x\y, status --json, stats
#     --json, capture --stats-json, gen, verify and replay --json parse and
#     carry the name back, with files whose names have quotes.
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
# (captures use the test-sized pool WCT_POOL: the default one's 262144-entry
# rings cannot be allocated in the 6.1 vmtest guest, see net.sh)
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
	-w "$CAP" -c 10 "${WCT_POOL[@]}" --ready-file "$WCT_DIR/cap.ready" \
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
	W capture -i "$B" -w "$WCT_DIR/auto.pcapng" --duration 1 -q "${WCT_POOL[@]}"
check_eq "auto-attach: detached at exit" none "$(xdp_prog_id "$WCT_NS_RX" "$B")"
check_eq "auto-attach: no pin directory" absent "$(present "$PINS")"

# ---- b) a missing dotted name ----
for c in attach status detach stats; do
	check_error "$c nosuch.1: no such interface" "no such interface" W "$c" nosuch.1
done
check_error "capture -i nosuch.1: no such interface" "no such interface" \
	W capture -i nosuch.1 -w "$WCT_DIR/x.pcapng" -c 1
check_eq "nosuch.1: no pins made" absent "$(present "$WIRECAP_PIN_ROOT/nosuch%2e1")"

# ---- c) JSON output with a quote and a backslash in the names ----
QA='p"x\y'
QB='q"x\y'
ip -n "$WCT_NS_TX" link add "$QA" type veth peer name "$QB" netns "$WCT_NS_RX"
ip -n "$WCT_NS_TX" link set "$QA" up
ip -n "$WCT_NS_RX" link set "$QB" up
wct_wait_for 50 0.1 wct_link_up "$WCT_NS_TX" "$QA"
# valid JSON (python's parser, strict) whose $2 (jq path) is $3
check_json() {
	local what=$1 path=$2 want=$3 out=$4
	if printf '%s\n' "$out" | python3 -m json.tool >/dev/null 2>&1; then
		pass "$what: valid JSON"
	else
		fail "$what: invalid JSON: $out"
	fi
	check_eq "$what: $path" "$want" "$(printf '%s\n' "$out" | jq -r "$path")"
}
check_ok "attach $QB" W attach "$QB" --mode native
check_json 'status --json on q"x\y' .ifname "$QB" "$(W status "$QB" --json)"
check_json 'stats --json on q"x\y' .interface "$QB" "$(W stats "$QB" --json --no-rate)"
QDIR=$WCT_DIR/'d"ir\x'
mkdir -p "$QDIR"
QCAP=$QDIR/'c"ap.pcapng'
QJSON=$QDIR/'s"tats.json'
rm -f "$WCT_DIR/q.ready"
wct_bg qpid nsenter --net=/run/netns/"$WCT_NS_RX" -- "$WIRECAP" capture -i "$QB" \
	-w "$QCAP" -c 5 --stats-json "$QJSON" -q "${WCT_POOL[@]}" --ready-file "$WCT_DIR/q.ready" \
	>"$WCT_DIR/q.out" 2>"$WCT_DIR/q.err"
if wct_wait_for "$(wct_tries 200)" 0.1 test -e "$WCT_DIR/q.ready"; then
	out=$(W stats "$QB" --json --watch 0.2 --count 2)
	check_eq 'stats --json --watch on q"x\y: one object per line' 2 \
		"$(printf '%s\n' "$out" | grep -c '^{.*}$')"
	check_json 'stats --json of a running capture on q"x\y' .engine.running true \
		"$(printf '%s\n' "$out" | tail -n 1)"
	QGEN=$QDIR/'g"en.json'
	run_in "$WCT_NS_TX" timeout "$(wct_time 60)" "$WIRECAP_GEN" gen -i "$QA" \
		--quiet $(wct_pace) -c 20 --flows 2 --json "$QGEN" >/dev/null
	check_json 'gen --json on p"x\y to a file with quotes' .interface "$QA" "$(cat "$QGEN")"
	rc=0
	timeout 20 tail --pid="$qpid" -f /dev/null || rc=timeout
	if [ "$rc" = timeout ]; then
		kill -9 "$qpid" 2>/dev/null
		fail 'capture -c 5 on q"x\y did not exit'
	else
		wait "$qpid"
		check_eq 'capture on q"x\y: exit status' 0 "$?"
		check_eq 'capture -w with quotes: 5 packets in the file' 5 "$(capinfos_count "$QCAP")"
		check_json 'capture --stats-json to a file with quotes' .written 5 "$(cat "$QJSON")"
		check_json 'verify --json of a file with quotes' .file "$QCAP" \
			"$(W verify "$QCAP" --expect-json "$QGEN" --json 2>/dev/null)"
		check_json 'replay --json of a file with quotes on p"x\y' .interface "$QA" \
			"$(run_in "$WCT_NS_TX" timeout "$(wct_time 60)" "$WIRECAP" replay "$QCAP" -i "$QA" --json - -q)"
	fi
else
	kill -9 "$qpid" 2>/dev/null
	fail "capture on $QB did not start: $(tr '\n' '|' <"$WCT_DIR/q.err")"
fi
check_json 'capture --stats-json - on q"x\y' .write_error null \
	"$(W capture -i "$QB" -w "$QDIR/idle.pcapng" --duration 1 -q "${WCT_POOL[@]}" --stats-json -)"
check_ok "detach $QB" W detach "$QB"

wct_finish
