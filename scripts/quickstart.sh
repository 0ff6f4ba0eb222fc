#!/bin/sh
# Quick start: install the build dependencies, build skillbox, start skillboxd
# with its built-in default configuration, run one sandboxed job through
# skillboxctl (its output, then its result record), and stop the daemon.
# Run as root from the source tree: scripts/quickstart.sh
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
        echo "quickstart: run as root (skillboxd creates namespaces and cgroups)" >&2
        exit 1
fi

scripts/deps.sh
[ -d build ] || meson setup build
ninja -C build

sock=/run/skillbox/skillboxd.sock
log=/run/skillbox/quickstart-skillboxd.log
mkdir -p /run/skillbox
build/daemon/skillboxd --socket "$sock" 2>"$log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT

i=0
until build/client/skillboxctl --socket "$sock" stats >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 $daemon 2>/dev/null; then
                echo "quickstart: skillboxd did not start; its log:" >&2
                cat "$log" >&2
                exit 1
        fi
        sleep 0.1
done

echo "== a sandboxed job, streaming its output"
build/client/skillboxctl --socket "$sock" run -- sh -c \
        'echo "hello from $(id -un) (uid $(id -u)), pid $$ on $(hostname)"; echo "/ holds:" $(ls /)'
echo
echo "== the same job's full result record (--json)"
build/client/skillboxctl --socket "$sock" run --json --memory 128M --timeout 10s -- \
        sh -c 'echo "hello from the sandbox"'
echo
echo "skillboxd worked; its log is in $log. Start it yourself with: build/daemon/skillboxd"
