#!/bin/sh
# skillboxctl.exe under Wine: its help, version and errors without a
# daemon, the options Windows cannot do refused by name, and, once the tree
# builds skillboxd.exe, a job run against the real daemon over the named
# pipe. Run scripts/build-windows.sh first; tests/windows/run.sh calls this
# (in its Wine prefix and wineserver), or run it alone.
set -eu
cd "$(dirname "$0")/../.."
top=$PWD
bld=$top/build-windows

if [ ! -x /usr/lib/wine/wine64 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wine64
fi
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver64
[ -x "$wineserver" ] || wineserver=/usr/lib/wine/wineserver
export WINEPREFIX=${WINEPREFIX:-${SKILLBOX_WINEPREFIX:-/var/tmp/skillbox-win/wineprefix}}
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
mkdir -p "$WINEPREFIX"

# The DLLs the programs load, found through Wine's PATH: the runtime's
# (copied beside the build by scripts/build-windows.sh) and libskillbox.dll.
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }
export WINEPATH="$(winpath "$bld");$(winpath "$bld/client")"
ctl=$bld/client/skillboxctl.exe
# One wineserver for the runs below, ending by itself 30 s after the last
# (it fails when one already serves the prefix, which is as good).
"$wineserver" -p 30 </dev/null >/dev/null 2>&1 || true

fails=0
passes=0
out=$(mktemp)
err=$(mktemp)

pass() { passes=$((passes + 1)); printf 'ok   %s\n' "$1"; }
fail() {
        fails=$((fails + 1))
        printf 'FAIL %s (exit %s)\n' "$1" "$rc"
        sed 's/^/     | /' "$out" "$err"
}
skip() { printf 'skip %s: %s\n' "$1" "$2"; }
# ctl ARGS...: skillboxctl.exe ARGS, stdin from /dev/null; its stdout in
# $out and stderr in $err (Wine's CRs dropped), its exit status in $rc.
# Into files, not pipes: Wine's own background processes inherit the first
# program's stdout and keep a pipe open.
ctl() {
        rc=0
        timeout 120 "$wine" "$ctl" "$@" </dev/null >"$out.raw" 2>"$err.raw" || rc=$?
        tr -d '\r' <"$out.raw" >"$out"
        tr -d '\r' <"$err.raw" >"$err"
}
# ctl_in FILE ARGS...: as ctl, stdin from FILE; with FILE "-", from a pipe
# (what is in $in).
ctl_in() {
        src=$1
        shift
        rc=0
        if [ "$src" = - ]; then
                cat "$in" | timeout 120 "$wine" "$ctl" "$@" >"$out.raw" 2>"$err.raw" || rc=$?
        else
                timeout 120 "$wine" "$ctl" "$@" <"$src" >"$out.raw" 2>"$err.raw" || rc=$?
        fi
        tr -d '\r' <"$out.raw" >"$out"
        tr -d '\r' <"$err.raw" >"$err"
}
in=$(mktemp)
# A pipe name no server has.
nopipe='\\.\pipe\skillbox-ctl-test-none'

ctl --help
if [ "$rc" -eq 0 ] && grep -q '^Usage: skillboxctl ' "$out" &&
   grep -qF 'The socket defaults to $SKILLBOX_SOCKET, else \\.\pipe\skillbox.' "$out"; then
        pass "--help: usage, the named pipe as the default address"
else
        fail "--help: usage, the named pipe as the default address"
fi

ctl --version
if [ "$rc" -eq 0 ] && grep -Eq '^skillboxctl [0-9]+\.[0-9]+\.[0-9]+$' "$out"; then
        pass "--version"
else
        fail "--version"
fi

# No daemon on the pipe: one line naming the pipe, exit 125, nothing on stdout.
ctl --socket "$nopipe" ps
if [ "$rc" -eq 125 ] && [ ! -s "$out" ] && [ "$(wc -l <"$err")" -eq 1 ] &&
   grep -qF "skillboxctl: cannot connect to $nopipe: " "$err"; then
        pass "no server on the pipe: a clear error, exit 125"
else
        fail "no server on the pipe: a clear error, exit 125"
fi
# The same with --json: the error also as JSON on stdout.
ctl --socket "$nopipe" ps --json
if [ "$rc" -eq 125 ] && grep -q '^{"error": {"code": ' "$out"; then
        pass "no server on the pipe, --json: the error as JSON"
else
        fail "no server on the pipe, --json: the error as JSON"
fi
# SKILLBOX_SOCKET names the pipe when --socket does not.
SKILLBOX_SOCKET="$nopipe" ctl ps
if [ "$rc" -eq 125 ] && grep -qF "cannot connect to $nopipe: " "$err"; then
        pass "SKILLBOX_SOCKET names the pipe"
else
        fail "SKILLBOX_SOCKET names the pipe"
fi
ctl --socket "$nopipe" doctor
if [ "$rc" -eq 1 ] && grep -qF "daemon      warn no answer at $nopipe: " "$out"; then
        pass "doctor without a daemon: a warning, exit 1"
else
        fail "doctor without a daemon: a warning, exit 1"
fi

daemon_tests() {
        pipe='\\.\pipe\skillbox-ctl-test'
        d_dir=$(mktemp -d)
        dlog=$d_dir/log
        # The helper runs as a job, with the daemon's environment (no
        # WINEPATH): the DLLs it loads beside it.
        helper=$(winpath "$bld/tests/windows/sb-win-helper.exe")
        cp -u "$bld"/*.dll "$bld/tests/windows/"
        # A profile Wine can run (as run.sh's: the built-in ones require
        # rlimits, which the Windows backend does not report, and Wine
        # refuses a CPU cap).
        cat >"$d_dir/skillboxd.conf" <<CONF
[Daemon]
StateDirectory=$d_dir/state

[Profile wine]
MemoryMax=256M
TasksMax=8
CPUQuota=
RuntimeMaxSec=120s
Network=host
Require=
CONF
        timeout 600 "$wine" "$bld/daemon/skillboxd.exe" --socket "$pipe" \
                --config "$(winpath "$d_dir/skillboxd.conf")" >"$dlog" 2>&1 &
        daemon=$!
        up=
        for _ in $(seq 60); do
                ctl --socket "$pipe" version
                if grep -q '^skillboxd ' "$out"; then
                        up=1
                        break
                fi
                kill -0 "$daemon" 2>/dev/null || break
                sleep 0.5
        done
        if [ -z "$up" ]; then
                cp "$dlog" "$out"
                fail "skillboxd.exe answers on $pipe"
        else
                pass "skillboxd.exe answers on $pipe"

                ctl --socket "$pipe" run --profile wine -- cmd /c "echo hi & exit 3"
                if [ "$rc" -eq 3 ] && grep -q '^hi *$' "$out"; then
                        pass "run: the job's output streamed, its exit code 3 passed on"
                else
                        fail "run: the job's output streamed, its exit code 3 passed on"
                fi

                # Our stdin reaches the job, from a pipe and from a file
                # (cmd's set /p reads one line of it).
                printf 'from-stdin\r\n' >"$in"
                for src in - "$in"; do
                        what="a pipe"
                        [ "$src" = - ] || what="a file"
                        ctl_in "$src" --socket "$pipe" run --profile wine -- \
                                cmd /c "set /p x= & call echo got %x%"
                        if [ "$rc" -eq 0 ] && grep -q 'got from-stdin$' "$out"; then
                                pass "run: stdin from $what reaches the job"
                        else
                                fail "run: stdin from $what reaches the job"
                        fi
                done

                # A Windows exit code past 255 (here an NTSTATUS): named, 125.
                ctl --socket "$pipe" run --profile wine -- cmd /c "exit -1073741515"
                if [ "$rc" -eq 125 ] && grep -q 'exited with code 0xc0000135 (not 0-255)$' "$err"; then
                        pass "run: an exit code past 255 shown in hex, exit 125"
                else
                        fail "run: an exit code past 255 shown in hex, exit 125"
                fi

                ctl --socket "$pipe" run --profile wine --detach -- "$helper" sleep 600000
                job=$(cat "$out")
                ctl --socket "$pipe" ps
                if [ -n "$job" ] && grep -q "^$job " "$out"; then
                        pass "ps lists a running job"
                else
                        fail "ps lists a running job"
                fi
                ctl --socket "$pipe" kill "$job"
                kill_rc=$rc
                cp "$err" "$err.kill"
                ctl --socket "$pipe" wait "$job"
                cat "$err.kill" >>"$err"
                rm -f "$err.kill"
                if [ "$kill_rc" -eq 0 ] && [ "$rc" -eq 137 ]; then
                        pass "kill ends a running job (wait: 137)"
                else
                        fail "kill ends a running job (wait: 137)"
                fi
                ctl --socket "$pipe" inspect "$job"
                if [ "$rc" -eq 0 ] && grep -q "\"job\": \"$job\"" "$out"; then
                        pass "inspect: the job as JSON"
                else
                        fail "inspect: the job as JSON"
                fi
                ctl --socket "$pipe" doctor
                if [ "$rc" -eq 0 ] && grep -q '^daemon      ok   skillboxd .* backend windows' "$out" &&
                   grep -Eq '^kill_tree   info (enforced|monitored|absent)$' "$out"; then
                        pass "doctor: the daemon's answer and its guarantees"
                else
                        fail "doctor: the daemon's answer and its guarantees"
                fi
                ctl --socket "$pipe" stats
                if [ "$rc" -eq 0 ] && grep -Eq '^jobs started: +[1-9]' "$out"; then
                        pass "stats"
                else
                        fail "stats"
                fi
        fi
        # Ctrl-C: the daemon drains and exits.
        kill -INT "$daemon" 2>/dev/null || true
        wait "$daemon" 2>/dev/null || true
        rm -rf "$d_dir"
}

# What needs a descriptor passed over the pipe, or a POSIX terminal:
# refused by name before anything is sent (no daemon needed), exit 2.
refused() { # NAME ARGS...
        name=$1
        shift
        ctl --socket "$nopipe" "$@"
        if [ "$rc" -eq 2 ] && [ ! -s "$out" ] &&
           [ "$(cat "$err")" = "skillboxctl: $name: not supported on Windows" ]; then
                pass "$name refused: not supported on Windows, exit 2"
        else
                fail "$name refused: not supported on Windows, exit 2"
        fi
}
refused --workdir run --workdir 'C:\' -- cmd /c exit 0
refused --mount run --mount 'C:\data:/data:ro' -- cmd /c exit 0
refused --publish run --publish 8080:80 -- cmd /c exit 0
refused --keep-work run --keep-work - -- cmd /c exit 0
refused --tty run --tty -- cmd
refused -t run -t -- cmd
refused fetch fetch job-1 out
refused "doctor --config" doctor --config 'C:\skillboxd.conf'

# Against the real daemon over the named pipe: a job's output and exit
# code, ps, kill. The daemon in the foreground on a pipe and state dir of
# this run's own.
if [ -f "$bld/daemon/skillboxd.exe" ]; then
        daemon_tests
else
        skip "run, ps, kill against skillboxd.exe" "skillboxd.exe is not built for Windows in this tree"
fi

rm -f "$out" "$out.raw" "$err" "$err.raw" "$in"
echo "skillboxctl.exe under wine: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
