#!/bin/sh
# The Windows build under Wine: what Wine can run of it, checked; what it
# cannot (it enforces no job limits, tokens, DACLs or AppContainer), named
# as a skip with the reason. Run scripts/build-windows.sh first.
#
# Wine runs headless here: console programs only, a wineserver of this
# script's own (stopped at the end), the prefix under /var/tmp so CI can
# cache it with the cross-built libraries.
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
export WINEPREFIX=${SKILLBOX_WINEPREFIX:-/var/tmp/skillbox-win/wineprefix}
export WINEDEBUG=-all
# No Mono or Gecko: nothing here needs .NET or HTML, and their installers
# would want a display.
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
mkdir -p "$WINEPREFIX"

# The programs and the DLLs they load, side by side.
run_dir=$bld/tests/windows
cp -u "$bld"/*.dll "$bld/client/libskillbox.dll" "$run_dir/"
helper='Z:'$(printf '%s' "$run_dir/sb-win-helper.exe" | tr / '\\')
sbrun="$run_dir/sb-win-run.exe"

# One wineserver for all the runs below (it fails when one already serves
# the prefix, which is as good).
"$wineserver" -p 30 </dev/null >/dev/null 2>&1 || true
trap '"$wineserver" -k 2>/dev/null || true' EXIT

fails=0
passes=0
out=$(mktemp)

pass() { passes=$((passes + 1)); echo "ok   $1"; }
fail() { fails=$((fails + 1)); echo "FAIL $1"; sed 's/^/     | /' "$out"; }
skip() { echo "skip $1: $2"; }
# run ARGS...: sb-win-run ARGS into $out (Wine's CRs dropped). Into a
# file, not a pipe: Wine's own background processes (services.exe and the
# like) inherit the first program's stdout and keep a pipe open.
run() {
        timeout 120 "$wine" "$sbrun" "$@" >"$out.raw" 2>&1 || true
        tr -d '\r' <"$out.raw" >"$out"
}
has() { grep -q -- "$1" "$out"; }

# A job runs, its output comes back, its exit code is reported.
run --memory 268435456 --tasks 8 -- "$helper" echo hello-from-job
if has '^hello-from-job$' && has '^result: exit_code=0 signal=0'; then
        pass "job output and exit code 0"
else
        fail "job output and exit code 0"
fi
run -- "$helper" exit 7
if has '^result: exit_code=7 signal=0'; then pass "exit code 7"; else fail "exit code 7"; fi

# The job's environment is the spec's alone: the driver's own variable
# does not reach it, the one the spec names does.
SB_LEAK=leaked run --env SB_GIVEN=given -- "$helper" env SB_LEAK
if has '^(unset)$'; then pass "environment: nothing inherited"; else fail "environment: nothing inherited"; fi
run --env SB_GIVEN=given -- "$helper" env SB_GIVEN
if has '^given$'; then pass "environment: the spec's variables"; else fail "environment: the spec's variables"; fi

# kill ends the whole tree: the helper starts a child that would sleep for
# ten minutes; after the kill no process of the job is left.
run --kill-after 1500 -- "$helper" tree
child=$(sed -n 's/^child \([0-9][0-9]*\)$/\1/p' "$out")
if [ -n "$child" ] && grep -Eq '^killed: active_before=([2-9]|[1-9][0-9])' "$out" &&
   has 'signal=9 .*active_after=0$' &&
   [ "$(timeout 60 "$wine" "$run_dir/sb-win-helper.exe" alive "$child" 2>/dev/null | tr -d '\r')" = gone ]; then
        pass "kill ends the job's whole process tree (child $child gone)"
else
        fail "kill ends the job's whole process tree"
fi

# Exit accounting: the record is there; Wine fills no times or peaks.
run -- "$helper" spin 300
if grep -Eq '^result: exit_code=0 signal=0 cpu_user_ms=[0-9]+ cpu_sys_ms=[0-9]+ memory_peak=[0-9]+ oom=0' "$out"; then
        pass "exit accounting record"
        if grep -Eq 'cpu_user_ms=0 cpu_sys_ms=0' "$out"; then
                skip "accounting values" "Wine reports no CPU time or peak memory for a job object"
        fi
else
        fail "exit accounting record"
fi

# What the job object enforces is reported as applied.
run --memory 268435456 --tasks 8 -- "$helper" exit 0
if has 'enforced: backend=windows memory_max=268435456 tasks_max=8 .*network=(not isolated)'; then
        pass "enforced record: limits applied, network not isolated"
else
        fail "enforced record: limits applied, network not isolated"
fi

# The job's token: an AppContainer of its own, or a low-integrity
# restricted token where the system makes none. Either way the job runs,
# its output and exit code come back, and its network is what that token
# gives (none in an AppContainer without capabilities).
run -- "$helper" echo hello-restricted
if has '^hello-restricted$' && has '^result: exit_code=0 signal=0' &&
   { { has '^token: appcontainer$' && has 'network=none'; } ||
     { has '^token: low integrity' && has 'network=(not isolated)'; }; }; then
        pass "job under a restricted token: output, exit code 0, network as the token gives"
else
        fail "job under a restricted token: output, exit code 0, network as the token gives"
fi
if has '^token: low integrity (appcontainer: .*CreateAppContainerProfile'; then
        skip "AppContainer" "Wine has no CreateAppContainerProfile: the low-integrity token was taken"
fi
if has '^process token: integrity=0x1000 ' || has '^process token: .*appcontainer=1'; then
        pass "restricted token enforced: the job's process token is low integrity or an AppContainer's"
else
        skip "restricted token enforced" "Wine enforces no tokens/integrity levels ($(sed -n 's/^process token: //p' "$out"))"
fi
run --probe
if has '^probe: file and network isolation: \(an AppContainer per job\|a low-integrity restricted token per job\)'; then
        pass "probe names the token a job gets"
else
        fail "probe names the token a job gets"
fi
run --network host -- "$helper" exit 7
if has '^result: exit_code=7 signal=0' && has 'network=host' &&
   has '^token: \(appcontainer\|low integrity\)'; then
        pass "job under a restricted token, host network: exit code 7"
else
        fail "job under a restricted token, host network: exit code 7"
fi

# A program that does not exist: the job fails with the step named.
run -- 'C:\no\such\program.exe'
if has '^spawn: CreateProcess[A-Za-z]*W[(:]'; then pass "missing program: failure names the step"; else fail "missing program: failure names the step"; fi

# The CPU rate cap: Wine refuses it, and the job must then fail, never run
# uncapped (fail closed).
run --cpu 50 -- "$helper" exit 0
if has '^spawn: SetInformationJobObject(CPU rate)'; then
        pass "CPU cap unavailable: the job fails closed"
        skip "CPU rate hard cap enforced" "Wine does not implement JobObjectCpuRateControlInformation"
else
        fail "CPU cap unavailable: the job fails closed"
fi

# A client over the named pipe: libskillbox.dll at its default address
# (\\.\pipe\skillbox) against the daemon's pipe code (the DACL'd first
# instance, the peer from its token), one hello answered.
srv_out=$(mktemp)
timeout 120 "$wine" "$run_dir/sb-win-pipe-server.exe" '\\.\pipe\skillbox' >"$srv_out" 2>&1 &
srv=$!
for _ in $(seq 100); do
        grep -q '^listening' "$srv_out" 2>/dev/null && break
        sleep 0.2
done
timeout 60 "$wine" "$run_dir/sb-win-client.exe" >"$out.raw" 2>&1 || true
wait "$srv" || true
tr -d '\r' <"$out.raw" >"$out"
tr -d '\r' <"$srv_out" >>"$out"
rm -f "$srv_out"
if has '^hello: server=skillboxd-pipe-test protocol=1 role=' &&
   grep -Eq '^peer: pid=[1-9][0-9]* sid=S-1-[0-9-]+ admin=[01]$' "$out" &&
   has '^hello answered$'; then
        pass "libskillbox over the named pipe; the peer identified by its token"
else
        fail "libskillbox over the named pipe; the peer identified by its token"
fi
if has '^squat: refused$'; then
        pass "the pipe's name cannot be taken by a second first instance"
else
        skip "pipe squatting refused" "Wine ignores FILE_FLAG_FIRST_PIPE_INSTANCE"
fi

# The daemon's transport (daemon/transport/named_pipe.c) on a libuv loop:
# a client connects to an instance made with the pipe's DACL, is identified
# by its token, its bytes arrive through the reader, the answer goes back.
timeout 120 "$wine" "$run_dir/sb-win-transport.exe" '\\.\pipe\skillbox-transport-test' \
        >"$out.raw" 2>&1 || true
tr -d '\r' <"$out.raw" >"$out"
if has '^peer: pid=[0-9]* self=1$' && has ' uid-local=1$' && has '^reply: pong$' &&
   has '^eof$' && has '^done$' &&
   ! has FAIL; then
        pass "transport: a client over the named pipe served on the loop"
else
        fail "transport: a client over the named pipe served on the loop"
fi
if ! has '^squat: refused$'; then
        skip "transport: a second listener on the name refused" \
                "Wine ignores FILE_FLAG_FIRST_PIPE_INSTANCE"
fi

# The daemon's state dir (daemon/statedir_windows.c): made with the
# private descriptor and trusted, again when it exists; one all may write
# to refused. Wine keeps no descriptor on a Unix directory: it shows the
# mode bits as entries (so a 0777 directory made here reads as Everyone
# may write) and the process's user as every owner.
sd_dir=$(mktemp -d)
mkdir "$sd_dir/world"
chmod 0777 "$sd_dir/world"
timeout 60 "$wine" "$run_dir/sb-win-statedir.exe" "Z:$(printf '%s' "$sd_dir" | tr / '\\')" \
        >"$out.raw" 2>&1 || true
tr -d '\r' <"$out.raw" >"$out"
eperm=$(sed -n 's/^EPERM=//p' "$out")
if has '^fresh: 0$' && has '^again: 0$'; then
        pass "state dir: created private, then trusted again"
else
        fail "state dir: created private, then trusted again"
fi
if [ -n "$eperm" ] && has "^world: -$eperm\$"; then
        pass "state dir: one all may write to is refused"
else
        fail "state dir: one all may write to is refused"
fi
for c in everyone user-owned; do
        if [ -n "$eperm" ] && has "^$c: -$eperm\$"; then
                pass "state dir: $c refused"
        else
                skip "state dir: $c refused" "Wine keeps no DACL or owner on a Unix directory"
        fi
done
rm -rf "$sd_dir"

# One daemon per state dir (daemon/instance_windows.c): a second claim of
# the same one is refused while the first holds it, and free after.
in_dir=$(mktemp -d)
timeout 60 "$wine" "$run_dir/sb-win-instance.exe" "Z:$(printf '%s' "$in_dir" | tr / '\\')" \
        >"$out.raw" 2>&1 || true
tr -d '\r' <"$out.raw" >"$out"
ebusy=$(sed -n 's/^EBUSY=//p' "$out")
if [ -n "$ebusy" ] && has '^first: 0$' && has "^second: -$ebusy\$" &&
   has '^after release: 0$' && [ -z "$(ls -A "$in_dir")" ]; then
        pass "instance: a second daemon on the state dir refused, the claim gone with the first"
else
        fail "instance: a second daemon on the state dir refused, the claim gone with the first"
fi
rm -rf "$in_dir"

# The service plumbing (daemon/service_windows.c): installed with the
# registration of service_windows_config.c, started, stopped, removed.
svc() {
        timeout 60 "$wine" "$run_dir/sb-win-service.exe" "$1" >"$out.raw" 2>&1 || true
        tr -d '\r' <"$out.raw" >"$out"
}
svc uninstall   # what an interrupted run left
svc install
if has '^installed$'; then pass "service installed"; else fail "service installed"; fi
svc config
if grep -q '^binary "Z:.*\\sb-win-service.exe" --service$' "$out" && has '^start_type 2$' &&
   has '^account LocalSystem$'; then
        pass "service registration: quoted path, --service, auto start, LocalSystem"
else
        fail "service registration: quoted path, --service, auto start, LocalSystem"
fi
svc start
if has '^state running$'; then pass "service started (SERVICE_RUNNING)"; else fail "service started"; fi
svc stop
if has '^state stopped$'; then pass "service stopped on SERVICE_CONTROL_STOP"; else fail "service stopped"; fi
svc uninstall
if has '^uninstalled$'; then pass "service uninstalled"; else fail "service uninstalled"; fi

# ---- skillboxd.exe: the daemon itself, as the service ----
# Installed with a configuration on top of the built-in one (shared with
# POSIX systems, whose Socket and SocketGroup name no pipe or Windows group:
# the daemon serves \\.\pipe\skillbox to SYSTEM and the Administrators):
# a state dir of the run's own, and a profile Wine can run (no CPU cap:
# Wine refuses one, and the job would fail closed; nothing required).
daemon_exe='Z:'$(printf '%s' "$bld/daemon/skillboxd.exe" | tr / '\\')
client="$run_dir/sb-win-client.exe"
cp -u "$bld"/*.dll "$bld/client/libskillbox.dll" "$bld/daemon/"
d_dir=$(mktemp -d)
cat >"$d_dir/skillboxd.conf" <<CONF
[Daemon]
StateDirectory=$d_dir/state
RetainSec=5min

[Profile wine]
MemoryMax=256M
TasksMax=8
CPUQuota=
RuntimeMaxSec=120s
Network=host
Require=
CONF
d_conf='Z:'$(printf '%s' "$d_dir/skillboxd.conf" | tr / '\\')
# client ARGS...: sb-win-client ARGS into $out.
client() {
        timeout 120 "$wine" "$client" "$@" >"$out.raw" 2>&1 || true
        tr -d '\r' <"$out.raw" >"$out"
}
daemon() {
        timeout 60 "$wine" "$daemon_exe" "$@" >"$out.raw" 2>&1 || true
        tr -d '\r' <"$out.raw" >"$out"
}
svc uninstall   # a service an interrupted run left, whichever program it runs
daemon --install-service --config "$d_conf"
if has '^skillboxd: service installed: Z:.*skillboxd.exe$'; then
        pass "skillboxd.exe --install-service"
else
        fail "skillboxd.exe --install-service"
fi
timeout 60 "$wine" sc start skillbox >/dev/null 2>&1 || true
svc wait-running
svc_ran=0
if has '^state running$'; then
        svc_ran=1
        pass "sc start skillbox: skillboxd.exe runs as the service"
else
        fail "sc start skillbox: skillboxd.exe runs as the service"
fi
client
if has '^hello: server=skillboxd protocol=1 role=admin backend=windows tty=0$'; then
        pass "skillboxd.exe answers hello on the default pipe (no terminals)"
else
        fail "skillboxd.exe answers hello on the default pipe (no terminals)"
fi
client run - wine "$helper" echo hello-from-daemon
if has '^hello-from-daemon$' && has '^result: exit_code=0 signal=0 '; then
        pass "skillboxd.exe: a job's output and exit code 0"
else
        fail "skillboxd.exe: a job's output and exit code 0"
fi
client stdin - wine "$helper" cat
if has '^line-to-stdin$' && has '^result: exit_code=0 signal=0 '; then
        pass "skillboxd.exe: a job's stdin written, closed, read to its end"
else
        fail "skillboxd.exe: a job's stdin written, closed, read to its end"
fi
client run - wine "$helper" exit 7
if has '^result: exit_code=7 signal=0 '; then
        pass "skillboxd.exe: exit code 7"
else
        fail "skillboxd.exe: exit code 7"
fi
client run - wine "$helper" spin 300
if grep -Eq '^result: exit_code=0 signal=0 wall_ms=[1-9][0-9]* cpu_user_ms=[0-9]+ cpu_sys_ms=[0-9]+ memory_peak=[0-9]+ stdout_bytes=[0-9]+ backend=windows error=-$' "$out"; then
        pass "skillboxd.exe: exit accounting fields"
        if has 'cpu_user_ms=0 cpu_sys_ms=0'; then
                skip "skillboxd.exe: accounting values" "Wine reports no CPU time or peak memory for a job object"
        fi
else
        fail "skillboxd.exe: exit accounting fields"
fi
# kill: the job's child, which would sleep ten minutes, goes with it; list
# showed the job while it ran.
client kill - wine "$helper" tree
child=$(sed -n 's/^child \([0-9][0-9]*\)$/\1/p' "$out")
job=$(sed -n 's/^job: \(.*\)$/\1/p' "$out")
if [ -n "$job" ] && has "^list: $job running\$"; then
        pass "skillboxd.exe: list shows the running job"
else
        fail "skillboxd.exe: list shows the running job"
fi
if [ -n "$child" ] && has '^killed$' && has '^result: ' &&
   [ "$(timeout 60 "$wine" "$run_dir/sb-win-helper.exe" alive "$child" 2>/dev/null | tr -d '\r')" = gone ]; then
        pass "skillboxd.exe: kill ends the job's whole tree (child $child gone)"
else
        fail "skillboxd.exe: kill ends the job's whole tree"
fi
timeout 60 "$wine" sc stop skillbox >/dev/null 2>&1 || true
svc wait-stopped
if [ "$svc_ran" -eq 1 ] && has '^state stopped$'; then
        pass "sc stop skillbox: the daemon drained and stopped"
else
        fail "sc stop skillbox: the daemon drained and stopped"
fi
daemon --uninstall-service
if has '^skillboxd: service removed$'; then
        pass "skillboxd.exe --uninstall-service"
else
        fail "skillboxd.exe --uninstall-service"
fi
# Not a service: skillboxd.exe in the console it was started from serves
# the pipe until Ctrl-C (Wine turns SIGINT into the console's CTRL_C_EVENT;
# timeout passes it on), then drains and exits 0.
d_log=$(mktemp)
timeout 120 "$wine" "$daemon_exe" --config "$d_conf" >"$d_log" 2>&1 &
d_pid=$!
for _ in $(seq 100); do
        grep -q ' ready: backend windows' "$d_log" 2>/dev/null && break
        sleep 0.2
done
client
d_rc=0
kill -INT "$d_pid" 2>/dev/null || true
wait "$d_pid" || d_rc=$?
tr -d '\r' <"$d_log" >>"$out"
rm -f "$d_log"
if has '^hello: server=skillboxd ' && has 'Ctrl-C: draining' && has 'skillboxd: info: exiting$' &&
   [ "$d_rc" -eq 0 ]; then
        pass "skillboxd.exe in a console: serves the pipe, drains on Ctrl-C, exits 0"
else
        fail "skillboxd.exe in a console: serves the pipe, drains on Ctrl-C, exits 0"
fi
rm -rf "$d_dir"

skip "job memory limit enforced" "Wine accepts JOB_OBJECT_LIMIT_JOB_MEMORY but enforces nothing"
skip "active process limit enforced" "Wine accepts JOB_OBJECT_LIMIT_ACTIVE_PROCESS but enforces nothing"
skip "UI restrictions" "Wine enforces no JOB_OBJECT_UILIMIT_*"
skip "named pipe DACL" "Wine enforces no DACLs (the SDDL is unit-tested on Linux: test_win_pipe_sddl)"

# skillboxctl.exe checks
"$top/tests/windows/ctl.sh" || fails=$((fails + 1))

rm -f "$out" "$out.raw"
echo "windows under wine: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
