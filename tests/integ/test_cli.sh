#!/usr/bin/env bash
# wirecap CLI behaviour around capture, bench and forward (not the data
# path): a FIFO as -w, SIGHUP, outputs checked before start, the start-up
# line, the warnings of a non-passive capture, of oversize frames and of
# what generic XDP sees merged (GSO, GRO), notes
# for attach-time options an existing attachment overrides, one-line
# errors without doubled explanations, forward's -w wording.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq capinfos python3; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps)"
		wct_finish
	fi
done

RX=$WCT_NS_RX
TX=$WCT_NS_TX
IF=$WCT_IF_RX
D=$WCT_DIR

W() { run_in "$RX" "$WIRECAP" "$@"; }
gen() { run_in "$TX" "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet "$@"; }
wait_file() { [ -e "$1" ]; }
# xdp_packets: packets XDP saw on $IF (0 when nothing is attached)
xdp_packets() { W status "$IF" --json 2>/dev/null | jq -r '.totals.packets // 0'; }
xdp_saw() { [ "$(xdp_packets)" -ge "$1" ]; }
# wait_xdp N: wait (bounded) until XDP saw N packets: a capture stopped
# then drains everything queued, so it holds all of them
wait_xdp() {
	wct_wait_for "$(wct_tries 300)" 0.1 xdp_saw "$1" ||
		log "XDP saw $(xdp_packets) of $1 packets within $(wct_time 30) s"
}
no_prog() { check_eq "$1: nothing left attached" none "$(xdp_prog_id "$RX" "$IF")"; }

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

# bg TAG CMD...: wirecap CMD in the RX namespace in the background, stderr
# in $D/TAG.err, PID in BG_PID
bg() {
	local tag=$1 cmd=$2
	shift 2
	wct_bg BG_PID nsenter --net=/run/netns/"$RX" -- "$WIRECAP" "$cmd" "${WCT_POOL[@]}" "$@" \
		>"$D/$tag.out" 2>"$D/$tag.err"
}

# started TAG: the ready file of TAG appeared (bounded wait)
started() {
	if ! wct_wait_for 300 0.1 wait_file "$D/$1.ready"; then
		fail "$1: did not start: $(tr '\n' '|' <"$D/$1.err")"
		kill -9 "$BG_PID" 2>/dev/null
		wait "$BG_PID" 2>/dev/null
		return 1
	fi
}

# ---- 1. -w FIFO ------------------------------------------------------------------
log "=== -w FIFO"
mkfifo "$D/ff"
# no reader: wirecap says it waits, attaches nothing, and a signal ends it
bg fifo-wait capture -i "$IF" -w "$D/ff" --ready-file "$D/fifo-wait.ready"
if wct_wait_for 100 0.1 grep -q 'waiting for a reader' "$D/fifo-wait.err"; then
	pass "FIFO without a reader: says it waits"
else
	fail "FIFO without a reader: no waiting line: $(tr '\n' '|' <"$D/fifo-wait.err")"
fi
no_prog "FIFO without a reader (engine not started)"
kill -TERM "$BG_PID"
wait_exit "$BG_PID" 10
check_eq "FIFO without a reader: SIGTERM ends the wait, exit 0" 0 "$EXIT_RC"
check_match "FIFO without a reader: says nothing was captured" 'nothing captured' "$(cat "$D/fifo-wait.err")"
check_eq "FIFO without a reader: no ready file" no "$([ -e "$D/fifo-wait.ready" ] && echo yes || echo no)"
no_prog "FIFO, SIGTERM while waiting"

# a reader: everything captured reaches it
bg fifo capture -i "$IF" -w "$D/ff" --ready-file "$D/fifo.ready" --stats-json "$D/fifo.json"
CAP=$BG_PID
sleep 0.5
timeout 60 cat "$D/ff" >"$D/fifo.pcapng" &
READER=$!
WCT_PIDS+=("$READER")
if started fifo; then
	p0=$(xdp_packets)
	gen -c 2000 --pps 50000
	wait_xdp $((p0 + 2000))
	kill -INT "$CAP"
	wait_exit "$CAP" 20
	check_eq "FIFO: exit status after SIGINT" 0 "$EXIT_RC"
	wait_exit "$READER" 10
	check_eq "FIFO: the reader got every packet written" \
		"$(jq -r .written "$D/fifo.json" 2>/dev/null) 2000" "$(capinfos_count "$D/fifo.pcapng") $(jq -r .written "$D/fifo.json" 2>/dev/null)"
fi
no_prog "FIFO capture"

# the reader goes away (EPIPE): the capture ends by itself, accounted
bg fifo-epipe capture -i "$IF" -w "$D/ff" --ready-file "$D/fifo-epipe.ready" --stats-json "$D/fifo-epipe.json"
CAP=$BG_PID
sleep 0.5
timeout 60 head -c 100000 "$D/ff" >/dev/null &
READER=$!
WCT_PIDS+=("$READER")
if started fifo-epipe; then
	gen -c 20000 --pps 50000
	wait_exit "$CAP" 20
	check_ne "FIFO reader gone: the capture stops by itself" timeout "$EXIT_RC"
	check_match "FIFO reader gone: Broken pipe reported" 'Broken pipe' "$(cat "$D/fifo-epipe.err")"
	check_eq "FIFO reader gone: delivered == written + filtered + not_written + lost" \
		"$(jq -r .delivered "$D/fifo-epipe.json" 2>/dev/null)" \
		"$(jq -r '.written + .filtered + .not_written + .lost_write_error' "$D/fifo-epipe.json" 2>/dev/null)"
	check_eq "FIFO reader gone: unaccounted" 0 "$(jq -r .unaccounted "$D/fifo-epipe.json" 2>/dev/null)"
fi
no_prog "FIFO reader gone"

# ---- 2. SIGHUP stops like SIGTERM -------------------------------------------------------
log "=== SIGHUP"
for cmd in capture bench forward; do
	case $cmd in
	capture) args=(capture -i "$IF" -w "$D/hup.pcapng") ;;
	bench) args=(bench -i "$IF") ;;
	forward) args=(forward -i "$IF" -o "$IF" --reflect) ;;
	esac
	rm -f "$D/hup-$cmd.json"
	bg "hup-$cmd" "${args[@]}" --ready-file "$D/hup-$cmd.ready" --stats-json "$D/hup-$cmd.json"
	started "hup-$cmd" || continue
	kill -HUP "$BG_PID"
	wait_exit "$BG_PID" 20
	check_eq "$cmd: SIGHUP: exit status 0" 0 "$EXIT_RC"
	if jq -e . "$D/hup-$cmd.json" >/dev/null 2>&1; then
		pass "$cmd: SIGHUP: --stats-json written"
	else
		fail "$cmd: SIGHUP: no --stats-json"
	fi
	check_match "$cmd: SIGHUP: summary printed" 'received' "$(cat "$D/hup-$cmd.err")"
	no_prog "$cmd: SIGHUP"
	check_eq "$cmd: SIGHUP: no pins left" no "$([ -e "$WIRECAP_PIN_ROOT/$IF" ] && echo yes || echo no)"
done

# ---- 3. outputs checked before anything starts --------------------------------------------
log "=== outputs checked first"
for cmd in capture bench forward; do
	case $cmd in
	capture) args=(capture -i "$IF" -w "$D/x.pcapng" --duration 1) ;;
	bench) args=(bench -i "$IF" --duration 1) ;;
	forward) args=(forward -i "$IF" -o "$IF" --reflect --duration 1) ;;
	esac
	check_error "$cmd: --ready-file /proc/nope" 'ready-file /proc/nope' \
		W "${args[@]}" --ready-file /proc/nope
	no_prog "$cmd --ready-file /proc/nope"
	check_error "$cmd: --stats-json /nonexistent/s.json" 'stats-json /nonexistent/s.json: No such file' \
		W "${args[@]}" --stats-json /nonexistent/s.json
	no_prog "$cmd --stats-json /nonexistent"
done
check_eq "capture: failed checks leave no output file" 0 "$(find "$D" -name 'x.pcapng' | wc -l)"
check_eq "the probe leaves no file behind" 0 "$(find "$D" -name '.wirecap-probe-*' | wc -l)"

# ---- 4./5. the start-up line, the non-passive warning -----------------------------------------
log "=== start-up line and warnings"
W capture -i "$IF" -w "$D/x.pcapng" --duration 0.5 2>"$D/start.err" >/dev/null
check_match "capture: start-up line" \
	"^wirecap: capturing on $IF: 4 queues, [0-9]+ workers?, pool [0-9.]+ [MG]iB \\([0-9]+ frames/queue\\), (native|generic) XDP, (copy|zero-copy) mode$" \
	"$(cat "$D/start.err")"
check_match "capture: warning, the interface has addresses" \
	"^wirecap: warning: $IF has addresses: packets wirecap captures do not reach the host's stack" "$(cat "$D/start.err")"
# a pool under 1 MiB (4 queues x 32 frames of 2 KiB) is not "0 MiB"
W capture --pool-chunks 2 --chunk-size 16 -i "$IF" -w "$D/x.pcapng" --duration 0.5 \
	2>"$D/start-s.err" >/dev/null
check_match "capture: start-up line, a pool under 1 MiB in KiB" \
	"^wirecap: capturing on $IF: 4 queues, [0-9]+ workers?, pool 256 KiB \\(32 frames/queue\\)" \
	"$(cat "$D/start-s.err")"
W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --duration 0.5 -q 2>"$D/start-q.err" >/dev/null
check_nomatch "capture -q: no start-up line" 'capturing on' "$(cat "$D/start-q.err")"
check_match "capture -q: the warning stays" 'has addresses' "$(cat "$D/start-q.err")"
W bench "${WCT_POOL[@]}" -i "$IF" --duration 0.5 2>"$D/start-b.err" >/dev/null
check_match "bench: start-up line" "^wirecap: bench on $IF: 4 queues" "$(cat "$D/start-b.err")"
W forward "${WCT_POOL[@]}" -i "$IF" -o "$IF" --reflect --duration 0.5 2>"$D/start-f.err" >/dev/null
check_match "forward: start-up line" "^wirecap: forwarding $IF -> $IF: 4 queues" "$(cat "$D/start-f.err")"
check_nomatch "forward: no address warning (a bump in the wire)" 'has addresses' "$(cat "$D/start-f.err")"
ip -n "$RX" addr flush dev "$IF"
W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --duration 0.5 -q 2>"$D/start-noaddr.err" >/dev/null
check_nomatch "capture: no warning without addresses" 'has addresses' "$(cat "$D/start-noaddr.err")"
ip -n "$RX" addr add "$WCT_IP_RX/24" dev "$IF"
check_match "capture --help: not passive, mirror port" 'never reaches the host.s stack' "$("$WIRECAP" capture --help)"

# ---- 6. MTU and frame size ----------------------------------------------------------------------
log "=== MTU and frame size"
# send_frame LEN: one raw Ethernet frame of LEN bytes from the TX end
send_frame() {
	run_in "$TX" python3 -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
dst = bytes.fromhex(sys.argv[2].replace(":", ""))
src = bytes.fromhex(sys.argv[3].replace(":", ""))
n = int(sys.argv[4])
s.send(dst + src + b"\x88\xb5" + bytes(n - 14))
' "$WCT_IF_TX" "$WCT_MAC_RX" "$WCT_MAC_TX" "$1"
}
for ns_if in "$TX $WCT_IF_TX" "$RX $IF"; do
	set -- $ns_if
	ip -n "$1" link set "$2" mtu 2000
done
bg mtu capture -i "$IF" -w "$D/mtu.pcapng" --ready-file "$D/mtu.ready" --stats-json "$D/mtu.json"
CAP=$BG_PID
if started mtu; then
	p0=$(xdp_packets)
	send_frame 2014
	send_frame 1514
	wait_xdp $((p0 + 2))
	kill -INT "$CAP"
	wait_exit "$CAP" 20
	check_match "MTU 2000: 4096 B frames chosen, said in the start-up line" \
		'frames/queue of 4096 B for MTU 2000' "$(cat "$D/mtu.err")"
	check_eq "MTU 2000: both frames captured, none oversize" "2 0" \
		"$(jq -r '"\(.written) \(.dropped.other)"' "$D/mtu.json" 2>/dev/null)"
	check_nomatch "MTU 2000: no oversize warning" 'will be dropped' "$(cat "$D/mtu.err")"
fi
W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --duration 0.5 --frame-size 2048 2>"$D/mtu2048.err" >/dev/null
check_match "MTU 2000, --frame-size 2048: warning" \
	"warning: $IF: frames longer than 1792 bytes will be dropped \\(counted as oversize\\): MTU 2000 needs --frame-size 4096" \
	"$(cat "$D/mtu2048.err")"
for ns_if in "$TX $WCT_IF_TX" "$RX $IF"; do
	set -- $ns_if
	ip -n "$1" link set "$2" mtu 9000
done
W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --duration 0.5 -q 2>"$D/mtu9000.err" >/dev/null
check_match "MTU 9000: warning (also with -q)" \
	"warning: $IF: frames longer than 3840 bytes will be dropped \\(counted as oversize\\): MTU 9000 needs multi-buffer AF_XDP, not supported" \
	"$(cat "$D/mtu9000.err")"
for ns_if in "$TX $WCT_IF_TX" "$RX $IF"; do
	set -- $ns_if
	ip -n "$1" link set "$2" mtu 1500
done
no_prog "MTU checks"

# Generic XDP runs on the sk_buff: a veth peer's TSO/GSO super-packets
# arrive whole (native XDP on a veth turns its peer's segmentation off;
# generic does not), and GRO/LRO merge before it. One UDP GSO send of 3 x
# 1400 B from the TX stack is one 4242 B frame there, dropped as oversize:
# the capture says so at start, with the cure; native gets 3 frames.
log "=== generic XDP: GSO and GRO"
# the capture takes ARP: a static neighbour lets the TX stack send
ip -n "$TX" neigh replace "$WCT_IP_RX" lladdr "$WCT_MAC_RX" dev "$WCT_IF_TX" nud permanent
send_udp_gso() {
	run_in "$TX" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 103, 1400)  # UDP_SEGMENT
s.sendto(bytes(4200), (sys.argv[1], 9))
' "$WCT_IP_RX"
}
# gso_capture TAG MODE N: one GSO send captured in MODE, N frames expected
# at XDP; GSO_OUT="received written oversize"
gso_capture() {
	local tag=$1 p0
	GSO_OUT=
	bg "$tag" capture -i "$IF" -w "$D/$tag.pcapng" --mode "$2" \
		--ready-file "$D/$tag.ready" --stats-json "$D/$tag.json"
	CAP=$BG_PID
	started "$tag" || return
	p0=$(xdp_packets)
	send_udp_gso
	wait_xdp $((p0 + $3))
	kill -INT "$CAP"
	wait_exit "$CAP" 20
	GSO_OUT=$(jq -r '"\(.received) \(.written) \(.dropped.other)"' "$D/$tag.json" 2>/dev/null)
}
gso_capture gso-native native 3
check_eq "native, a GSO send: 3 frames captured" "3 3 0" "$GSO_OUT"
check_nomatch "native: no generic XDP warning" 'generic XDP' "$(cat "$D/gso-native.err")"
gso_capture gso-generic generic 1
check_eq "generic, a GSO send: one frame, dropped as oversize" "1 0 1" "$GSO_OUT"
check_match "generic on a veth: warning with the cure" \
	"^wirecap: warning: $IF: generic XDP on a veth: TCP/UDP its peer sends with TSO/GSO arrives unsplit, and longer than 1792 bytes is dropped \\(counted as oversize\\); turn them off on the peer: ethtool -K PEER tso off tx-udp-segmentation off$" \
	"$(cat "$D/gso-generic.err")"
check_nomatch "generic, GRO off: no GRO warning" 'GRO' "$(cat "$D/gso-generic.err")"
run_in "$TX" ethtool -K "$WCT_IF_TX" tso off tx-udp-segmentation off >/dev/null
gso_capture gso-cured generic 3
check_eq "generic, the peer's segmentation off: 3 frames captured" "3 3 0" "$GSO_OUT"
run_in "$TX" ethtool -K "$WCT_IF_TX" tso on tx-udp-segmentation on >/dev/null
run_in "$RX" ethtool -K "$IF" gro on >/dev/null
W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --duration 0.5 -q --mode generic \
	2>"$D/gro.err" >/dev/null
check_match "generic, GRO on: warning with the cure" \
	"^wirecap: warning: $IF: generic XDP sees packets after GRO merged them: merged TCP longer than 1792 bytes is dropped \\(counted as oversize\\); turn it off: ethtool -K $IF gro off$" \
	"$(cat "$D/gro.err")"
run_in "$RX" ethtool -K "$IF" gro off >/dev/null
ip -n "$TX" neigh del "$WCT_IP_RX" dev "$WCT_IF_TX"
no_prog "generic XDP checks"

# ---- 7. attach-time options on an attached interface ---------------------------------------------
log "=== attach-time options while attached"
check_ok "attach (defaults)" W attach "$IF"
W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --duration 0.5 -q --steer flow --buckets 1024 \
	--mode generic --workers 3 2>"$D/notes.err" >/dev/null
for o in "--workers 3" "--mode generic" "--steer flow" "--buckets 1024"; do
	check_match "note for $o" "^wirecap: note: $IF is attached .*; $o applies only when wirecap attaches" \
		"$(cat "$D/notes.err")"
done
W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --duration 0.5 -q --mode native --buckets 256 2>"$D/notes2.err" >/dev/null
check_nomatch "no note for options the attachment has" 'note:' "$(cat "$D/notes2.err")"

# ---- 9. one-line errors, each said once --------------------------------------------------------------
log "=== errors"
check_error "attach twice: said once" 'already attached' W attach "$IF"
check_nomatch "attach twice: not doubled" 'force.*force' "$WCT_OUT"
check_ok "detach" W detach "$IF"
check_error "--workers 0" "^wirecap: invalid --workers: '0' \\(expected 1\\.\\.64\\)$" \
	W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --workers 0
check_error "--rx-ring 100" '^wirecap: invalid --rx-ring 100: must be a power of two$' \
	W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --rx-ring 100
check_match "--help: --rx-ring is a power of two" 'rx-ring N .*power of two' "$("$WIRECAP" capture --help)"
check_error "pool too large: the library's reason alone" 'pool' \
	W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng" --pool-chunks 4000000 --chunk-size 64
check_nomatch "pool too large: no 'see the message above'" 'message above|\(.*\(' "$WCT_OUT"
mkdir -p "$D/notbpf"
check_error "pin root not on a bpffs" "pin root $D/notbpf is not on a bpffs" \
	env WIRECAP_PIN_ROOT="$D/notbpf" nsenter --net=/run/netns/"$RX" -- "$WIRECAP" capture -i "$IF" -w "$D/x.pcapng"
check_nomatch "pin root: no strerror lead" 'Wrong medium' "$WCT_OUT"
if ip -n "$RX" link set dev "$IF" xdpgeneric obj "$WC_BUILD/wirecap.bpf.o" sec xdp 2>/dev/null; then
	check_error "foreign XDP program: capture names it" 'another XDP program \(id [0-9]+\) is attached' \
		W capture "${WCT_POOL[@]}" -i "$IF" -w "$D/x.pcapng"
	check_nomatch "foreign XDP program: not 'busy: another capture'" 'busy: another capture' "$WCT_OUT"
	# the command it suggests removes it
	cmd=$(printf '%s' "$WCT_OUT" | sed -n 's/.*remove it (\(ip link set [^)]*\)).*/\1/p')
	check_match "foreign XDP program: suggests how to remove it" 'xdpgeneric off$' "$cmd"
	# shellcheck disable=SC2086
	run_in "$RX" $cmd
	no_prog "foreign XDP program removed as suggested"
else
	fail "could not load a foreign XDP program"
fi
no_prog "errors"

# ---- 10. rough edges: each a one-line error ----------------------------------------------------
log "=== rough edges"
X=$D/rough.pcapng
check_error "--cpus 99: refused" \
	"^wirecap: invalid --cpus: CPU 99 is not available \\(this process may run on CPUs [0-9,-]+\\)$" \
	W capture "${WCT_POOL[@]}" -i "$IF" -w "$X" --cpus 99
check_error "bench --cpus 0,99: refused" '^wirecap: invalid --cpus: CPU 99 is not available' \
	W bench "${WCT_POOL[@]}" -i "$IF" --cpus 0,99
no_prog "--cpus 99"
for cmd in capture attach forward stats; do
	case $cmd in
	capture) a=(capture -i 0123456789abcdef -w "$X") e=(capture -i '' -w "$X") ;;
	attach) a=(attach 0123456789abcdef) e=(attach '') ;;
	forward) a=(forward -i "$IF" -o 0123456789abcdef) e=(forward -i '' -o "$IF") ;;
	stats) a=(stats 0123456789abcdef) e=(stats '') ;;
	esac
	check_error "$cmd: 16-character interface name" \
		"^wirecap: interface name '0123456789abcdef' is too long \\(16 characters; at most 15\\)$" W "${a[@]}"
	check_error "$cmd: empty interface name" '^wirecap: empty interface name$' W "${e[@]}"
done
check_error "forward -i X -o X: refused without --reflect" \
	"^wirecap: forward: -i and -o are both $IF: every frame would go back out of the port it came from \\(--reflect if that is meant\\)$" \
	W forward "${WCT_POOL[@]}" -i "$IF" -o "$IF"
no_prog "forward -i X -o X"
for cmd in capture forward bench attach detach stats gen verify replay exec; do
	check_error "$cmd --bogus: one line and a --help hint" \
		"^wirecap $cmd: unrecognized option '--bogus' \\(see 'wirecap $cmd --help'\\)$" W "$cmd" --bogus
done
check_error "capture -i (no argument): one line" \
	"^wirecap capture: option '-i' needs an argument \\(see 'wirecap capture --help'\\)$" W capture -i
check_error "capture --quiet=1: one line" \
	"^wirecap capture: option '--quiet' takes no argument" W capture --quiet=1
check_error "wirecap frobnicate: one line, the error first" \
	"^wirecap: unknown command 'frobnicate' \\(see 'wirecap --help'\\)$" W frobnicate
check_error "wirecap -x: one line" "^wirecap: unknown option '-x' \\(see 'wirecap --help'\\)$" W -x
check_error "attach --workers 0: said once" "^wirecap: invalid --workers: '0' \\(expected 1\\.\\.64\\)$" \
	W attach --workers 0 "$IF"
# not root: permission denied, said once (the pins are in a 0700 bpffs)
check_ok "attach (for the permission checks)" W attach "$IF"
chmod 0711 "$D"
cp "$WIRECAP" "$D/wirecap-user"
# with the shared library it finds next to itself ($ORIGIN)
cp -L "$(dirname "$WIRECAP")/libwirecap-xdp.so.0" "$D/"
chmod 0755 "$D/wirecap-user"
for cmd in stats status; do
	check_error "$cmd as nobody: permission denied, said once" \
		"^wirecap: $cmd $IF: permission denied \\(run as root[^()]*\\)$" \
		run_in "$RX" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$D/wirecap-user" "$cmd" "$IF"
done
chmod 0700 "$D"
check_ok "detach (after the permission checks)" W detach "$IF"
# without CAP_IPC_LOCK, RLIMIT_MEMLOCK limits the pool: 64 KiB is 64 KiB
check_error "ulimit -l 64: the limit in KiB" \
	'^wirecap: the pools need [0-9]+ MiB of locked memory but RLIMIT_MEMLOCK is 64 KiB: raise it' \
	run_in "$RX" capsh --drop=cap_ipc_lock -- -c \
	"ulimit -l 64 && exec $WIRECAP capture --pool-chunks 64 -i $IF -w $X"
no_prog "ulimit -l 64"
check_eq "rough edges: no -w file created" no "$([ -e "$X" ] && echo yes || echo no)"
# rotation naming, documented in capture --help and the README
for re in '-C: FILE, FILE1, FILE2' '-C -W N: FILE0\.\.FILE<N-1> \(zero-padded\)' \
	'-G, FILE without %: as -C' '-G, FILE with %: strftime\(3\), local time'; do
	check_match "capture --help: rotation names: $re" "$re" "$("$WIRECAP" capture --help)"
done
check_match "README: rotation names" 'FILE0. \.\. .FILE<N-1>.' "$(cat "$WCT_ROOT/README.md")"

# ---- 8. forward -w: what is written -------------------------------------------------------------------
check_match "forward --help: -w is what is handed to transmit" \
	'handed to transmit.*' "$("$WIRECAP" forward --help | tr '\n' ' ')"
check_match "forward --help: -w includes packets dropped in transmit" \
	'dropped in transmit\) are in it' "$("$WIRECAP" forward --help | tr '\n' ' ' | tr -s ' ')"

wct_finish
