"""Prepared sandboxes (PreparedSandboxes=, daemon/prepared.c).

The daemon keeps sandboxes of the default profile built ahead of requests. A
request that asks for exactly what they were built with takes one; any other
gets a sandbox of its own. What a job sees and what the host enforces must not
depend on which of the two it got. Every daemon fixture's teardown also checks
that a drained daemon leaves no prepared sandbox behind (conftest.finish_daemon).
"""

import os
import signal
import time

import pytest

from conftest import (MIB, kernel_landlock_abi, Daemon, deadline_poll, finish_daemon, parse_json_output,
                      procs_with_uid_in, require_root, uid_of)


def wait_prepared(d, n=2, timeout=10.0):
    """{id: uid} of at least n prepared sandboxes, each with its uid known
    (its process switched to it)."""
    def ready():
        p = {k: v for k, v in d.prepared().items() if v is not None}
        return len(p) >= n and p
    got = deadline_poll(ready, timeout)
    assert got and len(got) >= n, f"no {n} prepared sandboxes after {timeout} s:\n{d.log()}"
    return dict(got)


def test_default_job_runs_in_a_prepared_sandbox(daemon):
    before = wait_prepared(daemon)
    script = ("id -u; pwd; grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status; "
              "echo data > /work/f && cat /work/f; cat; echo err >&2; exit 7")
    cp = daemon.ctl("run", "--json", "--", "sh", "-c", script, input=b"from stdin\n")
    r = parse_json_output(cp)
    assert r["job"] in before, f"job {r['job']} not one of the prepared {sorted(before)}"
    assert cp.returncode == 7 and r["state"] == "exited" and r["exit_code"] == 7, r
    lines = r["stdout"].splitlines()
    uid = before[r["job"]]
    assert lines[0] == str(uid) == str(r["enforced"]["uid"]), (lines, r["enforced"])
    assert lines[1] == "/work", lines
    status = dict(x.split(":\t", 1) for x in lines[2:5])
    assert status["Seccomp"].strip() == "2" and status["NoNewPrivs"].strip() == "1", status
    assert int(status["CapEff"], 16) == 0, status
    assert lines[5:] == ["data", "from stdin"], lines
    assert r["stderr"] == "err\n", r
    assert r["enforced"]["seccomp"], r["enforced"]
    assert r["enforced"]["landlock"] == min(kernel_landlock_abi(), 7), r["enforced"]


def test_limits_of_a_prepared_sandbox_are_in_force(daemon):
    wait_prepared(daemon)
    with daemon.rpc() as c:
        job = c.exec(["sleep", "30"], detach=True)
        mem = daemon.memory_limit(job)
        pids = open(os.path.join(daemon.job_cgroup("pids", job), "pids.max")).read()
        assert int(mem) == 512 * MIB and pids.strip() == "64", (mem, pids)
        err, info = c.call("inspect", {"job": job})
        assert err is None and info["enforced"]["memory_max"] == 512 * MIB, (err, info)
        c.ok("kill", {"job": job})
        _, _, r = c.wait_exit(job)
        assert r["state"] == "killed", r


def test_request_with_its_own_limits_gets_its_own_sandbox(daemon):
    before = wait_prepared(daemon)
    with daemon.rpc() as c:
        job = c.exec(["sleep", "30"], memory_max=100 * MIB, tasks_max=10, detach=True)
        assert job not in before, "a prepared sandbox served a request with other limits"
        mem = daemon.memory_limit(job)
        pids = open(os.path.join(daemon.job_cgroup("pids", job), "pids.max")).read()
        assert int(mem) == 100 * MIB and pids.strip() == "10", (mem, pids)
        # The prepared ones are still there, untouched.
        assert set(before) <= set(daemon.prepared()), (before, daemon.prepared())
        c.ok("kill", {"job": job})
        c.wait_exit(job)


@pytest.mark.parametrize("field,value", [("cpu_percent", 50), ("work_size_max", 8 * MIB),
                                         ("work_inodes_max", 100)])
def test_any_other_policy_gets_its_own_sandbox(daemon, field, value):
    """Every field of the policy counts, not only memory and tasks: a
    request tighter in one of them runs in a sandbox built for it, and the
    enforced record says what that sandbox applies."""
    before = wait_prepared(daemon)
    with daemon.rpc() as c:
        job = c.exec(["true"], **{field: value})
        _, _, r = c.wait_exit(job)
        assert job not in before, f"a prepared sandbox served a request with another {field}"
        assert r["state"] == "exited" and r["enforced"][field] == value, r
        assert set(before) <= set(daemon.prepared()), (before, daemon.prepared())


def test_a_shorter_timeout_still_takes_a_prepared_sandbox(daemon):
    """The timeout and the output cap are the daemon's to enforce, not the
    sandbox's: tightening them keeps the request on the prepared path."""
    before = wait_prepared(daemon)
    with daemon.rpc() as c:
        job = c.exec(["true"], timeout_ms=5000, output_max=4096)
        _, _, r = c.wait_exit(job)
        assert job in before, f"job {job} not one of the prepared {sorted(before)}"
        assert r["state"] == "exited" and r["enforced"]["timeout_ms"] == 5000, r


def test_prepared_sandboxes_off(workdir):
    require_root()
    d = Daemon(workdir, extra_args=["--prepared", "0"]).start()
    try:
        time.sleep(0.5)
        assert d.prepared() == {}, d.prepared()
        assert not d.job_procs() and not d.leftovers(), d.leftovers()
        cp = d.ctl("run", "--", "echo", "cold")
        assert cp.returncode == 0 and cp.stdout == b"cold\n", cp
    finally:
        finish_daemon(d)


def test_reload_rebuilds_them_under_the_new_profile(workdir):
    require_root()
    conf = os.path.join(workdir, "skillboxd.conf")
    with open(conf, "w") as f:
        f.write("[Profile default]\nMemoryMax=256M\n")
    d = Daemon(workdir, extra_args=["--config", conf]).start()
    try:
        before = wait_prepared(d)
        with open(conf, "w") as f:
            f.write("[Profile default]\nMemoryMax=200M\n")
        d.signal(signal.SIGHUP)
        after = deadline_poll(lambda: (p := d.prepared()) and len(p) >= 2
                              and not set(p) & set(before) and p, 10)
        assert after, f"prepared sandboxes not rebuilt after SIGHUP:\n{d.log()}"
        cp = d.ctl("run", "--json", "--", "true")
        r = parse_json_output(cp)
        assert r["job"] in after and r["enforced"]["memory_max"] == 200 * MIB, r
        assert d.memory_limit(next(iter(d.prepared()))) == 200 * MIB
    finally:
        finish_daemon(d)


def test_a_dead_prepared_sandbox_is_replaced(daemon):
    # Each with a process in its uid (None: not that far yet).
    before = deadline_poll(lambda: (p := wait_prepared(daemon)) and None not in p.values() and p,
                           10)
    assert before, daemon.prepared()
    uids = set(before.values())

    def built():
        # Each has switched to its uid: the setup is done (or far along).
        procs = procs_with_uid_in(daemon.uid_first, daemon.uid_last)
        return {uid_of(w) for w in procs.values()} >= uids and procs
    procs = deadline_poll(built, 10)
    assert procs, f"prepared sandboxes never switched to their uids: {before}"
    killed = [pid for pid, what in procs.items() if uid_of(what) in uids]
    for pid in killed:
        os.kill(pid, signal.SIGKILL)

    def all_dead():
        procs = procs_with_uid_in(daemon.uid_first, daemon.uid_last)
        return all(pid not in procs or "state=Z" in procs[pid] for pid in killed)
    assert deadline_poll(all_dead, 5), "the killed sandboxes did not die"
    cp = daemon.ctl("run", "--json", "--", "echo", "still runs")
    r = parse_json_output(cp)
    assert cp.returncode == 0 and r["stdout"] == "still runs\n", r
    assert "prepared sandbox not usable" in daemon.log(), daemon.log()
    # The pool fills again: a new sandbox with its process in place (the
    # other killed one stays in the pool, dead, until a request takes it).
    assert deadline_poll(lambda: set(wait_prepared(daemon, n=1)) - set(before), 10), \
        (before, daemon.prepared())


def test_concurrent_default_jobs_each_get_their_own(daemon):
    wait_prepared(daemon)
    with daemon.rpc() as c:
        jobs = [c.exec(["sh", "-c", "echo $$ > /work/me; cat /work/me; id -u"]) for _ in range(5)]
        results = [c.wait_exit(j)[2] for j in jobs]
    uids = {r["enforced"]["uid"] for r in results}
    assert len(uids) == 5, results
    assert all(r["state"] == "exited" and r["exit_code"] == 0 for r in results), results


def test_a_refused_request_leaves_the_pool_alone(daemon):
    before = wait_prepared(daemon)
    with daemon.rpc() as c:
        err, _ = c.call("exec", {"argv": ["true"], "env": {"": "x"}})
        assert err is not None, "an empty environment name was accepted"
    assert set(before) <= set(daemon.prepared()), (before, daemon.prepared())
    cp = daemon.ctl("run", "--json", "--", "true")
    r = parse_json_output(cp)
    assert cp.returncode == 0 and r["job"] in before, r
