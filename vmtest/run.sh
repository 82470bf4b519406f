#!/usr/bin/env bash
# wirecap vmtest: run the test suite inside a QEMU guest on Debian's 6.1 LTS
# kernel, with a 4-queue virtio-net NIC. Needs root. See docs/vmtest.md.
#
#   vmtest/run.sh [options] [-- CMD [ARG...]]
#
# Without CMD the guest runs vmtest/suite.sh: the integration tests
# (tests/run.sh --integ-only) and vmtest/tests/test_*.sh (virtio-net), and
# prints their "N passed, N failed, N skipped". With CMD it runs CMD in the project
# directory instead (`vmtest/run.sh -- bash -c 'uname -r; ethtool -l eth0'`).
# The exit status is the guest command's; 125 and above are harness errors.
#
# Options (and environment variables):
#   --timeout SEC        whole run, boot included (VMTEST_TIMEOUT, 5400)
#   --boot-timeout SEC   until the guest is up (VMTEST_BOOT_TIMEOUT, 240)
#   --mem MIB            guest memory (VMTEST_MEM, 4096)
#   --smp N              guest CPUs (VMTEST_SMP, 2)
#   --kernel-pkg NAME    kernel package, e.g. linux-image-6.1.0-56-amd64
#                        (VMTEST_KERNEL_PKG; default: what linux-image-amd64
#                        depends on if that is 6.1, else the newest 6.1.0-N-amd64)
#   --prepare            install, download and build the cache, do not boot
#   --log FILE           console log (VMTEST_LOG, vmtest/cache/console.log)
# Environment: VMTEST_CACHE (vmtest/cache), WC_BUILD (build), VMTEST_APPEND
# (extra kernel command line), QEMU (qemu-system-x86_64).
#
# Exit status: the guest command's (0..124), or
#   125  the guest could not set up (init/guest.sh error, see the console)
#   126  QEMU exited without a result: guest panic or power-off
#   127  boot timeout or run timeout
#   128  QEMU failed (did not start, or an unexpected exit code)
#   2    usage / host preparation errors (packages, kernel, initramfs, tap)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT=$(cd "$HERE/.." && pwd)
CACHE=${VMTEST_CACHE:-$HERE/cache}
TIMEOUT=${VMTEST_TIMEOUT:-5400}
BOOT_TIMEOUT=${VMTEST_BOOT_TIMEOUT:-240}
MEM=${VMTEST_MEM:-4096}
SMP=${VMTEST_SMP:-2}
KPKG=${VMTEST_KERNEL_PKG:-}
LOG=${VMTEST_LOG:-}
QEMU=${QEMU:-qemu-system-x86_64}
PREPARE_ONLY=0
QUEUES=4
# tap queues: the NIC's queue pairs. virtio_net needs a free TX queue per CPU
# for XDP_TX/redirect (curr + nr_cpus <= max), so offer more than the 4 used.
TAP_QUEUES=8
# modules the initramfs loads; everything else comes from the 9p-shared
# module tree through modprobe once the guest runs
INITRD_MODS="virtio_pci virtio_net virtio_rng 9pnet_virtio 9p overlay"

say() { printf 'vmtest: %s\n' "$*" >&2; }
die() {
	local rc=$1
	shift
	printf 'vmtest: error: %s\n' "$*" >&2
	exit "$rc"
}

usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; }

CMD=()
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--boot-timeout) BOOT_TIMEOUT=${2:?}; shift 2 ;;
	--mem) MEM=${2:?}; shift 2 ;;
	--smp) SMP=${2:?}; shift 2 ;;
	--kernel-pkg) KPKG=${2:?}; shift 2 ;;
	--log) LOG=${2:?}; shift 2 ;;
	--prepare) PREPARE_ONLY=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; CMD=("$@"); break ;;
	*) die 2 "unknown argument '$1' (a guest command goes after --; see --help)" ;;
	esac
done
for v in TIMEOUT BOOT_TIMEOUT MEM SMP; do
	[[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die 2 "$v must be a positive integer, got '${!v}'"
done

[ "$(id -u)" -eq 0 ] || die 2 "must run as root (tap device, network namespace, /dev/net/tun)"
[[ $PROJECT =~ ^[A-Za-z0-9/._+-]+$ ]] ||
	die 2 "the project path '$PROJECT' has characters the guest's init cannot pass on"
mkdir -p "$CACHE" || die 2 "cannot create $CACHE"
LOG=${LOG:-$CACHE/console.log}

# ---- host packages --------------------------------------------------------------
apt_updated=0
apt_update() {
	[ "$apt_updated" = 1 ] && return 0
	say "apt-get update"
	timeout 600 apt-get update -qq >/dev/null 2>"$CACHE/apt.err" ||
		die 2 "apt-get update failed: $(tail -n 3 "$CACHE/apt.err")"
	apt_updated=1
}

need_pkgs=()
command -v "$QEMU" >/dev/null || need_pkgs+=(qemu-system-x86)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
command -v modprobe >/dev/null && command -v depmod >/dev/null || need_pkgs+=(kmod)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	say "installing ${need_pkgs[*]}"
	if ! DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -qq \
		--no-install-recommends "${need_pkgs[@]}" >"$CACHE/apt.log" 2>&1; then
		apt_update
		DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -qq \
			--no-install-recommends "${need_pkgs[@]}" >"$CACHE/apt.log" 2>&1 ||
			die 2 "apt-get install ${need_pkgs[*]} failed: $(tail -n 3 "$CACHE/apt.log")"
	fi
fi
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" | grep -q 'statically linked' || die 2 "$BUSYBOX is not static (install busybox-static)"
for t in ip tc ethtool nsenter timeout dpkg-deb; do
	command -v "$t" >/dev/null || die 2 "$t is not installed"
done

# ---- the 6.1 kernel ---------------------------------------------------------------
# newest cached kernel, for a run without apt metadata
cached_kver() {
	local d
	for d in "$CACHE"/6.1.*/.complete; do
		[ -e "$d" ] && basename "$(dirname "$d")"
	done | sort -V | tail -n 1
}

resolve_pkg() {
	local p
	p=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9]*-[0-9]*-amd64\)$/\1/p' | head -n 1)
	[ -n "$p" ] || p=$(apt-cache pkgnames linux-image-6.1. 2>/dev/null |
		grep -E '^linux-image-6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -n 1)
	printf '%s' "$p"
}

if [ -z "$KPKG" ]; then
	KPKG=$(resolve_pkg)
	if [ -z "$KPKG" ] && [ -z "$(cached_kver)" ]; then
		apt_update
		KPKG=$(resolve_pkg)
	fi
fi
if [ -n "$KPKG" ]; then
	[[ $KPKG =~ ^linux-image-(.+)$ ]] || die 2 "'$KPKG' is not a linux-image-* package"
	KVER=${BASH_REMATCH[1]}
	case "$KVER" in *-cloud-amd64)
		say "warning: the -cloud kernel lacks 9p and /dev/port; this will not boot the harness" ;;
	esac
else
	KVER=$(cached_kver)
	[ -n "$KVER" ] || die 2 "no Debian 6.1 kernel package found: neither linux-image-amd64 \
nor apt-cache pkgnames offer linux-image-6.1.0-N-amd64 (sources: bookworm main; try \
apt-get update, or --kernel-pkg NAME)"
	say "no kernel package in the apt metadata; using the cached $KVER"
fi
KDIR=$CACHE/$KVER
KROOT=$KDIR/root
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
MODDIR=$KROOT/lib/modules/$KVER

if [ ! -e "$KDIR/.complete" ]; then
	mkdir -p "$CACHE/debs"
	deb=$(ls "$CACHE/debs/${KPKG}_"*.deb 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$deb" ]; then
		say "downloading $KPKG"
		# apt drops privileges to _apt for downloads: let it write there
		chmod 0777 "$CACHE/debs" 2>/dev/null
		if ! (cd "$CACHE/debs" && timeout 900 apt-get download -q "$KPKG") \
			>"$CACHE/apt.log" 2>&1; then
			apt_update
			(cd "$CACHE/debs" && timeout 900 apt-get download -q "$KPKG") \
				>"$CACHE/apt.log" 2>&1 ||
				die 2 "download of $KPKG failed: $( (grep '^E:' "$CACHE/apt.log" || tail -n 1 "$CACHE/apt.log") | head -n 1)"
		fi
		deb=$(ls "$CACHE/debs/${KPKG}_"*.deb 2>/dev/null | sort -V | tail -n 1)
		[ -n "$deb" ] || die 2 "apt-get download $KPKG left no .deb in $CACHE/debs"
	fi
	say "extracting $(basename "$deb")"
	tmp=$CACHE/.extract-$KVER.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; die 2 "dpkg-deb -x $deb failed (corrupt download? delete it and retry)"; }
	[ -f "$tmp/root/boot/vmlinuz-$KVER" ] && [ -d "$tmp/root/lib/modules/$KVER" ] ||
		{ rm -rf "$tmp"; die 2 "$deb has no boot/vmlinuz-$KVER or lib/modules/$KVER"; }
	# the .deb ships no modules.dep (its postinst runs depmod)
	depmod -b "$tmp/root" "$KVER" || { rm -rf "$tmp"; die 2 "depmod on the extracted modules failed"; }
	rm -rf "$KDIR"
	mv "$tmp" "$KDIR" && touch "$KDIR/.complete" || die 2 "cannot move the kernel into $KDIR"
fi

# ---- initramfs: busybox, /init, the boot modules ----------------------------------------
INITRD=$KDIR/initramfs.cpio.gz
key=$( {
	cat "$HERE/init"
	echo "$INITRD_MODS"
	"$BUSYBOX" 2>&1 | head -n 1
} | sha256sum | cut -c1-16)
if [ ! -s "$INITRD" ] || [ "$(cat "$KDIR/initramfs.key" 2>/dev/null)" != "$key" ]; then
	say "building the initramfs"
	tmp=$KDIR/.initrd.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"/{bin,sbin,proc,sys,dev,lib/modules,etc}
	cp "$BUSYBOX" "$tmp/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[ -e "$tmp/bin/$a" ] || ln -s busybox "$tmp/bin/$a"
	done
	install -m 0755 "$HERE/init" "$tmp/init"
	: >"$tmp/modules.list"
	for m in $INITRD_MODS; do
		deps=$(modprobe --show-depends -d "$KROOT" -S "$KVER" "$m" 2>&1) ||
			{ rm -rf "$tmp"; die 2 "module $m not found in $KPKG: $deps"; }
		printf '%s\n' "$deps" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		rel=${ko#"$MODDIR"/}
		mkdir -p "$tmp/lib/modules/$(dirname "$rel")"
		# busybox insmod takes plain .ko: newer Debian kernels ship .ko.xz
		case "$rel" in
		*.xz) xz -dc "$ko" >"$tmp/lib/modules/${rel%.xz}"; rel=${rel%.xz} ;;
		*.zst) zstd -qdc "$ko" >"$tmp/lib/modules/${rel%.zst}"; rel=${rel%.zst} ;;
		*.gz) gzip -dc "$ko" >"$tmp/lib/modules/${rel%.gz}"; rel=${rel%.gz} ;;
		*) cp "$ko" "$tmp/lib/modules/$rel" ;;
		esac
		echo "$rel" >>"$tmp/modules.list"
	done
	[ -s "$tmp/modules.list" ] || { rm -rf "$tmp"; die 2 "no modules resolved for the initramfs"; }
	(cd "$tmp" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) |
		gzip -1 >"$INITRD.tmp" || { rm -rf "$tmp"; die 2 "cpio of the initramfs failed"; }
	mv "$INITRD.tmp" "$INITRD"
	echo "$key" >"$KDIR/initramfs.key"
	rm -rf "$tmp"
fi

if [ "$PREPARE_ONLY" = 1 ]; then
	say "prepared $KVER in $KDIR"
	exit 0
fi

# ---- the run: temp dir, network namespace with the tap -----------------------------------
WC_BUILD=${WC_BUILD:-build}
if [ ${#CMD[@]} -eq 0 ]; then
	CMD=(vmtest/suite.sh)
	[ -x "$PROJECT/$WC_BUILD/wirecap" ] ||
		die 2 "no $WC_BUILD/wirecap: build on the host first (make; compiling in the guest is ~25x slower)"
fi

# helpers of the guest tests, built on the host against the static library
build_helpers() {
	local lib=$PROJECT/$WC_BUILD/libwirecap-xdp.a src=$HERE/tests/metacheck.c
	local bin=$CACHE/bin/metacheck
	[ -f "$lib" ] || { say "no $WC_BUILD/libwirecap-xdp.a: metacheck not built"; return 0; }
	[ -x "$bin" ] && [ "$bin" -nt "$lib" ] && [ "$bin" -nt "$src" ] && return 0
	mkdir -p "$CACHE/bin"
	if ! ${CC:-cc} -std=gnu11 -O2 -g -Wall -Wextra -Wno-missing-field-initializers \
		-D_GNU_SOURCE -I"$PROJECT/include" -o "$bin" "$src" "$lib" \
		-lxdp -lbpf -lelf -lz -lpcap -lpthread -lm 2>"$CACHE/metacheck.err"; then
		say "warning: cannot build metacheck (metadata not checked): $(head -n 3 "$CACHE/metacheck.err")"
		rm -f "$bin"
	fi
}

RUNDIR=$(mktemp -d /tmp/wirecap-vmtest.XXXXXX) || die 2 "mktemp failed"
build_helpers
if [ -x "$CACHE/bin/metacheck" ]; then
	mkdir -p "$RUNDIR/bin"
	cp "$CACHE/bin/metacheck" "$RUNDIR/bin/"
fi
NS=wcvm-$$
TAP=wcvmtap0
TAP1=wcvmtap1
QPID=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill "$QPID" 2>/dev/null
		timeout 10 tail --pid="$QPID" -f /dev/null
		kill -9 "$QPID" 2>/dev/null
	fi
	# deleting the namespace deletes the tap in it
	[ -e "/run/netns/$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$RUNDIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

{
	printf 'VMTEST_PROJECT=%s\n' "$PROJECT"
	printf 'VMTEST_QUEUES=%q\n' "$QUEUES"
	printf 'VMTEST_KVER=%q\n' "$KVER"
	printf 'export WC_BUILD=%q\n' "$WC_BUILD"
	# pass on the test knobs of tests/run.sh and the test scripts
	for v in $(compgen -e | grep -E '^(WCT_|WC_|WIRECAP_|VMTEST_T_)' | grep -vx WC_BUILD); do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
} >"$RUNDIR/env"
{
	echo '# the guest command of vmtest/run.sh'
	printf 'exec'
	printf ' %q' "${CMD[@]}"
	printf '\n'
} >"$RUNDIR/cmd.sh"

# The tap lives in its own network namespace, with no address and no route:
# nothing the guest sends reaches the host's networks. A tc rule sends every
# frame the guest transmits straight back to it (ingress of the tap -> egress
# of the tap): traffic the guest generates on eth0 arrives on eth0's rx
# queues. The multi-queue tap picks the queue per flow (the queue the flow was
# last received on, else its hash), so many flows spread over the rx queues.
ip netns add "$NS" || die 2 "cannot create the network namespace $NS"
nsrun() { nsenter --net="/run/netns/$NS" -- "$@"; }
nsrun sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap multi_queue ||
	die 2 "cannot create the multi-queue tap $TAP (tun module? /dev/net/tun?)"
ip -n "$NS" tuntap add dev "$TAP1" mode tap multi_queue ||
	die 2 "cannot create the multi-queue tap $TAP1"
# a long tap queue: under TCG the guest drains its rx rings in bursts, and a
# frame the tap cannot queue is lost before it reaches the guest's NIC
ip -n "$NS" link set "$TAP" txqueuelen 10000 up
ip -n "$NS" link set "$TAP1" txqueuelen 10000 up
# tap0 ingress -> tap0 egress, tap1 ingress -> tap0 egress
for t in "$TAP" "$TAP1"; do
	nsrun tc qdisc add dev "$t" ingress ||
		die 2 "cannot add an ingress qdisc to $t (sch_ingress)"
	nsrun tc filter add dev "$t" parent ffff: protocol all prio 1 u32 match u32 0 0 \
		action mirred egress redirect dev "$TAP" ||
		die 2 "cannot add the tc mirred rule on $t (cls_u32, act_mirred)"
done

APPEND="console=ttyS0,115200 panic=-1 loglevel=5 rdinit=/init mitigations=off"
APPEND+=" net.ifnames=0 tsc=reliable no_timer_check random.trust_cpu=on 8250.nr_uarts=1"
APPEND+=" ${VMTEST_APPEND:-}"

qemu_args=(
	-name wirecap-vmtest -machine pc -accel tcg,thread=multi -cpu max
	-smp "$SMP" -m "$MEM" -nodefaults -no-reboot -display none -vga none
	-kernel "$VMLINUZ" -initrd "$INITRD" -append "$APPEND"
	-chardev "stdio,id=con,signal=off,logfile=$LOG"
	-serial chardev:con -monitor none
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-device virtio-rng-pci
	-fsdev local,id=fsroot,path=/,security_model=passthrough,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=fsroot,mount_tag=wcroot
	-fsdev "local,id=fsproj,path=$PROJECT,security_model=passthrough,multidevs=remap"
	-device virtio-9p-pci,fsdev=fsproj,mount_tag=wcproj
	-fsdev "local,id=fsrun,path=$RUNDIR,security_model=passthrough"
	-device virtio-9p-pci,fsdev=fsrun,mount_tag=wcrun
	-fsdev "local,id=fsmods,path=$MODDIR,security_model=passthrough,readonly=on"
	-device virtio-9p-pci,fsdev=fsmods,mount_tag=wcmods
	-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,queues=$TAP_QUEUES,vhost=off"
	-device "virtio-net-pci,netdev=n0,mq=on,vectors=$((2 * TAP_QUEUES + 2)),mac=52:54:00:77:cc:01,romfile="
	-netdev "tap,id=n1,ifname=$TAP1,script=no,downscript=no,queues=$TAP_QUEUES,vhost=off"
	-device "virtio-net-pci,netdev=n1,mq=on,vectors=$((2 * TAP_QUEUES + 2)),mac=52:54:00:77:cc:02,romfile="
)

say "booting $KVER under QEMU (TCG, $SMP CPUs, $MEM MiB); console log: $LOG"
say "guest command: ${CMD[*]}"
: >"$LOG"
start=$(date +%s)
# QEMU opens the tap by name: it runs in the tap's namespace (the 9p shares
# are paths of the host's file system and are not affected)
timeout --kill-after=15 "$TIMEOUT" nsenter --net="/run/netns/$NS" -- \
	"$QEMU" "${qemu_args[@]}" </dev/null &
QPID=$!

# boot watchdog: the guest says "vmtest: guest up" once the tests can start
booted=0
for ((i = 0; i < BOOT_TIMEOUT * 2; i++)); do
	if grep -aq -e '^vmtest: guest up' -e '^VMTEST-RESULT:' "$LOG" 2>/dev/null; then
		booted=1
		break
	fi
	kill -0 "$QPID" 2>/dev/null || break
	sleep 0.5
done
if [ "$booted" = 0 ] && kill -0 "$QPID" 2>/dev/null; then
	kill "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=
	echo >&2
	die 127 "boot timeout: the guest was not up after ${BOOT_TIMEOUT}s (last console lines above; log $LOG)"
fi
wait "$QPID"
qrc=$?
QPID=
# frames lost on the host side (tap queue full) never reach the guest's NIC
for t in "$TAP" "$TAP1"; do
	d=$(ip -n "$NS" -s -j link show "$t" 2>/dev/null | jq -r '.[0].stats64.tx.dropped // 0' 2>/dev/null)
	[ -n "$d" ] && [ "$d" != 0 ] && say "note: the host's $t dropped $d frames (tap queue full: the guest was too slow)"
done
secs=$(($(date +%s) - start))
echo >&2

result=$(tr -d '\r' <"$LOG" | sed -n 's/^VMTEST-RESULT: \([0-9]*\)$/\1/p' | tail -n 1)
oops=$(tr -d '\r' <"$LOG" | grep -aE '(BUG: |Oops|WARNING: CPU: |general protection fault|Call Trace:)' | head -n 3)
[ -n "$oops" ] && say "warning: the guest kernel logged an oops/warning: $(printf '%s' "$oops" | tr '\n' '|')"
kver_seen=$(tr -d '\r' <"$LOG" | sed -n 's/^vmtest: guest up: kernel \([^,]*\),.*/\1/p' | head -n 1)
summary=$(tr -d '\r' <"$LOG" | grep -aE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)

case "$qrc" in
124 | 137)
	die 127 "timeout: the guest did not finish within ${TIMEOUT}s (--timeout; log $LOG)" ;;
0)
	panic=$(tr -d '\r' <"$LOG" | grep -a -m1 'Kernel panic')
	die 126 "guest panicked or powered off without a result${panic:+: $panic} (log $LOG)" ;;
esac
if [ $((qrc % 2)) -eq 0 ]; then
	die 128 "QEMU exited with $qrc, an even code: a failure of QEMU or the harness, not a guest result (log $LOG)"
fi
grc=$((qrc >> 1))
if [ -z "$result" ] || [ "$result" != "$grc" ]; then
	die 128 "QEMU exited with $qrc but the guest printed no matching result (QEMU error? log $LOG)"
fi
[ "$grc" -eq 125 ] && die 125 "the guest could not set up the test environment (see the console above; log $LOG)"
say "guest kernel ${kver_seen:-?}; ${summary:-no summary line}; guest status $grc; ${secs}s"
# the runner's summary, last, as the host's tests print it (CI reads it)
if [ -n "$summary" ]; then
	echo "$summary"
else
	echo "0 passed, 1 failed, 0 skipped"
fi
exit "$grc"
