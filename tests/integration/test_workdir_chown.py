"""The ownership fix-up of a client's directory (no idmap there): every
entry the job made, however deep, belongs to the client once the result is
out. The fix-up runs on the daemon's threadpool (the daemon answers others
meanwhile), before the result is published. ramfs takes no idmapped mount, so the linux backend falls back
to the fix-up there; the posix backend always uses it."""
import os
import subprocess

import pytest

from conftest import Daemon, deadline_poll, finish_daemon, parse_json_output, require_root
from test_files_by_fd import exec_fds

DEPTH = 200

# Inside the job: DEPTH nested directories, a file in each.
DEEP = r"""
import os, sys
depth = int(sys.argv[1])
path = "/work" if os.path.isdir("/work") and os.access("/work", os.W_OK) else "."
fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
for i in range(depth):
    os.mkdir("d", dir_fd=fd)
    nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
    os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
print("made", depth)
"""


def not_owned(top, uid):
    """Entries below top (fd-relative, no path length limit) not owned by uid."""
    bad = []
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    level = 0
    try:
        while True:
            names = os.listdir(fd)
            for n in names:
                st = os.stat(n, dir_fd=fd, follow_symlinks=False)
                if st.st_uid != uid:
                    bad.append((level, n, st.st_uid))
            if "d" not in names:
                return bad
            nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            level += 1
    finally:
        os.close(fd)


@pytest.fixture
def ramfs_dir(workdir):
    """A directory on ramfs (no idmapped mounts), writable by the job."""
    require_root()
    d = os.path.join(workdir, "ram")
    os.mkdir(d)
    r = subprocess.run(["mount", "-t", "ramfs", "ramfs", d], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount ramfs: {r.stderr!r}")
    os.chmod(d, 0o777)
    yield d
    subprocess.run(["umount", "-l", d], check=False)


@pytest.mark.parametrize("backend", ["linux", "posix"])
def test_deep_tree_ends_owned_by_the_client(request, workdir, ramfs_dir, backend):
    d = Daemon(workdir, backend=backend).start()
    try:
        cp = d.ctl("run", "--json", "--workdir", ramfs_dir, "--",
                   "python3", "-c", DEEP, str(DEPTH), timeout=120)
        r = parse_json_output(cp)
        assert r["state"] == "exited" and r["exit_code"] == 0, r
        assert r["stdout"] == f"made {DEPTH}\n", r
        assert r["enforced"]["workdir"] == ("chown" if backend == "linux" else "cwd"), r
        # The result is out: every level is the client's already.
        bad = not_owned(ramfs_dir, os.getuid())
        assert not bad, f"{len(bad)} entries not given to the client, first {bad[:3]}"
    finally:
        finish_daemon(d, request)


FLAT = r"""
import os, sys
n = int(sys.argv[1])
for i in range(n):
    os.close(os.open("/work/f%06d" % i, os.O_WRONLY | os.O_CREAT, 0o644))
print("made", n)
"""


def test_the_fixup_does_not_hold_up_the_daemon(request, workdir, ramfs_dir):
    """While one job's files are being given to its client, the daemon
    answers another client: the walk is not on its loop. Checked by state,
    not by time: the answer arrives while entries are still the job's."""
    n = 40000
    d = Daemon(workdir).start()
    try:
        with d.rpc(timeout=60) as a, d.rpc(timeout=60) as b:
            hostfd = os.open(ramfs_dir, os.O_PATH | os.O_DIRECTORY)
            try:
                err, res = exec_fds(a, {"argv": ["python3", "-c", FLAT, str(n)],
                                        "workdir_fd": 0}, [hostfd])
                assert err is None, err
                job = res["job"]
            finally:
                os.close(hostfd)
            sample = [f"f{i:06d}" for i in range(0, n, 97)]

            def owners():
                uids = set()
                for name in sample:
                    try:
                        uids.add(os.stat(os.path.join(ramfs_dir, name)).st_uid)
                    except FileNotFoundError:
                        uids.add(None)
                return uids

            # The job made every file, and the walk has begun but not ended.
            walking = deadline_poll(lambda: (o := owners()) and None not in o and
                                    os.getuid() in o and len(o) > 1, 60, interval=0.001)
            if not walking:
                pytest.skip("never saw the fix-up under way (too fast to catch here)")
            b.ok("hello")
            assert len(owners()) > 1, "hello was answered only once the walk was over"
            _, _, r = a.wait_exit(job, timeout=60)
            assert r["state"] == "exited" and r["enforced"]["workdir"] == "chown", r
            assert owners() == {os.getuid()}
    finally:
        finish_daemon(d, request)
