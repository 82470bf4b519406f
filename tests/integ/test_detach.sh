#!/usr/bin/env bash
# The XDP program taken away under a running capture (4-queue veth, native):
#  a) `wirecap detach` and `wirecap attach --force` refuse while a capture
#     engine runs on the interface (one line naming its pid); nothing changes
#  b) `detach --force`, the BPF link of an auto-attaching capture detached
#     behind its back (`ip link set dev X xdp off` is refused: the link
#     holds the program) and another program replacing ours: the capture
#     notices, stops by itself with one error line and a non-zero exit, and
#     its file is valid and complete
#  c) an auto-attaching capture whose program was replaced does not detach
#     the new program at exit, nor remove the new attachment's pins
#  d) `wirecap stats --watch` ends with an error once the program is gone
#  e) kill -9 (native and generic): an auto-attaching capture's attachment
#     goes with it (nothing attached; the next command removes the pins and
#     says so; a new capture works); an explicit `wirecap attach` survives a
#     killed capture that used it, `status` says its engine is dead, and a
#     new capture uses it
set -u
# shellcheck source=../lib/net.sh
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

W() { run_in "$WCT_NS_RX" "$WIRECAP" "$@"; }
G() { run_in "$WCT_NS_TX" timeout "$(wct_time 60)" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet $(wct_pace) "$@"; }
IF=$WCT_IF_RX
prog_id() { xdp_prog_id "$WCT_NS_RX" "$IF"; }
present() { [ -e "$1" ] && echo present || echo absent; }
PINS=$WIRECAP_PIN_ROOT/$IF
# link_id PROG: the BPF link holding program PROG (an engine's own attachment)
link_id() {
	bpftool -j link show | jq -r --argjson p "$1" \
		'[.[] | select(.type == "xdp" and .prog_id == $p) | .id][0] // "none"'
}

# start_capture TAG ARGS...: capture in the background (CAP_PID), ready
start_capture() {
	local tag=$1
	shift
	rm -f "$WCT_DIR/$tag.ready"
	wct_bg CAP_PID nsenter --net=/run/netns/"$WCT_NS_RX" -- "$WIRECAP" capture -i "$IF" \
		-w "$WCT_DIR/$tag.pcapng" --stats-json "$WCT_DIR/$tag.json" -q \
		--ready-file "$WCT_DIR/$tag.ready" "${WCT_POOL[@]}" "$@" 2>"$WCT_DIR/$tag.err"
	if ! wct_wait_for "$(wct_tries 200)" 0.1 test -e "$WCT_DIR/$tag.ready"; then
		fail "$tag: capture did not start: $(tr '\n' '|' <"$WCT_DIR/$tag.err")"
		kill -9 "$CAP_PID" 2>/dev/null
		wait "$CAP_PID" 2>/dev/null
		return 1
	fi
}

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

# gone_checks TAG NAME: the capture TAG stopped by itself, said why in one
# line, exited non-zero, and wrote a valid file holding what it delivered
gone_checks() {
	local j=$WCT_DIR/$1.json f=$WCT_DIR/$1.pcapng name=$2
	wait_exit "$CAP_PID" "$(wct_time 15)"
	check_ne "$name: the capture stops by itself" timeout "$EXIT_RC"
	check_ne "$name: non-zero exit" 0 "$EXIT_RC"
	check_eq "$name: one error line" \
		"wirecap: the XDP program on $IF was detached or replaced: stopping; $f is complete" \
		"$(grep '^wirecap' "$WCT_DIR/$1.err" | grep -v '^wirecap: warning:')"
	if [ -s "$j" ]; then
		check_eq "$name: the file holds every packet written" \
			"$(jq -r .written "$j")" "$(capinfos_count "$f")"
		check_eq "$name: written == delivered" \
			"$(jq -r .delivered "$j")" "$(jq -r .written "$j")"
		check_eq "$name: accounting reconciles" 0 "$(jq -r .unaccounted "$j")"
		check_ne "$name: packets were captured" 0 "$(jq -r .written "$j")"
	else
		fail "$name: no --stats-json"
	fi
}

# ---- a) refused while a capture runs ----
check_ok "attach" W attach "$IF" --mode native
if start_capture a; then
	pid1=$(prog_id)
	G -c 1000 --flows 16 >/dev/null
	check_error "detach refused while a capture runs" \
		"detach: a capture engine \(pid $CAP_PID\) runs on $IF.*--force" W detach "$IF"
	check_error "attach --force refused while a capture runs" \
		"attach: a capture engine \(pid $CAP_PID\) runs on $IF" \
		W attach "$IF" --force --workers 1
	check_eq "refused: same program" "$pid1" "$(prog_id)"
	check_eq "refused: capture still running" running \
		"$(kill -0 "$CAP_PID" 2>/dev/null && echo running || echo gone)"
	check_match "refused: stats sees the running engine" '"running":true' \
		"$(W stats "$IF" --json --no-rate)"

	# ---- b1) detach --force ----
	check_ok "detach --force under the capture" W detach "$IF" --force
	check_eq "detach --force: no program" none "$(prog_id)"
	check_eq "detach --force: no pins" absent "$(present "$PINS")"
	gone_checks a "detach --force"
fi

# ---- b2) the program taken off behind an auto-attaching capture's back:
# a BPF link holds it, so `ip link ... xdp off` is refused; detaching the
# link (bpftool) is what takes it off ----
if start_capture b --mode native; then
	G -c 1000 --flows 16 >/dev/null
	pid1=$(prog_id)
	check_eq "own attachment: transient (status)" true "$(W status "$IF" --json | jq -r .transient)"
	check_fails "xdp off: refused, the capture's BPF link holds the program" \
		ip -n "$WCT_NS_RX" link set dev "$IF" xdpdrv off
	check_eq "xdp off refused: same program" "$pid1" "$(prog_id)"
	bpftool link detach id "$(link_id "$pid1")"
	gone_checks b "link detached"
	check_eq "link detached: stale pins removed at exit" absent "$(present "$PINS")"
fi

# ---- b3 + c) another program replaces ours under an auto-attaching capture ----
if start_capture c --mode native; then
	G -c 1000 --flows 16 >/dev/null
	bpftool link detach id "$(link_id "$(prog_id)")"
	ip -force -n "$WCT_NS_RX" link set dev "$IF" xdpdrv obj "$WC_BUILD/wirecap.bpf.o" sec xdp
	other=$(prog_id)
	gone_checks c "replaced"
	check_eq "replaced: the new program stays attached after the capture" "$other" "$(prog_id)"
	ip -n "$WCT_NS_RX" link set dev "$IF" xdpdrv off
fi

# ---- c) detach --force and a new attachment while an auto-attaching
# capture runs: whenever it exits, the new attachment stays intact ----
if start_capture d --mode native; then
	G -c 1000 --flows 16 >/dev/null
	check_ok "detach --force, then attach again" \
		sh -c "nsenter --net=/run/netns/$WCT_NS_RX -- $WIRECAP detach --force $IF >/dev/null &&
			nsenter --net=/run/netns/$WCT_NS_RX -- $WIRECAP attach $IF --mode native --workers 1"
	new=$(prog_id)
	gone_checks d "re-attached"
	check_eq "re-attached: the new program stays" "$new" "$(prog_id)"
	check_eq "re-attached: status shows it (pins kept)" "$new" \
		"$(W status "$IF" --json | jq -r .prog_id)"
	check_eq "re-attached: its options" 1 "$(W status "$IF" --json | jq -r .n_workers)"
	check_ok "detach the new attachment" W detach "$IF"
fi

# ---- d) stats --watch after an auto-attaching capture exits ----
if start_capture e --mode native --duration 2; then
	rm -f "$WCT_DIR/watch.out"
	wct_bg wpid nsenter --net=/run/netns/"$WCT_NS_RX" -- "$WIRECAP" stats "$IF" \
		--watch 0.2 >"$WCT_DIR/watch.out" 2>"$WCT_DIR/watch.err"
	wait_exit "$CAP_PID" "$(wct_time 15)"
	check_eq "watch: the capture ends normally" 0 "$EXIT_RC"
	check_eq "watch: the capture detached" none "$(prog_id)"
	wait_exit "$wpid" 5
	check_ne "stats --watch ends by itself" timeout "$EXIT_RC"
	check_ne "stats --watch: non-zero exit" 0 "$EXIT_RC"
	check_match "stats --watch: says it is no longer attached" \
		"^wirecap: stats $IF: wirecap is no longer attached to $IF" "$(cat "$WCT_DIR/watch.err")"
	check_eq "stats --watch: one error line" 1 "$(grep -c . "$WCT_DIR/watch.err")"
	check_match "stats --watch: showed the running capture before" "capture engine: pid" \
		"$(cat "$WCT_DIR/watch.out")"
fi

# ---- e) kill -9 ----
# stop_ok TAG NAME N: SIGINT the capture TAG, which exits 0 having written
# the N packets sent
stop_ok() {
	kill -INT "$CAP_PID" 2>/dev/null
	wait_exit "$CAP_PID" "$(wct_time 20)"
	check_eq "$2: the capture exits 0" 0 "$EXIT_RC"
	check_eq "$2: every packet written" "$3" "$(jq -r .written "$WCT_DIR/$1.json" 2>/dev/null)"
}

for mode in native generic; do
	# an auto-attaching capture killed: its BPF link goes with it
	if start_capture k1$mode --mode "$mode"; then
		G -c 1000 --flows 16 >/dev/null
		kpid=$CAP_PID
		kill -9 "$kpid"
		wait_exit "$kpid" "$(wct_time 10)"
		check_eq "$mode: kill -9 of an auto-attaching capture: nothing attached" \
			none "$(prog_id)"
		check_error "$mode: kill -9: the next command removes the pins and says so" \
			"not attached to $IF \\($IF: removed the pins in $PINS: their capture engine \\(pid $kpid\\) died" \
			W status "$IF"
		check_eq "$mode: kill -9: no pins left" absent "$(present "$PINS")"
		if start_capture k2$mode --mode "$mode"; then
			gj=$(G -c 1000 --flows 16 --json -)
			stop_ok k2$mode "$mode: kill -9: a new capture" "$(wct_arrived "$gj" 1000)"
		fi
		check_eq "$mode: kill -9: the new capture detached at exit" none "$(prog_id)"
	fi

	# an explicit attachment survives a killed capture that used it
	check_ok "$mode: attach" W attach "$IF" --mode "$mode"
	pid1=$(prog_id)
	if start_capture k3$mode; then
		G -c 1000 --flows 16 >/dev/null
		kpid=$CAP_PID
		kill -9 "$kpid"
		wait_exit "$kpid" "$(wct_time 10)"
		check_eq "$mode: explicit attach survives kill -9: same program" "$pid1" "$(prog_id)"
		check_eq "$mode: explicit attach survives kill -9: pins kept" present "$(present "$PINS")"
		check_match "$mode: status says the engine is dead" \
			"capture engine: pid $kpid is dead" "$(W status "$IF")"
		check_eq "$mode: status --json: engine dead, attachment persistent" \
			"$kpid false false" \
			"$(W status "$IF" --json | jq -r '"\(.engine.pid) \(.engine.alive) \(.transient)"')"
		if start_capture k4$mode; then
			gj=$(G -c 1000 --flows 16 --json -)
			stop_ok k4$mode "$mode: after kill -9, a new capture on the attachment" \
				"$(wct_arrived "$gj" 1000)"
		fi
		check_eq "$mode: the attachment stays after that capture" "$pid1" "$(prog_id)"
	fi
	check_ok "$mode: detach" W detach "$IF"
	check_eq "$mode: detached" none "$(prog_id)"
done

# usage
check_ok "wirecap detach --help" "$WIRECAP" detach --help
check_fails "wirecap detach without an interface" "$WIRECAP" detach

wct_finish
