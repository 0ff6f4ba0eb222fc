"""What a job can reach beyond its own processes: the kernel's per-uid
keyrings (never granted), its init's memory figures (hidden),
and its init's limits and priority (out of the job's reach)."""

import os
import subprocess

import pytest

from conftest import Daemon, deadline_poll, finish_daemon, parse_json_output, require_root, skillboxd_path

KEYRING_CONF = "[Daemon]\n[Profile default]\n[Profile keys]\nSystemCallFilter=@keyring\n"
DEBUG_CONF = "[Daemon]\n[Profile default]\n[Profile dbg]\nSystemCallFilter=@debug\n"


@pytest.fixture
def conf_daemon_debug(request, workdir):
    """A daemon whose profile "dbg" adds @debug (ptrace) to the filter: the
    widest a profile can make it."""
    require_root()
    path = os.path.join(workdir, "dbg.conf")
    with open(path, "w") as f:
        f.write(DEBUG_CONF)
    d = Daemon(workdir, extra_args=["--config", path]).start()
    yield d
    finish_daemon(d, request)


def test_keyring_group_is_refused_with_its_reason(workdir):
    # The kernel keeps the user keyring of a uid for as long as the host
    # runs: a key one job adds would be read by the next job given the same
    # uid. So no profile may grant the keyring calls.
    path = os.path.join(workdir, "k.conf")
    with open(path, "w") as f:
        f.write(KEYRING_CONF)
    cp = subprocess.run([skillboxd_path(), "--config", path, "--check-config"],
                        capture_output=True, timeout=30)
    err = cp.stderr.decode()
    assert cp.returncode != 0, f"@keyring accepted:\n{err}"
    assert "k.conf:4: SystemCallFilter: @keyring is not offered" in err, err
    assert "per uid" in err, err


def test_keyring_calls_refused_even_with_debug(conf_daemon_debug):
    d = conf_daemon_debug
    script = (
        'import ctypes, platform\n'
        'nr = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]\n'
        'libc = ctypes.CDLL(None, use_errno=True)\n'
        'r = libc.syscall(nr[0], b"user", b"sb", b"x", 1, -4)\n'
        'print("add_key", r, ctypes.get_errno())\n'
        'r = libc.syscall(nr[1], 0, -4, 0)\n'
        'print("keyctl", r, ctypes.get_errno())\n')
    cp = d.ctl("run", "--json", "--profile", "dbg", "--", "python3", "-c", script)
    r = parse_json_output(cp)
    assert r["state"] == "exited", r
    assert r["stdout"] == "add_key -1 1\nkeyctl -1 1\n", r


def _sh(d, script, *opts):
    cp = d.ctl("run", "--json", *opts, "--", "sh", "-c", script)
    r = parse_json_output(cp)
    assert r["state"] == "exited", r
    return r


def test_job_sees_neither_its_init_nor_the_spawner_memory(daemon):
    # The init is a clone of the spawner (its figures would describe the
    # daemon's side); /proc shows the job its own processes only.
    r = _sh(daemon, 'for f in stat statm status maps; do '
                    '  if cat /proc/1/$f >/dev/null 2>&1; then echo "read:$f"; fi; done; '
                    'ls /proc | grep -x 1; '
                    'me=$(id -u); for s in /proc/[0-9]*/status; do '
                    '  u=$(grep "^Uid:" "$s" 2>/dev/null | tr -s "\t " " " | cut -d" " -f2-); '
                    '  [ -z "$u" ] || [ "$u" = "$me $me $me $me" ] || echo "other:$s:$u"; done; '
                    'echo done')
    assert r["stdout"] == "done\n", r


def test_job_cannot_prlimit_renice_or_pin_its_init(daemon):
    r = _sh(daemon, 'prlimit --pid 1 --nofile=16:16 2>/dev/null && echo prlimit-init; '
                    'prlimit --pid 1 --cpu=1:1 2>/dev/null && echo prlimit-init-cpu; '
                    'renice -n 10 -p 1 >/dev/null 2>&1 && echo renice-init; '
                    'taskset -p 1 1 >/dev/null 2>&1 && echo taskset-init; '
                    'ionice -c 3 -p 1 >/dev/null 2>&1 && echo ionice-init; '
                    'renice -n 5 -u "$(id -u)" >/dev/null 2>&1; '
                    # its own processes stay its own to limit and renice
                    'prlimit --pid $$ --nofile=64:64 && echo prlimit-self; '
                    'renice -n 10 -p $$ >/dev/null && echo renice-self; '
                    'taskset -p 1 $$ >/dev/null && echo taskset-self; '
                    'echo done')
    assert r["stdout"] == "prlimit-self\nrenice-self\ntaskset-self\ndone\n", r
    # And the init did its work: the job's end was reported as it was.
    assert r["exit_code"] == 0, r


def _job_output(c, job):
    return b"".join(p["data"] for m, p in c.notifications
                    if m == "job_output" and p.get("job") == job)


def test_init_nice_and_limits_unchanged_seen_from_the_host(daemon):
    """renice -u of the job's own uid reaches every process of that uid, and
    prlimit is tried on pid 1: seen from the host, the init's nice value and
    limits are as they were, the program's nice value changed.

    Relative to the daemon's own nice value, which the job inherits: under
    `nice`, a job may raise its value but never lower it."""
    base = os.getpriority(os.PRIO_PROCESS, daemon.pid)
    want = min(19, base + 7)
    with daemon.rpc() as c:
        job = c.exec(["sh", "-c", f'renice -n {want} -u "$(id -u)" >/dev/null 2>&1; '
                      'prlimit --pid 1 --nofile=16:16 2>/dev/null; echo tried; exec sleep 30'])
        assert deadline_poll(lambda: (c.pump(0.05), b"tried" in _job_output(c, job))[1], 10), \
            c.notifications
        with open(os.path.join(daemon.job_cgroup("pids", job), "cgroup.procs")) as f:
            pids = [int(x) for x in f.read().split()]
        seen = {}
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
            comm = st[st.index("(") + 1:st.rindex(")")]
            nice = int(st[st.rindex(")") + 2:].split()[16])
            with open(f"/proc/{pid}/limits") as f:
                nofile = [ln for ln in f if ln.startswith("Max open files")][0].split()[3:5]
            seen[comm] = (nice, nofile)
        c.ok("kill", {"job": job})
        c.wait_exit(job)
    assert "sb-init" in seen and "sleep" in seen, seen
    assert seen["sleep"][0] == want, seen
    assert seen["sb-init"][0] == base, f"the job reniced its init: {seen}"
    assert seen["sb-init"][1] != ["16", "16"], f"the job set its init's limits: {seen}"
