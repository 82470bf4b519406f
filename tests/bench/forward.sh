#!/usr/bin/env bash
# Forwarding benchmark: packets per second through a middlebox between two
# veth pairs, for three forwarders measured in one run on the same set-up:
#
#   client --veth-- [A  middlebox  B] --veth-- server
#
#   wirecap   wirecap forward -i A -o B (AF_XDP RX, zero-copy hand-over to
#             an AF_XDP TX socket on B sharing the engine's UMEM)
#   xdp       in-kernel XDP_REDIRECT: a tiny XDP program on A doing
#             bpf_redirect(B) (xdp-bench redirect does the same, but its
#             tracepoint program does not load on every kernel)
#   bridge    a Linux bridge with A and B
#
# The client runs `wirecap gen` unpaced (64-byte frames, 64 flows) on
# CPU_GEN; the server drops everything in XDP (its per-queue XDP counters
# are the measure). The middlebox gets CPU_FWD: the ingress veth A runs
# threaded NAPI (GRO on), its napi kthreads pinned to CPU_FWD, and wirecap's
# worker runs there too. The kthreads keep SCHED_OTHER here: under
# sustained overload a NIC's softirq work moves to ksoftirqd (SCHED_OTHER),
# while a SCHED_FIFO NAPI thread would starve the forwarder completely
# (receive livelock), which is not what a saturated middlebox does.
#
# Measured: server packets per second between 1 s and T - 0.5 s of a T s
# run, median of BENCH_REPEAT runs (forwarders interleaved). Printed: a
# table and `ratio` lines. On veth, AF_XDP runs in copy mode and XDP on
# veth copies each frame once more, costs real NICs with zero-copy AF_XDP
# do not have: the ratios are a lower bound for wirecap.
#
# Environment: WC_BUILD, BENCH_REPEAT (default 3), BENCH_T (seconds per
# run, default 4), BENCH_CPU_GEN / BENCH_CPU_FWD (default 0 / 1),
# FWD_ARGS (extra wirecap forward options), BENCH_FWD_RATES (offered rates
# in kpps, "max" = unpaced; default "max"), BENCH_FWD_RAW=FILE (every run
# as a TSV line: rate, forwarder, run, offered kpps, forwarded kpps; used by
# tests/bench/run.sh for the report).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"
WCT_NAME=bench-forward

REPEAT=${BENCH_REPEAT:-3}
T=${BENCH_T:-4}
CPU_GEN=${BENCH_CPU_GEN:-0}
CPU_FWD=${BENCH_CPU_FWD:-1}
FWD_ARGS=${FWD_ARGS:-}
RATES=${BENCH_FWD_RATES:-max}
FWD_RAW=${BENCH_FWD_RAW:-}
PACE=()

die() {
	echo "bench-forward: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
[ -x "$WIRECAP" ] || die "missing $WIRECAP (run make, or set WC_BUILD)"
for t in jq ethtool taskset clang nsenter timeout awk; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
if [ "$(nproc)" -lt 2 ]; then
	CPU_GEN=0
	CPU_FWD=0
fi

wct_init
NS_C=wct-$WCT_ID-c
NS_M=wct-$WCT_ID-m
NS_S=wct-$WCT_ID-s
IF_C=wct${WCT_ID}c
IF_A=wct${WCT_ID}d
IF_B=wct${WCT_ID}e
IF_S=wct${WCT_ID}f
for ns in "$NS_C" "$NS_M" "$NS_S"; do
	ip netns add "$ns"
	WCT_NETNS+=("$ns")
	run_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$NS_C" link add "$IF_C" numtxqueues 4 numrxqueues 4 type veth \
	peer name "$IF_A" netns "$NS_M" numtxqueues 4 numrxqueues 4
ip -n "$NS_S" link add "$IF_S" numtxqueues 4 numrxqueues 4 type veth \
	peer name "$IF_B" netns "$NS_M" numtxqueues 4 numrxqueues 4
for l in "$NS_C $IF_C" "$NS_M $IF_A" "$NS_M $IF_B" "$NS_S $IF_S"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
run_in "$NS_C" ethtool -K "$IF_C" tso off >/dev/null 2>&1
run_in "$NS_M" ethtool -K "$IF_A" gro on >/dev/null 2>&1
ip netns exec "$NS_M" sh -c "echo 1 > /sys/class/net/$IF_A/threaded" 2>/dev/null
wct_wait_for 50 0.1 wct_link_up "$NS_M" "$IF_B"

MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
cat >"$WCT_DIR/drop.c" <<'EOF'
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int xdp_drop(struct xdp_md *ctx) { return XDP_DROP; }
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
OUT_IFINDEX=$(ip -n "$NS_M" -j link show "$IF_B" | jq '.[0].ifindex')
cat >"$WCT_DIR/redirect.c" <<'EOF'
#include <linux/bpf.h>
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;
__attribute__((section("xdp"), used)) int xdp_redirect_out(struct xdp_md *ctx)
{
	return bpf_redirect(OUT_IFINDEX, 0);
}
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
for p in drop redirect; do
	clang -O2 -target bpf -I/usr/include/"$MULTIARCH" -DOUT_IFINDEX="$OUT_IFINDEX" \
		-c "$WCT_DIR/$p.c" -o "$WCT_DIR/$p.o" || die "cannot build the $p XDP program"
done
ip -n "$NS_S" link set dev "$IF_S" xdpdrv obj "$WCT_DIR/drop.o" sec xdp ||
	die "cannot attach the sink's XDP program"

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

# measure: server pps in the steady part of a T-second unpaced run
measure() {
	local a b t1 t2 g
	rm -f "$WCT_DIR/gen.json"
	run_in "$NS_C" taskset -c "$CPU_GEN" timeout $((T + 30)) "$WIRECAP" gen -i "$IF_C" \
		-d "$T" --flows 64 --quiet --json "$WCT_DIR/gen.json" "${PACE[@]}" &
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

run_bridge() {
	ip -n "$NS_M" link add "br$WCT_ID" type bridge
	ip -n "$NS_M" link set "$IF_A" master "br$WCT_ID"
	ip -n "$NS_M" link set "$IF_B" master "br$WCT_ID"
	ip -n "$NS_M" link set "br$WCT_ID" up
	sleep 0.5
	pin_napi
	measure
	ip -n "$NS_M" link del "br$WCT_ID"
}

run_xdp() {
	ip -n "$NS_M" link set dev "$IF_A" xdpdrv obj "$WCT_DIR/redirect.o" sec xdp ||
		{ echo 0; return; }
	sleep 0.3
	pin_napi
	measure
	ip -n "$NS_M" link set dev "$IF_A" xdpdrv off
}

run_wirecap() {
	local pid r
	rm -f "$WCT_DIR/fwd.ready" "$WCT_DIR/fwd.json"
	# shellcheck disable=SC2086
	nsenter --net=/run/netns/"$NS_M" -- timeout $((T + 60)) "$WIRECAP" forward \
		-i "$IF_A" -o "$IF_B" --workers 1 --cpus "$CPU_FWD" --pool-chunks 1024 \
		--ready-file "$WCT_DIR/fwd.ready" --stats-json "$WCT_DIR/fwd.json" -q \
		$FWD_ARGS 2>"$WCT_DIR/fwd.err" &
	pid=$!
	WCT_PIDS+=("$pid")
	if ! wct_wait_for 100 0.1 test -e "$WCT_DIR/fwd.ready"; then
		echo "bench-forward: wirecap forward did not start: $(tr '\n' ' ' <"$WCT_DIR/fwd.err")" >&2
		kill "$pid" 2>/dev/null
		echo 0
		return
	fi
	pin_napi
	r=$(measure)
	kill -INT "$pid"
	timeout 30 tail --pid="$pid" -f /dev/null
	jq -c '.directions[0] | {received, forwarded, dropped: .dropped.total,
		pool_exhausted: .dropped.pool_exhausted, unaccounted}' "$WCT_DIR/fwd.json" \
		>"$WCT_DIR/fwd.last" 2>/dev/null
	echo "$r"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }

[ -z "$FWD_RAW" ] || printf 'exp\tx\tforwarder\trun\toffered_kpps\tfwd_kpps\n' >"$FWD_RAW"
for rate in $RATES; do
declare -A R
for m in wirecap xdp bridge; do R[$m]=; done
if [ "$rate" = max ]; then PACE=(); else PACE=(--pps $((rate * 1000))); fi
echo "# forwarding: gen $([ "$rate" = max ] && echo unpaced || echo "at $rate kpps") on CPU $CPU_GEN, middlebox on CPU $CPU_FWD, ${T} s x $REPEAT runs, 64 B frames"
for ((i = 1; i <= REPEAT; i++)); do
	for m in wirecap xdp bridge; do
		v=$(run_"$m")
		R[$m]="${R[$m]} $v"
		printf '#   run %d %-8s %10s pps%s\n' "$i" "$m" "$v" \
			"$([ "$m" = wirecap ] && [ -s "$WCT_DIR/fwd.last" ] && echo "  $(cat "$WCT_DIR/fwd.last")")"
		[ -z "$FWD_RAW" ] || printf 'forward\t%s\t%s\t%s\t%.1f\t%.1f\n' "$rate" "$m" "$i" \
			"$(jq -r '.pps / 1000' "$WCT_DIR/gen.json" 2>/dev/null || echo 0)" \
			"$(awk -v v="$v" 'BEGIN { print v / 1000 }')" >>"$FWD_RAW"
	done
done
declare -A M
for m in wirecap xdp bridge; do
	M[$m]=$(printf '%s\n' ${R[$m]} | median)
done
printf '%-28s %12s %14s %14s\n' forwarder "pps (median)" "vs XDP_REDIRECT" "vs bridge"
for m in wirecap xdp bridge; do
	case $m in
	wirecap) label="wirecap forward" ;;
	xdp) label="in-kernel XDP_REDIRECT" ;;
	bridge) label="Linux bridge" ;;
	esac
	awk -v l="$label" -v v="${M[$m]}" -v x="${M[xdp]}" -v b="${M[bridge]}" 'BEGIN {
		rx = (x > 0) ? sprintf("%.2f", v / x) : "-"
		rb = (b > 0) ? sprintf("%.2f", v / b) : "-"
		printf "%-28s %12d %14s %14s\n", l, v, rx, rb }'
done
awk -v w="${M[wirecap]}" -v x="${M[xdp]}" -v b="${M[bridge]}" 'BEGIN {
	rx = (x > 0) ? sprintf("%.2f", w / x) : "-"
	rb = (b > 0) ? sprintf("%.2f", w / b) : "-"
	printf "ratio wirecap/xdp_redirect %s wirecap/bridge %s\n", rx, rb }'
unset R M
done
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
