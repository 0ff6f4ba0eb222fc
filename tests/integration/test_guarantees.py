"""Honest reports: every result's `enforced` record and hello's `host`
say, per guarantee, whether it is enforced, monitored or absent; the
answer follows the backend, never a claim of more than it applied."""
import os

import pytest

from conftest import Daemon, finish_daemon, parse_json_output, require_root

KEYS = {"files", "network", "memory", "tasks", "cpu", "identity", "syscalls",
        "privileges", "kill_tree"}
LEVELS = {"enforced", "monitored", "absent"}


def guarantees(record):
    g = record.get("guarantees")
    assert isinstance(g, dict) and set(g) == KEYS, record
    assert set(g.values()) <= LEVELS, g
    return g


def hello_host(d):
    with d.rpc(timeout=10) as c:
        err, res = c.call("hello", {})
    assert err is None, err
    return res["host"]


def test_linux_job_and_host_report_enforced(daemon):
    cp = daemon.ctl("run", "--json", "--", "true")
    assert cp.returncode == 0, cp
    g = guarantees(parse_json_output(cp)["enforced"])
    # The linux backend: namespaces, a cgroup, seccomp, its own uid.
    assert set(g.values()) == {"enforced"}, g
    assert set(guarantees(hello_host(daemon)).values()) == {"enforced"}


def test_posix_job_says_what_is_absent(posix_daemon):
    cp = posix_daemon.ctl("run", "--json", "--", "true")
    assert cp.returncode == 0, cp
    g = guarantees(parse_json_output(cp)["enforced"])
    # rlimits only: no file, network or syscall confinement, and a job that
    # leaves its process group outlives a kill.
    for k in ("files", "network", "syscalls", "privileges", "kill_tree", "cpu"):
        assert g[k] == "absent", (k, g)
    assert g["memory"] == "enforced", g     # RLIMIT_AS
    assert g["identity"] == g["tasks"] == "enforced", g   # the daemon is root here
    h = guarantees(hello_host(posix_daemon))
    assert h["files"] == h["network"] == h["cpu"] == "absent", h


@pytest.fixture
def posix_required(request, workdir):
    """A posix daemon whose profiles require guarantees of the map."""
    require_root()
    path = os.path.join(workdir, "skillboxd.conf")
    with open(path, "w") as f:
        f.write("[Profile default]\n"
                "[Profile files]\nRequire=files\n"
                "[Profile killtree]\nRequire=kill-tree\n"
                "[Profile memory]\nRequire=memory\n")
    d = Daemon(workdir, backend="posix", extra_args=["--config", path])
    d.start()
    yield d
    finish_daemon(d, request)


def test_require_absent_guarantee_fails_closed(posix_required):
    """Require= of a guarantee the backend lacks: Unsupported, naming it,
    and nothing runs; one it has runs."""
    with posix_required.rpc() as c:
        for profile, name in (("files", "files"), ("killtree", "kill-tree")):
            err, res = c.call("exec", {"argv": ["true"], "profile": profile})
            assert err is not None and err["code"] == "Unsupported", (profile, err, res)
            assert name in err["message"], err
        final = c.ok("wait", {"job": c.exec(["true"], profile="memory")})
        assert final["state"] == "exited", final
        assert final["enforced"]["guarantees"]["memory"] == "enforced", final
