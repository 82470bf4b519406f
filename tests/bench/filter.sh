#!/usr/bin/env bash
# Filters in XDP (issue 12's bench row). Two measurements on a 4-queue veth
# (GRO and threaded NAPI on the receiving end):
#
# 1. Share of the matching flow captured. `wirecap gen` sends BURST packets
#    of 64 flows at its maximum rate (unpaced); the filter 'udp port 32770'
#    matches flow 2 only (BURST / 64 packets). Consumers, one at a time, on
#    the same traffic in one run:
#      xdp       wirecap capture -w FILE EXPR (the filter in XDP, default)
#      user      wirecap capture -w FILE --filter-in user EXPR (libpcap's
#                interpreter after the copy: every packet takes a frame)
#      tcpdump   tcpdump -i IF -w FILE EXPR (AF_PACKET, its filter in the
#                kernel, libpcap's default buffer)
#    Captured = packets in the file (capinfos) / BURST / 64, median of
#    BENCH_REPEAT runs (consumers interleaved). Where the rest went, also
#    medians: veth_drop = frames the sending veth dropped (gen's
#    dev_tx_dropped: all flows, before any consumer sees them), cons_drop =
#    the consumer's own drops (wirecap: dropped.total of --stats-json;
#    tcpdump: "dropped by kernel"). of_arrived = captured / ((sent -
#    veth_drop) / 64) per run, median: an estimate of the share of the
#    matching packets that reached the receiving interface (the veth's
#    drops are not counted per flow).
# 2. The XDP program's cost per packet: run_time_ns / run_cnt of the
#    attached steering program (kernel.bpf_stats_enabled=1, restored at
#    exit) while gen offers RATE pps for T s with no consumer, for no
#    filter, the classic filter 'udp' (matches every generated packet) and
#    'udp port 32770' (matches 1 of 64). The filter and the rest of the
#    steering run as tail calls: the kernel counts a tail-called program's
#    time in the entry program's stats (its own run_cnt stays 0, shown),
#    so the entry program's ns/packet is the whole path.
# On veth, AF_XDP runs in copy mode: absolute numbers are not a NIC's.
#
# Environment: WC_BUILD, BENCH_REPEAT (3), BENCH_BURST (320000, a multiple
# of 64), BENCH_RATE (200000), BENCH_T (3 s), BENCH_DRAIN (at most 3 s of
# drain after the burst: it ends once the consumer has handled what it
# holds), QUICK=1 (smaller), BENCH_FILTER_RAW=PREFIX (every
# share run in PREFIX.share.tsv, the cost rows in PREFIX.cost.tsv, for
# tests/bench/report.py), BENCH_FILTER_POOL_CHUNKS=N (wirecap's pool: N
# chunks of 64 frames per queue instead of the default pool, which takes
# seconds to start on a loaded machine; run.sh's QUICK sets it).
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"
# shellcheck disable=SC2034 # used by net.sh
WCT_NAME=bench-filter

REPEAT=${BENCH_REPEAT:-3}
BURST=${BENCH_BURST:-320000}
RATE=${BENCH_RATE:-200000}
T=${BENCH_T:-3}
DRAIN=${BENCH_DRAIN:-3}
if [ "${QUICK:-0}" = 1 ]; then
	BURST=${BENCH_BURST:-64000}
	T=${BENCH_T:-1}
	DRAIN=${BENCH_DRAIN:-1}
fi
RAWP=${BENCH_FILTER_RAW:-}
POOL=()
[ -n "${BENCH_FILTER_POOL_CHUNKS:-}" ] && POOL=(--pool-chunks "$BENCH_FILTER_POOL_CHUNKS")
EXPR='udp port 32770'

die() {
	echo "bench-filter: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
[ -x "$WIRECAP" ] || die "missing $WIRECAP (run make, or set WC_BUILD)"
for t in jq ethtool tcpdump capinfos bpftool sysctl nsenter timeout awk; do
	command -v "$t" >/dev/null || die "$t is not installed (make deps)"
done
[ $((BURST % 64)) = 0 ] || die "BENCH_BURST must be a multiple of 64"

OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
restore_stats() { sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"; }

wct_init
# net.sh's EXIT trap removes the namespaces; restore the sysctl first
trap 'restore_stats; wct_cleanup' EXIT
wct_make_veth 1
IF=$WCT_IF_RX
run_in "$WCT_NS_TX" ethtool -K "$WCT_IF_TX" tso off >/dev/null 2>&1
TMPFS=$WCT_DIR/tmpfs
mkdir -p "$TMPFS"
chmod 0777 "$TMPFS" "$WCT_DIR"
mount -t tmpfs -o size=1g tmpfs "$TMPFS" || true

gen() {
	run_in "$WCT_NS_TX" timeout 120 "$WIRECAP" gen -i "$WCT_IF_TX" --flows 64 --quiet "$@"
}

# settled CMD...: wait until CMD's output (a count) is the same in two
# answers 0.2 s apart; bounded: DRAIN seconds
settled() {
	local i prev=x cur
	for ((i = 0; i < DRAIN * 5; i++)); do
		cur=$("$@" 2>/dev/null)
		[ -n "$cur" ] && [ "$cur" = "$prev" ] && return 0
		prev=${cur:-x}
		sleep 0.2
	done
	return 1
}

# the wirecap consumer's state: frames it still holds (every worker's RX
# rings and held chunks), the XDP program's and the pools' counts; the
# same twice with nothing held: it has handled the burst
# shellcheck disable=SC2317 # called through settled
wc_backlog() {
	run_in "$WCT_NS_RX" "$WIRECAP" stats "$IF" --json --no-rate 2>/dev/null |
		jq -r '"\([.workers[] | (.rx_backlog // 0) + (.held_frames // 0)] | add // 0) \(.totals.packets) \(.totals.delivered)"' |
		awk '$1 == 0 { print $2, $3 }'
}

# tcpdump's count of packets captured (SIGUSR1 prints it to ERR)
# shellcheck disable=SC2317 # called through settled
td_count() {
	kill -USR1 "$1" || return 1
	sleep 0.1
	sed -n 's/^\(tcpdump: \)\{0,1\}\([0-9]*\) packets* captured.*/\2/p' "$2" | tail -1
}

# share CONSUMER RUN: prints "CONSUMER RUN sent matching_sent captured
# veth_drop cons_drop"
share() {
	local cons=$1 r=$2 pid f=$TMPFS/$1.pcap err=$WCT_DIR/$1.$2.err gj=$WCT_DIR/$1.$2.gen
	local ready=$WCT_DIR/ready j=$WCT_DIR/$1.$2.json sent n vd cd
	local -a cmd
	rm -f "$ready" "$f"
	case $cons in
	xdp | user)
		cmd=("$WIRECAP" capture -i "$IF" -w "$f" --ready-file "$ready" --stats-json "$j" "${POOL[@]}")
		[ "$cons" = user ] && cmd+=(--filter-in user)
		cmd+=("$EXPR")
		;;
	tcpdump) cmd=(tcpdump -Z root -i "$IF" -w "$f" "$EXPR") ;;
	esac
	wct_bg pid nsenter --net=/run/netns/"$WCT_NS_RX" -- "${cmd[@]}" >/dev/null 2>"$err"
	if [ "$cons" = tcpdump ]; then
		wct_wait_for 600 0.1 grep -q "listening on" "$err"
	else
		wct_wait_for 600 0.1 test -e "$ready"
	fi || {
		echo "bench-filter: $cons did not start: $(tr '\n' '|' <"$err")" >&2
		kill -9 "$pid" 2>/dev/null
		return 1
	}
	sleep 0.5
	gen -c "$BURST" --json "$gj"
	# let it drain: until it has handled what it holds (bounded by DRAIN)
	if [ "$cons" = tcpdump ]; then
		settled td_count "$pid" "$err"
	else
		settled wc_backlog
	fi
	kill -INT "$pid"
	timeout 30 tail --pid="$pid" -f /dev/null || kill -9 "$pid"
	wait "$pid" 2>/dev/null
	sent=$(jq -r .sent "$gj")
	n=$(capinfos_count "$f")
	vd=$(jq -r '.dev_tx_dropped // 0' "$gj")
	if [ "$cons" = tcpdump ]; then
		cd=$(sed -n 's/^\([0-9]*\) packets* dropped by kernel$/\1/p' "$err" | tail -1)
	else
		cd=$(jq -r '.dropped.total // 0' "$j" 2>/dev/null)
	fi
	rm -f "$f"
	echo "$cons $r $sent $((sent / 64)) ${n:-0} ${vd:-0} ${cd:-0}"
}

# prog_stats ID: "run_time_ns run_cnt" of a program (0 0 when unknown)
prog_stats() {
	bpftool -j prog show id "$1" 2>/dev/null |
		jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"' 2>/dev/null || echo "0 0"
}

# filter_prog_id: the program in slot 0 of the attachment's filter_progs
filter_prog_id() {
	bpftool -j map lookup pinned "$WIRECAP_PIN_ROOT/$IF/filter_progs" key 0 0 0 0 2>/dev/null |
		jq -r '.value | if type == "number" then . else (. // [] | map(ltrimstr("0x")) | reverse | join("") | "0x" + . ) end' 2>/dev/null |
		{ read -r v && printf '%d\n' "$v" 2>/dev/null || echo none; }
}

# cost NAME [EXPR]: prints "NAME insns ns_per_pkt steer_cnt filter_cnt filter_id"
cost() {
	local name=$1 expr=${2:-} steer fid s0 s1 f0 f1 insns=0
	if [ -n "$expr" ]; then
		run_in "$WCT_NS_RX" "$WIRECAP" filter "$IF" "$expr" >/dev/null || return 1
		insns=$(tcpdump -d "$expr" 2>/dev/null | wc -l)
	else
		run_in "$WCT_NS_RX" "$WIRECAP" filter "$IF" --clear >/dev/null 2>&1
	fi
	steer=$(xdp_prog_id "$WCT_NS_RX" "$IF")
	fid=none
	[ -n "$expr" ] && fid=$(filter_prog_id)
	s0=$(prog_stats "$steer")
	f0="0 0"
	[ "$fid" != none ] && f0=$(prog_stats "$fid")
	gen -c $((RATE * T)) --pps "$RATE" >/dev/null
	# the last frames leave the veth's queues: until the count settles
	settled prog_stats "$steer"
	s1=$(prog_stats "$steer")
	f1="0 0"
	[ "$fid" != none ] && f1=$(prog_stats "$fid")
	awk -v n="$name" -v i="$insns" -v id="$fid" -v s0="$s0" -v s1="$s1" -v f0="$f0" -v f1="$f1" 'BEGIN {
		split(s0, a, " "); split(s1, b, " "); split(f0, c, " "); split(f1, d, " ")
		cnt = b[2] - a[2]
		printf "%s %d %.1f %d %d %s\n", n, i, cnt ? (b[1] - a[1]) / cnt : 0, cnt, d[2] - c[2], id }'
}

echo "# filters in XDP: $EXPR (flow 2 of 64), burst of $BURST at gen's maximum,"
echo "# median of $REPEAT runs; load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
for r in $(seq 1 "$REPEAT"); do
	for cons in xdp user tcpdump; do
		share "$cons" "$r"
	done
done >"$WCT_DIR/share"
printf '%-8s %9s %9s %9s %8s %9s %9s %10s %s\n' consumer sent matching captured share veth_drop \
	cons_drop of_arrived "runs (captured)"
awk '{ c[$1] = c[$1] " " $5; s[$1] = s[$1] " " $3; m[$1] = m[$1] " " $4
	vd[$1] = vd[$1] " " $6; cd[$1] = cd[$1] " " $7
	a[$1] = a[$1] " " ($3 > $6 ? $5 / (($3 - $6) / 64) : 0) }
	function med(l,   v, n, i, j, t) {
		n = split(l, v, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n ? v[int((n + 1) / 2)] : 0 }
	END {
		split("xdp user tcpdump", k, " ")
		for (i = 1; i <= 3; i++) {
			x = k[i]; cs = med(c[x]); ms = med(m[x]); share[x] = ms ? cs / ms : 0
			printf "%-8s %9d %9d %9d %7.1f%% %9d %9d %9.1f%% %s\n", x, med(s[x]), ms, cs, 100 * share[x],
				med(vd[x]), med(cd[x]), 100 * med(a[x]), c[x]
		}
		printf "ratio xdp/user %.2f\n", share["user"] ? share["xdp"] / share["user"] : 0
		printf "ratio xdp/tcpdump %.2f\n", share["tcpdump"] ? share["xdp"] / share["tcpdump"] : 0
	}' "$WCT_DIR/share"
if [ -n "$RAWP" ]; then
	printf 'consumer\trun\tsent\tmatching\tcaptured\tveth_drop\tcons_drop\texpr\n' >"$RAWP.share.tsv"
	awk -v e="$EXPR" 'NF >= 7 { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, $3, $4, $5, $6, $7, e }' \
		"$WCT_DIR/share" >>"$RAWP.share.tsv"
fi

echo
sysctl -qw kernel.bpf_stats_enabled=1 || die "cannot enable kernel.bpf_stats_enabled"
run_in "$WCT_NS_RX" "$WIRECAP" attach "$IF" >/dev/null || die "cannot attach $IF"
echo "# XDP program cost: $RATE pps for $T s, no consumer; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
{
	cost none
	cost udp udp
	cost port "$EXPR"
} >"$WCT_DIR/cost"
run_in "$WCT_NS_RX" "$WIRECAP" detach "$IF" >/dev/null
restore_stats
printf '%-6s %-16s %6s %11s %10s %10s %s\n' filter expr insns ns/packet steer_cnt filter_cnt filter_id
awk -v e="$EXPR" '{ x = $1 == "none" ? "-" : $1 == "udp" ? "udp" : e
	printf "%-6s %-16s %6d %11.1f %10d %10d %s\n", $1, x, $2, $3, $4, $5, $6; ns[$1] = $3 }
	END {
		printf "ratio cost_udp/none %.2f\n", ns["none"] ? ns["udp"] / ns["none"] : 0
		printf "ratio cost_port/none %.2f\n", ns["none"] ? ns["port"] / ns["none"] : 0
	}' "$WCT_DIR/cost"
if [ -n "$RAWP" ]; then
	printf 'filter\texpr\tinsns\tns_per_packet\tsteer_cnt\tfilter_cnt\trate_pps\n' >"$RAWP.cost.tsv"
	awk -v e="$EXPR" -v r="$RATE" 'NF >= 5 { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1,
		($1 == "none" ? "-" : $1 == "udp" ? "udp" : e), $2, $3, $4, $5, r }' "$WCT_DIR/cost" >>"$RAWP.cost.tsv"
fi
mountpoint -q "$TMPFS" && umount "$TMPFS"
wct_finish >/dev/null
