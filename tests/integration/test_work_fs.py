"""A fresh /work (and /tmp) is bounded in bytes and inodes: past the bound
the job gets ENOSPC, fallocate past it fails, nothing reaches the host's
disk, and the result's enforced record says what the bound was. A request
may narrow the bounds, never widen them. Both ways a linux job starts (a
prepared sandbox, a sandbox built for the request) must behave the same.
The posix backend cannot mount: it reports no bound."""
import os

import pytest

from conftest import (Daemon, MIB, deadline_poll, finish_daemon, parse_json_output,
                      require_root)

CONF = """[Profile default]
MemoryMax=256M
WorkSizeMax=8M
WorkInodesMax=100
TmpSize=4M
TmpInodesMax=50
"""

# Runs inside the job: fill each bound, print what stopped it.
FILL = r"""
import errno, os, sys
def name(e): return errno.errorcode.get(e.errno, str(e.errno))
where = sys.argv[1]
fd = os.open(where + "/big", os.O_WRONLY | os.O_CREAT, 0o600)
n, err = 0, "none"
chunk = b"x" * (1 << 20)
while n < (64 << 20):
    try:
        n += os.write(fd, chunk)
    except OSError as e:
        err = name(e)
        break
os.close(fd)
print("bytes", n, err)
os.unlink(where + "/big")
fd = os.open(where + "/alloc", os.O_WRONLY | os.O_CREAT, 0o600)
try:
    os.posix_fallocate(fd, 0, 32 << 20)
    print("fallocate ok")
except OSError as e:
    print("fallocate", name(e))
os.close(fd)
os.unlink(where + "/alloc")
made, err = 0, "none"
while made < 100000:
    try:
        os.close(os.open("%s/f%d" % (where, made), os.O_WRONLY | os.O_CREAT, 0o600))
        made += 1
    except OSError as e:
        err = name(e)
        break
print("files", made, err)
"""


def run_fill(d, where, opts=()):
    # Without options the job must take a prepared sandbox: wait for one.
    prepared = {} if opts else deadline_poll(lambda: len(d.prepared()) >= 2 and d.prepared(), 10)
    assert opts or prepared, d.log()
    cp = d.ctl("run", "--json", *opts, "--", "python3", "-c", FILL, where, timeout=60)
    r = parse_json_output(cp)
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    if not opts:
        assert r["job"] in prepared, (r["job"], prepared)
    lines = dict(line.split(" ", 1) for line in r["stdout"].splitlines())
    return r, lines


@pytest.fixture
def bounded(request, workdir):
    require_root()
    path = os.path.join(workdir, "skillboxd.conf")
    with open(path, "w") as f:
        f.write(CONF)
    d = Daemon(workdir, extra_args=["--config", path]).start()
    yield d
    finish_daemon(d, request)


# Without options a request takes a prepared sandbox; a narrower memory
# limit gets one built for it.
@pytest.mark.parametrize("opts", [(), ("--memory", "200M")], ids=["prepared", "built"])
def test_work_is_bounded_in_bytes_and_inodes(bounded, opts):
    r, out = run_fill(bounded, "/work", opts)
    n, err = out["bytes"].split()
    assert err == "ENOSPC" and int(n) <= 8 * MIB, out
    assert out["fallocate"] == "ENOSPC", out
    made, err = out["files"].split()
    assert (made, err) == ("100", "ENOSPC"), out
    e = r["enforced"]
    assert e["work_size_max"] == 8 * MIB and e["work_inodes_max"] == 100, e
    assert e["workdir"] == "fresh", e


# HOME (/tmp/home) is on /tmp: held to the same bound, and the directory
# itself costs the job none of its files.
@pytest.mark.parametrize("where", ["/tmp", "/tmp/home"])
@pytest.mark.parametrize("opts", [(), ("--memory", "200M")], ids=["prepared", "built"])
def test_tmp_is_bounded_in_bytes_and_inodes(bounded, opts, where):
    _, out = run_fill(bounded, where, opts)
    n, err = out["bytes"].split()
    assert err == "ENOSPC" and int(n) <= 4 * MIB, out
    assert out["fallocate"] == "ENOSPC", out
    made, err = out["files"].split()
    assert (made, err) == ("50", "ENOSPC"), out


def disk_bytes(top):
    """Bytes allocated to everything under top on top's own file system."""
    total = 0
    dev = os.lstat(top).st_dev
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if st.st_dev == dev:
                total += st.st_blocks * 512
        dirs[:] = [x for x in dirs if os.lstat(os.path.join(root, x)).st_dev == dev]
    return total


@pytest.mark.parametrize("opts", [{}, {"memory_max": 200 * MIB}], ids=["prepared", "built"])
def test_nothing_the_job_writes_reaches_the_host_disk(bounded, opts):
    d = bounded
    assert deadline_poll(lambda: len(d.prepared()) >= 2, 10), d.log()
    before = disk_bytes(d.state_dir)
    with d.rpc() as c:
        job = c.exec(["sh", "-c", "head -c 6M /dev/zero > /work/data && echo written && "
                      "exec sleep 30"], **opts)

        def written():
            c.pump(0.05)
            return any(m == "job_output" and p["job"] == job and b"written" in p["data"]
                       for m, p in c.notifications)
        assert deadline_poll(written, 20), c.notifications
        during = disk_bytes(d.state_dir)
        c.ok("kill", {"job": job})
        c.wait_exit(job)
    # 6 MiB were written; the state dir holds nothing of it.
    assert during - before < 1 * MIB, (before, during)


def test_posix_reports_no_bound(request, workdir):
    require_root()
    d = Daemon(workdir, backend="posix").start()
    try:
        cp = d.ctl("run", "--json", "--", "true")
        r = parse_json_output(cp)
        assert r["state"] == "exited", r
        assert r["enforced"]["work_size_max"] == 0 and r["enforced"]["work_inodes_max"] == 0, r
    finally:
        finish_daemon(d, request)


def test_profiles_show_the_bounds(bounded):
    with bounded.rpc() as c:
        p = {x["name"]: x for x in c.ok("profiles")}["default"]
    assert (p["work_size_max"], p["work_inodes_max"], p["tmp_inodes_max"]) == (8 * MIB, 100, 50), p
    cp = bounded.ctl("profiles", "--json")
    assert cp.returncode == 0, cp.stderr
    p = {x["name"]: x for x in parse_json_output(cp)}["default"]
    assert (p["work_size_max"], p["work_inodes_max"], p["tmp_inodes_max"]) == (8 * MIB, 100, 50), p


def test_a_request_may_narrow_the_bounds(bounded):
    d = bounded
    prepared = deadline_poll(lambda: len(d.prepared()) >= 2 and d.prepared(), 10)
    r, out = run_fill(d, "/work", ("--work-size", "2M", "--work-inodes", "20"))
    assert r["job"] not in prepared, "a prepared sandbox served narrower bounds"
    n, err = out["bytes"].split()
    assert err == "ENOSPC" and int(n) <= 2 * MIB, out
    assert out["files"].split() == ["20", "ENOSPC"], out
    e = r["enforced"]
    assert (e["work_size_max"], e["work_inodes_max"]) == (2 * MIB, 20), e


def test_a_request_may_not_widen_the_bounds(bounded):
    with bounded.rpc() as c:
        for field, value in (("work_size_max", 9 * MIB), ("work_inodes_max", 101)):
            err, _ = c.call("exec", {"argv": ["true"], field: value})
            assert err and err["code"] == "PermissionDenied", (field, err)
            assert field in err["message"], err
