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
# Environment: WC_BUILD, BENCH_BURST (300000), BENCH_RATE (500000),
# BENCH_POOL_CHUNKS (256: 16384 frames per queue).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"
# shellcheck disable=SC2034 # used by net.sh
WCT_NAME=bench-tcpdump

BURST=${BENCH_BURST:-300000}
RATE=${BENCH_RATE:-500000}
CHUNKS=${BENCH_POOL_CHUNKS:-256}

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

# run SCEN CONSUMER: prints "SCEN CONSUMER sent captured"
run() {
	local scen=$1 cons=$2 pid err=$WCT_DIR/$1.$2.err gj=$WCT_DIR/$1.$2.gen out=/dev/null
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
	# let it drain (a benchmark, not a test: a fixed grace)
	sleep 5
	kill -INT "$pid"
	timeout 30 tail --pid="$pid" -f /dev/null || kill -9 "$pid"
	wait "$pid" 2>/dev/null
	[ "$cons" = wirecap ] && run_in "$WCT_NS_RX" "$WIRECAP" detach "$IF" >/dev/null
	rm -f "$TMPFS/f.pcap"
	echo "$scen $cons $(jq -r .sent "$gj") $(sed -n 's/^\([0-9]*\) packets* captured$/\1/p' "$err" | tail -1)"
}

mount -t tmpfs -o size=1g tmpfs "$TMPFS" || true
echo "# tcpdump through wirecap vs on AF_PACKET: burst of $BURST at max into -w (tmpfs);"
echo "# $RATE pps for 1 s into -nn -v (decode + print per packet); wirecap pool $((CHUNKS * 64)) frames/queue"
printf '%-6s %-8s %9s %9s %8s\n' scen consumer sent captured pct
for scen in burst cost; do
	for cons in wirecap pcap-B pcap; do
		run "$scen" "$cons"
	done
done | tee "$WCT_DIR/res" | awk '{ printf "%-6s %-8s %9s %9s %7.1f%%\n", $1, $2, $3, $4, $3 ? 100 * $4 / $3 : 0 }'
awk '{ c[$1, $2] = $3 ? $4 / $3 : 0 } END {
	split("burst cost", sc, " ")
	for (i = 1; i <= 2; i++)
		printf "%s: wirecap/pcap-B %.2f, wirecap/pcap %.2f\n", sc[i],
			c[sc[i], "pcap-B"] ? c[sc[i], "wirecap"] / c[sc[i], "pcap-B"] : 0,
			c[sc[i], "pcap"] ? c[sc[i], "wirecap"] / c[sc[i], "pcap"] : 0 }' "$WCT_DIR/res"
mountpoint -q "$TMPFS" && umount "$TMPFS"
wct_finish >/dev/null
