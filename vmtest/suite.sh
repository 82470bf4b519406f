#!/usr/bin/env bash
# wirecap vmtest: the default guest command of vmtest/run.sh.
#
#   vmtest/suite.sh [--vm-only | --integ-only] [FILTER...]
#
# Runs the integration tests (tests/integ/test_*.sh, on veth as on the
# host), then every vmtest/tests/test_*.sh (virtio-net), FILTER selecting
# among both, all through tests/run.sh: the same counting, the same last
# line `N passed, N failed, N skipped` (SKIP: lines are checks that cannot
# run here, e.g. the few only about the host's speed; see WCT_SLOW in
# tests/lib/net.sh); exit 1 on any failure. Tests run about 20x slower
# under TCG than on the host, and several times slower again when the host
# is busy (test_capture took over 30 min in a loaded run), so the
# per-script timeout defaults to 3600 s here (WCT_TIMEOUT), a bound against
# a hang; vmtest/run.sh --timeout bounds the whole run.
set -u
cd "$(dirname "$0")/.." || exit 2
export WCT_TIMEOUT=${WCT_TIMEOUT:-3600}

dirs=(--dir tests/integ --dir vmtest/tests)
filters=()
for a in "$@"; do
	case "$a" in
	--vm-only) dirs=(--dir vmtest/tests) ;;
	--integ-only) dirs=(--dir tests/integ) ;;
	-*) echo "suite.sh: unknown option $a" >&2; exit 2 ;;
	*) filters+=("$a") ;;
	esac
done

echo "=== vmtest on $(uname -r): tests/run.sh --integ-only ${dirs[*]} ${filters[*]}"
exec bash tests/run.sh --integ-only "${dirs[@]}" "${filters[@]}"
