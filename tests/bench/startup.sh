#!/usr/bin/env bash
# Start-up benchmark: time from launch to --ready-file of the default
# capture engine (`wirecap capture -i IF -w /dev/null`, default pool: 4 x
# 200,000 frames, 1.5 GiB, on a 4-queue veth; not attached before, so the
# XDP program is loaded too), and the CPU time it used until then (user +
# system, /proc/PID/stat: less sensitive to a loaded machine than the wall
# time). Median of BENCH_REPEAT runs (default 3). docs/pool.md says where
# the time goes.
set -uo pipefail
. "$(dirname "$0")/../lib/net.sh"
WCT_NAME=bench-startup
REPEAT=${BENCH_REPEAT:-3}

[ "$(id -u)" -eq 0 ] || { echo "bench-startup: needs root" >&2; exit 1; }
[ -x "$WIRECAP" ] || { echo "bench-startup: missing $WIRECAP" >&2; exit 1; }

wct_init
wct_make_veth
HZ=$(getconf CLK_TCK)
D=$WCT_DIR

# pages pinned for long-term use (a UMEM's) and not released yet
pinned() { awk '/^nr_foll_pin_acquired / { a = $2 } /^nr_foll_pin_released / { r = $2 } END { print a - r }' /proc/vmstat; }
settled() { [ "$(pinned)" -le "$PINNED0" ]; }

# The kernel releases an AF_XDP UMEM in deferred work after its process
# exits (unpinning and freeing 1.5 GiB): a start right behind the last one
# would share the CPU with that. Each start waits (bounded) until the last
# engine's pages are released, as on a machine where no engine of that size
# just ended.
PINNED0=$(pinned)
one() { # prints "wall_ms cpu_ms" or "- -"
	local pid t0 t1 cpu w0
	w0=$(date +%s%N)
	wct_wait_for 200 0.05 settled ||
		echo "bench-startup: the last engine's pages are still pinned after 10 s" >&2
	echo "#   waited $((($(date +%s%N) - w0) / 1000000)) ms for the last engine's pages" >&2
	rm -f "$D/r"
	t0=$(date +%s%N)
	nsenter --net=/run/netns/"$WCT_NS_RX" -- timeout 300 "$WIRECAP" capture \
		-i "$WCT_IF_RX" -w /dev/null --ready-file "$D/r" -q 2>"$D/err" &
	pid=$!
	if ! wct_wait_for 30000 0.01 test -e "$D/r"; then
		echo "bench-startup: no ready file: $(head -1 "$D/err")" >&2
		kill -INT "$pid" 2>/dev/null
		echo "- -"
		return
	fi
	t1=$(date +%s%N)
	# the engine is timeout's child
	cpu=$(awk -v hz="$HZ" '{ printf "%d", ($14 + $15) * 1000 / hz }' \
		"/proc/$(pgrep -P "$pid" | head -1)/stat" 2>/dev/null)
	kill -INT "$pid" 2>/dev/null
	timeout 60 tail --pid="$pid" -f /dev/null
	echo "$(((t1 - t0) / 1000000)) ${cpu:--}"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'; }

RAWF=${BENCH_STARTUP_RAW:-}
[ -z "$RAWF" ] || printf 'run\twall_ms\tcpu_ms\tload1\n' >"$RAWF"
walls=
cpus=
for ((i = 1; i <= REPEAT; i++)); do
	read -r w c < <(one)
	[ -z "$RAWF" ] || printf '%d\t%s\t%s\t%s\n' "$i" "$w" "$c" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RAWF"
	printf '#   run %d: ready after %s ms, %s ms of CPU (load %s)\n' "$i" "$w" "$c" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	[ "$w" = - ] || walls="$walls $w"
	[ "$c" = - ] || cpus="$cpus $c"
done
printf 'startup default engine (4 queues, 1.5 GiB pool): median %s ms to --ready-file, %s ms CPU (%d runs; load average %s)\n' \
	"$(printf '%s\n' $walls | median)" "$(printf '%s\n' $cpus | median)" "$REPEAT" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
