"""The ownership fix-up of a client's directory (no idmap there): every
entry the job made, however deep, belongs to the client once the result is
out. The fix-up runs on the daemon's threadpool, before the result is
published. ramfs takes no idmapped mount, so the linux backend falls back
to the fix-up there; the posix backend always uses it."""
import os
import subprocess

import pytest

from conftest import Daemon, finish_daemon, parse_json_output, require_root

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
