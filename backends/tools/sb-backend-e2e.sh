#!/bin/sh
# sb-backend-e2e.sh — manual end-to-end check of the linux backend through
# sb-backend-run (root only; not part of the test suite). Uses its own uid
# range, cgroup name and state dir so it cannot touch a running daemon's.
#   sh backends/tools/sb-backend-e2e.sh BUILD_DIR
set -u
B=${1:-build}/backends/sb-backend-run
S=/tmp/sb-backend-e2e
OPTS="--state-dir $S --cgroup sb-backend-e2e --uid-range 61100-61199"
fail=0
check() {       # check NAME PATTERN OUTPUT
        if printf '%s\n' "$3" | grep -Eq -- "$2"; then echo "ok   $1"; else echo "FAIL $1"; printf '%s\n' "$3" | sed 's/^/     /'; fail=1; fi
}
out=$($B $OPTS -- /bin/sh -c 'id -u; echo pid=$$; ls / | tr "\n" " "; echo; grep -E "^Cap(Eff|Bnd)" /proc/self/status' 2>&1)
check "uid from the range"      '^611[0-9][0-9]$' "$out"
check "pid 2 under the init"    '^pid=2$' "$out"
check "root dirs"               '^bin dev etc lib lib32 lib64 proc sbin tmp usr work $' "$out"
check "CapEff zero"             'CapEff:[[:space:]]+0000000000000000' "$out"
check "CapBnd zero"             'CapBnd:[[:space:]]+0000000000000000' "$out"
out=$($B $OPTS -- nosuchprog 2>&1)
check "exec error"              'error="execve nosuchprog: ENOENT"' "$out"
out=$($B $OPTS --memory 33554432 -- /bin/sh -c 'x=aaaaaaaa; while :; do x=$x$x; done' 2>&1)
check "memory hog -> oom"       'oom=1' "$out"
out=$($B $OPTS --tasks 16 --timeout 2000 -- /bin/sh -c 'exec 2>/dev/null; f(){ f|f & }; f; while :; do :; done' 2>&1)
check "fork bomb held"          'tasks_peak=([0-9]|1[0-6])$' "$out"
check "fork bomb timed out"     'timeout=1' "$out"
$B $OPTS --abandon --id e2eleftover -- /bin/sleep 1000 2>/dev/null
$B $OPTS --open-only
sleep 0.2
left=$(ps -eo uid=,stat= | awk '$1>=61100 && $1<=61199 && $2 !~ /^Z/' | wc -l)
check "open() reaps leftovers"  '^0$' "$left"
check "no job dirs left"        '^$' "$(ls $S/jobs 2>/dev/null)"
check "no job cgroups left"     '^$' "$(find /sys/fs/cgroup/ -path '*sb-backend-e2e/*' -type d 2>/dev/null)"
[ $fail = 0 ] && echo "all passed" || echo "some failed"
exit $fail
