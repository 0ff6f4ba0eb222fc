"""Hostile jobs, processes: host and sibling visibility, signals, ptrace,
processes that outlive their job, and two concurrent jobs reaching each other.

Defences: the job's own pid namespace (visibility, signals by number), the
job uid and its lack of capabilities plus seccomp (ptrace), the job cgroup
killed as a whole at the end (outliving), and per-job network namespace,
mount namespace, /tmp and /work plus Landlock scoping (siblings)."""

import os
import re
import subprocess
import time

import pytest

from conftest import wait_for_uid_procs


def test_sees_only_its_own_pids(hostile):
    r = hostile.script("$P ls /proc")
    pids = sorted(int(x) for x in r["stdout"].split() if x.isdigit())
    # sh (2) exec'd into the probe: at most a handful, all small; the init
    # (1) is hidden (hidepid: it is not the job's).
    assert pids and 1 not in pids and max(pids) < 20 and len(pids) <= 4, \
        f"the job sees pids {pids[:30]}"


def test_signals_to_host_pids_fail(hostile):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        r = hostile.run("kill", "9", sleeper.pid, hostile.d.pid, os.getpid())
        for pid in (sleeper.pid, hostile.d.pid, os.getpid()):
            v = r["kv"][f"kill:{pid}"]
            # The host pid number does not exist in the job's namespace.
            assert v == "ESRCH", f"kill({pid}) from the job: {v}"
        assert sleeper.poll() is None, "the host sleeper died"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_ptrace_of_pid1_fails(hostile):
    r = hostile.run("syscalls", "ptrace_attach_1", "ptrace_traceme", "process_vm_readv")
    assert r["kv"]["ptrace_attach_1"] in ("EPERM", "EACCES"), r["kv"]
    assert r["kv"]["ptrace_traceme"] == "EPERM", r["kv"]
    assert r["kv"]["process_vm_readv"] == "EPERM", r["kv"]


def test_double_fork_does_not_outlive_job(hostile):
    r = hostile.script("$P double-fork /work/marker 1500; $P double-fork /tmp/marker 2500; "
                       "(trap '' HUP TERM; setsid sh -c 'sleep 5; echo late > /work/late' &) ; "
                       "echo spawned")
    assert r["state"] == "exited" and "spawned" in r["stdout"], r
    assert re.search(r"grandchild=\d+", r["stdout"]), r
    left = wait_for_uid_procs(hostile.d, present=False, timeout=2)
    assert not left, f"processes outlived the job: {left}"
    # Still none later, when the grandchildren would have woken up.
    time.sleep(2.8)
    assert not hostile.d.job_procs()


def test_two_jobs_cannot_reach_each_other(hostile):
    d = hostile.d
    name = "sbpeer-" + os.urandom(3).hex()
    port = 40000 + int.from_bytes(os.urandom(2), "big") % 20000
    with d.rpc(timeout=30) as c:
        a = c.exec_probe("hostile", "serve", name, port, 6000, timeout_ms=20000)
        end = time.monotonic() + 10
        while b"ready" not in b"".join(p["data"] for m, p in c.notifications
                                       if m == "job_output" and p.get("job") == a):
            assert time.monotonic() < end, f"job A never got ready: {c.notifications!r}"
            c.pump(0.05)
        a_pids = sorted(d.job_procs())
        assert a_pids, "job A has no processes on the host?"
        script = ("cat >/tmp/probe && chmod +x /tmp/probe && P=/tmp/probe; "
                  "echo procs=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c 's[e]rve'); "
                  "echo tmp=$($P exists /tmp/peer-marker); echo work=$($P exists /work/peer-marker); "
                  f"echo abstract=$($P abstract {name}); "
                  f"echo tcp=$($P connect 127.0.0.1 {port}); "
                  "$P hostile kill 0 " + " ".join(map(str, a_pids)))
        b = c.exec(["sh", "-c", script], stdin=True, timeout_ms=20000)
        from conftest import probe_bytes
        c.send_stdin(b, probe_bytes())
        out_b, err_b, res_b = c.wait_exit(b, timeout=20)
        c.ok("kill", {"job": a})
        out_a, err_a, res_a = c.wait_exit(a, timeout=20)
    kv = dict(l.split("=", 1) for l in out_b.decode().splitlines() if "=" in l)
    assert kv["procs"] == "0", f"job B sees job A's processes: {kv}"
    assert kv["tmp"].startswith("no") and kv["work"].startswith("no"), \
        f"job B sees job A's files: {kv}"
    assert kv["abstract"] != "ok", f"job B reached A's abstract socket: {kv}"
    assert kv["tcp"] != "ok", f"job B reached A's loopback listener: {kv}"
    for pid in a_pids:
        assert kv[f"kill:{pid}"] == "ESRCH", f"job B can signal A's host pid {pid}: {kv}"
    assert b"accepted" not in out_a, f"job A accepted a connection: {out_a!r}"
