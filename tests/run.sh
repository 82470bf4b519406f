#!/usr/bin/env bash
# wirecap test runner: the Check binaries (unit_tests, fence_test), then every
# tests/integ/test_*.sh.
#
#   tests/run.sh [--unit-only | --integ-only] [--san] [--dir DIR]... [FILTER...]
#
# FILTER: run only the integration scripts whose name contains one of the
# words (e.g. `tests/run.sh --integ-only attach`). --san runs the suites of
# the ASan/UBSan build (build-san, see `make test-san`). --dir DIR: run the
# test_*.sh scripts of DIR (repeatable, in order) instead of tests/integ
# (vmtest/suite.sh counts its guest scripts this way).
# Environment: WC_BUILD (build dir, default build), WCT_TIMEOUT (seconds per
# integration script, default 600), WCT_UNIT_TIMEOUT (default 600).
#
# Each integration script reports its checks as lines `PASS: ...` / `FAIL: ...`
# and exits non-zero on failure; a script that prints none counts as one
# check. A check that cannot run here (a tool missing, not in the vmtest
# guest, or only about the host's speed under emulation, see tests/lib/net.sh)
# prints `SKIP: reason` and is counted as skipped, never as passed (a script
# that only skips adds no pass). The unit binaries' checks come from Check's
# summary line, plus their `SKIP:` lines (a suite not built, a tool missing).
# The last line is always `N passed, N failed, N skipped`; the exit status is
# 1 if anything failed.
set -u
cd "$(dirname "$0")/.." || exit 2

unit=1
integ=1
san=0
filters=()
dirs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--unit-only) integ=0 ;;
	--integ-only) unit=0 ;;
	--san) san=1 ;;
	--dir)
		if [ $# -lt 2 ] || [ ! -d "$2" ]; then
			echo "run.sh: --dir needs a directory${2:+, not '$2'}" >&2
			exit 2
		fi
		dirs+=("${2%/}")
		shift
		;;
	-h | --help)
		sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $1" >&2
		exit 2
		;;
	*) filters+=("$1") ;;
	esac
	shift
done
[ ${#dirs[@]} -gt 0 ] || dirs=(tests/integ)

if [ "$san" = 1 ]; then
	WC_BUILD=${WC_BUILD:-build-san}
	if [ -z "${WIRECAP_GEN:-}" ] && [ -x build/wirecap ]; then
		export WIRECAP_GEN=$PWD/build/wirecap
	fi
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	# test_capture repeats everything in native and generic XDP mode: the
	# kernel side differs, the user space the sanitizers check does not
	export WCT_XDP_MODES=${WCT_XDP_MODES:-native}
fi
export WC_BUILD=${WC_BUILD:-build}
TIMEOUT=${WCT_TIMEOUT:-600}
UNIT_TIMEOUT=${WCT_UNIT_TIMEOUT:-600}

passed=0
failed=0
skipped=0
failures=()
logdir=$(mktemp -d /tmp/wirecap-tests.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

note_fail() {
	failed=$((failed + $2))
	failures+=("$1")
}

# ---- unit tests (Check) ----
# unit_tests: the library's units; fence_test: the bucket-move protocol on
# fake rings (tests/fence, its own binary: it links fence.c and the objects
# it needs against stubs)
if [ "$unit" = 1 ]; then
	for name in unit_tests fence_test; do
		bin=$WC_BUILD/tests/$name
		echo "=== $name ($bin)"
		if [ ! -x "$bin" ]; then
			echo "FAIL: no test binary at $bin (run make)"
			note_fail "$name: binary missing" 1
			continue
		fi
		rc=0
		# CK_FORK: each test in its own process, so a crash is one error
		CK_FORK=yes timeout --kill-after=10 "$UNIT_TIMEOUT" "$bin" \
			2>&1 | tee "$logdir/$name.log"
		rc=${PIPESTATUS[0]}
		# checks that could not run say so (tests/unit/main.c)
		s=$(grep -c '^SKIP:' "$logdir/$name.log")
		skipped=$((skipped + s))
		sum=$(grep -Eo '[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
			"$logdir/$name.log" | tail -n 1)
		if [ -z "$sum" ]; then
			echo "FAIL: $name printed no summary (exit $rc)"
			note_fail "$name: no summary (exit $rc)" 1
		else
			read -r checks fails errs < <(sed -E \
				's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+)/\1 \2 \3/' \
				<<<"$sum")
			passed=$((passed + checks - fails - errs))
			if [ $((fails + errs)) -gt 0 ]; then
				note_fail "$name: $fails failures, $errs errors" $((fails + errs))
			elif [ "$rc" -ne 0 ]; then
				note_fail "$name: exit $rc" 1
			fi
		fi
	done
fi

# ---- integration tests ----
selected() {
	local name=$1 f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do
		case "$name" in *"$f"*) return 0 ;; esac
	done
	return 1
}

ran=0
if [ "$integ" = 1 ]; then
	for t in $(for d in "${dirs[@]}"; do printf '%s\n' "$d"/test_*.sh; done); do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		echo "=== $name"
		ran=$((ran + 1))
		start=$(date +%s)
		# its own process group, time-limited; stdin closed
		(timeout --kill-after=15 "$TIMEOUT" bash "$t" </dev/null) \
			2>&1 | tee "$logdir/$name.log"
		rc=${PIPESTATUS[0]}
		p=$(grep -c '^PASS:' "$logdir/$name.log")
		f=$(grep -c '^FAIL:' "$logdir/$name.log")
		s=$(grep -c '^SKIP:' "$logdir/$name.log")
		skipped=$((skipped + s))
		secs=$(($(date +%s) - start))
		if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
			# a script without PASS/FAIL lines counts as one check,
			# unless all it did was skip
			if [ "$rc" -ne 0 ]; then f=1; elif [ "$s" -eq 0 ]; then p=1; fi
		elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1 # died (or timed out) after its last PASS
		fi
		[ "$rc" -eq 124 ] && echo "FAIL: $name: timed out after ${TIMEOUT}s"
		passed=$((passed + p))
		[ "$f" -gt 0 ] && note_fail "$name: $f failed (exit $rc)" "$f"
		echo "=== $name: $p passed, $f failed, $s skipped, exit $rc, ${secs}s"
	done
fi

if [ "$integ" = 1 ] && [ ${#filters[@]} -gt 0 ] && [ "$ran" -eq 0 ]; then
	echo "FAIL: no integration test matches: ${filters[*]}"
	note_fail "no test selected" 1
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "=== failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
