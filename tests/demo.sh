#!/usr/bin/env bash
# wirecap demo (`make demo`, as root): builds a small veth network of its own
# (two network namespaces, a veth pair with 4 queues), attaches wirecap to the
# receiving end, captures to pcapng while `wirecap gen` sends traffic, shows
# `wirecap stats` of the running capture, checks the file with `wirecap
# verify` and tshark, shows `wirecap status` and the pinned maps, detaches and
# removes everything it made, even on failure.
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

step_in "$RX" wirecap attach "$WCT_IF_RX" --workers 2
PCAP=$WCT_DIR/demo.pcapng
printf '\n[%s] $ %s &\n' "$RX" "wirecap capture -i $WCT_IF_RX -w $PCAP --pool-chunks 1024"
run_in "$RX" timeout 120 wirecap capture -i "$WCT_IF_RX" -w "$PCAP" --pool-chunks 1024 \
	--ready-file "$WCT_DIR/ready" --stats-json "$WCT_DIR/capture.json" 2>"$WCT_DIR/capture.err" &
CAP=$!
wct_wait_for 200 0.1 test -f "$WCT_DIR/ready" || { echo "capture did not start" >&2; exit 1; }
# the generator runs in the background while stats reads the live capture
run_in "$TX" timeout 60 wirecap gen -i "$WCT_IF_TX" -c "$PACKETS" --flows 64 \
	--queues 0-3 --weights 1,2,0,1 --pps 200000 --json - >"$WCT_DIR/gen.json" &
GEN=$!
printf '\n[%s] $ %s   (while the generator sends %s packets at 200 kpps)\n' "$TX" \
	"wirecap gen -i $WCT_IF_TX -c $PACKETS --flows 64 --weights 1,2,0,1 --pps 200000" "$PACKETS"
step_in "$RX" wirecap stats "$WCT_IF_RX"
wait $GEN
sleep 0.5
# Ctrl-C: the capture drains, closes a valid file and prints its accounting
kill -INT "$(pgrep -P $CAP || echo $CAP)"
wait $CAP || true
printf '\n[capture summary, on Ctrl-C]\n'
cat "$WCT_DIR/capture.err"
step wirecap verify "$PCAP" --expect-json "$WCT_DIR/gen.json"
step sh -c "tshark -r '$PCAP' -c 3 -T fields -e frame.number -e frame.interface_queue -e ip.src -e ip.dst -e udp.srcport -e udp.dstport"
step_in "$RX" wirecap status "$WCT_IF_RX"
step ls -l "/sys/fs/bpf/wirecap/$WCT_IF_RX"
step bpftool map dump pinned "/sys/fs/bpf/wirecap/$WCT_IF_RX/config"
step_in "$RX" wirecap detach "$WCT_IF_RX"
printf '\ndemo done: the exit trap now deletes the namespaces and the veth pair\n'
