#!/bin/bash
# wirecap vmtest: PID 1 of the guest after switch_root (see vmtest/init).
#
# Mounts what the tests expect (bpffs, cgroup2, devpts,
# /dev/fd), brings up lo, eth0 and eth1 (virtio-net, 4 combined channels), runs the
# command of vmtest/run.sh ($RUN/cmd.sh, in the project directory) and exits
# QEMU through isa-debug-exit with its status: QEMU then exits (rc << 1) | 1.
# The console shows "VMTEST-RESULT: rc" just before; run.sh checks both.
# Status 125 is reserved for a failure of this script itself.
RUN=/.vmtest
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
# shellcheck source=/dev/null
set -a
. "$RUN/env"
set +a
# tests can tell they run emulated (TCG: ~20x slower) and skip rate checks
export VMTEST=1

vm_exit() {
	local rc=$1
	[ "$rc" -ge 0 ] && [ "$rc" -le 127 ] || rc=126
	sync
	echo "VMTEST-RESULT: $rc"
	printf "\\$(printf '%03o' "$rc")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	# not reached when isa-debug-exit works: QEMU exits 0, run.sh says so
	echo "vmtest: isa-debug-exit did not stop QEMU; powering off"
	echo o >/proc/sysrq-trigger
	sleep 10
	exit "$rc"
}

die() {
	echo "vmtest-guest: $*"
	vm_exit 125
}

# /tmp and /run: fresh tmpfs mounted by vmtest/init
mkdir -p /run/netns /run/lock /var/tmp /dev/pts /dev/shm /sys/fs/bpf /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t bpf -o mode=0700 bpf /sys/fs/bpf || die "cannot mount bpffs"
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
echo vmtest >/proc/sys/kernel/hostname
ulimit -l unlimited
ulimit -n 65536
# the kernel's own module loading (request_module) finds modprobe here
echo /sbin/modprobe >/proc/sys/kernel/modprobe

# a kernel oops in a test must not go unnoticed: it is printed on the
# console (loglevel), and run.sh greps the console log for it
ip link set lo up

# eth0: the NIC under test; eth1: a traffic source. On the host, everything
# sent on eth0 or eth1 comes back in on eth0 (see vmtest/run.sh).
nic_up() { # IFACE: 4 combined channels, no IPv6, up
	local eth=$1 out
	for _ in $(seq 50); do
		[ -e "/sys/class/net/$eth" ] && break
		sleep 0.1
	done
	[ -e "/sys/class/net/$eth" ] || die "no $eth (virtio-net) in the guest: $(ls /sys/class/net)"
	sysctl -qw "net.ipv6.conf.$eth.disable_ipv6=1"
	out=$(ethtool -L "$eth" combined "${VMTEST_QUEUES:-4}" 2>&1) ||
		die "ethtool -L $eth combined ${VMTEST_QUEUES:-4}: $out"
	ip link set "$eth" up || die "cannot bring $eth up"
	echo "vmtest: $eth: $(ethtool -i "$eth" | sed -n 's/^driver: //p'), $(ethtool -l "$eth" |
		awk '/^Current/ {c=1} c && /^Combined/ {print $2 " combined channels"; exit}'), mac $(cat "/sys/class/net/$eth/address")"
}
# no IPv6 anywhere: the tests count packets, and the host reflects all
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
if [ "${VMTEST_NIC:-1}" = 1 ]; then
	nic_up eth0
	nic_up eth1
fi

echo "vmtest: guest up: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo)"
cd "$VMTEST_PROJECT" || die "cannot cd $VMTEST_PROJECT"
bash "$RUN/cmd.sh" </dev/null
rc=$?
echo "vmtest: guest command exited with status $rc"
vm_exit "$rc"
