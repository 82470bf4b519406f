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
# the ABI is the version script: exactly its symbols are exported (any
# kind, version suffix dropped), each declared in the installed headers
map=$WCT_ROOT/userspace/libwirecap-xdp.map
mapsyms=$(sed -n '/global:/,/local:/p' "$map" | grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' |
	tr -d ' \t;' | sort -u)
dynsyms=$(nm -D --defined-only "$so" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
check_ne "the version script lists symbols" "" "$mapsyms"
check_eq "exported but not in the version script" "" "$(comm -13 <(echo "$mapsyms") <(echo "$dynsyms") | tr '\n' ' ')"
check_eq "in the version script but not exported" "" "$(comm -23 <(echo "$mapsyms") <(echo "$dynsyms") | tr '\n' ' ')"
# taking the address of each one compiles against the installed headers
decl=$WCT_DIR/decl.c
{
	for h in "$DEST"/usr/include/wirecap/*.h; do echo "#include <wirecap/${h##*/}>"; done
	echo "void *wct_syms[] = {"
	for sym in $dynsyms; do echo "	(void *)&$sym,"; done
	echo "};"
} >"$decl"
undeclared=$(LC_ALL=C cc -std=gnu11 -fsyntax-only -I"$DEST/usr/include" "$decl" 2>&1 |
	grep -oE "'wc_[A-Za-z0-9_]+' undeclared" | tr -d "'" | awk '{ print $1 }' | sort -u | tr '\n' ' ')
check_eq "every exported symbol is declared in include/wirecap/" "" "$undeclared"
check_ok "the exported symbols compile against the installed headers" \
	cc -std=gnu11 -Wall -Werror -fsyntax-only -I"$DEST/usr/include" "$decl"
# the CLI uses the shared library: the one next to it in the tree, the
# installed one once installed; every wc_ symbol it takes from it is
# exported (library internals it needs are in util/, libwcutil.a)
# ldd_wc BIN: the file ldd resolves libwirecap-xdp.so.0 of BIN to
ldd_wc() { readlink -f "$(ldd "$1" | awk '$1 == "libwirecap-xdp.so.0" { print $3 }')"; }
check_eq "ldd wirecap (in the tree) names the libwirecap-xdp.so next to it" \
	"$(readlink -f "$WC_BUILD/libwirecap-xdp.so.0")" "$(ldd_wc "$WC_BUILD/wirecap")"
check_eq "the installed wirecap finds the installed libwirecap-xdp.so" "$so" \
	"$(ldd_wc "$DEST/usr/bin/wirecap")"
clisyms=$(nm -D --undefined-only "$WC_BUILD/wirecap" | awk '{ sub(/@.*/, "", $2); print $2 }' | grep '^wc_' | sort -u)
check_ne "wirecap takes the API from the shared library" "" "$clisyms"
check_eq "wirecap takes nothing else from it" "" "$(comm -23 <(echo "$clisyms") <(echo "$mapsyms") | tr '\n' ' ')"
check_eq "libwcutil.a is not installed" "" "$(find "$DEST" -name 'libwcutil*')"
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
check_eq "flowtop detached what it attached" none "$(xdp_prog_id "$WCT_NS_RX" "$WCT_IF_RX")"
wct_finish
