#!/usr/bin/env bash
# Install the Debian 12 packages wirecap needs to build and test.
# Idempotent and quiet when everything is present (`make deps`).
set -euo pipefail

PKGS=(
	build-essential clang llvm pkg-config
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev libpcap-dev libjson-c-dev check
	bpftool xdp-tools iproute2 ethtool procps util-linux jq tshark tcpdump nfdump softflowd iputils-ping python3 gnuplot-nox libcap2-bin
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no, non-interactively
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
