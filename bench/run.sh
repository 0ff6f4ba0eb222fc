#!/bin/sh
# bench/run.sh — run exec_bench against private skillboxd daemons and print
# its table, ending with the targets table.
#
# Usage (as root): bench/run.sh BUILD_DIR [exec_bench options...]
# e.g.   meson setup build-bench --buildtype=release -Dtests=false
#        ninja -C build-bench
#        bench/run.sh build-bench
#
# Starts two daemons, each with its socket and state dir in a fresh temporary
# directory, its own cgroup name and uid range, so they disturb no other
# daemon (two benches at once need SKILLBOX_BENCH_CGROUP and
# SKILLBOX_BENCH_UIDS/SKILLBOX_BENCH_FRESH_UIDS set apart: a daemon reaps
# whatever it finds in its cgroup and uid range):
#   - the measured one, with SKILLBOX_BENCH_PREPARED prepared sandboxes
#     (default 2, the daemon's own default; 0 builds every sandbox on request);
#   - a second one with --prepared 0 for the fresh-sandbox row (a sandbox
#     built on request, next to unshare(1)); it idles while the first is
#     measured.
# Stops both with SIGTERM at the end and fails unless they exit 0. Whether
# the targets are met is in the table, not in the exit status: a bench is not
# a test.
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

cgroup=${SKILLBOX_BENCH_CGROUP:-skillbox-bench}
tmp=$(mktemp -d /tmp/skillbox-bench.XXXXXX)
pids=
cleanup() {
        for p in $pids; do
                if kill -0 "$p" 2>/dev/null; then
                        kill -KILL "$p" 2>/dev/null || :
                        wait "$p" 2>/dev/null || :
                fi
        done
        rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# start NAME DAEMON_ARGS...: a daemon in $tmp/NAME, ready once its socket
# accepts connections (it exists a moment before); its pid in $started.
start() {
        name=$1
        shift
        mkdir "$tmp/$name"
        "$daemon" --socket "$tmp/$name/skillboxd.sock" --state-dir "$tmp/$name/state" \
                --log-level warning "$@" 2>"$tmp/$name/log" &
        started=$!
        pids="$pids $started"
        i=0
        while ! "$ctl" --socket "$tmp/$name/skillboxd.sock" stats >/dev/null 2>&1; do
                i=$((i + 1))
                if [ $i -gt 100 ] || ! kill -0 "$started" 2>/dev/null; then
                        echo "run.sh: skillboxd ($name) did not start:" >&2
                        cat "$tmp/$name/log" >&2
                        exit 1
                fi
                sleep 0.05
        done
}

# stop NAME PID: SIGTERM, and its log unless it is empty.
stop() {
        kill -TERM "$2"
        rc=0
        wait "$2" || rc=$?
        if [ "$rc" -ne 0 ]; then
                echo "run.sh: skillboxd ($1) exited $rc; its log:" >&2
                cat "$tmp/$1/log" >&2
                return 1
        fi
        if [ -s "$tmp/$1/log" ]; then
                echo "run.sh: skillboxd ($1) warnings:" >&2
                cat "$tmp/$1/log" >&2
        fi
}

# Every job of the bench comes from one client uid: the memory limits of 100
# sleepers for the memory figure (or of 8 connections' jobs on a small
# machine) pass the per-user share of the host's memory, so the memory quotas
# are lifted, and the per-user job cap raised above 100. The file is also
# what keeps a host's /etc/skillbox/skillboxd.conf out of the figures.
printf '[Daemon]\nMaxJobsMemory=infinity\nMaxJobsMemoryPerUser=infinity\n' >"$tmp/bench.conf"
start main --config "$tmp/bench.conf" --cgroup "$cgroup" \
        --uid-range "${SKILLBOX_BENCH_UIDS:-58000-58999}" \
        --max-jobs-per-user 128 --prepared "${SKILLBOX_BENCH_PREPARED:-2}"
main=$started
start fresh --config "$tmp/bench.conf" --cgroup "$cgroup-fresh" --uid-range "${SKILLBOX_BENCH_FRESH_UIDS:-59000-59999}" \
        --prepared 0
fresh=$started

status=0
"$bench" --socket "$tmp/main/skillboxd.sock" --skillboxctl "$ctl" --daemon-pid "$main" \
        --fresh-socket "$tmp/fresh/skillboxd.sock" "$@" || status=$?

failed=0
stop main "$main" || failed=1
stop fresh "$fresh" || failed=1
pids=
[ $failed = 0 ] || exit 1
exit "$status"
