"""BindReadOnlyPaths=: a profile's host files and directories appear
read-only (and nosuid nodev) at their targets in its jobs; a missing source
fails the job with the path named unless the entry starts with '-'; bad
entries are refused when the configuration is read."""
import json
import os
import shutil
import tempfile

import pytest

from conftest import Daemon, finish_daemon, require_root
from test_config import skillboxd, write


@pytest.fixture
def host_tree():
    top = tempfile.mkdtemp(prefix="sb-bind-")
    os.chmod(top, 0o755)
    os.mkdir(os.path.join(top, "dir"), 0o755)
    os.chmod(os.path.join(top, "dir"), 0o777)   # writable on the host, not in the job
    write(os.path.join(top, "dir", "data.txt"), "from the host dir\n")
    os.chmod(os.path.join(top, "dir", "data.txt"), 0o666)
    write(os.path.join(top, "one.conf"), "from the host file\n")
    os.chmod(os.path.join(top, "one.conf"), 0o666)
    yield top
    shutil.rmtree(top)


def config(top):
    return (f"[Profile binds]\n"
            f"BindReadOnlyPaths={top}/dir:/opt/tool {top}/one.conf:/etc/tool/one.conf "
            f"-{top}/absent:/opt/absent\n"
            f"[Profile strict]\n"
            f"BindReadOnlyPaths={top}/absent:/opt/x\n")


@pytest.fixture
def bind_daemon(request, workdir, host_tree):
    require_root()
    path = write(os.path.join(workdir, "skillboxd.conf"), config(host_tree))
    d = Daemon(workdir, extra_args=["--config", path]).start()
    yield d
    finish_daemon(d, request)


def run_json(d, *argv, profile="binds"):
    """The job's result record; --json exits with the job's own code."""
    cp = d.ctl("run", "--json", "--profile", profile, "--", *argv)
    assert cp.stdout, cp.stderr
    return cp, json.loads(cp.stdout)


def test_dir_and_file_appear_read_only(bind_daemon, host_tree):
    d = bind_daemon
    cp, res = run_json(d, "cat", "/opt/tool/data.txt", "/etc/tool/one.conf")
    assert cp.returncode == 0, cp.stderr
    assert res["exit_code"] == 0, res
    assert res["stdout"] == "from the host dir\nfrom the host file\n"
    # Writable on the host (0777 / 0666), yet not in the job: the bind is read-only.
    for target in ("/opt/tool/new", "/opt/tool/data.txt", "/etc/tool/one.conf"):
        cp, res = run_json(d, "sh", "-c", f"echo x >> {target}")
        assert res["exit_code"] != 0, (target, res)
        assert "Read-only file system" in res["stderr"], (target, res)
    with open(os.path.join(host_tree, "one.conf")) as f:
        assert f.read() == "from the host file\n"
    assert not os.path.exists(os.path.join(host_tree, "dir", "new"))
    # Read-only, nosuid, nodev as the kernel reports them.
    cp, res = run_json(d, "cat", "/proc/self/mountinfo")
    opts = {l.split()[4]: l.split()[5].split(",") for l in res["stdout"].splitlines()}
    for target in ("/opt/tool", "/etc/tool/one.conf"):
        assert {"ro", "nosuid", "nodev"} <= set(opts[target]), (target, opts.get(target))
    # The '-' entry's missing source was skipped: no target made for it.
    cp, res = run_json(d, "ls", "/opt")
    assert res["stdout"].split() == ["tool"], res


def test_missing_source_fails_the_job_with_its_path(bind_daemon, host_tree):
    cp = bind_daemon.ctl("run", "--profile", "strict", "--", "true")
    assert cp.returncode != 0
    assert f"bind {host_tree}/absent".encode() in cp.stderr, cp.stderr
    assert b"ENOENT" in cp.stderr or b"No such file" in cp.stderr, cp.stderr


def test_print_config_shows_the_entries(workdir, host_tree):
    path = write(os.path.join(workdir, "b.conf"), config(host_tree))
    cp = skillboxd("--config", path, "--print-config")
    assert cp.returncode == 0, cp.stderr
    assert (f"\nBindReadOnlyPaths={host_tree}/dir:/opt/tool {host_tree}/one.conf:"
            f"/etc/tool/one.conf -{host_tree}/absent:/opt/absent\n") in cp.stdout
    default = cp.stdout.split("[Profile default]")[1].split("[Profile")[0]
    assert "\nBindReadOnlyPaths=\n" in default


@pytest.mark.parametrize("entry,reason", [
    ("opt/x", "not an absolute path"),
    ("/opt/x:rel", "not an absolute path"),
    ("/opt//x", "not normalized"),
    ("/opt/x/", "not normalized"),
    ("/opt/../etc", "not normalized"),
    ("/opt/x:/", "DST is /"),
    ("/", "DST is /"),
    ("/opt/x:/proc/x", "DST is /proc"),
    ("/opt/x:/tmp", "DST is /proc"),
    ("/srv/work:/work/a", "DST is /proc"),
    ("/opt/x:/sys", "DST is /proc"),
    ("/opt/x:/dev/x", "DST is /proc"),
    ("/opt/x:/opt/y:rbind", "options after DST"),
])
def test_check_config_refuses_bad_entries(workdir, entry, reason):
    path = write(os.path.join(workdir, "bad.conf"),
                 f"[Profile x]\nBindReadOnlyPaths=/ok {entry}\n")
    cp = skillboxd("--config", path, "--check-config")
    assert cp.returncode != 0
    line = [l for l in cp.stderr.splitlines() if "BindReadOnlyPaths" in l]
    assert line and reason in line[0], cp.stderr


def test_check_config_bounds_the_entries(workdir):
    entries = " ".join(f"/opt/e{i}" for i in range(17))
    path = write(os.path.join(workdir, "many.conf"), f"[Profile x]\nBindReadOnlyPaths={entries}\n")
    cp = skillboxd("--config", path, "--check-config")
    assert cp.returncode != 0
    assert "more than 16 entries" in cp.stderr, cp.stderr
    entries = " ".join(f"/opt/e{i}" for i in range(16))
    path = write(os.path.join(workdir, "ok.conf"),
                 f"[Profile x]\nBindReadOnlyPaths={entries}\nBindReadOnlyPaths=-/a:/b\n")
    cp = skillboxd("--config", path, "--check-config")
    assert cp.returncode != 0   # a second assignment appends: 17
    path = write(os.path.join(workdir, "ok2.conf"), f"[Profile x]\nBindReadOnlyPaths={entries}\n")
    cp = skillboxd("--config", path, "--check-config")
    assert cp.returncode == 0, cp.stderr


def test_posix_backend_refuses_instead_of_ignoring(request, workdir, host_tree):
    """Without a mount namespace nothing can be bound: the job fails, it does
    not run without the paths its profile promises."""
    path = write(os.path.join(workdir, "skillboxd.conf"), config(host_tree))
    d = Daemon(workdir, backend="posix", extra_args=["--config", path]).start()
    try:
        cp = d.ctl("run", "--profile", "binds", "--", "true")
        assert cp.returncode != 0
        assert b"BindReadOnlyPaths: not supported by the posix backend" in cp.stderr, cp.stderr
    finally:
        finish_daemon(d, request)
