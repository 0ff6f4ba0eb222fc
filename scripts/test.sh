#!/bin/sh
# The whole test suite: a warnings-as-errors build with the unit and
# integration tests, then the same tests again in an ASan+UBSan build.
# Run as root from the source tree after scripts/deps.sh: scripts/test.sh
set -eu
cd "$(dirname "$0")/.."

run_suite() {
        dir=$1
        shift
        rm -rf "$dir"
        meson setup "$dir" -Dwerror=true "$@"
        ninja -C "$dir"
        meson test -C "$dir" --print-errorlogs --num-processes 1
}

run_suite build-test
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suite build-test-sanitize -Db_sanitize=address,undefined -Db_lundef=false
echo "test.sh: all suites passed (plain and ASan+UBSan)"
