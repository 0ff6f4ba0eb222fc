#!/bin/sh
# Build the libFuzzer harnesses with clang and run each for a fixed time.
#
#   tests/fuzz/run.sh [SECONDS [BUILD_DIR]]
#
# SECONDS per target (default 60; three targets). BUILD_DIR defaults to a
# directory under /var/tmp named after this source tree, kept between runs so
# only what changed is rebuilt. Each target starts from its corpus in the tree
# (tests/fuzz/corpus/TARGET) and writes what it finds to a temporary copy, so
# the tree is not changed; with FUZZ_MERGE=1 the inputs that add coverage are
# merged into the tree's corpus afterwards (review and commit them).
#
# Fails on any crash, failed check, sanitizer report (ASan, UBSan, LeakSanitizer),
# timeout (-timeout=10) or memory blow-up (-rss_limit_mb=1024); the input that
# did it is kept under the printed directory. Needs clang and its runtime
# libraries (Debian 12: clang libclang-rt-14-dev; scripts/deps.sh installs them).
set -eu

seconds=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-/var/tmp/skillbox-fuzz-$(printf %s "$src" | cksum | cut -d' ' -f1)}
targets="reader request config"

case $seconds in
''|*[!0-9]*) echo "usage: $0 [SECONDS [BUILD_DIR]]" >&2; exit 2 ;;
esac
if ! command -v clang >/dev/null 2>&1; then
        echo "run.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2
        exit 1
fi

work=$(mktemp -d /var/tmp/skillbox-fuzz-run.XXXXXX)
if [ ! -f "$build/build.ninja" ]; then
        CC=clang meson setup "$build" "$src" -Dfuzz=true -Dtests=true >"$work/setup.log" 2>&1 || {
                cat "$work/setup.log" >&2
                exit 1
        }
fi
bins=
for t in $targets; do
        bins="$bins tests/fuzz/fuzz_$t"
done
# shellcheck disable=SC2086 # one word per target
if ! ninja -C "$build" $bins >"$work/ninja.log" 2>&1; then
        cat "$work/ninja.log" >&2
        echo "run.sh: build failed (libFuzzer missing? Debian 12: apt-get install libclang-rt-14-dev)" >&2
        exit 1
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
failed=
for t in $targets; do
        mkdir -p "$work/corpus-$t" "$work/artifacts-$t"
        echo "run.sh: fuzz_$t for ${seconds}s"
        if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=1024 \
                -timeout=10 -print_final_stats=1 -artifact_prefix="$work/artifacts-$t/" \
                "$work/corpus-$t" "$src/tests/fuzz/corpus/$t" >"$work/log-$t" 2>&1 &&
           ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|check failed' \
                "$work/log-$t"; then
                grep -E 'INITED|DONE' "$work/log-$t" | sed "s/^/  /"
        else
                tail -n 60 "$work/log-$t" >&2
                echo "run.sh: fuzz_$t FAILED; log and inputs in $work" >&2
                failed="$failed $t"
        fi
        if [ "${FUZZ_MERGE:-0}" = 1 ] && [ -z "$failed" ]; then
                "$build/tests/fuzz/fuzz_$t" -merge=1 "$src/tests/fuzz/corpus/$t" \
                        "$work/corpus-$t" >"$work/merge-$t" 2>&1 ||
                        { cat "$work/merge-$t" >&2; failed="$failed $t(merge)"; }
        fi
done
if [ -n "$failed" ]; then
        echo "run.sh: failed:$failed" >&2
        exit 1
fi
rm -rf "$work"
echo "run.sh: all targets ran ${seconds}s without a finding"
