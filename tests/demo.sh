#!/usr/bin/env bash
# wirecap demo (`make demo`, as root): builds a small veth network of its own
# (two network namespaces, a veth pair with 4 queues), attaches wirecap to the
# receiving end, sends traffic with `wirecap gen`, shows `wirecap status` and
# the pinned maps, detaches and removes everything it made, even on failure.
#
# To extend it, add `step ...` lines; `step_in NS ...` runs in a namespace.
set -eu
# shellcheck source=lib/net.sh
. "$(dirname "$0")/lib/net.sh"
WCT_NAME=demo # used by net.sh in PASS/FAIL lines
export WCT_NAME

PACKETS=${DEMO_PACKETS:-200000}

# step_in NS CMD...: show the command, run it in namespace NS
step_in() {
	local ns=$1
	shift
	printf '\n[%s] $ %s\n' "$ns" "$*"
	run_in "$ns" "$@"
}

# step CMD...: show and run on the host
step() {
	printf '\n$ %s\n' "$*"
	"$@"
}

wct_init
# the demo pins where users find them: /sys/fs/bpf/wirecap/<ifname>
# (the interface names are random; the exit trap removes their pins)
unset WIRECAP_PIN_ROOT
wct_make_veth
PATH=$(dirname "$WIRECAP"):$PATH
TX=$WCT_NS_TX
RX=$WCT_NS_RX

cat <<EOF
wirecap demo
  namespace $TX: $WCT_IF_TX ($WCT_IP_TX), sends with wirecap gen (AF_XDP)
  namespace $RX: $WCT_IF_RX ($WCT_IP_RX), wirecap's XDP program attached
  veth pair with 4 queues; tx queue q of one end is rx queue q of the other
EOF

step_in "$RX" wirecap attach "$WCT_IF_RX"
step_in "$TX" timeout 60 wirecap gen -i "$WCT_IF_TX" -c "$PACKETS" --flows 64 \
	--queues 0-3 --weights 1,2,0,1
sleep 0.2
step_in "$RX" wirecap status "$WCT_IF_RX"
step ls -l "/sys/fs/bpf/wirecap/$WCT_IF_RX"
step bpftool map dump pinned "/sys/fs/bpf/wirecap/$WCT_IF_RX/config"
step_in "$RX" wirecap detach "$WCT_IF_RX"
printf '\ndemo done: the exit trap now deletes the namespaces and the veth pair\n'
