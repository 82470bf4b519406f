#!/usr/bin/env bash
# tcpdump through wirecap against the same tcpdump on AF_PACKET, on the same
# traffic in one run (issue 13's bench row).
#
# Consumers, one at a time on a 4-queue veth (GRO and threaded NAPI on the
# receiving end, as tests/bench/run.sh models a NIC):
#   wirecap   wirecap exec -- tcpdump -i wirecap:IF (pool of CHUNKS x 64
#             frames per queue)
#   pcap-B    tcpdump -i IF -B <the same size as wirecap's pool>
#   pcap      tcpdump -i IF (libpcap's default 2 MiB buffer)
# Scenarios:
#   burst     BURST packets at the generator's maximum into tcpdump -w (tmpfs)
#   cost      RATE pps for 1 s into tcpdump -nn -v > /dev/null: decoding and
#             printing every packet is tcpdump's own per-packet cost (an
#             unmodified program has no cost knob: this is the realistic one)
# Captured = tcpdump's "packets captured" / packets sent (gen --json).
# "-B as large as the pool" is equal bytes, not equal packets: TPACKET_V3
# packs small frames in its blocks (~100 B for a 64 B frame), wirecap's
# UMEM takes a 2 KiB frame per packet, so pcap-B holds ~16x more of these
# packets; raise BENCH_POOL_CHUNKS to compare equal packet counts.
#
# A run ends when tcpdump has handled what its buffer holds (its counts,
# asked with SIGUSR1, stop changing), then SIGINT.
#
# Environment: WC_BUILD, BENCH_BURST (300000), BENCH_RATE (500000),
# BENCH_POOL_CHUNKS (256: 16384 frames per queue), BENCH_REPEAT (runs, 3),
# BENCH_TCPDUMP_RAW=FILE (every run as a TSV line, for tests/bench/report.py).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"
# shellcheck disable=SC2034 # used by net.sh
WCT_NAME=bench-tcpdump

BURST=${BENCH_BURST:-300000}
RATE=${BENCH_RATE:-500000}
CHUNKS=${BENCH_POOL_CHUNKS:-256}
REPEAT=${BENCH_REPEAT:-3}
RAWF=${BENCH_TCPDUMP_RAW:-}

[ "$(id -u)" -eq 0 ] || { echo "bench-tcpdump: needs root" >&2; exit 1; }
[ -x "$WIRECAP" ] || { echo "bench-tcpdump: missing $WIRECAP (make)" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "bench-tcpdump: tcpdump is not installed (make deps)" >&2; exit 1; }

wct_init
wct_make_veth 1
IF=$WCT_IF_RX
run_in "$WCT_NS_TX" ethtool -K "$WCT_IF_TX" tso off >/dev/null 2>&1
TMPFS=$WCT_DIR/tmpfs
mkdir -p "$TMPFS"
chmod 0777 "$TMPFS" "$WCT_DIR"
# wirecap's pool in KiB: chunks x 64 frames x 2 KiB x 4 queues
POOL_KIB=$((CHUNKS * 64 * 2 * 4))

# captured ERRFILE: the last count of packets captured tcpdump printed
# ("N packets captured" at exit, "tcpdump: N packets captured, ..." on
# SIGUSR1)
captured() { sed -n 's/^\(tcpdump: \)\{0,1\}\([0-9]*\) packets* captured.*/\2/p' "$1" | tail -1; }

# drain PID ERR: wait until tcpdump has handled what its buffer holds: ask
# for its counts (SIGUSR1 prints them) until two answers 0.3 s apart are
# equal (bounded: 200 answers)
drain() {
	local pid=$1 err=$2 i prev=-1 cur
	for ((i = 0; i < 200; i++)); do
		kill -USR1 "$pid" 2>/dev/null || return
		sleep 0.3
		cur=$(captured "$err")
		[ -n "$cur" ] && [ "$cur" = "$prev" ] && return
		prev=${cur:--1}
	done
}

# run SCEN CONSUMER RUN: prints "SCEN CONSUMER RUN sent captured dropped"
# (dropped: tcpdump's "dropped by kernel")
run() {
	local scen=$1 cons=$2 r=$3 pid err=$WCT_DIR/$1.$2.$3.err gj=$WCT_DIR/$1.$2.$3.gen out=/dev/null
	local -a cmd g
	case $scen in
	burst) g=(-c "$BURST") cmd=(-w "$TMPFS/f.pcap") ;;
	cost) g=(-c "$RATE" --pps "$RATE") cmd=(-nn -v) ;;
	esac
	case $cons in
	wirecap)
		run_in "$WCT_NS_RX" "$WIRECAP" attach "$IF" >/dev/null || return 1
		cmd=("$WIRECAP" exec --pool-chunks "$CHUNKS" -- tcpdump -Z root -i "wirecap:$IF" "${cmd[@]}")
		;;
	pcap-B) cmd=(tcpdump -Z root -i "$IF" -B "$POOL_KIB" "${cmd[@]}") ;;
	pcap) cmd=(tcpdump -Z root -i "$IF" "${cmd[@]}") ;;
	esac
	wct_bg pid nsenter --net=/run/netns/"$WCT_NS_RX" -- "${cmd[@]}" >"$out" 2>"$err"
	wct_wait_for 600 0.1 grep -q "listening on" "$err" || { echo "bench-tcpdump: $cons did not start" >&2; return 1; }
	sleep 0.5
	run_in "$WCT_NS_TX" timeout 60 "$WIRECAP" gen -i "$WCT_IF_TX" --flows 64 --quiet \
		--json "$gj" "${g[@]}"
	drain "$pid" "$err"
	kill -INT "$pid"
	timeout 30 tail --pid="$pid" -f /dev/null || kill -9 "$pid"
	wait "$pid" 2>/dev/null
	[ "$cons" = wirecap ] && run_in "$WCT_NS_RX" "$WIRECAP" detach "$IF" >/dev/null
	rm -f "$TMPFS/f.pcap"
	echo "$scen $cons $r $(jq -r .sent "$gj") $(captured "$err") $(sed -n 's/^\([0-9]*\) packets* dropped by kernel$/\1/p' "$err" | tail -1)"
}

mount -t tmpfs -o size=1g tmpfs "$TMPFS" || true
echo "# tcpdump through wirecap vs on AF_PACKET: burst of $BURST at max into -w (tmpfs);"
echo "# $RATE pps for 1 s into -nn -v (decode + print per packet); wirecap pool $((CHUNKS * 64)) frames/queue; $REPEAT run(s)"
printf '%-6s %-8s %3s %9s %9s %8s\n' scen consumer run sent captured pct
for ((i = 1; i <= REPEAT; i++)); do
	for scen in burst cost; do
		for cons in wirecap pcap-B pcap; do
			run "$scen" "$cons" "$i"
		done
	done
done | tee "$WCT_DIR/res" | awk '{ printf "%-6s %-8s %3s %9s %9s %7.1f%%\n", $1, $2, $3, $4, $5, $4 ? 100 * $5 / $4 : 0 }'
if [ -n "$RAWF" ]; then
	printf 'scenario\tconsumer\trun\tsent\tcaptured\tkernel_dropped\tburst\trate_pps\tpool_frames\tbuffer_kib\n' >"$RAWF"
	awk -v b="$BURST" -v r="$RATE" -v pf=$((CHUNKS * 64)) -v kib="$POOL_KIB" 'NF >= 4 {
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, $3, $4, ($5 == "" ? 0 : $5),
			($6 == "" ? "-" : $6), b, r, pf, ($2 == "pcap-B" ? kib : $2 == "pcap" ? 2048 : "-") }' "$WCT_DIR/res" >>"$RAWF"
fi
# medians of the captured share per scenario and consumer
awk '{ k = $1 " " $2; v[k] = v[k] " " ($4 ? $5 / $4 : 0) }
	function med(l,   a, n, i, j, t) {
		n = split(l, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n ? a[int((n + 1) / 2)] : 0 }
	END {
		split("burst cost", sc, " ")
		for (i = 1; i <= 2; i++) {
			w = med(v[sc[i] " wirecap"]); pb = med(v[sc[i] " pcap-B"]); p = med(v[sc[i] " pcap"])
			printf "%s: wirecap/pcap-B %.2f, wirecap/pcap %.2f\n", sc[i], pb ? w / pb : 0, p ? w / p : 0
		}
	}' "$WCT_DIR/res"
mountpoint -q "$TMPFS" && umount "$TMPFS"
wct_finish >/dev/null
