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

WCT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WC_BUILD=${WC_BUILD:-build}
case "$WC_BUILD" in /*) ;; *) WC_BUILD="$WCT_ROOT/$WC_BUILD" ;; esac
WIRECAP=${WIRECAP:-$WC_BUILD/wirecap}
# the traffic source of tests that do not test the generator itself (run.sh
# --san points it at the plain build: a sanitized sender is too slow for
# the burst scenarios, and it is not what those tests are about)
WIRECAP_GEN=${WIRECAP_GEN:-$WIRECAP}

WCT_PASS=0
WCT_FAIL=0
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
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		pass "$1"
	else
		fail "$1: '$3' does not match /$2/"
	fi
}

check_nomatch() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
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

# wct_finish: summary line; exits 1 when anything failed
wct_finish() {
	printf '# %s: %d passed, %d failed\n' "$WCT_NAME" "$WCT_PASS" "$WCT_FAIL"
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
		mountpoint -q "$WCT_DIR/bpf" && umount "$WCT_DIR/bpf"
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
		ip netns add "$ns"
		WCT_NETNS+=("$ns")
		# no IPv6 (no ND, MLD, DAD packets): tests count packets exactly
		run_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
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

# wct_del_veth: delete the pair (both ends)
wct_del_veth() {
	ip -n "$WCT_NS_TX" link del "$WCT_IF_TX"
}

wct_link_up() {
	ip -n "$1" -br link show "$2" | grep -q ' UP '
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
	elif ! printf '%s' "$WCT_OUT" | grep -Eq -- "$re"; then
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
