"""Hostile jobs, exhaustion: fork, memory, /tmp, descriptor and output bombs.

Defences: pids.max of the job cgroup (plus RLIMIT_NPROC), memory.limit of the
job cgroup, the /tmp tmpfs size, RLIMIT_NOFILE without CAP_SYS_RESOURCE, and
the daemon's output cap (output_max -> state output_limit)."""

import os
import re
import shutil

import pytest

from conftest import MIB, procs_with_uid_in


def test_fork_bomb_held_by_pids_limit(hostile):
    r = hostile.script("$P forkbomb", opts=["--tasks", "16", "--timeout", "15s"], timeout=40)
    m = re.search(r"forks=(\d+) errno=(\w+)", r["stdout"])
    assert m, r
    assert m.group(2) == "EAGAIN" and int(m.group(1)) < 16, r["stdout"]
    assert r["enforced"]["tasks_max"] == 16, r["enforced"]


def test_memory_bomb_ends_oom(hostile):
    r = hostile.script("$P memhog 1073741824", opts=["--memory", "48M", "--timeout", "20s"])
    assert r["state"] == "oom", f"memory bomb: {r['state']} {r.get('stderr', '')[-200:]}"


def test_tmp_bomb_enospc_host_unaffected(hostile):
    before = shutil.disk_usage("/tmp").used
    r = hostile.run("fill", "/tmp/fill")
    m = re.search(r"fill=(\w+) mib=(\d+)", r["stdout"])
    assert m and m.group(1) == "ENOSPC", r["stdout"]
    assert int(m.group(2)) <= 64, f"/tmp took {m.group(2)} MiB"
    assert abs(shutil.disk_usage("/tmp").used - before) < 32 * MIB, "host /tmp filled"


def test_fd_bomb_stops_at_nofile(hostile):
    r = hostile.run("fdbomb")
    m = re.search(r"fds=(\d+) errno=(\w+) nofile=(\d+)", r["stdout"])
    assert m and m.group(2) == "EMFILE", r["stdout"]
    assert int(m.group(1)) + 3 == int(m.group(3)) <= 65536, r["stdout"]
    assert r["kv"]["raise"] == "EPERM", r["stdout"]


def test_output_bomb_ends_output_limit(hostile):
    with hostile.d.rpc(timeout=30) as c:
        job = c.exec_probe("output", 256 * MIB, output_max=1 * MIB, timeout_ms=20000)
        out, err, res = c.wait_exit(job, timeout=30)
    assert res["state"] == "output_limit", f"output bomb: {res!r}"
    assert len(out) + len(err) <= 1 * MIB + 64 * 1024, len(out)
