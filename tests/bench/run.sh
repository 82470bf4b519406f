#!/usr/bin/env bash
# `make bench` (make bench QUICK=1: a small subset, same report): the WireCAP
# paper's experiments against the best-configured alternatives, measured in
# one run on the same traffic, then a generated report with plots.
#
#   tests/bench/run.sh                 full: about 60 minutes on a loaded
#                                      machine
#   BENCH_QUICK=1 tests/bench/run.sh   quick, a smoke subset: one run per
#                                      point (the report says so), one or
#                                      two points per figure, fewer
#                                      consumers in some and fewer packets;
#                                      writes to build/bench-quick unless
#                                      BENCH_RAW / BENCH_DOCS say otherwise
#                                      (see the Makefile). Most of its time
#                                      is the consumers' start (seconds
#                                      each under load): times.tsv and the
#                                      report have the time per experiment.
#                                      Measured on 2 CPUs: 2 min 52 s and
#                                      2 min 58 s at a load average of 8,
#                                      3 min 40 s at 10 to 17 (make bench
#                                      QUICK=1 with the build done)
#
# Every run is kept: one TSV per experiment under $BENCH_RAW (default
# docs/bench/raw), one line per run, plus meta.json (machine, kernel, load at
# start and end, paths), times.tsv (seconds per experiment) and the offload
# time series; the per-run JSON of
# every consumer stays in $WC_BUILD/bench-runs. Then tests/bench/report.py
# turns the raw results into docs/benchmarks.md and docs/bench/*.png
# (gnuplot): every point the median of the runs, min-max as error bars, and
# the text around each figure computed from the numbers.
#
# Consumers (one at a time, on the same veth pair, the same `wirecap gen`
# command line; docs/benchmarks.md describes each):
#   xdpdrop     an XDP program that drops everything: the machine's ceiling
#   afxdp       plain AF_XDP loop (tests/tools/afxdp_loop.c), libxdp's 2048 rings
#   afxdp-big   the same loop with rings as large as wirecap's pool (with no
#               work per packet: the kernel's delivery ceiling into AF_XDP)
#   pcap        libpcap on AF_PACKET, default 2 MiB buffer
#   pcap-big    libpcap with a buffer as large as wirecap's pool (bytes)
#   wc          wirecap bench, 1 worker, the pool
#   wc-capture  wirecap capture -w on tmpfs (pcapng), 1 worker
#   wc-pN       wirecap bench with a pool of N chunks per queue
#   wc-b / wc-a wirecap bench, 4 workers, offloading off (the paper's
#               WireCAP-B) / on (WireCAP-A)
#   fanout-hash / fanout-roll  AF_PACKET fanout over 4 threads
#               (tests/tools/fanout_loop.c), FANOUT_HASH / HASH|ROLLOVER
#
# Experiments: rate (captured % vs offered rate), cost (vs per-packet cost x
# at a fixed rate), burst (vs burst length, three pool sizes), imbalance
# (70/10/10/10 and 100/0/0/0 over 4 queues, offloading off/on), zipf (skewed
# flow sizes over 4 workers: wirecap vs fanout), then the scripts with their
# own set-up, each writing its raw results into the same directory:
# forward (tests/bench/forward.sh: forwarded pps vs offered for forward,
# XDP_REDIRECT and a bridge, latency through the middlebox), startup
# (tests/bench/startup.sh: the default engine's start-up time), tcpdump
# (tests/bench/tcpdump.sh: tcpdump through wirecap against tcpdump on
# AF_PACKET), filter (tests/bench/filter.sh: filters in XDP).
#
# The NIC model on veth (../shared/DESIGN.md): GRO and threaded NAPI on the
# receiving end, its napi kthreads pinned to the capture CPU at SCHED_FIFO
# 50, TSO off on the sender; the generator on the other CPU.
#
# Environment: WC_BUILD, BENCH_QUICK=1 (or QUICK=1), BENCH_REPEAT=N (runs per
# point; default 3, quick 1), BENCH_ONLY="rate cost ..." (some
# experiments), BENCH_RAW=DIR (default docs/bench/raw, quick
# $WC_BUILD/bench-quick/bench/raw), BENCH_DOCS=DIR (where benchmarks.md and
# bench/*.png go: default docs, quick $WC_BUILD/bench-quick), BENCH_REPORT=0
# (no report), BENCH_CPU_GEN / BENCH_CPU_CAP (default 0 / 1).
set -uo pipefail
WC_BUILD=${WC_BUILD:-${O:-build}}
export WC_BUILD
. "$(dirname "$0")/../lib/net.sh"
# shellcheck disable=SC2034 # used by net.sh
WCT_NAME=bench

QUICK=${BENCH_QUICK:-${QUICK:-0}}
[ "$QUICK" = 1 ] || QUICK=0
# quick: one run per point (a smoke subset; the report says so)
REPEAT=${BENCH_REPEAT:-$([ "$QUICK" = 1 ] && echo 1 || echo 3)}
CPU_GEN=${BENCH_CPU_GEN:-0}
CPU_CAP=${BENCH_CPU_CAP:-1}
# a quick run never overwrites the committed full report
if [ "$QUICK" = 1 ]; then
	DOCS=${BENCH_DOCS:-$WC_BUILD/bench-quick}
	RAW=${BENCH_RAW:-$DOCS/bench/raw}
else
	DOCS=${BENCH_DOCS:-$WCT_ROOT/docs}
	RAW=${BENCH_RAW:-$WCT_ROOT/docs/bench/raw}
fi
RUNS=$WC_BUILD/bench-runs
AFXDP=$WC_BUILD/tests/afxdp_loop
PCAPL=$WC_BUILD/tests/pcap_loop
FANOUT=$WC_BUILD/tests/fanout_loop
T_START=$(date +%s)

# Buffers. The single-worker experiments give every engine the same memory:
# wirecap's pool of POOL_CHUNKS x 64 frames of 2 KiB per queue, the plain
# loop rings of that many entries, libpcap that many bytes.
POOL_CHUNKS=1024
# quick: a quarter of it (128 MiB: the consumers start faster); every
# quick experiment sends fewer packets than that
[ "$QUICK" = 1 ] && POOL_CHUNKS=256
POOL_FRAMES=$((POOL_CHUNKS * 64))
POOL_BYTES=$((POOL_FRAMES * 2048 * 4))
IDLE=0.7 # consumers stop this long after their last packet

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
for b in "$WIRECAP" "$AFXDP" "$PCAPL" "$FANOUT"; do
	[ -x "$b" ] || die "missing $b (run make, or set WC_BUILD)"
done
for t in jq ethtool taskset chrt nsenter timeout awk clang; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
NCPU=$(nproc)
if [ "$NCPU" -lt 2 ]; then
	CPU_GEN=0
	CPU_CAP=0
fi

# ---- the test network -----------------------------------------------------------

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
# with TSO on the sender, skbs that XDP does not take bypass NAPI: the
# AF_PACKET path would run on the generator's CPU
run_in "$WCT_NS_TX" ethtool -K "$WCT_IF_TX" tso off >/dev/null 2>&1
THREADED=$(ip netns exec "$WCT_NS_RX" cat /sys/class/net/"$WCT_IF_RX"/threaded 2>/dev/null || echo 0)
TMPFS=$WCT_DIR/tmpfs
mkdir -p "$TMPFS"
mount -t tmpfs -o size=2g,mode=0700 tmpfs "$TMPFS" || TMPFS=
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
cat >"$WCT_DIR/drop.c" <<'EOF'
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int xdp_drop(struct xdp_md *ctx) { return XDP_DROP; }
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
clang -O2 -target bpf -I/usr/include/"$MULTIARCH" -c "$WCT_DIR/drop.c" \
	-o "$WCT_DIR/drop.o" || die "cannot build the XDP_DROP program"

mkdir -p "$RAW" "$RUNS" || die "cannot create $RAW"
# a partial run (BENCH_ONLY) replaces only its experiments' results
[ -n "${BENCH_ONLY:-}" ] || rm -f "$RAW"/*.tsv "$RAW"/meta.json "$RAW"/meta.only.json "$RUNS"/*
# a partial run next to a full run's results keeps that run's meta.json
# and says in meta.only.json (the report quotes it) when its rows were
# measured
META=$RAW/meta.json
[ -n "${BENCH_ONLY:-}" ] && [ -e "$META" ] && META=$RAW/meta.only.json

pin_napi() { # napi/<ifname>-* of the receiving veth: capture CPU, FIFO 50
	local p n=0
	for p in $(pgrep "^napi/$WCT_IF_RX(-|$)"); do
		taskset -pc "$CPU_CAP" "$p" >/dev/null 2>&1 &&
			chrt -f -p 50 "$p" >/dev/null 2>&1 && n=$((n + 1))
	done
	NAPI_PINNED=$n
}

xdp_mode() {
	case "$(ip -j -n "$WCT_NS_RX" link show "$WCT_IF_RX" | jq -r '.[0].xdp.mode // 0')" in
	1) echo native ;;
	2) echo generic ;;
	*) echo none ;;
	esac
}

reset_rx() { # nothing left attached by a consumer that failed
	ip -n "$WCT_NS_RX" link set dev "$WCT_IF_RX" xdp off 2>/dev/null
	ip -n "$WCT_NS_RX" link set dev "$WCT_IF_RX" xdpgeneric off 2>/dev/null
	rm -rf "${WIRECAP_PIN_ROOT:?}/$WCT_IF_RX"
}

xdp_drops() {
	run_in "$WCT_NS_RX" ethtool -S "$WCT_IF_RX" |
		awk '/rx_queue_[0-9]+_xdp_drops:/ { s += $2 } END { print s + 0 }'
}

load1() { cut -d' ' -f1 /proc/loadavg; }

NOTES=()
note() {
	NOTES+=("$*")
	echo "# note: $*" >&2
}

# stop PID: SIGINT, bounded wait, then SIGKILL
stop_pid() {
	local pid=$1
	kill -INT "$pid" 2>/dev/null
	if ! timeout 30 tail --pid="$pid" -f /dev/null; then
		note "process $pid did not stop within 30 s: killed"
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# ---- one run ---------------------------------------------------------------------

# Case parameters (set by the experiments before run_case):
C_COST=0       # per-packet cost, ns
C_MODE=spin    # spin (CPU per packet) or sleep (per chunk/block)
C_WORKERS=1    # workers / threads of the multi-threaded consumers
C_POOL=$POOL_CHUNKS
C_FLOWS=64
C_EXPECT=1     # wirecap bench --expect (round-robin flows only)
C_STEER=queue
C_TS=          # record `wirecap stats --watch` into this file

# consumer_cmd CONS OUT READY: the command line of a consumer, in CMD
consumer_cmd() {
	local cons=$1 out=$2 ready=$3 count=$4
	local cost=() wc=()
	[ "$C_COST" -gt 0 ] && cost=(--cost-ns "$C_COST")
	CMD=()
	case $cons in
	afxdp | afxdp-big)
		CMD=("$AFXDP" -i "$WCT_IF_RX" --cpu "$CPU_CAP" --json "$out"
			--ready-file "$ready" --idle-exit "$IDLE" "${cost[@]}")
		[ "$cons" = afxdp-big ] && CMD+=(--ring "$POOL_FRAMES")
		;;
	pcap | pcap-big)
		CMD=("$PCAPL" -i "$WCT_IF_RX" --cpu "$CPU_CAP" --json "$out"
			--ready-file "$ready" --idle-exit "$IDLE" "${cost[@]}")
		[ "$cons" = pcap-big ] && CMD+=(--buffer-size "$POOL_BYTES")
		;;
	fanout-hash | fanout-roll)
		# the same number of packets as wirecap's pool: 160 bytes per
		# 66-byte frame in a TPACKET_V3 block
		CMD=("$FANOUT" -i "$WCT_IF_RX" --threads "$C_WORKERS"
			--mode "$([ "$cons" = fanout-roll ] && echo rollover || echo hash)"
			--buffer $((C_POOL * 64 * 4 * 160)) --flows "$C_FLOWS"
			--cost-mode "$C_MODE" --json "$out" --ready-file "$ready"
			--idle-exit "$IDLE" "${cost[@]}")
		;;
	wc | wc-p* | wc-a | wc-b | wc-capture)
		wc=(-i "$WCT_IF_RX" --mode native --workers "$C_WORKERS"
			--pool-chunks "$C_POOL" --stats-json "$out" --ready-file "$ready" -q)
		[ "$C_WORKERS" = 1 ] && wc+=(--cpus "$CPU_CAP")
		[ "$C_STEER" = flow ] && wc+=(--steer flow)
		case $cons in
		wc-a) wc+=(--offload on) ;;
		wc-b) wc+=(--offload off) ;;
		esac
		if [ "$cons" = wc-capture ]; then
			CMD=("$WIRECAP" capture -w "${TMPFS:-$WCT_DIR}/cap.pcapng" "${wc[@]}")
		else
			CMD=("$WIRECAP" bench "${wc[@]}" --flows "$C_FLOWS"
				--idle-exit "$IDLE" "${cost[@]}" --cost-mode "$C_MODE")
			[ "$C_EXPECT" = 1 ] && CMD+=(--expect "$count")
		fi
		;;
	*) die "unknown consumer $cons" ;;
	esac
}

PATHS=$RAW/paths.tsv
# record_path CONS TEXT: how a consumer ran (first run only; the callers
# check new_path first: the text costs a few jq runs)
record_path() { printf '%s\t%s\n' "$1" "$2" >>"$PATHS"; }
new_path() { ! grep -q "^$1	" "$PATHS" 2>/dev/null; }

# run_case EXP X CONS RUN GEN-ARGS...: one run; appends a line to EXP.tsv
run_case() {
	local exp=$1 x=$2 cons=$3 run=$4
	shift 4
	local tag=$exp.${x//\//-}.$cons.$run
	local out=$RUNS/$tag.json gj=$RUNS/$tag.gen.json err=$RUNS/$tag.err
	local ready=$WCT_DIR/ready pid='' spid='' d0=0 rc=0 mode count
	local got pre drop reo=0 sw=0 moves=0 conv=-1 hwm=0 perw=- sent kpps
	count=$(printf '%s\n' "$*" | sed -n 's/.*--count \([0-9]*\).*/\1/p')
	rm -f "$ready" "$out" "$gj"
	reset_rx
	if [ "$cons" = xdpdrop ]; then
		ip -n "$WCT_NS_RX" link set dev "$WCT_IF_RX" xdpdrv obj "$WCT_DIR/drop.o" sec xdp ||
			{ note "$tag: cannot attach XDP_DROP"; return 0; }
		d0=$(xdp_drops)
	else
		consumer_cmd "$cons" "$out" "$ready" "$count"
		wct_bg pid nsenter --net=/run/netns/"$WCT_NS_RX" -- timeout -s INT 300 \
			taskset -c "$([ "$C_WORKERS" = 1 ] && echo "$CPU_CAP" || echo "0-$((NCPU - 1))")" \
			"${CMD[@]}" 2>"$err"
		if ! wct_wait_for 1200 0.05 test -e "$ready"; then
			note "$tag: the consumer did not start within 60 s: $(tail -n 2 "$err" | tr '\n' ' ')"
			stop_pid "$pid"
			return 0
		fi
	fi
	mode=$(xdp_mode)
	pin_napi # after the XDP attach (it may re-create the kthreads)
	if [ -n "$C_TS" ]; then
		nsenter --net=/run/netns/"$WCT_NS_RX" -- timeout 120 "$WIRECAP" stats \
			"$WCT_IF_RX" --json --watch 0.1 >"$C_TS.jsonl" 2>/dev/null &
		spid=$!
	fi
	sleep 0.3
	run_in "$WCT_NS_TX" timeout 120 taskset -c "$CPU_GEN" "$WIRECAP" gen \
		-i "$WCT_IF_TX" --flows "$C_FLOWS" --quiet --json "$gj" "$@" \
		2>>"$err" || rc=$?
	[ "$rc" -eq 0 ] || note "$tag: gen exited $rc"
	if [ "$cons" = xdpdrop ]; then
		sleep 0.3
		got=$(($(xdp_drops) - d0))
		ip -n "$WCT_NS_RX" link set dev "$WCT_IF_RX" xdpdrv off
	elif [ "$cons" = wc-capture ]; then
		sleep 1 # no idle exit: let it drain, then stop it
		stop_pid "$pid"
	elif ! timeout 120 tail --pid="$pid" -f /dev/null; then
		note "$tag: the consumer did not finish draining within 120 s: stopped"
		stop_pid "$pid"
	else
		wait "$pid" 2>/dev/null
	fi
	[ -z "$spid" ] || stop_pid "$spid"
	rm -f "${TMPFS:-$WCT_DIR}/cap.pcapng"
	if [ ! -s "$gj" ] || { [ "$cons" != xdpdrop ] && [ ! -s "$out" ]; }; then
		note "$tag: no result: $(tail -n 2 "$err" 2>/dev/null | tr '\n' ' ')"
		return 0
	fi
	read -r sent kpps pre < <(jq -r '"\(.sent) \(.pps / 1000) \(.dev_tx_dropped // 0)"' "$gj")
	case $cons in
	xdpdrop)
		drop=0
		new_path "$exp:$cons" && record_path "$exp:$cons" "$mode XDP, XDP_DROP"
		;;
	afxdp | afxdp-big)
		read -r got drop < <(jq -r '"\(.received) \(.rx_dropped)"' "$out")
		new_path "$exp:$cons" && record_path "$exp:$cons" "$mode XDP, AF_XDP copy mode, $(jq -r .ring "$out")-entry fill and RX rings, $(jq -r .frames "$out") frames/queue, 1 thread"
		;;
	pcap | pcap-big)
		read -r got drop < <(jq -r '"\(.received) \(.ps_drop)"' "$out")
		new_path "$exp:$cons" && record_path "$exp:$cons" "$(jq -r .path "$out"), buffer $([ "$cons" = pcap ] && echo "default (2 MiB)" || echo "$((POOL_BYTES >> 20)) MiB"), 1 thread"
		;;
	fanout-*)
		read -r got drop reo sw perw < <(jq -r '"\(.received) \(.drops) \(.reordered) \(.flow_switches) \(.per_thread | map(tostring) | join(","))"' "$out")
		new_path "$exp:$cons" && record_path "$exp:$cons" "AF_PACKET TPACKET_V3, PACKET_FANOUT $(jq -r .mode "$out"), $C_WORKERS threads, $(($(jq -r .buffer "$out") >> 20)) MiB of rings"
		;;
	wc-capture)
		read -r got drop hwm < <(jq -r '"\(.written) \(.dropped.total) \(.hwm)"' "$out")
		new_path "$exp:$cons" && record_path "$exp:$cons" "$mode XDP, AF_XDP $(jq -r .bind "$out") mode, pool $(jq -r .pool_frames_per_queue "$out") frames/queue, pcapng on tmpfs, $C_WORKERS worker"
		;;
	wc*)
		read -r got drop reo sw moves conv hwm perw < <(jq -r '"\(.delivered) \(.dropped.total) \(.reordered_global) \(.flow_switches) \(.moves) \(.converged_s) \(.hwm) \(.workers | map(.packets | tostring) | join(","))"' "$out")
		new_path "$exp:$cons" && record_path "$exp:$cons" "$mode XDP, AF_XDP $(jq -r .bind "$out") mode, pool $(jq -r .pool_frames_per_queue "$out") frames/queue, $C_WORKERS worker(s), steer $C_STEER$(case $cons in wc-a) echo ", offloading on" ;; wc-b) echo ", offloading off" ;; esac)"
		;;
	esac
	printf '%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$exp" "$x" "$cons" "$run" "$sent" "$kpps" "$got" "$pre" "$drop" "$reo" "$sw" \
		"$moves" "$conv" "$hwm" "$perw" "$C_COST" "$NAPI_PINNED" $((C_POOL * 64)) >>"$RAW/$exp.tsv"
	printf '# %-9s %-8s %-11s run %d: sent %8s at %7.0f kpps, got %8s (%5.1f%%), pre-XDP %s, dropped %s\n' \
		"$exp" "$x" "$cons" "$run" "$sent" "$kpps" "$got" \
		"$(awk -v a="$got" -v b="$sent" 'BEGIN { print b ? 100 * a / b : 0 }')" \
		"$pre" "$drop"
}

HEADER='exp	x	consumer	run	sent	gen_kpps	got	pre_xdp	dropped	reordered	flow_switches	moves	converged_s	hwm	per_worker	cost_ns	napi_pinned	pool_frames'

# Time per experiment: exp_start NAME, exp_done (the previous one, if any)
# appends "name seconds load1-at-start load1-at-end" to times.tsv
EXP_CUR=
EXP_T0=0
EXP_L0=
exp_done() {
	[ -n "$EXP_CUR" ] || return 0
	local s=$(($(date +%s) - EXP_T0))
	printf '%s\t%s\t%s\t%s\n' "$EXP_CUR" "$s" "$EXP_L0" "$(load1)" >>"$RAW/times.tsv"
	echo "# experiment $EXP_CUR took $s s"
	EXP_CUR=
}
exp_start() {
	exp_done
	EXP_CUR=$1
	EXP_T0=$(date +%s)
	EXP_L0=$(load1)
	printf '%s\t%s\t%s\n' "$1" "$EXP_T0" "$EXP_L0" >>"$RAW/load.tsv"
}

# experiment EXP: header line, load at its start
begin_exp() {
	printf '%s\n' "$HEADER" >"$RAW/$1.tsv"
	exp_start "$1"
	echo "# experiment $1 ($REPEAT run(s) per point; load average $(load1))"
}

want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

# for_runs EXP X GEN-ARGS -- CONSUMERS...: REPEAT rounds, the consumers'
# order rotated between rounds
for_runs() {
	local exp=$1 x=$2 r i n
	shift 2
	local -a gargs=() cons=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do gargs+=("$1"); shift; done
	shift
	cons=("$@")
	n=${#cons[@]}
	for ((r = 1; r <= REPEAT; r++)); do
		for ((i = 0; i < n; i++)); do
			run_case "$exp" "$x" "${cons[(i + r - 1) % n]}" "$r" "${gargs[@]}"
		done
	done
}

# ---- meta -----------------------------------------------------------------------

if [ -z "${BENCH_ONLY:-}" ]; then
	: >"$PATHS"
	: >"$RAW/load.tsv"
	: >"$RAW/times.tsv"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
write_meta() {
	jq -n --arg kernel "$(uname -r)" --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
		--argjson ncpu "$NCPU" --arg mem "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)" \
		--arg load_start "$LOAD_START" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" \
		--argjson t_start "$T_START" --argjson t_end "$(date +%s)" \
		--argjson quick "$QUICK" --argjson repeat "$REPEAT" \
		--arg threaded "$([ "$THREADED" = 1 ] && echo threaded || echo not threaded)" \
		--argjson cpu_gen "$CPU_GEN" --argjson cpu_cap "$CPU_CAP" \
		--argjson pool_frames "$POOL_FRAMES" --argjson pool_bytes "$POOL_BYTES" \
		--arg commit "$(git -C "$WCT_ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
		--arg procs "$(ps -e --no-headers | wc -l)" \
		--arg notes "$(printf '%s\n' "${NOTES[@]}")" --arg only "${BENCH_ONLY:-}" \
		'{kernel: $kernel, cpu_model: $cpu, ncpu: $ncpu, memory: $mem,
		  load_start: $load_start, load_end: $load_end, t_start: $t_start, t_end: $t_end,
		  quick: $quick, repeat: $repeat, napi: $threaded, cpu_gen: $cpu_gen,
		  cpu_cap: $cpu_cap, pool_frames_per_queue: $pool_frames, pool_bytes: $pool_bytes,
		  queues: 4, link: "veth", commit: $commit, processes: $procs,
		  notes: ($notes | split("\n") | map(select(length > 0)))}
		 + (if $only == "" then {} else {only: $only} end)' >"$META"
}
write_meta
echo "# wirecap bench$([ "$QUICK" = 1 ] && echo " (QUICK)"): $(uname -r), $NCPU CPUs, load average $LOAD_START"
echo "# veth $WCT_IF_TX -> $WCT_IF_RX, 4 queues; NAPI $([ "$THREADED" = 1 ] && echo threaded || echo NOT threaded) + GRO on the receiver, pinned to CPU $CPU_CAP (FIFO 50); generator on CPU $CPU_GEN"

# ---- the experiments ------------------------------------------------------------

# 1. captured % vs offered rate (1 s or 500,000 packets; unpaced: 600,000;
#    quick: unpaced only, 60,000, the large-buffer baselines): every
#    baseline, no work per packet; the same runs compare capture to pcapng
#    (wc-capture) with no-op capture (wc)
if want rate; then
	begin_exp rate
	C_COST=0 C_MODE=spin C_WORKERS=1 C_POOL=$POOL_CHUNKS C_FLOWS=64 C_EXPECT=1 C_STEER=queue
	CONS="xdpdrop afxdp afxdp-big pcap pcap-big wc wc-capture"
	if [ "$QUICK" = 1 ]; then
		RATES=max
		CONS="xdpdrop afxdp-big pcap-big wc"
	else
		RATES="100 250 500 1000 max"
	fi
	for r in $RATES; do
		if [ "$r" = max ]; then
			g=(--count 600000)
			[ "$QUICK" = 1 ] && g=(--count 60000)
		else
			# 1 s, at most 500,000 packets (quick: 150,000): a receiver
			# that slows the sender down makes every packet take longer
			n=$((r * 1000))
			[ "$n" -gt 500000 ] && n=500000
			[ "$QUICK" = 1 ] && [ "$n" -gt 150000 ] && n=150000
			g=(--pps $((r * 1000)) --count "$n")
		fi
		# shellcheck disable=SC2086
		for_runs rate "$r" "${g[@]}" -- $CONS
	done
fi

# 2. captured % vs per-packet cost x (a CPU spin), 250 kpps for 1 s (quick:
#    x = 2000 ns, 50,000 packets, the loop with pool-sized rings)
if want cost; then
	begin_exp cost
	C_MODE=spin C_WORKERS=1 C_POOL=$POOL_CHUNKS C_FLOWS=64 C_EXPECT=1 C_STEER=queue
	CONS="afxdp afxdp-big pcap pcap-big wc"
	if [ "$QUICK" = 1 ]; then
		XS=2000
		CONS="afxdp-big wc"
	else
		XS="0 100 200 500 1000 2000"
	fi
	for x in $XS; do
		C_COST=$x
		# shellcheck disable=SC2086
		for_runs cost "$x" --pps 250000 --count "$([ "$QUICK" = 1 ] && echo 50000 || echo 250000)" \
			-- $CONS
	done
fi

# 3. captured % vs burst length, three pool sizes: bursts at 300 kpps into
#    a consumer that spends 3 us per packet (it keeps up with ~1/3 of it);
#    quick: one length, the two smaller pools (the largest holds the same
#    quick burst, 12,500 packets per queue, and takes seconds more to
#    start), the 2048-ring loop
if want burst; then
	begin_exp burst
	C_COST=3000 C_MODE=spin C_WORKERS=1 C_FLOWS=64 C_EXPECT=1 C_STEER=queue
	PS="64 256 1024"
	CONS="afxdp afxdp-big"
	if [ "$QUICK" = 1 ]; then
		LS=50000
		PS="64 256"
		CONS=afxdp
	else
		LS="25000 50000 100000 200000 400000"
	fi
	for l in $LS; do
		for p in $PS; do
			C_POOL=$p
			for_runs burst "$l" --pps 300000 --count "$l" -- "wc-p$p"
		done
		C_POOL=$POOL_CHUNKS
		# shellcheck disable=SC2086
		for_runs burst "$l" --pps 300000 --count "$l" -- $CONS
	done
fi

# 4. long-term imbalance over 4 queues, 4 workers that each sustain 40 kpps
#    (25 us per packet, a sleep per chunk: four workers fit on two CPUs),
#    100 kpps offered, pool of 131,072 frames per queue (quick: 70/10/10/10
#    only, 2 s: 200,000 packets, 32,768 frames per queue: the heavy
#    queue's excess, 30 kpps, outgrows it within the run without
#    offloading, and the run outlasts the monitor's hold time, 500 ms, so
#    that offloading acts); offloading off
#    and on; the
#    first run with offloading records the monitor at work (per-worker
#    backlog, bucket moves)
if want imbalance; then
	begin_exp imbalance
	C_COST=25000 C_MODE=sleep C_WORKERS=4 C_FLOWS=64 C_EXPECT=1 C_STEER=queue
	C_POOL=$([ "$QUICK" = 1 ] && echo 512 || echo 2048)
	N=$([ "$QUICK" = 1 ] && echo 200000 || echo 800000)
	WS="70/10/10/10 100/0/0/0"
	[ "$QUICK" = 1 ] && WS=70/10/10/10
	for w in $WS; do
		for ((r = 1; r <= REPEAT; r++)); do
			for c in wc-b wc-a; do
				C_TS=
				[ "$r" = 1 ] && [ "$c" = wc-a ] && C_TS=$RAW/timeseries.${w//\//-}
				run_case imbalance "$w" "$c" "$r" --pps 100000 --count "$N" \
					--weights "${w//\//,}"
			done
		done
	done
	C_TS=
	for f in "$RAW"/timeseries.*.jsonl; do
		[ -s "$f" ] || continue
		# t (s), then per worker: backlog (rx ring + held frames) and moves in
		jq -r '[.time_ns, (.workers[] | ((.rx_backlog // 0) + (.held_frames // 0)), (.moves_in // 0))] | @tsv' \
			"$f" >"${f%.jsonl}.tsv" 2>/dev/null
		rm -f "$f"
	done
fi

# 5. skewed flow sizes: 1024 flows, Zipf 1.1, over 4 workers (40 kpps each,
#    as above) at 110 kpps: a static flow hash overloads the worker with the
#    heavy hitters. wirecap with --steer flow (the same static spreading as
#    fanout hash) without and with offloading, against AF_PACKET fanout.
#    Buffers hold the same number of packets for all (the pool of 256 chunks
#    per queue: 65,536 frames), so that imbalance shows as loss within the run
#    (quick: 64 chunks, 2 s: 220,000 packets; long enough for the monitor's
#    500 ms hold time, so that offloading acts).
if want zipf; then
	begin_exp zipf
	C_COST=25000 C_MODE=sleep C_WORKERS=4 C_FLOWS=1024 C_EXPECT=0 C_STEER=flow
	C_POOL=$([ "$QUICK" = 1 ] && echo 64 || echo 256)
	N=$([ "$QUICK" = 1 ] && echo 220000 || echo 660000)
	for_runs zipf 1.1 --pps 110000 --count "$N" --zipf 1.1 -- wc-b wc-a fanout-hash fanout-roll
	C_STEER=queue
fi

exp_done
write_meta

# 6.-9. the scripts with their own set-up (their namespaces and veths are
# their own; the bench's veth stays idle meanwhile). Each writes its raw
# results into $RAW and prints its own table.
extra() { # extra NAME ENV...: tests/bench/NAME.sh with ENV, its load noted
	local name=$1
	shift
	exp_start "$name"
	echo "# experiment $name (tests/bench/$name.sh; load average $(load1))"
	env BENCH_REPEAT="$REPEAT" BENCH_CPU_GEN="$CPU_GEN" QUICK="$QUICK" "$@" \
		"$(dirname "$0")/$name.sh" || note "$name.sh exited $?"
}

# 6. forwarding: forwarded pps vs offered (paced and the generator's
#    maximum), forward's ratios, latency (ping p50/p99) at 100 kpps
if want forward; then
	if [ "$QUICK" = 1 ]; then
		extra forward BENCH_FWD_RAW="$RAW/forward.tsv" BENCH_FWD_LAT_RAW="$RAW/forward_latency.tsv" \
			BENCH_FWD_RATES="500 max" BENCH_FWD_PACED_ONLY=wirecap BENCH_T=2 BENCH_PING_N=100
	else
		# 5 runs a point: on this VM a forwarder's rate at saturation
		# varies from run to run by up to a third (the bridge too)
		extra forward BENCH_FWD_RAW="$RAW/forward.tsv" BENCH_FWD_LAT_RAW="$RAW/forward_latency.tsv" \
			BENCH_FWD_RATES="100 250 500 750 1000 max" BENCH_T=4 BENCH_REPEAT=5
	fi
fi

# 7. start-up time of the default capture engine (1.5 GiB pool): a start
#    takes a second or two, so more runs than elsewhere (the start-up time
#    on a VM varies with what the host does meanwhile)
if want startup; then
	if [ "$QUICK" = 1 ]; then
		extra startup BENCH_STARTUP_RAW="$RAW/startup.tsv" BENCH_REPEAT=3
	else
		extra startup BENCH_STARTUP_RAW="$RAW/startup.tsv" BENCH_REPEAT=7
	fi
fi

# 8. tcpdump through wirecap against tcpdump on AF_PACKET (quick: smaller
#    burst and rate)
if want tcpdump; then
	if [ "$QUICK" = 1 ]; then
		extra tcpdump BENCH_TCPDUMP_RAW="$RAW/tcpdump.tsv" BENCH_BURST=20000 BENCH_RATE=30000
	else
		extra tcpdump BENCH_TCPDUMP_RAW="$RAW/tcpdump.tsv"
	fi
fi

# 9. filters in XDP: the matching flow's share, the XDP program's ns/packet
#    (quick: filter.sh's QUICK sizes)
if want filter; then
	if [ "$QUICK" = 1 ]; then
		extra filter BENCH_FILTER_RAW="$RAW/filter" BENCH_BURST=32000 \
			BENCH_FILTER_POOL_CHUNKS="$POOL_CHUNKS"
	else
		extra filter BENCH_FILTER_RAW="$RAW/filter"
	fi
fi

exp_done
write_meta
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); bench took $(($(date +%s) - T_START)) s"
for n in "${NOTES[@]}"; do
	echo "note: $n"
done
if [ "${BENCH_REPORT:-1}" = 1 ]; then
	python3 "$(dirname "$0")/report.py" --raw "$RAW" --out "$DOCS" ||
		die "the report generator failed"
fi
T_END=$(date +%s)
echo "# make bench$([ "$QUICK" = 1 ] && echo " QUICK=1") took $(((T_END - T_START) / 60)) min $(((T_END - T_START) % 60)) s (load average now $(cut -d' ' -f1-3 /proc/loadavg)); report: $DOCS/benchmarks.md" 
