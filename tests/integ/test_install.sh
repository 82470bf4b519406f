#!/usr/bin/env bash
# make install (PREFIX, DESTDIR), the pkg-config file, the export list, and
# the example analyzer of docs/ built against the installed library and run
# on real traffic: it must see every packet sent.
set -u
# shellcheck source=../lib/net.sh
. "$(dirname "$0")/../lib/net.sh"

wct_init
DEST=$WCT_DIR/dest
check_ok "make install PREFIX=/usr DESTDIR=..." \
	make -s -C "$WCT_ROOT" O="$WC_BUILD" install PREFIX=/usr DESTDIR="$DEST"
for f in usr/include/wirecap/wirecap.h usr/include/wirecap/wc_layout.h \
	usr/lib/libwirecap-xdp.a usr/lib/pkgconfig/wirecap-xdp.pc usr/bin/wirecap \
	usr/lib/libwirecap-pcap.so usr/share/man/man3/libwirecap-xdp.3; do
	if [ -e "$DEST/$f" ]; then pass "installed $f"; else fail "missing $f"; fi
done
so=$(readlink -f "$DEST/usr/lib/libwirecap-xdp.so")
check_match "soname" 'SONAME.*libwirecap-xdp\.so\.0' "$(readelf -d "$so")"
exports=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }')
check_eq "every exported function is wc_*" "" "$(grep -v '^wc_' <<<"$exports")"
check_match "the API is exported" 'wc_engine__open' "$exports"
check_eq "internals are hidden" "" "$(grep -E '^wc_(pcapng|seq|netdev)_' <<<"$exports")"
# the libpcap front: only libpcap's names (and libcap's cap_set_proc) are
# exported, it finds the library next to itself, wirecap exec finds it (a
# sanitized front in a plain sh: ASan's runtime then does not come first)
pso=$DEST/usr/lib/libwirecap-pcap.so
check_eq "libwirecap-pcap exports only pcap_* and cap_set_proc" "" \
	"$(nm -D --defined-only "$pso" | awk '$2 == "T" { print $3 }' | grep -Ev '^(pcap_|cap_set_proc$)')"
check_eq "libwirecap-pcap finds libwirecap-xdp next to itself" "" \
	"$(ldd "$pso" | grep 'not found')"
# shellcheck disable=SC2016
check_eq "the installed wirecap exec preloads the installed front" "$(readlink -f "$pso")" \
	"$(readlink -f "$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$DEST/usr/bin/wirecap" exec -- sh -c 'echo $LD_PRELOAD')")"
check_eq ".pc prefix follows PREFIX" "prefix=/usr" "$(head -1 "$DEST/usr/lib/pkgconfig/wirecap-xdp.pc")"

export PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_PATH=$DEST/usr/lib/pkgconfig
flags=$(pkg-config --cflags --libs wirecap-xdp)
check_match "pkg-config --libs" '-lwirecap-xdp' "$flags"
# a library built with the sanitizers (make test-san) needs them in the
# program too: the ASan runtime must load first
san=
if ldd "$so" | grep -q libasan; then san="-fsanitize=address,undefined"; fi
# shellcheck disable=SC2086
check_ok "the example analyzer builds against the installed library" \
	cc -std=gnu11 -Wall -Wextra -Werror -O2 $san "$WCT_ROOT/docs/examples/flowtop.c" \
	$flags -lpthread -o "$WCT_DIR/flowtop"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
# relocatable: the tree moved elsewhere still works with prefix redefined
check_eq ".pc libdir is relative to prefix" 'libdir=${prefix}/lib' \
	"$(grep '^libdir=' "$DEST/usr/lib/pkgconfig/wirecap-xdp.pc")"
pcs() { PKG_CONFIG_PATH=$DEST/usr/lib/pkgconfig pkg-config --define-variable=prefix="$DEST/usr" "$@" wirecap-xdp; }
check_ok "pkg-config --static --libs (no private dependency missing)" pcs --static --libs
# the static archive: the program carries the library, no .so needed
# shellcheck disable=SC2046
check_ok "the example analyzer links the static archive" \
	cc -std=gnu11 -Wall -Wextra -Werror -O2 $san $(pcs --cflags) "$WCT_ROOT/docs/examples/flowtop.c" \
	-Wl,-Bstatic -lwirecap-xdp -Wl,-Bdynamic $(pcs --static --libs | sed 's/-lwirecap-xdp//') \
	-o "$WCT_DIR/flowtop-static"
check_eq "the static example needs no libwirecap-xdp.so" "" \
	"$(ldd "$WCT_DIR/flowtop-static" 2>/dev/null | grep libwirecap-xdp)"

# run it: it attaches by itself, sees every packet, detaches at exit
wct_make_veth
N=20000
run_in "$WCT_NS_RX" env LD_LIBRARY_PATH="$DEST/usr/lib" \
	"$WCT_DIR/flowtop" "$WCT_IF_RX" >"$WCT_DIR/flowtop.out" 2>&1 &
fpid=$!
# its first report comes once the engine is up
wct_wait_for "$(wct_tries 150)" 0.1 grep -q '^ipv4' "$WCT_DIR/flowtop.out" || fail "flowtop did not start"
# top speed on the host, paced on a slow machine (wct_pace, tests/lib/net.sh)
# shellcheck disable=SC2046
run_in "$WCT_NS_TX" timeout 30 "$WIRECAP_GEN" gen -i "$WCT_IF_TX" -c $N --quiet $(wct_pace) \
	--json "$WCT_DIR/gen.json"
# it reports every second: stop it once a report counts every packet that
# reached the receiver (bounded wait; the check below reads its last line)
want=$(wct_arrived "$(cat "$WCT_DIR/gen.json" 2>/dev/null)" "$N")
wct_wait_for "$(wct_tries 300)" 0.1 grep -q "^ipv4 $want " "$WCT_DIR/flowtop.out" ||
	log "flowtop did not report $want packets within $(wct_time 30) s"
# run_in is a function: $! may be the subshell running it; signal what it
# started (by PID), or itself when it exec'd
kids=$(pgrep -P $fpid)
kill -INT ${kids:-$fpid}
# bounded: SIGKILL after 10 s
wct_wait_for "$(wct_tries 100)" 0.1 sh -c "! kill -0 $fpid" || { fail "flowtop ignores SIGINT"; kill -KILL $fpid; }
wait $fpid
check_eq "flowtop exits 0 on SIGINT" 0 $?
last=$(grep '^ipv4' "$WCT_DIR/flowtop.out" | tail -1)
check_match "flowtop saw every IPv4 packet sent" "^ipv4 $want " "$last"
check_match "flowtop reconciles every packet at the end (unaccounted 0)" \
	' unaccounted 0$' "$(grep 'unaccounted' "$WCT_DIR/flowtop.out" | tail -1)"
check_eq "flowtop detached what it attached" none "$(xdp_prog_id "$WCT_NS_RX" "$WCT_IF_RX")"
wct_finish
