#!/bin/sh
# bench/run.sh — run exec_bench against a private skillboxd and print its table.
#
# Usage (as root): bench/run.sh BUILD_DIR [exec_bench options...]
# e.g.   meson setup build-bench --buildtype=release -Dtests=false
#        ninja -C build-bench
#        bench/run.sh build-bench
#
# Starts skillboxd with its socket and state dir in a fresh temporary
# directory, its own cgroup name and uid range, so it disturbs no other daemon
# (two benches at once need SKILLBOX_BENCH_CGROUP and SKILLBOX_BENCH_UIDS set
# apart: a daemon reaps whatever it finds in its cgroup and uid range);
# stops it with SIGTERM at the end and fails unless it exits 0.
# SKILLBOX_BENCH_PREPARED=N sets the daemon's prepared sandboxes (default 2,
# the daemon's own default; 0 builds every sandbox on request).
set -eu

build=${1:?usage: bench/run.sh BUILD_DIR [exec_bench options...]}
shift
build=$(cd "$build" && pwd)
daemon=$build/daemon/skillboxd
ctl=$build/client/skillboxctl
bench=$build/bench/exec_bench
for f in "$daemon" "$ctl" "$bench"; do
        [ -x "$f" ] || { echo "run.sh: $f missing: run ninja -C $build first" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: skillboxd needs root" >&2; exit 2; }

tmp=$(mktemp -d /tmp/skillbox-bench.XXXXXX)
pid=
cleanup() {
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || :
                wait "$pid" 2>/dev/null || :
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# 100 sleepers for the memory figure are more than the per-user default of 64.
"$daemon" --socket "$tmp/skillboxd.sock" --state-dir "$tmp/state" \
        --cgroup "${SKILLBOX_BENCH_CGROUP:-skillbox-bench}" \
        --uid-range "${SKILLBOX_BENCH_UIDS:-64000-64999}" \
        --max-jobs-per-user 128 --prepared "${SKILLBOX_BENCH_PREPARED:-2}" \
        --log-level warning 2>"$tmp/skillboxd.log" &
pid=$!

# Ready once the socket accepts connections (it exists a moment before).
i=0
while ! "$ctl" --socket "$tmp/skillboxd.sock" stats >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
                echo "run.sh: skillboxd did not start:" >&2
                cat "$tmp/skillboxd.log" >&2
                exit 1
        fi
        sleep 0.05
done

status=0
"$bench" --socket "$tmp/skillboxd.sock" --skillboxctl "$ctl" --daemon-pid "$pid" "$@" ||
        status=$?

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" -ne 0 ]; then
        echo "run.sh: skillboxd exited $rc; its log:" >&2
        cat "$tmp/skillboxd.log" >&2
        exit 1
fi
if [ -s "$tmp/skillboxd.log" ]; then
        echo "run.sh: skillboxd warnings:" >&2
        cat "$tmp/skillboxd.log" >&2
fi
exit "$status"
