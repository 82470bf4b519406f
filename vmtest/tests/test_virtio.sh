#!/usr/bin/env bash
# wirecap on a real driver: virtio_net in the vmtest guest (native XDP,
# AF_XDP copy mode, 4 combined channels). Runs only inside `vmtest/run.sh`.
#
# Traffic: `wirecap gen` sends on eth1 (a second virtio-net NIC); on the host
# a tc mirred rule on eth1's tap redirects every frame to eth0's tap, whose
# multi-queue tap picks a queue per flow: the frames arrive on eth0's rx
# queues as from a wire. (gen cannot send on eth0 itself while the engine
# holds eth0's queues: one AF_XDP socket owner per queue.)
#
# Checks, on eth0 in native mode with 4 of its 8 channels (and, as a control,
# with all 8: then virtio_net adds no XDP queue pairs):
#  - the accounting reconciles: received == delivered + dropped + passed;
#  - lossless: every packet gen sent is delivered exactly once, in order
#    (bench --expect), and on more than one rx queue;
#  - wirecap serves every rx queue the device has once XDP is attached
#    (virtio_net adds queue pairs for XDP_TX when it has spare ones);
#  - the metadata of bpf_xdp_adjust_meta reaches the UMEM frame in copy
#    mode (vmtest/tests/metacheck.c, built by run.sh into /.vmtest/bin);
#  - `wirecap capture` writes a pcapng that `wirecap verify` finds complete.
# Environment: VMTEST_T_COUNT (packets per run, 20000), VMTEST_T_PPS (rate,
# 20000), VMTEST_T_FLOWS (256).
set -uo pipefail
. "$(dirname "$0")/../../tests/lib/net.sh"

RX=eth0
TX=eth1
N=${VMTEST_T_COUNT:-20000}
PPS=${VMTEST_T_PPS:-20000}
FLOWS=${VMTEST_T_FLOWS:-256}
METACHECK=${METACHECK:-/.vmtest/bin/metacheck}

drv() { ethtool -i "$1" 2>/dev/null | sed -n 's/^driver: //p'; }
if [ -z "${VMTEST_KVER:-}" ] || [ "$(drv $RX)" != virtio_net ] || [ "$(drv $TX)" != virtio_net ]; then
	# counted as skipped by tests/run.sh, not as passed
	skip "virtio_net checks" "not in the vmtest guest (no virtio_net $RX/$TX; run vmtest/run.sh)"
	wct_finish
fi

wct_init
for t in jq ethtool; do
	command -v "$t" >/dev/null || { fail "$t is not installed"; wct_finish; }
done

combined() { ethtool -l "$1" | awk '/^Current/ {c = 1} c && /^Combined/ {print $2; exit}'; }
real_rxq() { ls -d /sys/class/net/"$1"/queues/rx-* 2>/dev/null | wc -l; }
MAC_RX=$(cat /sys/class/net/$RX/address)

check_eq "$RX has 4 combined channels" 4 "$(combined $RX)"
check_eq "$TX has 4 combined channels" 4 "$(combined $TX)"

# start CMD... in the background, wait for its ready file (bounded)
READY=$WCT_DIR/ready
start_bg() { # PIDVAR CMD...
	local var=$1
	shift
	rm -f "$READY"
	wct_bg "$var" "$@"
	if ! wct_wait_for 300 0.2 test -e "$READY"; then
		fail "${*:1:4} ... did not get ready within 60 s"
		return 1
	fi
}

gen() { # gen JSON ARGS...: gen on eth1 aimed at eth0's MAC
	local js=$1
	shift
	timeout 300 "$WIRECAP" gen -i "$TX" --dst-mac "$MAC_RX" --quiet --json "$js" "$@"
}

waitpid() { # PID SEC: wait for a background job, at most SEC seconds
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -TERM "$1" 2>/dev/null
		sleep 1
	fi
	wait "$1"
}

# ---- attach: native mode; does wirecap serve every rx queue? -----------------------------
check_ok "attach $RX in native mode" "$WIRECAP" attach "$RX" --mode native
st=$("$WIRECAP" status "$RX" 2>&1)
check_match "status says native" 'native' "$st"
served=$(printf '%s\n' "$st" | sed -n 's/.*queues \([0-9]*\) of \([0-9]*\).*/\1/p' | head -n 1)
devq=$(real_rxq $RX)
log "after attach: $RX has $devq rx queues ($(combined $RX) combined; virtio_net adds XDP queue pairs), wirecap serves ${served:-?}"
check_eq "wirecap serves every rx queue of $RX after attach" "$devq" "$served"

# ---- bench: accounting, loss, spread over queues -------------------------------------------
# bench_round TAG: bench on eth0 while gen sends N packets on eth1
bench_round() {
	local tag=$1 B=$WCT_DIR/bench-$1.json G=$WCT_DIR/gen-$1.json bpid brc nq
	log "[$tag] bench on $RX; gen on $TX: $N packets, $FLOWS flows, $PPS pps"
	start_bg bpid timeout 600 "$WIRECAP" bench -i "$RX" --idle-exit 3 --quiet \
		--expect "$N" --flows "$FLOWS" --stats-json "$B" --ready-file "$READY" || return
	check_ok "[$tag] gen on $TX exits 0" gen "$G" -c "$N" --flows "$FLOWS" --pps "$PPS"
	check_eq "[$tag] gen sent $N" "$N" "$(json .sent <"$G" 2>/dev/null)"
	waitpid "$bpid" 120
	brc=$?
	check_eq "[$tag] bench exits 0" 0 "$brc"
	if [ ! -s "$B" ]; then
		fail "[$tag] bench wrote no --stats-json"
		return
	fi
	log "[$tag] bench: $(jq -c '{received, delivered, passed, dropped, unaccounted, nic_dropped, bind, lost, duplicates, reordered, unique, queues: [.queues[] | [.received, .delivered, .passed]]}' "$B")"
	check_eq "[$tag] received == delivered + dropped.total + passed" \
		"$(json .received <"$B")" "$(json '.delivered + .dropped.total + .passed' <"$B")"
	check_eq "[$tag] unaccounted is 0" 0 "$(json .unaccounted <"$B")"
	check_eq "[$tag] bind mode is copy (no zero-copy on virtio_net)" copy "$(json .bind <"$B")"
	check_eq "[$tag] lossless: lost is 0" 0 "$(json .lost <"$B")"
	check_eq "[$tag] no duplicates" 0 "$(json .duplicates <"$B")"
	check_eq "[$tag] no reordering" 0 "$(json .reordered <"$B")"
	check_eq "[$tag] delivered every packet gen sent" "$N" "$(json .unique <"$B")"
	check_eq "[$tag] nothing passed to the stack" 0 "$(json .passed <"$B")"
	nq=$(json '[.queues[] | select(.delivered > 0)] | length' <"$B")
	if [ "${nq:-0}" -gt 1 ]; then
		pass "[$tag] delivered on $nq rx queues"
	else
		fail "[$tag] delivered on ${nq:-0} rx queue(s), expected more than one: $(jq -c '[.queues[].delivered]' "$B")"
	fi
}
bench_round 4ch
st=$("$WIRECAP" status "$RX" --json 2>/dev/null)
[ -n "$st" ] && log "status: $(printf '%s' "$st" | jq -c '[.queues[]? | {q: .queue, p: .packets, bad_queue: .bad_queue, passed: .passed}]' 2>/dev/null)"

# ---- metadata in the UMEM frame (copy mode) ----------------------------------------------
if [ -x "$METACHECK" ]; then
	M=$WCT_DIR/meta.json
	if start_bg mpid timeout 300 "$METACHECK" -i "$RX" --idle-exit 3 \
		--ready-file "$READY" -o "$M"; then
		check_ok "gen for metacheck" gen "$WCT_DIR/gen2.json" -c 2000 --flows 64 --pps "$PPS"
		waitpid "$mpid" 120
		mrc=$?
		log "metacheck: $(cat "$M")"
		check_eq "metadata reaches the UMEM frame: every packet's hash matches" \
			"$(json .checked <"$M" 2>/dev/null)" "$(json .meta_ok <"$M" 2>/dev/null)"
		check_eq "metadata timestamps within 10 s of the clock" 0 "$(json .ts_bad <"$M" 2>/dev/null)"
		check_eq "metacheck exits 0" 0 "$mrc"
	fi
else
	log "no $METACHECK (vmtest/run.sh builds it): metadata not checked"
fi

# ---- capture to pcapng, verify -----------------------------------------------------------
if "$WIRECAP" capture --help >/dev/null 2>&1; then
	P=$WCT_DIR/cap.pcapng
	C=$WCT_DIR/cap.json
	if start_bg cpid timeout 600 "$WIRECAP" capture -i "$RX" -w "$P" -c "$N" --duration 300 \
		--quiet --stats-json "$C" --ready-file "$READY"; then
		check_ok "gen for capture" gen "$WCT_DIR/gen3.json" -c "$N" --flows "$FLOWS" --pps "$PPS"
		waitpid "$cpid" 60
		crc=$?
		check_eq "capture -c $N exits 0" 0 "$crc"
		[ -s "$C" ] && log "capture: $(jq -c '{received, delivered, passed, dropped, unaccounted}' "$C")"
		out=$("$WIRECAP" verify "$P" --expect "$N" --flows "$FLOWS" --json 2>&1)
		vrc=$?
		log "verify: $(printf '%s' "$out" | tail -n 1)"
		check_eq "verify: the pcapng holds every packet, in order" 0 "$vrc"
	fi
else
	log "wirecap capture is not in this build: capture not checked"
fi

check_ok "detach $RX" "$WIRECAP" detach "$RX"
check_eq "$RX back to 4 rx queues after detach" 4 "$(real_rxq $RX)"

# ---- control: every channel in use, so virtio_net adds no XDP queue pair -----------------
# (curr + CPUs > max: XDP_TX shares the queues under a lock). With every
# rx queue served, the capture must be lossless on virtio_net too.
max=$(ethtool -l "$RX" | awk '/^Pre-set/ {c = 1} c && /^Combined/ {print $2; exit}')
if [ -n "$max" ] && [ "$max" -gt 4 ] && ethtool -L "$RX" combined "$max"; then
	check_ok "[${max}ch] attach $RX in native mode" "$WIRECAP" attach "$RX" --mode native
	check_eq "[${max}ch] rx queues unchanged by the attach" "$max" "$(real_rxq $RX)"
	bench_round "${max}ch"
	check_ok "[${max}ch] detach $RX" "$WIRECAP" detach "$RX"
	ethtool -L "$RX" combined 4 || fail "cannot set $RX back to 4 channels"
else
	log "cannot use all channels of $RX (max ${max:-?}): control round skipped"
fi
wct_finish
