"""The configuration file: --check-config, --print-config, profiles from a
file enforced on real jobs, fail-closed Require=, and SIGHUP reload."""

import os
import signal
import subprocess

import pytest

from conftest import (Daemon, MIB, deadline_poll, finish_daemon, require_root,
                      skillboxd_path)

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "config", "skillboxd.conf")


def skillboxd(*args):
    return subprocess.run([skillboxd_path()] + list(args), capture_output=True, text=True,
                          timeout=30)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_check_config_accepts_the_example():
    cp = skillboxd("--config", EXAMPLE, "--check-config")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == ""


def test_check_config_lists_every_error(workdir):
    bad = write(os.path.join(workdir, "bad.conf"),
                "[Daemon]\n"
                "MaxJobs=many\n"
                "Bogus=1\n"
                "[Profile a]\n"
                "MemoryMax=1Q\n"
                "CPUQuota=50\n"
                "ReadOnlyPaths=/srv\n"
                "[Profile a]\n"
                "[Nope]\n")
    cp = skillboxd("--config", bad, "--check-config")
    assert cp.returncode != 0
    lines = [l for l in cp.stderr.splitlines() if l.startswith(bad)]
    assert [l.split(": ", 2)[:2] for l in lines] == [
        [f"{bad}:2", "MaxJobs"],
        [f"{bad}:3", "Bogus"],
        [f"{bad}:5", "MemoryMax"],
        [f"{bad}:6", "CPUQuota"],
        [f"{bad}:7", "ReadOnlyPaths"],
        [f"{bad}:8", "[Profile a]"],
        [f"{bad}:9", "[Nope]"],
    ], cp.stderr
    assert "unknown key" in lines[1]
    assert "duplicate profile" in lines[5]
    assert "unknown section" in lines[6]


def test_check_config_missing_file(workdir):
    cp = skillboxd("--config", os.path.join(workdir, "nope.conf"), "--check-config")
    assert cp.returncode != 0
    assert "nope.conf: No such file or directory" in cp.stderr


def test_invalid_config_does_not_start(workdir):
    bad = write(os.path.join(workdir, "bad.conf"), "[Daemon]\nMaxJobs=0\n")
    cp = skillboxd("--config", bad, "--socket", os.path.join(workdir, "s.sock"))
    assert cp.returncode == 1
    assert f"{bad}:2: MaxJobs:" in cp.stderr
    assert not os.path.exists(os.path.join(workdir, "s.sock"))


def test_print_config_round_trip(workdir):
    custom = write(os.path.join(workdir, "c.conf"),
                   "[Daemon]\nMaxJobs=12\nRetainSec=90s\n"
                   "[Access]\nClients=@staff nobody\n"
                   "[Profile small]\nMemoryMax=64M\nRuntimeMaxSec=1min 30s\n"
                   "SystemCallFilter=@debug\nAllowedUsers=nobody\n")
    first = skillboxd("--config", custom, "--print-config", "--max-jobs-per-user", "3")
    assert first.returncode == 0, first.stderr
    text = first.stdout
    for key in ("Socket=", "SocketGroup=", "SocketMode=", "StateDirectory=", "Backend=",
                "CgroupName=", "UidRange=", "MaxConnections=", "MaxConnectionsPerUser=",
                "MaxJobs=12", "MaxJobsPerUser=3", "RetainSec=90s", "MaxRetainedJobs=",
                "LogLevel=", "Admins=root", "Clients=@staff nobody", "[Profile default]",
                "[Profile small]", "MemoryMax=64M", "TasksMax=64", "CPUQuota=100%",
                "RuntimeMaxSec=90s", "Network=none", "AllowedHosts=", "TmpSize=64M", "TmpInodesMax=8192",
                "WorkSizeMax=256M", "WorkInodesMax=32768", "OutputMax=16M",
                "OutputTruncate=no", "ReadOnlyPaths=", "SystemCallFilter=@debug",
                "Require=rlimits", "AllowedUsers=nobody"):
        assert key in text, f"{key} missing from --print-config:\n{text}"
    printed = write(os.path.join(workdir, "printed.conf"), text)
    check = skillboxd("--config", printed, "--check-config")
    assert check.returncode == 0, check.stderr
    again = skillboxd("--config", printed, "--print-config")
    assert again.returncode == 0, again.stderr
    assert again.stdout == text


def test_builtin_print_is_the_example_values():
    builtin = skillboxd("--print-config")
    example = skillboxd("--config", EXAMPLE, "--print-config")
    assert builtin.returncode == 0 and example.returncode == 0
    assert builtin.stdout == example.stdout


def test_builtin_has_the_office_profile(workdir):
    """`--profile office` works after install with no config file: the profile
    is in the built-in configuration, and a file with profiles of its own can
    keep it by copying its section from the example."""
    text = skillboxd("--print-config").stdout
    section = text[text.index("[Profile office]"):]
    section = section[:section.index("\n[") if "\n[" in section else len(section)]
    for line in ("MemoryMax=1G", "TasksMax=256", "RuntimeMaxSec=2min", "TmpSize=512M",
                 "WorkSizeMax=1G"):
        assert line in section.splitlines(), (line, section)
    custom = write(os.path.join(workdir, "c.conf"), "[Profile mine]\nMemoryMax=64M\n")
    replaced = skillboxd("--config", custom, "--print-config").stdout
    assert "[Profile office]" not in replaced and "[Profile mine]" in replaced


# ---------------------------------------------------------------- live daemon

CUSTOM = """
[Daemon]
LogLevel=debug
[Profile default]
[Profile small]
MemoryMax=64M
TasksMax=16
RuntimeMaxSec=2min
"""


def memory_limit(d, job):
    return d.memory_limit(job)


@pytest.fixture
def conf_daemon(request, workdir):
    require_root()
    started = []

    def start(text, backend=None):
        path = write(os.path.join(workdir, "skillboxd.conf"), text)
        d = Daemon(workdir, backend=backend, extra_args=["--config", path])
        d.config_path = path
        d.start()
        started.append(d)
        return d

    yield start
    for d in started:
        finish_daemon(d)


def running_job(rpc, profile, **kw):
    return rpc.exec(["sleep", "60"], profile=profile, **kw)


def test_custom_profile_is_enforced(conf_daemon):
    d = conf_daemon(CUSTOM)
    with d.rpc() as rpc:
        names = {p["name"]: p for p in rpc.ok("profiles")}
        assert set(names) == {"default", "small"}
        assert names["small"]["memory_max"] == 64 * MIB
        assert names["small"]["tasks_max"] == 16
        job = running_job(rpc, "small")
        info = rpc.ok("inspect", {"job": job})
        assert info["profile"] == "small"
        assert info["enforced"]["memory_max"] == 64 * MIB
        assert info["enforced"]["tasks_max"] == 16
        assert info["enforced"]["timeout_ms"] == 120000
        assert memory_limit(d, job) == 64 * MIB
        # Asking for more than the profile gives is refused.
        err, _ = rpc.call("exec", {"argv": ["true"], "profile": "small",
                                   "memory_max": 128 * MIB})
        assert err["code"] == "PermissionDenied"
        err, _ = rpc.call("exec", {"argv": ["true"], "profile": "nope"})
        assert err["code"] == "NotFound"
        rpc.ok("kill", {"job": job})


def test_require_fails_closed_on_posix(conf_daemon):
    d = conf_daemon("", backend="posix")
    with d.rpc() as rpc:
        err, _ = rpc.call("exec", {"argv": ["true"], "profile": "strict"})
        assert err is not None and err["code"] == "Unsupported", err
        assert "namespaces" in err["message"] and "seccomp" in err["message"]
        # The default profile requires only rlimits: it runs anywhere.
        job = rpc.exec(["true"])
        res = rpc.ok("wait", {"job": job})
        assert res["state"] == "exited", res


def test_require_matches_what_the_host_enforces(conf_daemon):
    d = conf_daemon("")
    with d.rpc() as rpc:
        host = rpc.ok("hello", {})["host"]
        full = (host["seccomp"] and host["landlock"] > 0 and host["cgroup"] in ("v1", "v2")
                and len(host["namespaces"]) >= 6 and host["network"] == "none")
        err, res = rpc.call("exec", {"argv": ["true"], "profile": "strict"})
        if full:
            assert err is None, err
            final = rpc.ok("wait", {"job": res["job"]})
            assert final["state"] == "exited", final
            assert final["enforced"]["seccomp"] and final["enforced"]["landlock"] > 0
        else:
            assert err["code"] == "Unsupported", err


def test_sighup_reload(conf_daemon):
    d = conf_daemon(CUSTOM)
    with d.rpc() as rpc:
        old_job = running_job(rpc, "small")
        write(d.config_path, CUSTOM.replace("MemoryMax=64M", "MemoryMax=32M")
              + "[Profile extra]\nTasksMax=8\n")
        d.signal(signal.SIGHUP)

        def profiles():
            return {p["name"]: p for p in rpc.ok("profiles")}
        assert "extra" in deadline_poll(lambda: profiles().keys() >= {"extra"} and profiles(),
                                        5.0), d.log()
        assert profiles()["small"]["memory_max"] == 32 * MIB
        # The running job keeps the limits it started with.
        info = rpc.ok("inspect", {"job": old_job})
        assert info["state"] == "running"
        assert info["enforced"]["memory_max"] == 64 * MIB
        assert memory_limit(d, old_job) == 64 * MIB
        new_job = running_job(rpc, "small")
        assert rpc.ok("inspect", {"job": new_job})["enforced"]["memory_max"] == 32 * MIB
        extra = rpc.exec(["true"], profile="extra")
        assert rpc.ok("wait", {"job": extra})["enforced"]["tasks_max"] == 8

        # An invalid file is refused and the current configuration stays.
        write(d.config_path, "[Profile broken]\nMemoryMax=lots\n")
        d.signal(signal.SIGHUP)
        assert deadline_poll(lambda: "refused" in d.log(), 5.0), d.log()
        assert "skillboxd.conf:2: MemoryMax:" in d.log()
        assert set(profiles()) == {"default", "small", "extra"}
        for j in (old_job, new_job):
            rpc.ok("kill", {"job": j})


def test_landlock_required_where_the_kernel_lacks_it_fails_closed(conf_daemon):
    """Where the kernel has no Landlock (the cgroup v2 guest of tests/vm),
    a profile that requires it gets Unsupported, and one that does not
    still runs. Where Landlock exists the profile runs with it."""
    d = conf_daemon("[Profile default]\n[Profile locked]\nRequire=landlock\n")
    with d.rpc() as rpc:
        landlock = rpc.ok("hello", {})["host"]["landlock"]
        err, res = rpc.call("exec", {"argv": ["true"], "profile": "locked"})
        if landlock > 0:
            assert err is None, err
            final = rpc.ok("wait", {"job": res["job"]})
            assert final["state"] == "exited" and final["enforced"]["landlock"] > 0, final
        else:
            assert err is not None and err["code"] == "Unsupported", err
            assert "landlock" in err["message"], err
        final = rpc.ok("wait", {"job": rpc.exec(["true"])})
        assert final["state"] == "exited", final
