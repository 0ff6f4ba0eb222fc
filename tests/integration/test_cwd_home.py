"""exec's cwd (skillboxctl --cwd) and the job's HOME.

cwd: the program starts in the directory asked for, entered as the job once
the sandbox is built; one that is missing fails the job with the step and
errno ("chdir /work/x: ENOENT"); a path that is not absolute and normalized
is refused before anything is built.

HOME: a writable directory of the job's own outside /work (/tmp/home on
linux), so what tools keep there (.cache, .config) does not litter /work."""
import os
import tempfile

import pytest

from conftest import parse_json_output


def run_json(d, *args):
    cp = d.ctl("run", "--json", *args, timeout=60)
    return cp, parse_json_output(cp)


def test_cwd_runs_there(daemon, workdir):
    host = tempfile.mkdtemp(prefix="cwd-", dir=str(workdir))
    os.mkdir(os.path.join(host, "src"))
    with open(os.path.join(host, "src", "here.txt"), "w") as f:
        f.write("x")
    os.chmod(host, 0o755)
    cp, r = run_json(daemon, "--workdir", host, "--cwd", "/work/src", "--",
                     "sh", "-c", "pwd; readlink /proc/self/cwd; ls; touch made")
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    assert r["stdout"].split() == ["/work/src", "/work/src", "here.txt"], r
    assert os.path.exists(os.path.join(host, "src", "made"))

    # Anywhere in the job's tree, not only under /work.
    cp, r = run_json(daemon, "--cwd", "/usr/bin", "--", "pwd")
    assert r["state"] == "exited" and r["stdout"] == "/usr/bin\n", r


def test_cwd_missing_fails_with_its_path(daemon):
    cp, r = run_json(daemon, "--cwd", "/work/x", "--", "true")
    assert cp.returncode == 125, cp
    assert r["state"] == "failed" and r["error"] == "chdir /work/x: ENOENT", r


def test_cwd_not_for_the_job_fails(daemon, workdir):
    # Entered as the job, with no capability: a mode 000 directory is shut
    # to it whoever owns it.
    host = tempfile.mkdtemp(prefix="cwd-", dir=str(workdir))
    os.mkdir(os.path.join(host, "locked"), 0o000)
    os.chmod(host, 0o755)
    cp, r = run_json(daemon, "--workdir", host, "--cwd", "/work/locked", "--", "true")
    assert cp.returncode == 125, cp
    assert r["state"] == "failed" and r["error"] == "chdir /work/locked: EACCES", r


@pytest.mark.parametrize("cwd", ["work", "/work/", "/work/../etc", "/work//a", "/work/."])
def test_cwd_not_normalized_is_refused(daemon, cwd):
    cp = daemon.ctl("run", "--json", "--cwd", cwd, "--", "true")
    assert cp.returncode == 125, cp
    err = parse_json_output(cp)["error"]
    assert err["code"] == "InvalidArgument" and "cwd" in err["message"], err


HOME_SCRIPT = r"""
import os, pwd
home = os.environ["HOME"]
print("home", home)
print("passwd", pwd.getpwuid(os.getuid()).pw_dir)
st = os.stat(home)
print("owner", st.st_uid == os.getuid(), oct(st.st_mode & 0o777))
# What a tool does with its cache: under ~/.cache (XDG's default).
cache = os.path.join(os.path.expanduser("~"), ".cache", "tool")
os.makedirs(cache)
with open(os.path.join(cache, "blob"), "w") as f:
    f.write("cached")
print("cache", os.path.realpath(cache))
print("work", sorted(os.listdir("/work")))
"""


def test_home_is_writable_and_not_in_work(daemon):
    cp, r = run_json(daemon, "--", "python3", "-c", HOME_SCRIPT)
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    kv = dict(line.split(" ", 1) for line in r["stdout"].splitlines())
    assert kv["home"] == "/tmp/home" and kv["passwd"] == "/tmp/home", kv
    assert not kv["home"].startswith("/work"), kv
    assert kv["owner"] == "True 0o700", kv
    assert kv["cache"] == "/tmp/home/.cache/tool", kv
    assert kv["work"] == "[]", kv


def test_home_can_be_overridden(daemon):
    cp, r = run_json(daemon, "--env", "HOME=/work", "--", "sh", "-c", 'echo "$HOME"')
    assert r["stdout"] == "/work\n", r


def test_posix_cwd_under_work_only(posix_daemon):
    cp, r = run_json(posix_daemon, "--cwd", "/work", "--", "sh", "-c", "mkdir sub")
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    cp, r = run_json(posix_daemon, "--cwd", "/work/nope", "--", "true")
    assert r["state"] == "failed" and r["error"] == "chdir /work/nope: ENOENT", r
    # No root of its own there: a path outside /work has no meaning.
    cp, r = run_json(posix_daemon, "--cwd", "/tmp", "--", "true")
    assert r["state"] == "failed" and r["error"].startswith("chdir /tmp: "), r
