#!/usr/bin/env bash
# Forwarding benchmark (issue 15's rows): packets per second through a
# middlebox between two veth pairs, forward's rate under overload against
# its own best paced rate and against the bridge, and the latency through
# the middlebox, for three forwarders measured in one run on one set-up:
#
#   client --veth-- [A  middlebox  B] --veth-- server
#
#   wirecap   wirecap forward -i A -o B with its defaults: AF_XDP RX,
#             zero-copy hand-over to an AF_XDP TX socket on B sharing the
#             engine's UMEM, a backlog bounded by a latency budget and
#             overload shed in XDP (docs/forward.md)
#   xdp       in-kernel XDP_REDIRECT: a tiny XDP program on A doing
#             bpf_redirect(B) (xdp-bench redirect does the same, but its
#             tracepoint program does not load on every kernel)
#   bridge    a Linux bridge with A and B
#
# The client runs `wirecap gen` (64-byte frames, 64 flows) on CPU_GEN,
# paced at each of BENCH_FWD_RATES (kpps) or unpaced ("max": the
# generator's maximum); the server drops the generator's UDP in XDP (its
# per-queue XDP counters are the measure) and passes ICMP and ARP to its
# stack. The middlebox gets CPU_FWD: the ingress veth A runs threaded NAPI
# (GRO on), its napi kthreads pinned to CPU_FWD, and wirecap's worker runs
# there too. The kthreads keep SCHED_OTHER here: under sustained overload a
# NIC's softirq work moves to ksoftirqd (SCHED_OTHER), while a SCHED_FIFO
# NAPI thread would starve the forwarder completely (receive livelock),
# which is not what a saturated middlebox does. wirecap forward's worker
# runs above them by default (SCHED_RR 1, --rt-priority: docs/forward.md).
#
# Throughput: server packets per second between 1 s and T - 0.5 s of a T s
# run, median of BENCH_REPEAT runs per rate; run i measures every rate and
# forwarder (interleaved) before run i + 1. Printed: a table per rate,
# `ratio wirecap/xdp_redirect`, `ratio wirecap/bridge` and `ratio
# wirecap_max/wirecap_best_paced` (forward's rate at the generator's
# maximum over the best median it forwarded paced: whether overload costs
# it throughput, i.e. receive livelock), both as a ratio of medians and
# paired (the median over runs of run i's maximum over run i's rate at the
# best paced point).
# Latency: ping RTT (client -> server -> client, through the middlebox both
# ways: forward --bidir, and the bridge) every BENCH_PING_MS ms while gen
# offers BENCH_LAT_PPS, p50 and p99 over BENCH_PING_N pings, BENCH_REPEAT
# runs. On veth, AF_XDP runs in copy mode and XDP on veth copies each frame
# once more, costs real NICs with zero-copy AF_XDP do not have: the ratios
# are a lower bound for wirecap.
#
# Environment: WC_BUILD, BENCH_REPEAT (default 3), BENCH_T (seconds per
# run, default 4), BENCH_CPU_GEN / BENCH_CPU_FWD (default 0 / 1), FWD_ARGS
# (extra wirecap forward options), BENCH_FWD_RATES (offered rates in kpps,
# "max" = unpaced; default "250 500 750 1000 max"), BENCH_FWD_PACED_ONLY
# (the forwarders measured at the paced rates; default all three: quick
# runs measure only wirecap there, for its ratio), BENCH_LAT_PPS (default
# 100000; 0: no latency runs), BENCH_PING_MS (default 2), BENCH_PING_N
# (default 1000), BENCH_FWD_RAW=FILE (every throughput run as a TSV line:
# rate, forwarder, run, offered kpps, forwarded kpps, and forward's
# accounting: received, forwarded, shed, dropped, dropped by rule,
# passed; order: runs_outer, the run order above), BENCH_FWD_LAT_RAW=FILE
# (every latency run: forwarder, run, gen pps, p50 and p99 ms, pings lost
# of sent). tests/bench/run.sh sets
# both for the report. BENCH_FWD_FORWARDERS: the forwarders measured (default
# "wirecap xdp bridge"; a subset keeps A/B runs short).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"
# shellcheck disable=SC2034 # used by net.sh
WCT_NAME=bench-forward

REPEAT=${BENCH_REPEAT:-3}
T=${BENCH_T:-4}
CPU_GEN=${BENCH_CPU_GEN:-0}
CPU_FWD=${BENCH_CPU_FWD:-1}
FWD_ARGS=${FWD_ARGS:-}
RATES=${BENCH_FWD_RATES:-250 500 750 1000 max}
LAT_PPS=${BENCH_LAT_PPS:-100000}
PING_MS=${BENCH_PING_MS:-2}
PING_N=${BENCH_PING_N:-1000}
FWD_RAW=${BENCH_FWD_RAW:-}
LAT_RAW=${BENCH_FWD_LAT_RAW:-}
FORWARDERS=${BENCH_FWD_FORWARDERS:-wirecap xdp bridge}
PACED_FWD=${BENCH_FWD_PACED_ONLY:-$FORWARDERS}

die() {
	echo "bench-forward: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
[ -x "$WIRECAP" ] || die "missing $WIRECAP (run make, or set WC_BUILD)"
for t in jq ethtool taskset clang nsenter timeout awk ping; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
if [ "$(nproc)" -lt 2 ]; then
	CPU_GEN=0
	CPU_FWD=0
fi

# ---- the set-up: client, middlebox, server ---------------------------------------

wct_init
wct_make_middlebox
ip -n "$NS_C" addr add 198.18.0.1/24 dev "$IF_C"
ip -n "$NS_S" addr add 198.18.0.2/24 dev "$IF_S"
run_in "$NS_C" ethtool -K "$IF_C" tso off >/dev/null 2>&1
run_in "$NS_M" ethtool -K "$IF_A" gro on >/dev/null 2>&1
ip netns exec "$NS_M" sh -c "echo 1 > /sys/class/net/$IF_A/threaded" 2>/dev/null

MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
# the sink: drops UDP (the generator's), passes the rest (ARP, ping)
cat >"$WCT_DIR/drop.c" <<'EOC'
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int xdp_drop(struct xdp_md *ctx)
{
	unsigned char *d = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (d + 34 > end || d[12] != 0x08 || d[13] != 0x00 || d[23] != 17)
		return XDP_PASS;
	return XDP_DROP;
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOC
OUT_IFINDEX=$(ip -n "$NS_M" -j link show "$IF_B" | jq '.[0].ifindex')
cat >"$WCT_DIR/redirect.c" <<'EOC'
#include <linux/bpf.h>
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;
__attribute__((section("xdp"), used)) int xdp_redirect_out(struct xdp_md *ctx)
{
	return bpf_redirect(OUT_IFINDEX, 0);
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOC
for p in drop redirect; do
	clang -O2 -target bpf -I/usr/include/"$MULTIARCH" -DOUT_IFINDEX="$OUT_IFINDEX" \
		-c "$WCT_DIR/$p.c" -o "$WCT_DIR/$p.o" || die "cannot build the $p XDP program"
done
ip -n "$NS_S" link set dev "$IF_S" xdpdrv obj "$WCT_DIR/drop.o" sec xdp ||
	die "cannot attach the sink's XDP program"
MAC_S=$(ip -n "$NS_S" -br link show "$IF_S" | awk '{print $3}')

pin_napi() { # the ingress NAPI kthreads on the middlebox CPU, SCHED_OTHER
	local p
	for p in $(pgrep "^napi/$IF_A(-|$)"); do
		taskset -pc "$CPU_FWD" "$p" >/dev/null 2>&1
		chrt -o -p 0 "$p" >/dev/null 2>&1
	done
}

sink() {
	run_in "$NS_S" ethtool -S "$IF_S" |
		awk '/rx_queue_[0-9]+_xdp_packets:/ { s += $2 } END { print s + 0 }'
}

# ---- the two measurements ----------------------------------------------------------

# measure [PPS]: server pps in the steady part of a T-second run, unpaced
# (the generator's maximum) or paced at PPS
measure() {
	local a b t1 t2 g pace=()
	[ -n "${1:-}" ] && pace=(--pps "$1")
	rm -f "$WCT_DIR/gen.json"
	run_in "$NS_C" taskset -c "$CPU_GEN" timeout $((T + 30)) "$WIRECAP" gen -i "$IF_C" \
		-d "$T" --flows 64 --dst-mac "$MAC_S" "${pace[@]}" --quiet --json "$WCT_DIR/gen.json" &
	g=$!
	sleep 1
	a=$(sink)
	t1=$(date +%s%N)
	sleep "$(awk -v t="$T" 'BEGIN { print t - 1.5 }')"
	b=$(sink)
	t2=$(date +%s%N)
	wait "$g"
	awk -v a="$a" -v b="$b" -v t1="$t1" -v t2="$t2" \
		'BEGIN { printf "%.0f\n", (b - a) * 1e9 / (t2 - t1) }'
}

# latency: ping RTT "p50 p99 lost" (ms), while gen offers LAT_PPS through
# the same middlebox
latency() {
	local g
	run_in "$NS_C" taskset -c "$CPU_GEN" timeout 120 "$WIRECAP" gen -i "$IF_C" \
		-d $((PING_N * PING_MS / 1000 + 3)) --flows 64 --dst-mac "$MAC_S" \
		--pps "$LAT_PPS" --quiet &
	g=$!
	sleep 0.5
	# resolve the server's address first (ARP through the middlebox): the
	# pings measure forwarding, not neighbour discovery (bounded: 3 tries)
	wct_wait_for 3 0 run_in "$NS_C" ping -n -c 1 -W 1 198.18.0.2
	run_in "$NS_C" timeout $((PING_N * PING_MS / 1000 + 30)) ping -n \
		-i "$(awk -v m="$PING_MS" 'BEGIN { print m / 1000 }')" -c "$PING_N" -W 1 \
		198.18.0.2 2>/dev/null | sed -n 's/.*time=\([0-9.]*\).*/\1/p' | sort -n |
		awk -v n="$PING_N" '{ v[++k] = $1 }
		END {
			if (!k) { print "- - " n; exit }
			i = int(k * 0.99 + 0.5); if (i < 1) i = 1
			printf "%.3f %.3f %d\n", v[int((k + 1) / 2)], v[i], n - k
		}'
	wait "$g"
}

# ---- the forwarders: FORWARDER_do WHAT [ARG] runs WHAT (measure or latency)
# through that forwarder

bridge_do() {
	ip -n "$NS_M" link add "br$WCT_ID" type bridge
	ip -n "$NS_M" link set "$IF_A" master "br$WCT_ID"
	ip -n "$NS_M" link set "$IF_B" master "br$WCT_ID"
	ip -n "$NS_M" link set "br$WCT_ID" up
	sleep 0.5
	pin_napi
	"$@"
	ip -n "$NS_M" link del "br$WCT_ID"
}

xdp_do() {
	ip -n "$NS_M" link set dev "$IF_A" xdpdrv obj "$WCT_DIR/redirect.o" sec xdp ||
		{ echo 0; return; }
	sleep 0.3
	pin_napi
	"$@"
	ip -n "$NS_M" link set dev "$IF_A" xdpdrv off
}

# wirecap_do WHAT [ARG]: forward with its defaults (latency budget,
# shedding); --bidir for the latency runs (ping needs both ways). Leaves
# its accounting in fwd.last (one JSON line).
wirecap_do() {
	local pid r bidir=
	[ "$1" = latency ] && bidir=--bidir
	rm -f "$WCT_DIR/fwd.ready" "$WCT_DIR/fwd.json" "$WCT_DIR/fwd.last"
	# shellcheck disable=SC2086
	nsenter --net=/run/netns/"$NS_M" -- timeout $((T + 120)) "$WIRECAP" forward \
		-i "$IF_A" -o "$IF_B" $bidir --workers 1 --cpus "$CPU_FWD" \
		--ready-file "$WCT_DIR/fwd.ready" --stats-json "$WCT_DIR/fwd.json" -q \
		$FWD_ARGS 2>"$WCT_DIR/fwd.err" &
	pid=$!
	WCT_PIDS+=("$pid")
	if ! wct_wait_for 300 0.1 test -e "$WCT_DIR/fwd.ready"; then
		echo "bench-forward: wirecap forward did not start: $(tr '\n' ' ' <"$WCT_DIR/fwd.err")" >&2
		kill "$pid" 2>/dev/null
		[ "$1" = latency ] && echo "- - $PING_N" || echo 0
		return
	fi
	pin_napi
	r=$("$@")
	kill -INT "$pid"
	timeout 30 tail --pid="$pid" -f /dev/null
	jq -c '.directions[0] | {received, forwarded, shed: (.shed // 0), dropped: .dropped.total,
		pool_exhausted: .dropped.pool_exhausted, dropped_by_rule: (.dropped_by_rule // 0),
		passed: (.passed // 0), unaccounted}' "$WCT_DIR/fwd.json" \
		>"$WCT_DIR/fwd.last" 2>/dev/null
	echo "$r"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0) ? sprintf("%.2f", a / b) : "-" }'; }

# ---- throughput against the offered rate -------------------------------------------

[ -z "$FWD_RAW" ] ||
	printf 'exp\tx\tforwarder\trun\toffered_kpps\tfwd_kpps\treceived\tforwarded\tshed\tdropped\tdropped_by_rule\tpassed\torder\n' >"$FWD_RAW"
declare -A MED # rate,forwarder -> median pps
declare -A R   # rate,forwarder -> the runs' pps, in run order
fwds() { if [ "$1" = max ]; then echo "$FORWARDERS"; else echo "$PACED_FWD"; fi; }
# Runs outermost: run i visits every rate before run i + 1 starts, so a
# run at the maximum and the paced runs it is compared with are minutes
# closer than rate by rate. On a VM whose speed drifts over minutes
# (docs/forward.md), that drift would otherwise read as an effect of the
# rate.
for ((i = 1; i <= REPEAT; i++)); do
	for rate in $RATES; do
		pps=
		[ "$rate" = max ] || pps=$((rate * 1000))
		for m in $(fwds "$rate"); do
			v=$("${m}_do" measure $pps)
			R[$rate,$m]="${R[$rate,$m]:-} $v"
			acct=-
			[ "$m" = wirecap ] && [ -s "$WCT_DIR/fwd.last" ] && acct=$(cat "$WCT_DIR/fwd.last")
			printf '#   run %d %-6s %-8s %10s pps  %s\n' "$i" "$rate" "$m" "$v" "$([ "$acct" = - ] || echo "$acct")"
			[ -z "$FWD_RAW" ] || printf 'forward\t%s\t%s\t%s\t%.1f\t%.1f\t%s\truns_outer\n' "$rate" "$m" "$i" \
				"$(jq -r '.pps / 1000' "$WCT_DIR/gen.json" 2>/dev/null || echo 0)" \
				"$(awk -v v="$v" 'BEGIN { print v / 1000 }')" \
				"$([ "$acct" = - ] && printf -- '-\t-\t-\t-\t-\t-' ||
					jq -r '[.received, .forwarded, .shed, .dropped, .dropped_by_rule, .passed] | map(tostring) | join("\t")' <<<"$acct")" \
				>>"$FWD_RAW"
		done
	done
done
for rate in $RATES; do
	echo "# forwarding: gen $([ "$rate" = max ] && echo unpaced || echo "at $rate kpps") on CPU $CPU_GEN, middlebox on CPU $CPU_FWD, ${T} s x $REPEAT runs, 64 B frames"
	printf '%-28s %12s %14s %14s\n' forwarder "pps (median)" "vs XDP_REDIRECT" "vs bridge"
	for m in $(fwds "$rate"); do
		# shellcheck disable=SC2086
		MED[$rate,$m]=$(printf '%s\n' ${R[$rate,$m]} | median)
	done
	for m in $(fwds "$rate"); do
		case $m in
		wirecap) label="wirecap forward" ;;
		xdp) label="in-kernel XDP_REDIRECT" ;;
		bridge) label="Linux bridge" ;;
		esac
		printf '%-28s %12d %14s %14s\n' "$label" "${MED[$rate,$m]}" \
			"$(ratio "${MED[$rate,$m]}" "${MED[$rate,xdp]:-0}")" "$(ratio "${MED[$rate,$m]}" "${MED[$rate,bridge]:-0}")"
	done
	echo "ratio wirecap/xdp_redirect $(ratio "${MED[$rate,wirecap]:-0}" "${MED[$rate,xdp]:-0}") wirecap/bridge $(ratio "${MED[$rate,wirecap]:-0}" "${MED[$rate,bridge]:-0}") ($([ "$rate" = max ] && echo unpaced || echo "$rate kpps"))"
done
best=0 best_rate=
for rate in $RATES; do
	[ "$rate" = max ] && continue
	[ "${MED[$rate,wirecap]:-0}" -gt "$best" ] && best=${MED[$rate,wirecap]} best_rate=$rate
done
if [ -n "${MED[max,wirecap]:-}" ] && [ "$best" -gt 0 ]; then
	# paired: each run's maximum against the same run's pps at the best
	# paced rate, the median of those ratios
	# shellcheck disable=SC2086
	paired=$(paste <(printf '%s\n' ${R[max,wirecap]}) <(printf '%s\n' ${R[$best_rate,wirecap]}) |
		awk '$2 > 0 { print $1 / $2 }' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "-" }')
	echo "ratio wirecap_max/wirecap_best_paced $(ratio "${MED[max,wirecap]}" "$best") (best paced $best pps at $best_rate kpps; paired per run: $paired)"
fi

# ---- latency through the middlebox at a paced rate --------------------------------

[ "$LAT_PPS" -gt 0 ] || exit 0
[ -z "$LAT_RAW" ] || printf 'forwarder\trun\tgen_pps\tp50_ms\tp99_ms\tlost\tpings\n' >"$LAT_RAW"
for ((i = 1; i <= REPEAT; i++)); do
	for m in wirecap bridge; do
		l=$("${m}_do" latency)
		# shellcheck disable=SC2086
		set -- $l
		printf 'latency %-8s run %d: p50 %s ms p99 %s ms (ping RTT every %s ms, %s of %s lost, gen %s pps)\n' \
			"$m" "$i" "$1" "$2" "$PING_MS" "$3" "$PING_N" "$LAT_PPS"
		[ -z "$LAT_RAW" ] || printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$i" "$LAT_PPS" "$1" "$2" "$3" "$PING_N" >>"$LAT_RAW"
	done
done
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
