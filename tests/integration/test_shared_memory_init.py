"""A job's init cloned into the spawner's own memory (backends/linux/vmclone.c):
it must share nothing a job could notice, and above all the OOM killer, which
kills every process that shares its victim's memory, must never reach the
spawner or another job's init through it."""

import ctypes
import os
import platform

import pytest

from conftest import MIB, deadline_poll, preflight_sandbox, run_probe
from test_prepared import wait_prepared
from test_review_spawner import children, spawner_of


def memory_cgroup_of(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if "memory" in ctrls.split(","):
                return path
    return None


def shares_spawner_memory(d, pid):
    """kcmp(KCMP_VM): the very same address space as the spawner's."""
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(312, spawner_of(d), pid, 1, 0, 0)  # SYS_kcmp, KCMP_VM
    assert r >= 0, os.strerror(ctypes.get_errno())
    return r == 0


def static_spawner(d):
    with open(f"/proc/{spawner_of(d)}/exe", "rb") as f:
        return b"ld-linux" not in f.read(4096)


def inits_of(d):
    return [p for p, (comm, _) in children(d.pid).items() if comm == "sb-init"]


@pytest.fixture
def vm_daemon(daemon):
    if (platform.machine() != "x86_64" or not static_spawner(daemon)
            or memory_cgroup_of(os.getpid()) is None):
        pytest.skip("inits share the spawner's memory only with a static x86_64 spawner "
                    "under cgroup v1")
    return daemon


def test_prepared_inits_share_memory_but_not_the_memory_cgroup(vm_daemon):
    d = vm_daemon
    jobs = wait_prepared(d)
    inits = inits_of(d)
    assert len(inits) >= 2, children(d.pid)
    for pid in inits:
        assert shares_spawner_memory(d, pid), pid
        # Out of its job's memory cgroup (the OOM killer's scope), in its
        # pids cgroup like any process of the job.
        with open(f"/proc/{pid}/cgroup") as f:
            paths = {c: p for _, cs, p in (ln.rstrip("\n").split(":", 2) for ln in f)
                     for c in cs.split(",")}
        assert not any(paths["memory"].endswith("/" + j) for j in jobs), paths
        assert any(paths["pids"].endswith("/" + j) for j in jobs), paths
    # The program is in the job's memory cgroup, the root of its namespace.
    cp = d.ctl("run", "--json", "--", "cat", "/proc/self/cgroup")
    assert cp.returncode == 0, cp
    lines = cp.stdout.decode()
    assert "memory:/\\n" in lines or ":memory:/\\n" in lines, lines


def test_oom_of_one_job_spares_the_spawner_and_other_jobs(vm_daemon):
    d = vm_daemon
    preflight_sandbox(d, memory=64 * MIB)
    wait_prepared(d)
    spawner = spawner_of(d)
    with d.rpc() as c:
        sleeper = c.exec(["sleep", "30"], detach=True)
        cp, r = run_probe(d, "memhog", 512 * MIB, opts=["--memory", "64M", "--timeout", "30s"])
        assert r["state"] == "oom", r
        # Nothing that shares the hog's init's memory was killed with it.
        assert spawner_of(d) == spawner
        err, info = c.call("inspect", {"job": sleeper})
        assert err is None and info["state"] == "running", (err, info)
        assert deadline_poll(lambda: len(inits_of(d)) >= 3, timeout=10), children(d.pid)
        cp = d.ctl("run", "--", "echo", "after")
        assert cp.returncode == 0 and cp.stdout == b"after\n", cp
        c.ok("kill", {"job": sleeper})
        _, _, r = c.wait_exit(sleeper)
        assert r["state"] == "killed", r


def test_a_tiny_memory_limit_gets_a_forked_init(vm_daemon):
    """Below 1 MiB the init's own steps inside the job's memory cgroup could
    make it the OOM killer's pick, so it gets its own copy of memory."""
    d = vm_daemon
    with d.rpc() as c:
        job = c.exec(["sleep", "30"], detach=True, memory_max=512 * 1024)
        cg = os.path.join(d.job_cgroup("pids", job), "cgroup.procs")

        def procs():
            # exec answers before the job's cgroup exists.
            try:
                with open(cg) as f:
                    return f.read().split()
            except FileNotFoundError:
                return []
        assert deadline_poll(procs, timeout=10)
        init = min(int(p) for p in open(cg).read().split())
        assert not shares_spawner_memory(d, init)
        c.ok("kill", {"job": job})
        _, _, r = c.wait_exit(job)
        assert r["state"] == "killed", r


@pytest.mark.parametrize("kib", [16, 40])
def test_large_argv_runs_whether_prepared_or_not(daemon, kib):
    """A prepared sandbox takes argv and environment up to 24 KiB
    (SB_BACKEND_START_BYTES_MAX); a larger request gets a sandbox of its own."""
    wait_prepared(daemon)
    words = ["%04d" % i + "x" * 95 for i in range(kib * 1024 // 100)]
    cp = daemon.ctl("run", "--json", "--", "sh", "-c", 'echo "$#"', "sh", *words)
    assert cp.returncode == 0, cp
    assert f'"stdout":"{len(words)}\\n"' in cp.stdout.decode().replace(" ", ""), cp.stdout[:200]
