#!/usr/bin/env bash
# wirecap vmtest: the default guest command of vmtest/run.sh.
#
#   vmtest/suite.sh [--vm-only | --integ-only] [FILTER...]
#
# Runs the integration tests (tests/run.sh --integ-only [FILTER...], on veth
# as on the host), then every vmtest/tests/test_*.sh (virtio-net; FILTER
# selects those too), counting their PASS:/FAIL: lines the way tests/run.sh
# does. The last two lines are "N skipped" (SKIP: lines, checks that only
# hold at the host's speed; see WCT_SLOW in tests/lib/net.sh) and "N passed,
# N failed" over both; exit 1 on any failure. Tests run about 20x slower under TCG than on the host, so the
# per-script timeout defaults to 1800 s here (WCT_TIMEOUT).
set -u
cd "$(dirname "$0")/.." || exit 2
export WCT_TIMEOUT=${WCT_TIMEOUT:-1800}

integ=1
vm=1
filters=()
for a in "$@"; do
	case "$a" in
	--vm-only) integ=0 ;;
	--integ-only) vm=0 ;;
	-*) echo "suite.sh: unknown option $a" >&2; exit 2 ;;
	*) filters+=("$a") ;;
	esac
done

passed=0
failed=0
skipped=0
log=$(mktemp -d /tmp/vmtest-suite.XXXXXX)
trap 'rm -rf "$log"' EXIT

if [ "$integ" = 1 ]; then
	echo "=== tests/run.sh --integ-only ${filters[*]}"
	bash tests/run.sh --integ-only "${filters[@]}" 2>&1 | tee "$log/integ.log"
	rc=${PIPESTATUS[0]}
	sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log/integ.log" | tail -n 1)
	if [ -z "$sum" ]; then
		echo "FAIL: tests/run.sh printed no summary (exit $rc)"
		failed=$((failed + 1))
	else
		passed=$((passed + ${sum%% passed*}))
		f=${sum#*passed, }
		failed=$((failed + ${f%% failed}))
		[ "$rc" -ne 0 ] && [ "${f%% failed}" -eq 0 ] && failed=$((failed + 1))
	fi
	s=$(grep -E '^[0-9]+ skipped$' "$log/integ.log" | tail -n 1)
	s=${s%% skipped}
	skipped=$((skipped + ${s:-0}))
fi

selected() {
	local f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do
		case "$1" in *"$f"*) return 0 ;; esac
	done
	return 1
}

if [ "$vm" = 1 ]; then
	for t in vmtest/tests/test_*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		echo "=== $name"
		start=$(date +%s)
		(timeout --kill-after=15 "$WCT_TIMEOUT" bash "$t" </dev/null) 2>&1 | tee "$log/$name.log"
		rc=${PIPESTATUS[0]}
		p=$(grep -c '^PASS:' "$log/$name.log")
		f=$(grep -c '^FAIL:' "$log/$name.log")
		s=$(grep -c '^SKIP:' "$log/$name.log")
		skipped=$((skipped + s))
		if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
			if [ "$rc" -eq 0 ]; then p=1; else f=1; fi
		elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
		fi
		[ "$rc" -eq 124 ] && echo "FAIL: $name: timed out after ${WCT_TIMEOUT}s"
		passed=$((passed + p))
		failed=$((failed + f))
		echo "=== $name: $p passed, $f failed, $s skipped, exit $rc, $(($(date +%s) - start))s"
	done
fi

echo "=== vmtest on $(uname -r):"
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
