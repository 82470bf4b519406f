#!/usr/bin/env bash
# `make bench`: wirecap against a plain AF_XDP loop and libpcap, measured in
# one run on the same traffic.
#
#   tests/bench/run.sh            (make bench)     about 3-4 minutes
#   BENCH_QUICK=1 tests/bench/run.sh               about 1.5-2 minutes
#
# Consumers, one at a time on the same veth pair, against the same
# `wirecap gen` traffic:
#   bench    wirecap bench: the engine with a no-op analyzer (1 worker); it
#            still checks every packet's flow/sequence payload
#   capture  wirecap capture -w FILE.pcapng on tmpfs (1 worker)
#   afxdp    tests/tools/afxdp_loop.c: a plain AF_XDP loop (libxdp, default
#            2048-entry rings, one socket per queue, one thread)
#   pcap     tests/tools/pcap_loop.c: libpcap on AF_PACKET, default buffer
# Scenarios: offered rates (paced, and unpaced = the generator's maximum),
# bursts at the maximum rate, a per-packet cost (1 us spin at 500 kpps, for
# 1 s and, sustained, for 3 s) and a burst into a consumer that stalls
# 500 ms at its first packet. BENCH_QUICK=1 keeps 500 kpps, max, one burst,
# the 1 s cost and the stall.
#
# A NIC is modelled on veth as ../shared/DESIGN.md says: GRO and threaded
# NAPI on the receiving end, its napi/<ifname>-* kthreads pinned to the
# capture CPU with SCHED_FIFO, TSO off on the sending end (or the kernel
# bypasses NAPI for the non-XDP path); the generator runs on the other CPU.
# Overload then shows as drops, as on a NIC whose softirq preempts the
# analyzer.
#
# Captured fraction = packets the consumer counted itself / packets the
# generator sent (TX completions, `wirecap gen --json`).
#
# Environment: WC_BUILD (build dir, default build), BENCH_QUICK=1,
# BENCH_REPEAT=N (runs per consumer and scenario, median shown; default 3 for
#   the paced rates and max, 1 for the others),
# BENCH_NOOP=1 (add tests/tools/wc_noop: the engine without payload checks),
# BENCH_CPU_GEN / BENCH_CPU_CAP (default 0 / 1), BENCH_ONLY="scen ..." (run
# only these scenarios), BENCH_RESULTS=FILE (keep the raw results, TSV).
set -uo pipefail
# `make O=DIR bench` passes O in the environment
WC_BUILD=${WC_BUILD:-${O:-build}}
export WC_BUILD
. "$(dirname "$0")/../lib/net.sh"
# shellcheck disable=SC2034 # used by net.sh
WCT_NAME=bench

QUICK=${BENCH_QUICK:-0}
# Runs per consumer and scenario (the table shows the median). The paced
# rates and the unpaced maximum are where "at every offered rate" is judged,
# and single runs there swing by several points on a shared 2-vCPU machine:
# 3 by default; the other scenarios once. BENCH_REPEAT sets both.
REPEAT_RATE=${BENCH_REPEAT:-3}
REPEAT_OTHER=${BENCH_REPEAT:-1}
CPU_GEN=${BENCH_CPU_GEN:-0}
CPU_CAP=${BENCH_CPU_CAP:-1}
AFXDP=$WC_BUILD/tests/afxdp_loop
PCAPL=$WC_BUILD/tests/pcap_loop
FLOWS=64
T_START=$(date +%s)

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
for b in "$WIRECAP" "$AFXDP" "$PCAPL"; do
	[ -x "$b" ] || die "missing $b (run make, or set WC_BUILD)"
done
for t in jq ethtool taskset chrt nsenter timeout awk; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
NCPU=$(nproc)
if [ "$NCPU" -lt 2 ]; then
	CPU_GEN=0
	CPU_CAP=0
fi
have_capture=0
"$WIRECAP" capture --help >/dev/null 2>&1 && have_capture=1
capture_has() { "$WIRECAP" capture --help 2>&1 | grep -q -- "$1"; }

# ---- the test network ---------------------------------------------------------

TMPFS=
bench_cleanup() {
	local rc=$?
	if [ -n "$TMPFS" ] && mountpoint -q "$TMPFS"; then
		umount "$TMPFS"
	fi
	(exit "$rc")
	wct_cleanup
}
wct_init
trap bench_cleanup EXIT
wct_make_veth 1 # GRO + threaded NAPI on the receiving end
# With TSO on the sending veth, skbs that XDP does not take bypass NAPI
# (veth_skb_is_eligible_for_gro): the AF_PACKET path would then run on the
# generator's CPU. Attaching XDP turns it off by itself.
run_in "$WCT_NS_TX" ethtool -K "$WCT_IF_TX" tso off >/dev/null 2>&1
THREADED=$(ip netns exec "$WCT_NS_RX" cat /sys/class/net/"$WCT_IF_RX"/threaded 2>/dev/null || echo 0)
TMPFS=$WCT_DIR/tmpfs
mkdir -p "$TMPFS"
mount -t tmpfs -o size=3g,mode=0700 tmpfs "$TMPFS" || TMPFS=

# napi/<ifname>-<id> kthreads of the receiving veth (comm is cut at 15
# characters: "napi/" + the 10-character name): on the capture CPU, FIFO.
# Attaching or detaching XDP may re-create them: pinned before every run.
NAPI_PINNED=0
pin_napi() {
	local p n=0
	for p in $(pgrep "^napi/$WCT_IF_RX(-|$)"); do
		taskset -pc "$CPU_CAP" "$p" >/dev/null 2>&1 &&
			chrt -f -p 50 "$p" >/dev/null 2>&1 && n=$((n + 1))
	done
	NAPI_PINNED=$n
}

# ---- scenarios ------------------------------------------------------------------

T=1 # seconds of traffic at the paced rates
BURST=300000 # about 200 ms at the generator's maximum
STALL_MS=500
STALLN=200000
COST_NS=1000
if [ "$QUICK" = 1 ]; then
	MAXN=1500000
	NBURST=1
else
	MAXN=2000000
	NBURST=2
fi

# name|quick|label|gen args|consumer args (cost/stall)
SCENARIOS=(
	"r250k|0|rate 250 kpps|--pps 250000 --count $((250000 * T))|"
	"r500k|1|rate 500 kpps|--pps 500000 --count $((500000 * T))|"
	"r1m|0|rate 1 Mpps|--pps 1000000 --count $((1000000 * T))|"
	"max|1|rate max (unpaced)|--count $MAXN|"
	"burst|1|$NBURST x burst of $BURST at max, 300 ms gaps|--count $((BURST * NBURST)) --burst $BURST --burst-gap-ms 300|"
	"cost|1|cost 1 us/pkt (spin) at 500 kpps, 1 s|--pps 500000 --count $((500000 * T))|--cost-ns $COST_NS"
	"cost3s|0|cost 1 us/pkt (spin) at 500 kpps, 3 s|--pps 500000 --count 1500000|--cost-ns $COST_NS"
	"stall|1|burst of $STALLN at max into a $STALL_MS ms stall|--count $STALLN|--stall-ms $STALL_MS"
)
CONSUMERS=(bench capture afxdp pcap)
# wc_noop: the engine with the plain loop's per-packet work (no payload
# check), to tell the engine's cost from `wirecap bench`'s verification
[ "${BENCH_NOOP:-0}" = 1 ] && [ -x "$WC_BUILD/tests/wc_noop" ] && CONSUMERS=(bench capture noop afxdp pcap)

RESULTS=$WCT_DIR/results.tsv
: >"$RESULTS"
BENCH_PATH=
AFXDP_PATH=
NOTES=()

xdp_mode() { # the attached XDP mode of the receiving veth
	case "$(ip -j -n "$WCT_NS_RX" link show "$WCT_IF_RX" | jq -r '.[0].xdp.mode // 0')" in
	1) echo native ;;
	2) echo generic ;;
	3) echo offload ;;
	*) echo none ;;
	esac
}

# stop_consumer PID: SIGINT (the consumer drains and reports), bounded;
# returns its exit status
stop_consumer() {
	local pid=$1 rc=0
	kill -INT "$pid" 2>/dev/null
	if ! timeout 30 tail --pid="$pid" -f /dev/null; then
		NOTES+=("consumer $pid did not stop within 30 s: killed")
		kill -9 "$pid" 2>/dev/null
		timeout 10 tail --pid="$pid" -f /dev/null
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# reset_rx: no XDP program and no pins left on the receiving end by a
# consumer that failed (every consumer detaches what it attached)
reset_rx() {
	if [ "$(xdp_mode)" != none ]; then
		NOTES+=("an XDP program was left on $WCT_IF_RX: removed")
		ip -n "$WCT_NS_RX" link set dev "$WCT_IF_RX" xdp off 2>/dev/null
		ip -n "$WCT_NS_RX" link set dev "$WCT_IF_RX" xdpgeneric off 2>/dev/null
	fi
	rm -rf "${WIRECAP_PIN_ROOT:?}/$WCT_IF_RX"
}

# run_case SCEN CONSUMER GEN-ARGS CONSUMER-ARGS
run_case() {
	local scen=$1 cons=$2 gargs=$3 cargs=$4 pid rc=0 i
	local out=$WCT_DIR/$scen.$cons.json gj=$WCT_DIR/$scen.$cons.gen.json
	local ready=$WCT_DIR/ready err=$WCT_DIR/$scen.$cons.err
	local stall=0 count cmd=() got extra mode t0 startup
	local -a ca g
	read -r -a ca <<<"$cargs"
	read -r -a g <<<"$gargs"
	count=$(printf '%s\n' "$gargs" | sed -n 's/.*--count \([0-9]*\).*/\1/p')
	case "$cargs" in *--stall-ms*) stall=$STALL_MS ;; esac
	rm -f "$out" "$gj" "$ready"
	case $cons in
	bench)
		cmd=("$WIRECAP" bench -i "$WCT_IF_RX" --workers 1 --cpus "$CPU_CAP"
			--flows "$FLOWS" --expect "$count" --stats-json "$out"
			--ready-file "$ready" -q "${ca[@]}")
		;;
	capture)
		[ "$have_capture" = 1 ] || return 0
		for i in "${ca[@]}"; do
			case $i in --*) capture_has "$i" || return 0 ;; esac
		done
		cmd=("$WIRECAP" capture -i "$WCT_IF_RX" -w "${TMPFS:-$WCT_DIR}/cap.pcapng"
			--workers 1 --cpus "$CPU_CAP" --stats-json "$out"
			--ready-file "$ready" -q "${ca[@]}")
		;;
	noop)
		cmd=("$WC_BUILD/tests/wc_noop" -i "$WCT_IF_RX" --workers 1 --cpu "$CPU_CAP"
			--json "$out" --ready-file "$ready" "${ca[@]}")
		;;
	afxdp)
		cmd=("$AFXDP" -i "$WCT_IF_RX" --cpu "$CPU_CAP" --json "$out"
			--ready-file "$ready" "${ca[@]}")
		;;
	pcap)
		cmd=("$PCAPL" -i "$WCT_IF_RX" --cpu "$CPU_CAP" --json "$out"
			--ready-file "$ready" "${ca[@]}")
		;;
	esac
	reset_rx
	t0=$(date +%s%N)
	wct_bg pid nsenter --net=/run/netns/"$WCT_NS_RX" -- timeout -s INT 180 \
		taskset -c "$CPU_CAP" "${cmd[@]}" 2>"$err"
	if ! wct_wait_for 1200 0.05 test -e "$ready"; then
		NOTES+=("$scen/$cons: the consumer did not start within 60 s: $(tail -n 2 "$err" | tr '\n' ' ')")
		stop_consumer "$pid"
		return 0
	fi
	startup=$((($(date +%s%N) - t0) / 1000000))
	mode=$(xdp_mode)
	pin_napi # after the XDP attach
	sleep 0.3
	run_in "$WCT_NS_TX" timeout 60 taskset -c "$CPU_GEN" "$WIRECAP" gen \
		-i "$WCT_IF_TX" --flows "$FLOWS" --quiet --json "$gj" "${g[@]}" \
		2>>"$err" || rc=$?
	[ "$rc" -eq 0 ] || NOTES+=("$scen/$cons: gen exited $rc")
	# let the consumer drain (and sit out its stall)
	sleep "$(awk -v s="$stall" 'BEGIN { printf "%.2f", 0.5 + s / 1000 }')"
	stop_consumer "$pid" || rc=$?
	rm -f "${TMPFS:-$WCT_DIR}/cap.pcapng"
	if [ ! -s "$out" ] || [ ! -s "$gj" ]; then
		NOTES+=("$scen/$cons: no result (exit $rc): $(tail -n 2 "$err" | tr '\n' ' ')")
		return 0
	fi
	case $cons in
	bench | capture | noop)
		# capture: packets written to the pcapng file
		got=$(jq -r '.written // .delivered' "$out")
		# extra: drops counted by the consumer's sockets / engine, packets
		# that reached them, pool exhausted, ring full, pool, high-water
		if [ "$cons" = noop ]; then
			extra=$(jq -r '"\(.dropped.total) \(.delivered + .dropped.total) \(.dropped.pool_exhausted) \(.dropped.ring_full) \(.pool_frames_per_queue) \(.hwm)"' "$out")
		else
			extra=$(jq -r '"\(.dropped.total) \(.received) \(.dropped.pool_exhausted) \(.dropped.ring_full) \(.pool_frames_per_queue) \(.hwm)"' "$out")
		fi
		[ "$cons" = bench ] && BENCH_PATH="$mode XDP, AF_XDP $(jq -r .bind "$out") mode, pool $(jq -r .pool_frames_per_queue "$out") frames/queue"
		;;
	afxdp)
		got=$(jq -r .received "$out")
		extra=$(jq -r '"\(.rx_dropped) \(.received + .rx_dropped) \(.fill_ring_empty) \(.rx_ring_full) 2048 -"' "$out")
		AFXDP_PATH="$mode XDP, AF_XDP copy mode, 2048-entry rings"
		;;
	pcap)
		got=$(jq -r .received "$out")
		extra=$(jq -r '"\(.ps_drop) \(.ps_recv) - - - -"' "$out")
		;;
	esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$cons" \
		"$(jq -r .sent "$gj")" "$(jq -r .pps "$gj")" \
		"$(jq -r '.dev_tx_dropped // 0' "$gj")" "$got" "$NAPI_PINNED" \
		"$extra" >>"$RESULTS"
	printf '# %-6s %-8s sent %8s at %8.0f pps, got %8s (%5.1f%%); consumer ready in %.1f s\n' \
		"$scen" "$cons" "$(jq -r .sent "$gj")" "$(jq -r .pps "$gj")" "$got" \
		"$(awk -v a="$got" -v b="$(jq -r .sent "$gj")" 'BEGIN { print b ? 100 * a / b : 0 }')" \
		"$(awk -v m="$startup" 'BEGIN { print m / 1000 }')"
}

echo "# wirecap bench: $(uname -r), $NCPU vCPU ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# veth pair $WCT_IF_TX -> $WCT_IF_RX, 4 queues, namespaces $WCT_NS_TX / $WCT_NS_RX;" \
	"GRO on, NAPI $([ "$THREADED" = 1 ] && echo threaded || echo NOT-threaded) on the receiver;" \
	"generator on CPU $CPU_GEN, consumer + napi kthreads (SCHED_FIFO 50) on CPU $CPU_CAP"
[ "$have_capture" = 1 ] || echo "# wirecap capture is not built: its column is empty"

only=" ${BENCH_ONLY:-} "
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r name inquick label gargs cargs <<<"$s"
	[ "$QUICK" = 1 ] && [ "$inquick" = 0 ] && continue
	[ -z "${BENCH_ONLY:-}" ] || [[ $only == *" $name "* ]] || continue
	case $name in r[0-9]* | max) REPEAT=$REPEAT_RATE ;; *) REPEAT=$REPEAT_OTHER ;; esac
	echo "# scenario $name: $label ($REPEAT run(s) per consumer)"
	for ((r = 0; r < REPEAT; r++)); do
		n=${#CONSUMERS[@]}
		for ((i = 0; i < n; i++)); do
			# rotate the order between repeats
			run_case "$name" "${CONSUMERS[(i + r) % n]}" "$gargs" "$cargs"
		done
	done
done

# ---- the table ------------------------------------------------------------------

echo
echo "Path: receiving veth with $([ "$THREADED" = 1 ] && echo threaded || echo NON-threaded) NAPI + GRO, napi kthreads pinned to CPU $CPU_CAP (SCHED_FIFO)."
echo "  wirecap: ${BENCH_PATH:-?}; 1 worker on CPU $CPU_CAP"
echo "  plain AF_XDP loop: ${AFXDP_PATH:-?}; 1 thread on CPU $CPU_CAP"
echo "  libpcap: AF_PACKET TPACKET_V3, default 2 MiB buffer; 1 thread on CPU $CPU_CAP"
echo "  (veth has no zero-copy AF_XDP: every AF_XDP consumer here pays two copies per packet)"
echo
echo "Captured fraction = packets the consumer counted / packets sent (median of $REPEAT_RATE runs at the rates and max, $REPEAT_OTHER for the others)."
echo "gen kpps: the rate the generator reached, lowest-highest over the runs of the row (it"
echo "falls short of the target when its CPU is busy). preXDP: sent but dropped by the veth ring"
echo "before XDP (the napi CPU could not keep up: a NIC's rx_missed), in the wirecap bench run."
echo
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r name _ label _ <<<"$s"
	printf '%s\t%s\n' "$name" "$label"
done >"$WCT_DIR/labels.tsv"
awk -F'\t' -v noop="$([[ " ${CONSUMERS[*]} " == *" noop "* ]] && echo 1 || echo 0)" '
function median(key,   n, i, j, t, a) {
	n = cnt[key]
	if (!n) return -1
	for (i = 1; i <= n; i++) a[i] = v[key, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function pct(x) { return x < 0 ? "-" : sprintf("%.1f%%", 100 * x) }
function ratio(a, b) { return (a < 0 || b <= 0) ? "-" : sprintf("%.2f", a / b) }
FNR == NR { label[$1] = $2; order[++ns] = $1; next }
{
	k = $1 SUBSEP $2
	cnt[k]++
	v[k, cnt[k]] = $3 ? $6 / $3 : 0
	if ($2 == "bench") {
		# $8: engine drops, reached XDP, pool exhausted, ring full, pool/queue, hwm
		split($8, x, " ")
		bdrop[$1] += x[1]; bsent[$1] += $3; bgot[$1] += $6
		bpre[$1] += $3 - x[2]; bpool[$1] = x[5]; if (x[6] > bhwm[$1]) bhwm[$1] = x[6]
		bpps[$1] += $4; bn[$1]++
	}
	if ($7 == 0) nonapi = 1
	if (!($1 in gmin) || $4 < gmin[$1]) gmin[$1] = $4
	if ($4 > gmax[$1]) gmax[$1] = $4
	split($8, y, " ")
	lsent[k] += $3; lpre[k] += $3 - y[2]; ldrop[k] += y[1]; lgot[k] += $6
}
function pp(s, c, which,   k) {
	k = s SUBSEP c
	if (!lsent[k]) return "-"
	return sprintf("%.1f", 100 * (which == 1 ? lpre[k] : ldrop[k]) / lsent[k])
}
function loss(s, c,   k) {
	k = s SUBSEP c
	if (!lsent[k]) return "-"
	return sprintf("%.1f/%.1f/%.1f", 100 * lpre[k] / lsent[k], 100 * ldrop[k] / lsent[k], 100 * (lsent[k] - lgot[k] - lpre[k] - ldrop[k]) / lsent[k])
}
END {
	fmt = "%-6s %-45s %9s %7s %8s %8s" (noop ? " %8s" : "%s") " %8s %8s %7s %7s %7s\n"
	printf fmt, "scen", "traffic", "gen kpps", "preXDP", "wc-bench", "wc-capt", noop ? "wc-noop" : "", "AF_XDP", "libpcap", "wc/xdp", "wc/pcap", "cap/xdp"
	for (i = 1; i <= ns; i++) {
		s = order[i]
		b = median(s SUBSEP "bench"); c = median(s SUBSEP "capture"); o = median(s SUBSEP "noop")
		a = median(s SUBSEP "afxdp"); p = median(s SUBSEP "pcap")
		if (b < 0 && c < 0 && a < 0 && p < 0) continue
		pre = bsent[s] ? sprintf("%.1f%%", 100 * bpre[s] / bsent[s]) : "-"
		printf fmt, s, label[s], sprintf("%.0f-%.0f", gmin[s] / 1000, gmax[s] / 1000), pre, pct(b), pct(c), noop ? pct(o) : "", pct(a), pct(p), ratio(b, a), ratio(b, p), ratio(c, a)
		rb[s] = b; ra[s] = a
	}
	print ""
	print "Where the packets not captured were lost, % of sent: before the socket (veth ring full:"
	print "the napi CPU was saturated) / dropped by the socket, pool or AF_PACKET ring (counted by"
	print "the kernel) / other (not counted: e.g. not written to the file, or still in flight)"
	fmt2 = "%-6s %16s %16s" (noop ? " %16s" : "%s") " %16s %16s\n"
	printf fmt2, "scen", "wc-bench", "wc-capt", noop ? "wc-noop" : "", "AF_XDP", "libpcap"
	for (i = 1; i <= ns; i++) {
		s = order[i]
		if (!(s in rb)) continue
		printf fmt2, s, loss(s, "bench"), loss(s, "capture"), noop ? loss(s, "noop") : "", loss(s, "afxdp"), loss(s, "pcap")
	}
	print ""
	ok = 1; line = ""
	for (i = 1; i <= ns; i++) {
		s = order[i]
		if (s !~ /^(r[0-9]|max)/ || !(s in rb) || rb[s] < 0 || ra[s] < 0) continue
		line = line sprintf(" %s %+.2f;", s, 100 * (rb[s] - ra[s]))
		if (rb[s] < ra[s]) {
			ok = 0
			why = why sprintf("\n  %s: wirecap lost %s%% before XDP and %s%% in the engine; the AF_XDP loop %s%% before XDP and %s%% in its rings", s, \
				pp(s, "bench", 1), pp(s, "bench", 2), pp(s, "afxdp", 1), pp(s, "afxdp", 2))
		}
	}
	if (line != "")
		printf "wirecap bench >= plain AF_XDP loop at every offered rate: %s (difference in points:%s)%s\n", ok ? "YES" : "NO", line, why
	fits = ""; nofit = ""
	for (i = 1; i <= ns; i++) {
		s = order[i]
		if ((s != "burst" && s != "stall") || !bsent[s]) continue
		printf "%s: wirecap bench lost %d of %d sent: %d before XDP (veth ring full: the napi CPU was saturated), %d in the engine (pool exhausted / rx ring full); pool %s frames/queue, high-water %s\n", \
			s, bsent[s] - bgot[s], bsent[s], bpre[s], bdrop[s], bpool[s], bhwm[s]
		if (bdrop[s] == 0) fits = fits " " s
		else nofit = nofit " " s
	}
	if (fits != "" || nofit != "")
		printf "Bursts that fit the pool, nothing lost in the engine:%s%s\n", fits == "" ? " none" : fits, nofit == "" ? "" : "; engine drops in:" nofit
	if (nonapi) print "WARNING: some runs found no napi kthread to pin: the NIC model was not in place"
}' "$WCT_DIR/labels.tsv" "$RESULTS"

for n in "${NOTES[@]}"; do
	echo "note: $n"
done
[ -z "${BENCH_RESULTS:-}" ] || cp "$RESULTS" "$BENCH_RESULTS"

# the forwarding, offloading, start-up and tcpdump benchmarks, when they are there
for extra_bench in forward offload startup tcpdump; do
	f=$(dirname "$0")/$extra_bench.sh
	if [ -x "$f" ] && [ -z "${BENCH_ONLY:-}" ]; then
		echo
		echo "# $extra_bench: $f"
		"$f" || echo "note: $f exited $?"
	fi
done
echo
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); bench took $(($(date +%s) - T_START)) s"
