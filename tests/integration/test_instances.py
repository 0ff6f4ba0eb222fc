"""One daemon per cgroup subtree, uid range and state dir: a second skillboxd
that would share one of them with a live daemon refuses to start, naming the
other's pid, and never touches its jobs; after a crash, the next daemon still
reaps what the dead one left (the registry in /run/skillbox-instances)."""

import os
import subprocess

import pytest

from conftest import (INSTANCE_REGISTRY as REGISTRY, Daemon, deadline_poll, require_root,
                      wait_for_uid_procs)


def _second(workdir, first, **over):
    """A daemon with its own socket and state dir, the rest fresh unless
    over says otherwise (cgroup, uid_first, uid_last, state_dir)."""
    sub = os.path.join(workdir, "second")
    os.makedirs(sub, exist_ok=True)
    d = Daemon(sub)
    for k, v in over.items():
        setattr(d, k, v)
    return d


def _start_refused(d):
    cp = subprocess.run(d.argv(), stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return cp.returncode, (cp.stdout + cp.stderr).decode(errors="replace")


def _running_job(first):
    c = first.rpc()
    job = c.exec(["sh", "-c", "sleep 60 & exec sleep 60"])
    assert wait_for_uid_procs(first, present=True, timeout=5), "the job never ran"
    assert deadline_poll(lambda: len(first.job_procs()) >= 2, 5), first.job_procs()
    return c, job


def _first_unharmed(first, c, job, procs_before):
    """The first daemon's job still runs in its cgroup, and new jobs run."""
    assert first.proc.poll() is None, "the first daemon died"
    r = c.ok("inspect", {"job": job})
    assert r["state"] == "running", f"the first daemon's job ended: {r}"
    left = first.job_procs()
    assert set(procs_before) <= set(left), f"job processes gone: {procs_before} -> {left}"
    for ctrl in ("pids", "memory"):
        assert os.path.isdir(first.job_cgroup(ctrl, job)), f"{ctrl} cgroup of the job removed"
    c.ok("kill", {"job": job})
    _, _, res = c.wait_exit(job)
    assert res["state"] == "killed", res
    for _ in range(2):
        j = c.exec(["echo", "still-works"])
        out, err, res = c.wait_exit(j)
        assert res["state"] == "exited" and out == b"still-works\n", (res, err, first.log())


@pytest.mark.parametrize("shared", ["cgroup", "uid_range", "state_dir"])
def test_second_instance_sharing_refuses_to_start(daemon, workdir, shared):
    c, job = _running_job(daemon)
    procs = daemon.job_procs()
    over = {}
    if shared == "cgroup":
        over["cgroup"] = daemon.cgroup
    elif shared == "uid_range":
        # Overlapping at one end only.
        over["uid_first"] = daemon.uid_last
        over["uid_last"] = daemon.uid_last + 100
    else:
        over["state_dir"] = daemon.state_dir
    d2 = _second(workdir, daemon, **over)
    try:
        rc, out = _start_refused(d2)
        assert rc != 0, f"a second daemon sharing the {shared} started:\n{out}"
        assert f"pid {daemon.pid}" in out, f"the refusal does not name pid {daemon.pid}:\n{out}"
        _first_unharmed(daemon, c, job, procs)
    finally:
        c.close()


def test_disjoint_instances_both_run(daemon, workdir):
    c, job = _running_job(daemon)
    procs = daemon.job_procs()
    d2 = _second(workdir, daemon).start()
    try:
        with d2.rpc() as c2:
            j2 = c2.exec(["echo", "second"])
            out, _, res = c2.wait_exit(j2)
            assert res["state"] == "exited" and out == b"second\n", res
        assert d2.stop() == 0, d2.log()
        d2.assert_clean()
    finally:
        d2.stop()
        d2.force_cleanup()
    # The second one's start and exit left the first alone.
    _first_unharmed(daemon, c, job, procs)
    c.close()


def test_restart_after_crash_reaps(workdir):
    require_root()
    d1 = Daemon(workdir).start()
    d2 = None
    try:
        assert os.path.exists(os.path.join(REGISTRY, str(d1.pid))), os.listdir(REGISTRY)
        c = d1.rpc()
        job = c.exec(["sh", "-c", "sleep 60 & exec sleep 60"], detach=True)
        assert deadline_poll(lambda: len(d1.job_procs()) >= 2, 5), d1.job_procs()
        d1.sigkill()
        c.close()
        assert d1.job_procs(), "the job died with its daemon: nothing to reap"
        assert os.path.isdir(d1.job_cgroup("pids", job))
        d2 = Daemon(workdir, like=d1)
        d2.start()
        d2.assert_clean(timeout=5)
        assert not os.path.isdir(d1.job_cgroup("pids", job))
        assert not os.path.exists(os.path.join(REGISTRY, str(d1.pid))), \
            "the dead daemon's registry entry stayed"
        assert os.path.exists(os.path.join(REGISTRY, str(d2.pid)))
        with d2.rpc() as c2:
            j2 = c2.exec(["echo", "again"])
            out, _, r = c2.wait_exit(j2)
            assert out == b"again\n" and r["state"] == "exited", r
        assert d2.stop() == 0, d2.log()
        assert not os.path.exists(os.path.join(REGISTRY, str(d2.pid))), \
            "a stopped daemon left its registry entry"
        d2.assert_clean()
    finally:
        if d1.proc.poll() is None:
            d1.sigkill()
        if d2 is not None:
            d2.stop()
            d2.force_cleanup()
        d1.force_cleanup()


# ---------------------------------------------------------------- the state dir

def test_state_dir_created_private(request, workdir):
    """A missing state dir is created 0700 with its jobs/ 0700, and the
    parents it needed 0755 (daemon/statedir.h)."""
    require_root()
    d = Daemon(workdir)
    d.state_dir = os.path.join(workdir, "new", "deeper", "state")
    d.start()
    try:
        mode = lambda p: os.stat(p).st_mode & 0o7777
        assert mode(d.state_dir) == 0o700, oct(mode(d.state_dir))
        assert mode(os.path.join(d.state_dir, "jobs")) == 0o700
        assert mode(os.path.join(workdir, "new", "deeper")) == 0o755
        with d.rpc() as c:
            out, _, res = c.wait_exit(c.exec(["echo", "ok"]))
            assert res["state"] == "exited" and out == b"ok\n", res
    finally:
        from conftest import finish_daemon
        finish_daemon(d, request)


@pytest.mark.parametrize("where", ["state_dir", "jobs", "symlink"])
def test_state_dir_others_may_write_refused(workdir, where):
    """A state dir (or its jobs/) that group or others may write to is not
    used: whoever can write there could swap a job's directory. Nor is a
    symlink to a good one. The daemon refuses to start and changes nothing."""
    require_root()
    d = Daemon(workdir)
    target = os.path.join(workdir, "state")
    os.mkdir(target, 0o700)
    if where == "state_dir":
        os.chmod(target, 0o777)
        bad = target
    elif where == "jobs":
        bad = os.path.join(target, "jobs")
        os.mkdir(bad)
        os.chmod(bad, 0o777)
    else:
        bad = os.path.join(workdir, "link")
        os.symlink(target, bad)
        d.state_dir = bad
    rc, out = _start_refused(d)
    assert rc != 0, f"skillboxd started with an untrusted state dir ({where}):\n{out}"
    assert "state dir" in out, out
    if where != "symlink":
        assert "refusing to trust it" in out, out
        assert os.stat(bad).st_mode & 0o777 == 0o777, "the daemon changed the mode"
    assert not os.path.exists(d.socket), "it listened before checking its state dir"
