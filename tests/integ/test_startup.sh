#!/usr/bin/env bash
# wirecap start-up never destroys data and leaves nothing behind (issue 16):
#  - every start-up error of capture and forward -w leaves an existing -w
#    file byte-identical and creates none where there was none, in one line,
#    with nothing attached or pinned afterwards;
#  - a second capture on the path a running capture writes (same interface:
#    the engine is busy; another interface: the file is locked) leaves the
#    running capture's file valid and complete (tshark, wirecap verify), in
#    native and generic XDP mode;
#  - a pool beyond the memory margin is refused in one line, before any
#    memory is pinned;
#  - SIGINT during a multi-second pool set-up ends it, leaving nothing.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"

wct_init
wct_make_veth

for t in jq tshark cmp prlimit; do
	if ! command -v "$t" >/dev/null; then
		fail "$t is not installed (make deps)"
		wct_finish
	fi
done

RX=$WCT_NS_RX
TX=$WCT_NS_TX
IF=$WCT_IF_RX
D=$WCT_DIR
MODES=${WCT_XDP_MODES:-native generic}

W() { run_in "$RX" "$WIRECAP" "$@"; }
wait_file() { [ -e "$1" ]; }
# delivered_at_least N: the running engine delivered N packets (stats)
delivered_at_least() {
	[ "$(W stats "$IF" --json --no-rate 2>/dev/null | jq -r '.totals.delivered // 0')" -ge "$1" ]
}
no_prog() { check_eq "$1: nothing left attached" none "$(xdp_prog_id "$RX" "$IF")"; }
# the pin directories of interfaces (bpffs lists its own *.debug files)
# (ip, xdp and tc are iproute2's: `ip -n NS link set ... xdp obj` in a
# test suite running beside this one sees no /sys/fs/bpf in its mount
# namespace and takes the first bpffs it finds, possibly this test's)
no_pins() {
	check_eq "$1: no pins left" "" \
		"$(find "$WIRECAP_PIN_ROOT" -mindepth 1 -maxdepth 1 ! -name '*.debug' \
			! -name ip ! -name xdp ! -name tc -printf '%f ')"
}

# wait_exit PID SEC: wait (bounded) for PID to exit; sets EXIT_RC
wait_exit() {
	if ! timeout "$2" tail -s 0.05 --pid="$1" -f /dev/null; then
		kill -9 "$1" 2>/dev/null
		EXIT_RC=timeout
		wait "$1" 2>/dev/null
		return 1
	fi
	wait "$1"
	EXIT_RC=$?
}

# a reference -w file: what must survive every failed start-up unchanged
head -c 65536 /dev/urandom >"$D/ref.bin"

# keeps NAME REGEX CMD... (CMD ends with "-w"; the file is appended): with an
# existing file, CMD fails in one line matching REGEX and the file is
# byte-identical; with none, CMD creates none; nothing attached or pinned
keeps() {
	local name=$1 re=$2
	shift 2
	cp "$D/ref.bin" "$D/keep.pcapng"
	check_error "$name: one line" "$re" "$@" "$D/keep.pcapng"
	if cmp -s "$D/ref.bin" "$D/keep.pcapng"; then
		pass "$name: the existing -w file is byte-identical"
	else
		fail "$name: the existing -w file changed ($(stat -c %s "$D/keep.pcapng") bytes)"
	fi
	rm -f "$D/new.pcapng"
	"$@" "$D/new.pcapng" >/dev/null 2>&1
	check_eq "$name: no -w file created" no "$([ -e "$D/new.pcapng" ] && echo yes || echo no)"
	no_prog "$name"
	no_pins "$name"
}

# ---- 1. start-up errors ------------------------------------------------------------
log "=== start-up errors keep the -w file"
P=(--pool-chunks 64)
keeps "capture: unknown interface" '^wirecap: no such interface: wctnosuch0$' \
	W capture -i wctnosuch0 "${P[@]}" -w
keeps "capture: 16-character name" 'too long' \
	W capture -i 0123456789abcdef "${P[@]}" -w
keeps "capture: pool larger than memory" 'MiB' \
	W capture -i "$IF" --pool-chunks 65536 --chunk-size 64 -w
keeps "capture: --bind zc on veth" 'no zero-copy AF_XDP' \
	W capture -i "$IF" "${P[@]}" --bind zc -w
keeps "capture: --mode native on lo" 'native' \
	W capture -i lo "${P[@]}" --mode native -w
if awk '/^HugePages_Free:/ { exit !($2 == 0) }' /proc/meminfo; then
	keeps "capture: --huge-pages require without huge pages" 'huge pages' \
		W capture -i "$IF" "${P[@]}" --huge-pages require -w
else
	skip "capture: --huge-pages require" "this machine has huge pages reserved"
fi
keeps "forward -w: unknown interface" 'no such interface: wctnosuch0' \
	W forward -i wctnosuch0 -o "$IF" "${P[@]}" -w
keeps "forward -w: pool larger than memory" 'MiB' \
	W forward -i "$IF" -o lo --pool-chunks 65536 --chunk-size 64 -w
# rotation: the first file of -C -W (FILE0) and of a strftime -G name is
# neither emptied nor created either
cp "$D/ref.bin" "$D/rot.pcapng0"
check_error "capture -C 1 -W 3: unknown interface" 'no such interface' \
	W capture -i wctnosuch0 "${P[@]}" -C 1 -W 3 -w "$D/rot.pcapng"
check_eq "capture -C 1 -W 3: FILE0 byte-identical, nothing else created" "same 1" \
	"$(cmp -s "$D/ref.bin" "$D/rot.pcapng0" && echo same) $(find "$D" -name 'rot.pcapng*' | wc -l)"
check_error "capture -G 60 with strftime: unknown interface" 'no such interface' \
	W capture -i wctnosuch0 "${P[@]}" -G 60 -w "$D/tm-%Y%m%d-%H%M%S.pcapng"
check_eq "capture -G 60 with strftime: nothing created" 0 "$(find "$D" -name 'tm-*' | wc -l)"
check_eq "the checks leave no probe file" 0 "$(find "$D" -name '.wirecap-probe-*' | wc -l)"

# ---- 2. a second capture on the path a first one writes -------------------------------------
log "=== a second capture on the same path"
for mode in $MODES; do
	f=$D/same-$mode.pcapng
	rm -f "$D/first.ready"
	wct_bg CAP nsenter --net=/run/netns/"$RX" -- "$WIRECAP" capture -i "$IF" --mode "$mode" \
		"${WCT_POOL[@]}" -w "$f" -q --ready-file "$D/first.ready" --stats-json "$D/first.json" \
		>/dev/null 2>"$D/first.err"
	if ! wct_wait_for 300 0.1 wait_file "$D/first.ready"; then
		fail "$mode: the first capture did not start: $(tr '\n' '|' <"$D/first.err")"
		kill -9 "$CAP" 2>/dev/null
		continue
	fi
	# traffic before, during and after the second captures' attempts
	wct_bg GEN nsenter --net=/run/netns/"$TX" -- "$WIRECAP_GEN" gen -i "$WCT_IF_TX" --quiet \
		-c 20000 --pps 5000 --json "$D/gen.json"
	sleep 1
	check_error "$mode: same interface: the engine is busy, said in one line" \
		'a capture engine already runs on it|busy' \
		W capture -i "$IF" "${WCT_POOL[@]}" -w "$f"
	# on lo the engine comes up (with its warnings: lo has addresses, a
	# 64 KiB MTU) and then the writer finds the file locked
	check_fails "$mode: another interface, same file: refused" \
		W capture -i lo --mode generic --pool-chunks 64 -w "$f"
	check_match "$mode: another interface, same file: the file is in use" \
		"^wirecap: capture: $f is being written by another capture: not touched$" \
		"$(printf '%s' "$WCT_OUT" | tail -n 1)"
	check_fails "$mode: forward -w to the same file: refused" \
		W forward -i lo -o lo --reflect --mode generic --pool-chunks 64 -w "$f"
	check_match "$mode: forward -w to the same file: the file is in use" \
		"^wirecap: forward: $f is being written by another capture: not touched$" \
		"$(printf '%s' "$WCT_OUT" | tail -n 1)"
	wait_exit "$GEN" 60
	check_eq "$mode: gen exit status" 0 "$EXIT_RC"
	sent=$(jq -r .sent "$D/gen.json" 2>/dev/null)
	# stopped once it delivered every packet (bounded wait; it then writes
	# them all at exit)
	wct_wait_for "$(wct_tries 300)" 0.1 delivered_at_least "$(wct_arrived "$(cat "$D/gen.json")" "$sent")"
	kill -INT "$CAP"
	wait_exit "$CAP" 30
	check_eq "$mode: the first capture ends cleanly" 0 "$EXIT_RC"
	check_eq "$mode: every packet written" "$sent" "$(jq -r .written "$D/first.json" 2>/dev/null)"
	check_eq "$mode: tshark reads every packet of the first capture" "$sent" \
		"$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | grep -c .)"
	v=$(W verify "$f" --expect-json "$D/gen.json" --json 2>/dev/null)
	check_eq "$mode: wirecap verify: lost/dup/reordered/excess" "0 0 0 0" \
		"$(printf '%s' "$v" | jq -r '[.lost, .duplicates, .reordered, .excess] | map(tostring) | join(" ")' 2>/dev/null)"
	no_prog "$mode: second capture"
	no_pins "$mode: second capture"
	rm -f "$f"
done

# ---- 3. the memory margin ---------------------------------------------------------------------
log "=== pool memory margin"
# a pool that fits in MemAvailable but not in MemAvailable less the margin
# (max(5% of MemTotal, 256 MiB)): refused in one line before any memory is
# pinned. Run under an address-space limit, so that a MemAvailable grown
# meanwhile cannot make this test pin most of a shared machine's memory.
mem() { echo $(($(awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo) * 1024)); }
total=$(mem MemTotal)
avail=$(mem MemAvailable)
reserve=$((total / 20))
[ "$reserve" -ge $((256 << 20)) ] || reserve=$((256 << 20))
per_chunk=$((4 * 64 * 2048)) # 4 queues, chunks of 64 frames of 2048 B
chunks=$(((avail - reserve / 2) / per_chunk))
cp "$D/ref.bin" "$D/keep.pcapng"
# (not with AddressSanitizer: its shadow memory needs terabytes of address
# space; the refusal comes before any pool memory is touched anyway)
aslimit=(prlimit --as=$((8 << 30)))
if ldd "$WIRECAP" | grep libasan >/dev/null; then aslimit=(); fi
check_error "pool within MemAvailable but beyond the margin: refused in one line" \
	'^wirecap: the pools need [0-9]+ MiB but at most [0-9]+ MiB may be pinned \([0-9]+ MiB available, [0-9]+ MiB kept free: 5% of the RAM, at least 256 MiB\): use smaller pools' \
	run_in "$RX" "${aslimit[@]}" "$WIRECAP" capture -i "$IF" --pool-chunks "$chunks" \
	--chunk-size 64 --frame-size 2048 -w "$D/keep.pcapng"
log "MemAvailable $((avail >> 20)) MiB, reserve $((reserve >> 20)) MiB, pool $((chunks * per_chunk >> 20)) MiB"
check_eq "memory margin: the -w file is byte-identical" same \
	"$(cmp -s "$D/ref.bin" "$D/keep.pcapng" && echo same || echo changed)"
no_prog "memory margin"
no_pins "memory margin"

# ---- 4. SIGINT during a multi-second pool set-up -----------------------------------------------
log "=== SIGINT during the pool set-up"
# vm_rss_mib PID: resident memory of PID in MiB (0 when gone)
vm_rss_mib() { awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_at_least() { [ "$(vm_rss_mib "$1")" -ge "$2" ]; }
avail=$(mem MemAvailable)
int_chunks=$(((avail - reserve) / 2 / per_chunk))
[ "$int_chunks" -le 6144 ] || int_chunks=6144
int_rss=$((int_chunks * per_chunk / 8 >> 20))
log "pool of the SIGINT checks: $((int_chunks * per_chunk >> 20)) MiB"
for cmd in capture forward; do
	rm -f "$D/new.pcapng" "$D/int.ready"
	case $cmd in
	capture) args=(capture -i "$IF") ;;
	forward) args=(forward -i "$IF" -o lo) ;;
	esac
	# 3 GiB of pools (seconds to fault in and pin here), or half of what
	# the margin allows on a smaller machine
	wct_bg PID nsenter --net=/run/netns/"$RX" -- "$WIRECAP" "${args[@]}" --pool-chunks "$int_chunks" \
		--chunk-size 64 --frame-size 2048 -w "$D/new.pcapng" --ready-file "$D/int.ready" \
		>/dev/null 2>"$D/int.err"
	# the set-up is under way once the pools start to fill memory
	if ! wct_wait_for 600 0.05 rss_at_least "$PID" "$int_rss"; then
		fail "$cmd: the pool set-up never got under way: $(tr '\n' '|' <"$D/int.err")"
		kill -9 "$PID" 2>/dev/null
		continue
	fi
	kill -INT "$PID"
	t0=$(date +%s%N)
	if [ -e "$D/int.ready" ]; then
		# the machine set 3 GiB up faster than we could look
		wait_exit "$PID" 60
		skip "$cmd: SIGINT during the pool set-up" "the set-up had finished when the signal came"
		continue
	fi
	# generous: a loaded machine may take a while to unmap gigabytes
	wait_exit "$PID" 60
	log "$cmd: exited $((($(date +%s%N) - t0) / 1000000)) ms after SIGINT"
	check_ne "$cmd: SIGINT during the pool set-up: exits" timeout "$EXIT_RC"
	check_eq "$cmd: SIGINT during the pool set-up: exit status 0" 0 "$EXIT_RC"
	check_eq "$cmd: SIGINT during the pool set-up: says so in one line" \
		"wirecap: $IF: stopped during set-up: nothing left attached" "$(cat "$D/int.err")"
	check_eq "$cmd: SIGINT during the pool set-up: no -w file" no \
		"$([ -e "$D/new.pcapng" ] && echo yes || echo no)"
	no_prog "$cmd: SIGINT during the pool set-up"
	no_pins "$cmd: SIGINT during the pool set-up"
done

wct_finish
