# shellcheck shell=bash
# Helpers for wirecap integration tests. Source it from a tests/integ/test_*.sh:
#
#   . "$(dirname "$0")/../lib/net.sh"
#   wct_init                 # root check, temp dir, private bpffs, EXIT trap
#   wct_make_veth            # two namespaces, a 4-queue veth pair between them
#   run_in "$WCT_NS_RX" "$WIRECAP" attach "$WCT_IF_RX"
#   check_eq "name" expected actual
#   wct_finish               # prints the summary, exit status 1 on any FAIL
#
# Network: two namespaces wct-<id>-tx and wct-<id>-rx, a veth pair with 4 tx and
# 4 rx queues per end: $WCT_IF_TX (198.18.0.1/24, in $WCT_NS_TX) and
# $WCT_IF_RX (198.18.0.2/24, in $WCT_NS_RX). Only 198.18.0.0/15 is used.
#
# Pins. `run_in NS cmd` is `nsenter --net=/run/netns/NS cmd`: it enters only
# the network namespace, so every command sees the same file systems as the
# test itself. (`ip netns exec` remounts /sys, and a bpffs mounted inside it
# is a private instance that vanishes when the command exits: a later
# `wirecap status` would find no pins.) WIRECAP_PIN_ROOT points at a bpffs
# the test mounts at $WCT_DIR/bpf: every command of the test shares it, tests
# running side by side (or a real attachment of the host in
# /sys/fs/bpf/wirecap) never collide, and cleanup is one umount. A test can
# still use the default root (unset WIRECAP_PIN_ROOT for one command): the
# interface names are random, and the EXIT trap removes their pin
# directories under /sys/fs/bpf/wirecap.
#
# Every wait is bounded: wct_wait_for loops at most N times and commands
# that could hang run under `timeout`.
#
# Slow machines (the vmtest guest, VMTEST=1): see WCT_SLOW below. The tests
# scale their workload with wct_rate / wct_count / wct_time / wct_tries /
# wct_pace, reconcile frames the sending veth dropped before XDP with
# wct_arrived / check_arrived, and report the few checks that are about the
# host's speed itself with `skip` (a `SKIP:` line). On the host (WCT_SLOW=1)
# all of it is the identity: every check is as strict as written.

WCT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WC_BUILD=${WC_BUILD:-build}
case "$WC_BUILD" in /*) ;; *) WC_BUILD="$WCT_ROOT/$WC_BUILD" ;; esac
WIRECAP=${WIRECAP:-$WC_BUILD/wirecap}
# the traffic source of tests that do not test the generator itself (run.sh
# --san points it at the plain build: a sanitized sender is too slow for
# the burst scenarios, and it is not what those tests are about)
WIRECAP_GEN=${WIRECAP_GEN:-$WIRECAP}

# Emulation. vmtest/guest.sh exports VMTEST=1: the tests then run in a QEMU
# guest under TCG, some 10-20x slower than the host (which is shared, so
# by different amounts from run to run). WCT_SLOW is how many times slower
# than the host the tests take this machine to be: 1 on the host, 10 when
# VMTEST=1; set it in the environment to override (an integer >= 1).
# With WCT_SLOW > 1 the tests scale their workload: rates and packet counts
# (wct_rate, wct_count) divided by it, bounded waits (wct_time, wct_tries)
# multiplied by it, so that each test still checks the same property at a
# speed the machine sustains. With WCT_SLOW=1 (the host) every helper below
# is the identity and every check is exactly as strict as without them.
if [ -z "${WCT_SLOW:-}" ]; then
	if [ "${VMTEST:-0}" = 1 ]; then WCT_SLOW=10; else WCT_SLOW=1; fi
fi
if ! [[ $WCT_SLOW =~ ^[1-9][0-9]*$ ]]; then
	echo "net.sh: WCT_SLOW must be an integer >= 1, got '$WCT_SLOW'" >&2
	exit 2
fi
# WCT_GEN_PPS: the rate of generator runs that send "as fast as possible"
# on the host (empty: top speed). On a slow machine top speed overruns the
# receiving veth (its 256-entry ring fills while NAPI waits for the
# emulated CPU and veth drops on the sender's side): 50000 / WCT_SLOW.
if [ -z "${WCT_GEN_PPS+x}" ]; then
	if [ "$WCT_SLOW" -gt 1 ]; then WCT_GEN_PPS=$((50000 / WCT_SLOW)); else WCT_GEN_PPS=; fi
fi

# WCT_POOL: the pool option of captures whose pool size is not what they
# test. The default pool (200 ms at 1 Mpps per queue, 1.5 GiB on a 4-queue
# veth) takes 2-8 s to pin here; 1024 chunks of 64 frames per queue (512
# MiB) still hold ~0.5 s of the tests' traffic and start in ~0.5 s.
WCT_POOL=(--pool-chunks "${WCT_POOL_CHUNKS:-1024}")
# wct_pool_args ARGS...: WCT_POOL unless ARGS choose a pool themselves
wct_pool_args() {
	case " $* " in *" --pool-chunks "*) ;; *) printf '%s\n' "${WCT_POOL[@]}" ;; esac
}

WCT_PASS=0
WCT_FAIL=0
WCT_SKIP=0
WCT_PIDS=()
WCT_NETNS=()
WCT_DIR=
WCT_NAME=$(basename "$0" .sh)

log() { printf '# %s\n' "$*"; }

# ---- assertions ------------------------------------------------------------

pass() {
	WCT_PASS=$((WCT_PASS + 1))
	printf 'PASS: %s: %s\n' "$WCT_NAME" "$1"
}

fail() {
	WCT_FAIL=$((WCT_FAIL + 1))
	printf 'FAIL: %s: %s\n' "$WCT_NAME" "$*"
}

# skip CHECK REASON: a check that cannot hold on this machine (only where
# it is about the host's speed itself, WCT_SLOW > 1): one line
# `SKIP: <test>: <check>: <reason>`, counted by tests/run.sh
skip() {
	WCT_SKIP=$((WCT_SKIP + 1))
	printf 'SKIP: %s: %s: %s\n' "$WCT_NAME" "$1" "$2"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# check_ne NAME UNEXPECTED ACTUAL
check_ne() {
	if [ "$2" != "$3" ]; then
		pass "$1"
	else
		fail "$1: got '$3'"
	fi
}

# check_match NAME EXTENDED-REGEX STRING
# (grep reads all its input, no -q: under pipefail an early exit of grep
# kills the writer with SIGPIPE and fails the pipeline at random)
check_match() {
	if printf '%s' "$3" | grep -E -- "$2" >/dev/null; then
		pass "$1"
	else
		fail "$1: '$3' does not match /$2/"
	fi
}

check_nomatch() {
	if printf '%s' "$3" | grep -E -- "$2" >/dev/null; then
		fail "$1: '$3' matches /$2/"
	else
		pass "$1"
	fi
}

# check_ok NAME CMD...: CMD exits 0 (output shown on failure)
check_ok() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$name"
	else
		fail "$name: exit $rc: $(printf '%s' "$out" | tail -n 5)"
	fi
}

# check_fails NAME CMD...: CMD exits non-zero; its stderr+stdout is left in
# $WCT_OUT for further checks
check_fails() {
	local name=$1 rc=0
	shift
	WCT_OUT=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		pass "$name (exit $rc)"
	else
		fail "$name: exited 0: $WCT_OUT"
	fi
}

# check_range NAME LO HI VALUE: LO <= VALUE < HI (numbers, fractions allowed)
check_range() {
	if awk -v v="$4" -v lo="$2" -v hi="$3" \
		'BEGIN { exit !(v ~ /^-?[0-9]+(\.[0-9]+)?$/ && v + 0 >= lo + 0 && v + 0 < hi + 0) }'; then
		pass "$1"
	else
		fail "$1: '$4' not in [$2, $3)"
	fi
}

# check_paced NAME N PPS ELAPSED: a sender paced at PPS took at least the
# time N packets need at that rate ((N - 1) / PPS s from the first to the
# last) minus 50 ms of slack (the first packet may leave a little after the
# schedule starts, later still on a loaded machine). The one check of a paced
# sender that holds on any machine: never faster than asked (how close to
# the rate it gets belongs in `make bench`, which reports it).
check_paced() {
	local min
	min=$(awk -v n="$2" -v r="$3" 'BEGIN { m = (n - 1) / r - 0.05; printf "%.6f", m < 0 ? 0 : m }')
	if awk -v e="$4" -v m="$min" 'BEGIN { exit !(e ~ /^[0-9]+(\.[0-9]+)?$/ && e + 0 >= m + 0) }'; then
		pass "$1 ($2 packets in $4 s >= $min s)"
	else
		fail "$1: $2 packets at $3 pps in $4 s: faster than asked (< $min s)"
	fi
}

# wct_finish: summary line; exits 1 when anything failed
wct_finish() {
	if [ "$WCT_SKIP" -gt 0 ]; then
		printf '# %s: %d passed, %d failed, %d skipped\n' "$WCT_NAME" "$WCT_PASS" \
			"$WCT_FAIL" "$WCT_SKIP"
	else
		printf '# %s: %d passed, %d failed\n' "$WCT_NAME" "$WCT_PASS" "$WCT_FAIL"
	fi
	[ "$WCT_FAIL" -eq 0 ] || exit 1
	exit 0
}

# ---- set-up and clean-up ------------------------------------------------------

wct_rand() { od -An -N3 -tx1 /dev/urandom | tr -d ' \n'; }

wct_cleanup() {
	local rc=$? pid ns
	set +e
	for pid in "${WCT_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && timeout 5 tail --pid="$pid" -f /dev/null
		kill -9 "$pid" 2>/dev/null
	done
	for ns in "${WCT_NETNS[@]}"; do
		# deleting a namespace deletes its veth end (and the peer with it)
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "${WCT_ID:-}" ]; then
		rm -rf /sys/fs/bpf/wirecap/wct"$WCT_ID"a /sys/fs/bpf/wirecap/wct"$WCT_ID"b \
			2>/dev/null
	fi
	if [ -n "$WCT_DIR" ] && [ -d "$WCT_DIR" ]; then
		# every mount a test made under its directory (the bpffs, a
		# tmpfs), deepest first, before the directory goes
		findmnt -rn -o TARGET | grep -F "$WCT_DIR/" | sort -r |
			while read -r mp; do umount "$mp" 2>/dev/null; done
		rm -rf "$WCT_DIR"
	fi
	exit "$rc"
}

# wct_init: must be root; private temp dir with a bpffs for the pins
wct_init() {
	if [ "$(id -u)" -ne 0 ]; then
		fail "integration tests need root (network namespaces, XDP)"
		exit 1
	fi
	if [ ! -x "$WIRECAP" ]; then
		fail "no wirecap binary at $WIRECAP (run make, or set WC_BUILD)"
		exit 1
	fi
	WCT_ID=$(wct_rand)
	WCT_DIR=$(mktemp -d /tmp/wct-"$WCT_ID"-XXXX)
	trap wct_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$WCT_DIR/bpf"
	mount -t bpf bpf "$WCT_DIR/bpf"
	chmod 0700 "$WCT_DIR/bpf"
	export WIRECAP_PIN_ROOT="$WCT_DIR/bpf"
}

# wct_add_netns NS: a namespace removed at exit, lo up, no IPv6 (no ND,
# MLD, DAD packets: tests count packets exactly)
wct_add_netns() {
	ip netns add "$1"
	WCT_NETNS+=("$1")
	run_in "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

# wct_make_veth [GRO]: namespaces + 4-queue veth pair; GRO=1 turns GRO on
# (and threaded NAPI) on the receiving end
wct_make_veth() {
	local ns
	WCT_NS_TX=wct-$WCT_ID-tx
	WCT_NS_RX=wct-$WCT_ID-rx
	WCT_IF_TX=wct${WCT_ID}a
	WCT_IF_RX=wct${WCT_ID}b
	WCT_IP_TX=198.18.0.1
	WCT_IP_RX=198.18.0.2
	for ns in "$WCT_NS_TX" "$WCT_NS_RX"; do
		wct_add_netns "$ns"
	done
	wct_add_veth "${1:-0}"
}

# wct_add_veth [GRO]: (re)create the veth pair in the existing namespaces
wct_add_veth() {
	local gro=${1:-0}
	ip -n "$WCT_NS_TX" link add "$WCT_IF_TX" numtxqueues 4 numrxqueues 4 \
		type veth peer name "$WCT_IF_RX" netns "$WCT_NS_RX" \
		numtxqueues 4 numrxqueues 4
	ip -n "$WCT_NS_TX" addr add "$WCT_IP_TX/24" dev "$WCT_IF_TX"
	ip -n "$WCT_NS_RX" addr add "$WCT_IP_RX/24" dev "$WCT_IF_RX"
	ip -n "$WCT_NS_TX" link set "$WCT_IF_TX" up
	ip -n "$WCT_NS_RX" link set "$WCT_IF_RX" up
	# shellcheck disable=SC2034 # for the tests
	WCT_MAC_TX=$(ip -n "$WCT_NS_TX" -br link show "$WCT_IF_TX" | awk '{print $3}')
	# shellcheck disable=SC2034
	WCT_MAC_RX=$(ip -n "$WCT_NS_RX" -br link show "$WCT_IF_RX" | awk '{print $3}')
	if [ "$gro" = 1 ]; then
		run_in "$WCT_NS_RX" ethtool -K "$WCT_IF_RX" gro on >/dev/null
		# sysfs of the namespace: needs ip netns exec (remounts /sys)
		ip netns exec "$WCT_NS_RX" sh -c \
			"echo 1 > /sys/class/net/$WCT_IF_RX/threaded" 2>/dev/null || true
	fi
	wct_wait_for 50 0.1 wct_link_up "$WCT_NS_TX" "$WCT_IF_TX"
}

# wct_make_middlebox: three namespaces and two 4-queue veth pairs, all up,
# for the forwarding tests and bench (no addresses: the caller adds what it
# needs). Sets NS_C, NS_M, NS_S and IF_C, IF_A, IF_B, IF_S:
#
#   client IF_C --veth-- IF_A [middlebox NS_M] IF_B --veth-- IF_S server
wct_make_middlebox() {
	local ns l
	NS_C=wct-$WCT_ID-c
	NS_M=wct-$WCT_ID-m
	NS_S=wct-$WCT_ID-s
	IF_C=wct${WCT_ID}c
	IF_A=wct${WCT_ID}d
	IF_B=wct${WCT_ID}e
	IF_S=wct${WCT_ID}f
	for ns in "$NS_C" "$NS_M" "$NS_S"; do
		wct_add_netns "$ns"
	done
	ip -n "$NS_C" link add "$IF_C" numtxqueues 4 numrxqueues 4 type veth \
		peer name "$IF_A" netns "$NS_M" numtxqueues 4 numrxqueues 4
	ip -n "$NS_S" link add "$IF_S" numtxqueues 4 numrxqueues 4 type veth \
		peer name "$IF_B" netns "$NS_M" numtxqueues 4 numrxqueues 4
	for l in "$NS_C $IF_C" "$NS_M $IF_A" "$NS_M $IF_B" "$NS_S $IF_S"; do
		# shellcheck disable=SC2086
		set -- $l
		ip -n "$1" link set "$2" up
	done
	wct_wait_for 50 0.1 wct_link_up "$NS_M" "$IF_A"
	wct_wait_for 50 0.1 wct_link_up "$NS_M" "$IF_B"
}

# wct_del_veth: delete the pair (both ends)
wct_del_veth() {
	ip -n "$WCT_NS_TX" link del "$WCT_IF_TX"
}

wct_link_up() {
	ip -n "$1" -br link show "$2" | grep ' UP ' >/dev/null
}

# xdp_prog_id NS IFACE: id of the XDP program attached (any mode), or none
xdp_prog_id() {
	ip -j -n "$1" link show "$2" |
		jq -r '.[0].xdp.prog.id // (.[0].xdp.attached[0].prog.id) // "none"'
}

# check_error NAME REGEX CMD...: CMD exits non-zero and prints exactly one
# line on stderr (nothing on stdout), matching REGEX
check_error() {
	local name=$1 re=$2 rc=0 err out nl
	shift 2
	err=$(mktemp "$WCT_DIR/err.XXXX")
	out=$("$@" 2>"$err") || rc=$?
	WCT_OUT=$(cat "$err")
	rm -f "$err"
	nl=$(printf '%s' "$WCT_OUT" | grep -c .)
	if [ "$rc" -eq 0 ]; then
		fail "$name: exited 0 (stdout: $out)"
	elif [ "$nl" -ne 1 ] || [ -n "$out" ]; then
		fail "$name: expected one line on stderr, got $nl (stdout '$out'): $(printf '%s' "$WCT_OUT" | tr '\n' '|')"
	elif ! printf '%s' "$WCT_OUT" | grep -E -- "$re" >/dev/null; then
		fail "$name: '$WCT_OUT' does not match /$re/"
	else
		pass "$name"
	fi
}

# run_in NS CMD...: run CMD in the network namespace NS only (see above)
run_in() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" -- "$@"
}

# wct_bg PIDVAR CMD...: start CMD in the background, remember its PID for
# the EXIT trap, and store it in PIDVAR
wct_bg() {
	local var=$1
	shift
	"$@" &
	WCT_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

# wct_wait_for N SEC CMD...: retry CMD up to N times, SEC apart
wct_wait_for() {
	local n=$1 s=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep "$s"
	done
	return 1
}

# ---- scaling for slow (emulated) machines (see WCT_SLOW above) ---------------

wct_slow() { [ "$WCT_SLOW" -gt 1 ]; }

# wct_rate PPS, wct_count N: a rate or a packet count of the host's workload,
# divided by WCT_SLOW (at least 1)
wct_rate() {
	local n=$(($1 / WCT_SLOW))
	[ "$n" -ge 1 ] || n=1
	echo "$n"
}
wct_count() { wct_rate "$1"; }

# wct_time SEC: a duration or a timeout, multiplied by WCT_SLOW (fractions
# allowed; printed as the host writes it when WCT_SLOW is 1)
wct_time() {
	if [ "$WCT_SLOW" -eq 1 ]; then
		echo "$1"
	else
		awk -v s="$1" -v k="$WCT_SLOW" 'BEGIN { print s * k }'
	fi
}

# wct_tries N: the retry count of a bounded wait (wct_wait_for N ...),
# multiplied by WCT_SLOW
wct_tries() { echo $(($1 * WCT_SLOW)); }

# wct_pace: "--pps N" for a generator that sends at top speed on the host
# (nothing there); see WCT_GEN_PPS
wct_pace() { [ -n "$WCT_GEN_PPS" ] && echo "--pps $WCT_GEN_PPS"; }

# Frames that never reached the receiver. On a slow machine the sending
# veth may drop frames on the sender's side (its peer's ring is full while
# NAPI waits for the emulated CPU), before any XDP program sees them; `wirecap
# gen --json` reports them as dev_tx_dropped (the device's tx_dropped).
# wct_gen_dropped GEN_JSON: that count when WCT_SLOW > 1, else 0 (on the
# host the tests require that nothing is lost on the wire)
wct_gen_dropped() {
	local d=0
	if wct_slow; then
		d=$(jq -r '.dev_tx_dropped // 0' <<<"$1" 2>/dev/null)
		[[ $d =~ ^[0-9]+$ ]] || d=0
	fi
	echo "$d"
}

# wct_arrived GEN_JSON [N]: the packets that reached the receiving device:
# N (default: the JSON's .sent) on the host, N - .dev_tx_dropped when
# WCT_SLOW > 1
wct_arrived() {
	local n=${2:-}
	[ -n "$n" ] || n=$(jq -r .sent <<<"$1")
	echo $((n - $(wct_gen_dropped "$1")))
}

# check_arrived NAME N GEN_JSON ACTUAL: ACTUAL == N, the count the host
# requires; when WCT_SLOW > 1, ACTUAL == N - the frames the sending veth
# dropped (.dev_tx_dropped of GEN_JSON): every frame still accounted for,
# exactly (the check's name says so when there were such drops)
check_arrived() {
	local d
	d=$(wct_gen_dropped "$3")
	if [ "$d" = 0 ]; then
		check_eq "$1" "$2" "$4"
	else
		check_eq "$1 ($d dropped by the sending veth)" "$(($2 - d))" "$4"
	fi
}

# json EXPR: jq -r on stdin, one line
json() { jq -r "$1"; }

# wct_config_set_u32 PIN_DIR OFFSET VALUE: set the __u32 at byte OFFSET of
# the config map (struct wc_config in include/wirecap/wc_layout.h) to VALUE
# (0..65535) with bpftool, as a user would
wct_config_set_u32() {
	local bytes
	bytes=$(bpftool -j map lookup pinned "$1/config" key 0 0 0 0 |
		jq -r --argjson o "$2" --arg lo "$(printf '0x%02x' $(($3 & 255)))" \
			--arg hi "$(printf '0x%02x' $(($3 >> 8 & 255)))" \
			'.value | .[$o] = $lo | .[$o+1] = $hi | .[$o+2] = "0x00" |
			 .[$o+3] = "0x00" | join(" ")')
	# shellcheck disable=SC2086
	bpftool map update pinned "$1/config" key 0 0 0 0 value $bytes
}

# capinfos_count FILE: packets in a pcap/pcapng file (capinfos does not
# dissect: much faster than tshark on a loaded machine)
capinfos_count() {
	timeout 120 capinfos -M -c "$1" 2>/dev/null |
		awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'
}
