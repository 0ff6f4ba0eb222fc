"""A daemon started by hand on a systemd host with cgroup v2.

Run inside the guest (tests/vm/run.sh) from skillbox-vm-test.service, a unit
without Delegate=yes: systemd owns this cgroup, so the daemon must get a
delegated scope of its own from systemd instead of failing EBUSY (or
rearranging cgroups that are not its to change).
"""
import os
import subprocess
import time

import pytest

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/run/systemd/system")
    or not os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
    reason="needs systemd as PID 1 and cgroup v2 (the guest of tests/vm/run.sh)")


def show(prop, unit):
    return subprocess.run(["systemctl", "show", "-P", prop, unit], capture_output=True,
                          text=True).stdout.strip()


def own_cgroup(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read().strip().split("::", 1)[1]


@pytest.fixture
def hand_started(tmp_path):
    sock = tmp_path / "s.sock"
    name = "byhand-" + os.urandom(3).hex()
    log = open(tmp_path / "log", "w+")
    p = subprocess.Popen(["skillboxd", "--socket", str(sock), "--state-dir", str(tmp_path / "st"),
                          "--cgroup", name, "--uid-range", "70000-70099", "--prepared", "0"],
                         stdout=log, stderr=log)
    end = time.monotonic() + 30
    while not sock.exists():
        if p.poll() is not None or time.monotonic() > end:
            p.kill()
            log.seek(0)
            pytest.fail(f"skillboxd did not start: {log.read()}")
        time.sleep(0.05)
    yield p, sock, name, log
    p.terminate()
    p.wait(timeout=30)


def test_our_own_cgroup_is_not_delegated():
    # The premise: what a root shell or an ordinary unit gives the daemon.
    mine = own_cgroup(os.getpid())
    assert mine.startswith("/system.slice/"), mine
    with open(f"/sys/fs/cgroup{mine}/cgroup.procs") as f:
        assert str(os.getpid()) in f.read().split()
    assert show("Delegate", mine.rsplit("/", 1)[1]) == "no"


def test_started_by_hand_it_runs_jobs_in_a_delegated_scope(hand_started):
    p, sock, name, log = hand_started
    scope = f"skillboxd-{name}.scope"
    assert own_cgroup(p.pid) == f"/system.slice/{scope}/{name}.daemon"
    assert show("Delegate", scope) == "yes"
    assert show("TasksMax", scope) == "infinity"
    cp = subprocess.run(["skillboxctl", "--socket", str(sock), "run", "--json", "--memory", "64M",
                         "--", "sh", "-c", "echo in-scope"], capture_output=True, text=True,
                        timeout=120)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert '"cgroup": "v2"' in cp.stdout or '"cgroup":"v2"' in cp.stdout, cp.stdout
    # The job's cgroup sits in the daemon's subtree inside the scope.
    with open(f"/sys/fs/cgroup/system.slice/{scope}/{name}/cgroup.subtree_control") as f:
        assert {"memory", "pids", "cpu"} <= set(f.read().split())
    p.terminate()
    assert p.wait(timeout=30) == 0
    # The empty scope goes with the daemon.
    end = time.monotonic() + 10
    while show("ActiveState", scope) not in ("inactive", "") and time.monotonic() < end:
        time.sleep(0.1)
    assert show("ActiveState", scope) in ("inactive", ""), show("ActiveState", scope)


def test_a_dead_instances_scope_is_reaped(tmp_path):
    """A hand-started daemon killed with SIGKILL leaves its scope with its
    jobs; the next instance of the same name stops it (the registry proves
    no live instance owns it) and starts clean."""
    sock = tmp_path / "s.sock"
    name = "reap-" + os.urandom(3).hex()
    argv = ["skillboxd", "--socket", str(sock), "--state-dir", str(tmp_path / "st"),
            "--cgroup", name, "--uid-range", "70100-70199", "--prepared", "0"]

    def start():
        if sock.exists():
            sock.unlink()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 30
        while not sock.exists():
            assert p.poll() is None and time.monotonic() < end, "skillboxd did not start"
            time.sleep(0.05)
        return p

    p = start()
    cp = subprocess.run(["skillboxctl", "--socket", str(sock), "run", "--detach", "--",
                         "sleep", "300"], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    p.kill()
    p.wait()
    scope = f"skillboxd-{name}.scope"
    assert show("ActiveState", scope) == "active", "the job keeps the scope alive"
    p = start()
    try:
        assert own_cgroup(p.pid) == f"/system.slice/{scope}/{name}.daemon"
        with open(f"/sys/fs/cgroup/system.slice/{scope}/{name}.daemon/cgroup.procs") as f:
            assert str(p.pid) in f.read().split()
        # Nothing of the dead instance's job is left.
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/status") as f:
                        uids = next(l for l in f if l.startswith("Uid:")).split()[1:]
                except (OSError, StopIteration):
                    continue
                assert not any(70100 <= int(u) <= 70199 for u in uids), f"pid {d} left"
    finally:
        p.terminate()
        p.wait(timeout=30)
