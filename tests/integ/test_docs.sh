#!/usr/bin/env bash
# The library's docs are complete and their code compiles (no network, no
# root needed):
#  - every symbol of the version script (userspace/libwirecap-xdp.map) has a
#    prototype in the man page's SYNOPSIS and is described in its body, and
#    the built .so exports exactly those symbols;
#  - every constant, macro and struct of <wirecap/wirecap.h> and the packet
#    flags (WC_PKT_*) are named in the man page;
#  - the C snippets of README.md (```c blocks) and of the man page (.EX/.EE
#    blocks) compile and link against include/ and the build's .so with
#    -Wall -Wextra -Werror (-Wno-unused-parameter: callbacks have fixed
#    signatures);
#  - docs/examples/flowtop.c builds the same way.
#
# Snippet convention (write snippets so that this holds):
#  - a snippet that defines main() is a whole program, compiled as it is;
#  - otherwise it is a fragment: file-scope code first (includes, callbacks),
#    then statements; the statements are the lines after the last line that
#    is exactly "}" (the end of the last file-scope function), or the whole
#    snippet when it has none, and they are wrapped in a function;
#  - every fragment is compiled after a prelude that includes
#    <wirecap/wirecap.h>, <stdio.h>, <stdlib.h>, <string.h>, <errno.h> and
#    declares `void analyze(const void *data, unsigned len, ...)`, the
#    stand-in for the reader's own code;
#  - a snippet that is not meant to compile is marked: in README.md the line
#    `<!-- no-compile -->` right before its ```c fence, in the man page a
#    line `.\" no-compile` right before its .EX.
# Man page snippets are unescaped from roff: \e is a backslash, \- a minus,
# \(aq a quote, \& nothing.
set -u
# shellcheck source=../lib/net.sh
. "$(dirname "$0")/../lib/net.sh"

MAN=$WCT_ROOT/docs/libwirecap-xdp.3
MAP=$WCT_ROOT/userspace/libwirecap-xdp.map
HDR=$WCT_ROOT/include/wirecap/wirecap.h
SO=$WC_BUILD/libwirecap-xdp.so
DIR=$(mktemp -d /tmp/wct-docs-XXXXXX)
trap 'rm -rf "$DIR"' EXIT

if [ ! -e "$SO" ]; then
	fail "no $SO (run make, or set WC_BUILD)"
	wct_finish
fi

# ---- the version script against the man page and the .so ----------------

syms=$(awk '/global:/ { g = 1; next } /local:/ { g = 0 }
	g && /;/ { gsub(/[ \t;]/, ""); print }' "$MAP" | sort)
[ -n "$syms" ] || fail "no symbol read from $MAP"
synopsis=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$MAN")
body=$(sed -n '/^\.SH DESCRIPTION/,$p' "$MAN")
missing_proto= missing_text=
for s in $syms; do
	grep -Eq "[ *]$s\(" <<<"$synopsis" || missing_proto+=" $s"
	grep -Eq "(^|[^a-z_])$s([^a-z_]|$)" <<<"$body" || missing_text+=" $s"
done
check_eq "every exported symbol has a prototype in the man page's SYNOPSIS" "" "${missing_proto# }"
check_eq "every exported symbol is described in the man page" "" "${missing_text# }"
exported=$(nm -D --defined-only "$SO" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
check_eq "the .so exports exactly the version script's symbols" "" \
	"$(diff <(echo "$syms") <(echo "$exported") | grep '^[<>]')"
undeclared=
for s in $syms; do
	grep -Eq "[ *]$s\(" "$HDR" || undeclared+=" $s"
done
check_eq "every exported symbol is declared in <wirecap/wirecap.h>" "" "${undeclared# }"

# ---- constants, macros and structs of the header ---------------------------

names=$(
	{
		grep -oE '^#define WC_[A-Z0-9_]+' "$HDR" | awk '{ print $2 }'
		grep -oE '^[[:space:]]+WC_[A-Z0-9_]+[[:space:]]*(=[^,]*)?,' "$HDR" |
			grep -oE 'WC_[A-Z0-9_]+'
		grep -oE '^struct wc_[a-z_]+ \{' "$HDR" | awk '{ print $2 }'
		grep -oE '^enum wc_[a-z_]+ \{' "$HDR" | awk '{ print $2 }'
		grep -oE '^typedef [^;]*\(\*wc_[a-z_]+\)' "$HDR" | grep -oE 'wc_[a-z_]+\)$' | tr -d ')'
		grep -oE '^#define WC_PKT_[A-Z0-9_]+' "$WCT_ROOT/include/wirecap/wc_layout.h" |
			awk '{ print $2 }'
	} | sort -u
)
unnamed=
for n in $names; do
	grep -Eq "(^|[^A-Za-z0-9_])$n([^A-Za-z0-9_]|$)" "$MAN" || unnamed+=" $n"
done
check_eq "every constant, macro, struct and callback type of wirecap.h is in the man page" "" "${unnamed# }"

if command -v groff >/dev/null; then
	check_eq "the man page renders without groff warnings" "" \
		"$(LC_ALL=C groff -man -ww -z "$MAN" 2>&1)"
fi

# ---- snippets ---------------------------------------------------------------

san=
if ldd "$SO" | grep -q libasan; then san="-fsanitize=address,undefined"; fi
cc_docs() { # OUT SRC: compile and link against include/ and the build's .so
	# shellcheck disable=SC2086
	cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -O1 $san \
		-I"$WCT_ROOT/include" -o "$1" "$2" -L"$WC_BUILD" -lwirecap-xdp -lpthread
}

# README: ```c blocks, skipping those after <!-- no-compile -->
awk -v dir="$DIR" '
	/^<!-- no-compile -->$/ { skip = 1; next }
	/^```c$/ { if (!skip) { n++; out = dir "/readme" n ".snip" }; inside = 1; next }
	/^```/ && inside { inside = 0; out = ""; skip = 0; next }
	inside && out != "" { print > out; next }
	!/^[[:space:]]*$/ { skip = 0 }
' "$WCT_ROOT/README.md"
# man page: .EX ... .EE blocks, skipping those after .\" no-compile
awk -v dir="$DIR" '
	/^\.\\" no-compile$/ { skip = 1; next }
	/^\.EX$/ { if (!skip) { n++; out = dir "/man" n ".snip" }; inside = 1; next }
	/^\.EE$/ { inside = 0; out = ""; skip = 0; next }
	inside && out != "" {
		gsub(/\\e/, "\001"); gsub(/\\-/, "-"); gsub(/\\\(aq/, "\047");
		gsub(/\\&/, ""); gsub(/\001/, "\\"); print > out; next
	}
' "$MAN"

prelude='#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wirecap/wirecap.h>
static void analyze(const void *data, unsigned len, ...)
{
	(void)data;
	(void)len;
}
'
nsnip=0
for snip in "$DIR"/readme*.snip "$DIR"/man*.snip; do
	[ -e "$snip" ] || continue
	nsnip=$((nsnip + 1))
	name=$(basename "$snip" .snip)
	src=$DIR/$name.c
	if grep -Eq '(^|[^a-z_])main\(' "$snip"; then
		cp "$snip" "$src"
	else
		last=$(grep -n '^}$' "$snip" | tail -1 | cut -d: -f1)
		last=${last:-0}
		{
			printf '%s' "$prelude"
			head -n "$last" "$snip"
			printf 'int wc_snippet_body(void);\nint wc_snippet_body(void)\n{\n'
			tail -n +"$((last + 1))" "$snip"
			printf '\treturn 0;\n}\nint main(void)\n{\n\treturn wc_snippet_body();\n}\n'
		} >"$src"
	fi
	case $name in
	readme*) where="README.md snippet ${name#readme}" ;;
	*) where="man page snippet ${name#man}" ;;
	esac
	check_ok "$where compiles and links" cc_docs "$DIR/$name" "$src"
done
[ "$nsnip" -ge 2 ] || fail "found $nsnip snippets (README.md and the man page have some)"

check_ok "docs/examples/flowtop.c compiles and links" \
	cc_docs "$DIR/flowtop" "$WCT_ROOT/docs/examples/flowtop.c"
wct_finish
