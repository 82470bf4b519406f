#!/usr/bin/env bash
# wirecap forward and wirecap replay, with three namespaces:
#
#   client (198.18.0.1/24) <-> middlebox: A ==forward --bidir== B <-> server (198.18.0.2/24)
#
# The middlebox has no addresses: a transparent bridge in user space (AF_XDP
# TX sharing the capture engine's UMEM). Checks: ping and a 50 MB TCP
# transfer through it (sha256 at both ends), the pcapng copy of what passes;
# the accounting against `wirecap gen` (sent == forwarded + dropped by rule +
# dropped by cause, the server receives exactly the forwarded ones, counted
# by `wirecap bench` there); --drop 'udp port 9' drops exactly those; an
# egress MTU too small and an egress link down are counted by cause; replay
# of a capture made by `wirecap capture` reproduces the same packets in
# order, never faster than the requested rate or the recorded pace; a
# truncated file, a non-Ethernet file and bad arguments give clear errors.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init

for t in ping python3 jq tshark ethtool; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps: iputils-ping, python3, jq, tshark, ethtool)"
		wct_finish
	fi
done

# ---- topology ---------------------------------------------------------------------

IP_C=198.18.0.1
IP_S=198.18.0.2
wct_make_middlebox
ip -n "$NS_C" addr add "$IP_C/24" dev "$IF_C"
ip -n "$NS_S" addr add "$IP_S/24" dev "$IF_S"
# The end hosts keep veth's default offloads: their stacks hand TCP/UDP
# with the checksum left to "hardware" (CHECKSUM_PARTIAL), and forward
# completes it (--csum complete, the default; userspace/csum.c).
MAC_S=$(ip -n "$NS_S" -br link show "$IF_S" | awk '{print $3}')
MAC_C=$(ip -n "$NS_C" -br link show "$IF_C" | awk '{print $3}')

POOL=(--pool-chunks 128)
D=$WCT_DIR
# forward sheds by default past its latency budget (test_shed.sh); the
# exact counts here are about forwarding itself: --no-shed

# forward_start NAME ARGS...: forward in the middlebox, waits until it runs
# (under FWD_WRAP, a command prefix, when set)
FWD_PID=
FWD_WRAP=()
forward_start() {
	local name=$1
	shift
	rm -f "$D/$name.ready"
	# --foreground: SIGINT reaches forward once (timeout otherwise sends
	# it again to its process group, which can land after forward restored
	# the default action on its way out: exit 130 on a loaded machine)
	wct_bg FWD_PID nsenter --net=/run/netns/"$NS_M" -- timeout --foreground 300 \
		"${FWD_WRAP[@]}" "$WIRECAP" forward "$@" "${POOL[@]}" --no-shed --ready-file "$D/$name.ready" \
		--stats-json "$D/$name.json" -q 2>"$D/$name.err"
	if ! wct_wait_for "$(wct_tries 100)" 0.1 test -e "$D/$name.ready"; then
		fail "$name: forward did not start: $(tr '\n' ' ' <"$D/$name.err")"
		return 1
	fi
	sleep 0.3
}

# forward_stop NAME: SIGINT, bounded wait, exit status 0
forward_stop() {
	local rc=0
	kill -INT "$FWD_PID" 2>/dev/null
	timeout 30 tail --pid="$FWD_PID" -f /dev/null
	wait "$FWD_PID" || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$1: forward exits 0"
	else
		fail "$1: forward exited $rc: $(tr '\n' ' ' <"$D/$1.err" | cut -c1-300)"
	fi
}

# check_balance NAME JSON: every direction reconciles exactly
check_balance() {
	local j=$2 bad
	if ! jq -e . "$j" >/dev/null 2>&1; then
		fail "$1: no accounting JSON"
		return
	fi
	bad=$(jq -r '.directions[] | select(.received != .forwarded + .dropped_by_rule
		+ .dropped.total + .shed + .passed or .unaccounted != 0) | .in' "$j")
	check_eq "$1: received == forwarded + dropped_by_rule + dropped + shed + passed, both directions" "" "$bad"
}

# mb_packets: what XDP on the middlebox's client side has seen (status)
mb_packets() { run_in "$NS_M" "$WIRECAP" status "$IF_A" --json 2>/dev/null | jq -r '.totals.packets // 0'; }
mb_saw() { [ "$(mb_packets)" -ge "$1" ]; }
# mb_wait NAME N: wait (bounded) until XDP on the middlebox has seen N
# packets: forward's accounting then holds all of them when it stops
mb_wait() {
	wct_wait_for "$(wct_tries 300)" 0.1 mb_saw "$2" ||
		log "$1: the middlebox saw $(mb_packets) of $2 packets within $(wct_time 30) s"
}

gen() { # gen ARGS...: the generator on the client, bounded
	run_in "$NS_C" timeout 60 "$WIRECAP_GEN" gen -i "$IF_C" --quiet "$@"
}

# ---- 1. ping and TCP through forward --bidir, pcapng copy ------------------------

cat >"$D/tcp.py" <<'EOF'
import hashlib, socket, sys
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "recv":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(1); s.settimeout(60)
    c, _ = s.accept(); c.settimeout(60)
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b); n += len(b)
    print(h.hexdigest(), n)
else:
    c = socket.create_connection((host, port), timeout=60)
    with open(sys.argv[4], "rb") as f:
        while True:
            b = f.read(1 << 16)
            if not b:
                break
            c.sendall(b)
    c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
EOF

if forward_start bidir -i "$IF_A" -o "$IF_B" --bidir -w "$D/fwd.pcapng"; then
	out=$(run_in "$NS_C" timeout 20 ping -c 5 -i 0.2 -W 2 "$IP_S" 2>&1)
	check_match "ping through forward --bidir" ' 0% packet loss' "$out"
	# the workers (one per direction) run at real-time priority by
	# default (--rt-priority 1), set on their first callback
	fwd_rr() { [ "$(ps -L -o cls= -p "$(pgrep -P "$FWD_PID" | head -n 1)" | grep -c RR)" -ge 2 ]; }
	if wct_wait_for 50 0.1 fwd_rr; then
		pass "forward's workers run SCHED_RR (--rt-priority 1, the default)"
	else
		fail "forward's workers do not run SCHED_RR: $(ps -L -o tid=,cls=,rtprio= -p "$(pgrep -P "$FWD_PID" | head -n 1)" | tr '\n' ' ')"
	fi

	head -c 50M /dev/urandom >"$D/blob"
	sum_c=$(sha256sum "$D/blob" | awk '{print $1}')
	rcv_pid=
	wct_bg rcv_pid nsenter --net=/run/netns/"$NS_S" -- timeout 90 \
		python3 "$D/tcp.py" recv "$IP_S" 5001 >"$D/recv.out" 2>"$D/recv.err"
	listening() { run_in "$NS_S" ss -Hltn "sport = :5001" | grep -q .; }
	wct_wait_for 50 0.1 listening
	sleep 0.2
	run_in "$NS_C" timeout 90 python3 "$D/tcp.py" send "$IP_S" 5001 "$D/blob" 2>"$D/send.err"
	timeout 30 tail --pid="$rcv_pid" -f /dev/null
	read -r sum_s bytes_s <"$D/recv.out" || true
	check_eq "TCP 50 MB through forward: bytes received" 52428800 "${bytes_s:-0}"
	check_eq "TCP 50 MB through forward: sha256 at both ends" "$sum_c" "${sum_s:-none}"
	rm -f "$D/blob"
	forward_stop bidir
	check_balance bidir "$D/bidir.json"
	check_match "default offloads: forward completed the partial checksums" '^[1-9][0-9]*$' \
		"$(jq '[.directions[].tx.csum_completed] | add' "$D/bidir.json" 2>/dev/null)"
	fwd=$(jq '[.directions[].forwarded] | add' "$D/bidir.json")
	written=$(jq '[.directions[].written] | add' "$D/bidir.json")
	n=$(capinfos_count "$D/fwd.pcapng")
	offered=$(jq '[.directions[].tx.offered] | add' "$D/bidir.json")
	# the copy is written before transmit: what passed the rule, i.e.
	# forwarded + dropped in transmit (counted by cause)
	check_eq "pcapng copy (-w) holds every packet that passed" "$offered" "$n"
	check_eq "pcapng: forward counted what it wrote" "$offered" "$written"
	[ "$fwd" = "$offered" ] || log "dropped in transmit: $(jq -c '[.directions[].dropped]' "$D/bidir.json")"
	log "forwarded per direction: $(jq -c '[.directions[] | {in, forwarded}]' "$D/bidir.json")"
	# more than a handshake's worth each way (the transfer could not
	# have finished otherwise); how many ACKs 36,000 data frames get
	# depends on timing (1,179-2,027 quiet, fewer when the receiver is
	# slow and acknowledges more at once): no tighter bound
	check_eq "both directions forwarded (TCP data and ACKs)" 2 \
		"$(jq '[.directions[] | select(.forwarded > 100)] | length' "$D/bidir.json")"
fi

# without CAP_SYS_NICE: one line says the workers keep normal scheduling,
# and forwarding works
if command -v capsh >/dev/null; then
	# shellcheck disable=SC2016 # expanded by capsh's shell
	FWD_WRAP=(capsh --drop=cap_sys_nice -- -c 'exec "$@"' capsh)
	if forward_start nonice -i "$IF_A" -o "$IF_B" --bidir; then
		out=$(run_in "$NS_C" timeout 20 ping -c 3 -i 0.2 -W 2 "$IP_S" 2>&1)
		check_match "without CAP_SYS_NICE: ping through forward --bidir" ' 0% packet loss' "$out"
		forward_stop nonice
		check_eq "without CAP_SYS_NICE: one warning line about the priority" 1 \
			"$(grep -c 'cannot give the workers real-time priority' "$D/nonice.err")"
	fi
	FWD_WRAP=()
else
	log "capsh is not installed: the warning without CAP_SYS_NICE is not tested"
fi

# ---- 2. accounting against the generator, --drop 'udp port 9' -------------------

# K frames to UDP port 9 (raw, AF_PACKET): prints how many left
cat >"$D/udp9.py" <<'EOF'
import socket, struct, sys, time
ifname, k, smac, dmac = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
def csum(b):
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
eth = bytes.fromhex(dmac.replace(':', '')) + bytes.fromhex(smac.replace(':', '')) + b'\x08\x00'
sent = 0
for i in range(k):
    pl = struct.pack('!I', i) + b'discard!' * 4
    udp = struct.pack('!HHHH', 40000 + i % 64, 9, 8 + len(pl), 0) + pl
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                     socket.inet_aton('198.18.0.1'), socket.inet_aton('198.18.0.2'))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    for attempt in range(1000):
        try:
            sent += s.send(eth + ip + udp) > 0
            break
        except OSError:  # ENOBUFS: the veth ring is full, retry
            time.sleep(0.001)
print(sent)
EOF

# rates and counts scale down on a slow machine (WCT_SLOW, tests/lib/net.sh)
N=$(wct_count 100000)
K=2000
bench_pid=
rm -f "$D/bench.ready"
wct_bg bench_pid nsenter --net=/run/netns/"$NS_S" -- timeout 120 "$WIRECAP" bench \
	-i "$IF_S" "${POOL[@]}" --flows 64 --expect "$N" --idle-exit 3 \
	--stats-json "$D/bench.json" --ready-file "$D/bench.ready" -q 2>"$D/bench.err"
if ! wct_wait_for "$(wct_tries 100)" 0.1 test -e "$D/bench.ready"; then
	fail "bench on the server did not start: $(tr '\n' ' ' <"$D/bench.err")"
elif forward_start rule -i "$IF_A" -o "$IF_B" --bidir --drop 'udp port 9'; then
	run_in "$NS_C" timeout 60 python3 "$D/udp9.py" "$IF_C" "$K" "$MAC_C" "$MAC_S" \
		>"$D/udp9.out" 2>&1 &
	udp9_pid=$!
	p0=$(mb_packets)
	gen -c "$N" --flows 64 --pps "$(wct_rate 100000)" --dst-mac "$MAC_S" --json "$D/gen.json"
	timeout 60 tail --pid="$udp9_pid" -f /dev/null
	sent=$(jq .sent "$D/gen.json")
	k=$(cat "$D/udp9.out")
	# generator frames the client's veth dropped (ring full) never reached
	# the middlebox: gen counts them as driver drops (the port 9 sender
	# retries its own)
	vd=$(jq .tx_busy_drops "$D/gen.json")
	mb_wait rule $((p0 + sent + k - vd))
	forward_stop rule
	timeout 30 tail --pid="$bench_pid" -f /dev/null
	[ "$vd" -eq 0 ] || log "the client's veth dropped $vd generator frames (ring full)"
	j=$D/rule.json
	check_balance rule "$j"
	ab() { jq ".directions[0].$1" "$j"; }
	check_eq "generator sent $N" "$N" "$sent"
	check_eq "port 9 frames sent" "$K" "$k"
	check_eq "received on the middlebox == generator + port 9 frames (- veth drops)" \
		"$((sent + k - vd))" "$(ab received)"
	check_eq "generator sent + port 9 (- veth drops) == forwarded + dropped by rule + dropped by cause + passed" \
		"$((sent + k - vd))" "$(jq '.directions[0] | .forwarded + .dropped_by_rule + .dropped.total + .passed' "$j")"
	check_eq "--drop 'udp port 9' dropped exactly the port 9 frames" "$k" "$(ab dropped_by_rule)"
	check_eq "server side received exactly the forwarded packets" "$(ab forwarded)" \
		"$(jq .received "$D/bench.json")"
	check_eq "server side: no port 9 frame, nothing but test packets" 0 \
		"$(jq .not_payload "$D/bench.json")"
	# (the server's own capture may drop under load: counted there)
	check_eq "server side: every forwarded test packet once (unique + its drops)" \
		"$(ab forwarded)" "$(jq '.unique + .dropped.total' "$D/bench.json")"
	log "forward: $(ab forwarded) forwarded, drops by cause $(jq -c '.directions[0].dropped' "$j")"
fi

# ---- 3. egress MTU too small, egress link down -----------------------------------

# port_is MTU UP: the egress port on $IF_B sees that MTU and link state
# (UP 1 or 0): the copy of its counters it publishes every 100 ms in a
# pinned map (struct wc_egress_stats: ifname[16] at 0, mtu at 24, link_up at
# 28), refreshed with the device's state every 200 ms
port_is() {
	local m v ifn
	for m in "$WIRECAP_PIN_ROOT"/*/port_stats; do
		[ -e "$m" ] || continue
		v=$(bpftool -j map lookup pinned "$m" key 0 0 0 0 2>/dev/null |
			jq -r '.value | join(" ")') || continue
		read -r -a v <<<"$v"
		[ "${#v[@]}" -ge 32 ] || continue
		ifn=$(printf '%s' "${v[@]:0:16}" | sed 's/0x00.*//; s/0x/\\x/g')
		[ "$(printf '%b' "$ifn")" = "$IF_B" ] || continue
		[ $((v[24] | v[25] << 8 | v[26] << 16 | v[27] << 24)) = "$1" ] &&
			[ $((v[28] | v[29] << 8 | v[30] << 16 | v[31] << 24)) = "$2" ] && return 0
	done
	return 1
}
# port_wait MTU UP WHAT: bounded wait for port_is
port_wait() {
	wct_wait_for "$(wct_tries 100)" 0.1 port_is "$1" "$2" ||
		log "causes: the port did not see $3 within $(wct_time 10) s"
}

if forward_start causes -i "$IF_A" -o "$IF_B"; then
	p0=$(mb_packets)
	ip -n "$NS_M" link set "$IF_B" mtu 1000
	port_wait 1000 1 "MTU 1000"
	gen -c 500 -s 1200 --pps "$(wct_rate 20000)" --dst-mac "$MAC_S"
	gen -c 500 -s 1014 --pps "$(wct_rate 20000)" --dst-mac "$MAC_S"
	ip -n "$NS_M" link set "$IF_B" mtu 1500
	ip -n "$NS_S" link set "$IF_S" down
	port_wait 1500 0 "the link down"
	gen -c 500 --pps "$(wct_rate 20000)" --dst-mac "$MAC_S"
	ip -n "$NS_S" link set "$IF_S" up
	wct_wait_for 50 0.1 wct_link_up "$NS_M" "$IF_B"
	wct_wait_for 50 0.1 wct_link_up "$NS_S" "$IF_S"
	port_wait 1500 1 "the link up again"
	gen -c 500 --pps "$(wct_rate 20000)" --dst-mac "$MAC_S"
	mb_wait causes $((p0 + 2000))
	forward_stop causes
	j=$D/causes.json
	check_balance causes "$j"
	check_eq "egress MTU 1000: 1200-byte frames dropped as too_big" 500 \
		"$(jq .directions[0].dropped.too_big "$j")"
	check_eq "egress link down: frames dropped as link_down (or by the driver)" 500 \
		"$(jq '.directions[0].dropped | .link_down + .driver' "$j")"
	check_eq "1014-byte frames fit MTU 1000; all sent after the link came back" 1000 \
		"$(jq .directions[0].forwarded "$j")"
fi

# ---- 4. replay ----------------------------------------------------------------

# (the same span of time on a slow machine: count and rates / WCT_SLOW)
RN=$(wct_count 20000)
RPPS=$(wct_rate 20000)
capture() { # capture NAME COUNT: wirecap capture on the middlebox, client side
	rm -f "$D/$1.ready"
	wct_bg CAP_PID nsenter --net=/run/netns/"$NS_M" -- timeout 120 "$WIRECAP" capture \
		-i "$IF_A" -w "$D/$1.pcapng" -c "$2" "${POOL[@]}" --ready-file "$D/$1.ready" \
		-q 2>"$D/$1.err"
	wct_wait_for "$(wct_tries 100)" 0.1 test -e "$D/$1.ready" ||
		fail "capture $1 did not start: $(tr '\n' ' ' <"$D/$1.err")"
}
capture_wait() {
	local rc=0
	timeout 60 tail --pid="$CAP_PID" -f /dev/null
	wait "$CAP_PID" || rc=$?
	check_eq "capture $1 exits 0" 0 "$rc"
}
# what identifies a packet, in file order
pkts() {
	timeout 60 tshark -r "$1" -T fields -e eth.src -e eth.dst -e ip.src -e ip.dst \
		-e ip.id -e udp.srcport -e udp.dstport -e udp.payload 2>/dev/null
}
span() { # seconds between the first and the last packet of a file
	timeout 60 tshark -r "$1" -T fields -e frame.time_epoch 2>/dev/null |
		awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.6f\n", b - a }'
}

if "$WIRECAP" capture --help >/dev/null 2>&1; then
	capture orig "$RN"
	gen -c "$RN" --flows 16 --pps "$(wct_rate 50000)" --json "$D/rgen.json"
	capture_wait orig
	check_ok "the original capture verifies" timeout 60 "$WIRECAP" verify "$D/orig.pcapng" \
		--expect "$RN" --flows 16

	capture again "$RN"
	run_in "$NS_C" timeout 60 "$WIRECAP" replay "$D/orig.pcapng" -i "$IF_C" \
		--pps "$RPPS" --json "$D/replay.json" -q
	check_eq "replay --pps exits 0" 0 "$?"
	capture_wait again
	check_eq "replay: every packet sent" "$RN" "$(jq .sent "$D/replay.json")"
	check_ok "replayed capture verifies (none lost, duplicated, reordered)" \
		timeout 60 "$WIRECAP" verify "$D/again.pcapng" --expect "$RN" --flows 16
	pkts "$D/orig.pcapng" >"$D/orig.txt"
	pkts "$D/again.pcapng" >"$D/again.txt"
	if [ -s "$D/orig.txt" ] && cmp -s "$D/orig.txt" "$D/again.txt"; then
		pass "replay reproduces the same packets in the same order"
	else
		fail "replay: packets differ from the original ($(diff "$D/orig.txt" "$D/again.txt" | head -c 300))"
	fi
	# paced: never faster than asked (how close it gets to the rate
	# depends on the machine; `make bench` reports it)
	check_paced "replay --pps $RPPS: never faster than asked" "$RN" "$RPPS" \
		"$(jq .duration_s "$D/replay.json")"
	log "replay --pps $RPPS: $(jq .pps "$D/replay.json") pps sent, $(awk -v n="$RN" \
		-v s="$(span "$D/again.pcapng")" 'BEGIN { printf "%.0f", (n - 1) / s }') at the receiver"

	# recorded pace (and --speed): packet i leaves no earlier than its
	# recorded offset / speed: at least twice the recorded span (minus the
	# slack of check_paced), never shorter
	orig_span=$(span "$D/orig.pcapng")
	run_in "$NS_C" timeout 60 "$WIRECAP" replay "$D/orig.pcapng" -i "$IF_C" \
		--speed 0.5 --json "$D/pace.json" -q
	d=$(jq .duration_s "$D/pace.json")
	if awk -v d="$d" -v s="$orig_span" 'BEGIN { exit !(d >= 2 * s - 0.05) }'; then
		pass "replay --speed 0.5 takes at least twice the recorded time (${d} s for ${orig_span} s)"
	else
		fail "replay --speed 0.5: ${d} s for a ${orig_span} s capture: faster than recorded / 0.5"
	fi
	check_eq "replay --loop 3 --topspeed sends 3 x the file" $((3 * RN)) \
		"$(run_in "$NS_C" timeout 60 "$WIRECAP" replay "$D/orig.pcapng" -i "$IF_C" \
			--topspeed --loop 3 --json - -q | jq .sent)"

	# a truncated file: what is complete goes out, then the error, exit 1
	size=$(stat -c %s "$D/orig.pcapng")
	head -c $((size / 2 + 13)) "$D/orig.pcapng" >"$D/trunc.pcapng"
	rc=0
	run_in "$NS_C" timeout 60 "$WIRECAP" replay "$D/trunc.pcapng" -i "$IF_C" \
		--topspeed --json "$D/trunc.json" -q 2>"$D/trunc.err" || rc=$?
	check_eq "truncated file: exit 1" 1 "$rc"
	check_match "truncated file: libpcap's reason reported" "truncated" "$(cat "$D/trunc.err")"
	check_eq "truncated file: every complete packet sent" \
		"$(jq .read "$D/trunc.json")" "$(jq .sent "$D/trunc.json")"
	check_ne "truncated file: some packets were complete" 0 "$(jq .sent "$D/trunc.json")"
else
	fail "wirecap capture is not available: replay not tested"
fi

# a file whose link type is not Ethernet (raw IPv4, LINKTYPE_RAW)
python3 - "$D/raw.pcap" <<'EOF'
import struct, sys
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    p = bytes.fromhex('450000140000000040ff0000c6120001c6120002')
    f.write(struct.pack('<IIII', 0, 0, len(p), len(p)) + p)
EOF
check_error "replay: non-Ethernet link type" "link type .* cannot be replayed on Ethernet" \
	run_in "$NS_C" "$WIRECAP" replay "$D/raw.pcap" -i "$IF_C"
check_error "replay: unknown interface" "no such interface" \
	run_in "$NS_C" "$WIRECAP" replay "$D/raw.pcap" -i nosuch0
check_error "forward: unknown egress" "no such interface: nosuch0" \
	run_in "$NS_M" "$WIRECAP" forward -i "$IF_A" -o nosuch0
check_error "forward: bad --drop expression" "invalid --drop expression" \
	run_in "$NS_M" "$WIRECAP" forward -i "$IF_A" -o "$IF_B" --drop 'udp port'
ip -n "$NS_M" link set "$IF_B" down
check_error "forward: egress down" "is down" \
	run_in "$NS_M" "$WIRECAP" forward -i "$IF_A" -o "$IF_B"
ip -n "$NS_M" link set "$IF_B" up

wct_finish
