"""A fresh /work recovered after the job (issue 12, item 5): exec keep_work
keeps the job's /work past its end, and work_fd hands it to the job's owner
as a directory fd whose files are the owner's; nobody else gets it; a
detached job's files are not lost.

Defence: backends/linux/work_keep.c (the tmpfs kept, chowned, handed over),
daemon/work_keep.c (bounds, the method), transport/unix.c (the fd sent)."""

import array
import json
import os
import pwd
import shutil
import socket
import subprocess
import time

import msgpack
import pytest

from conftest import Daemon, deadline_poll, require_root

WRITE = ("mkdir -p /work/out/deep && echo hello > /work/out/deep/a.txt && "
         "echo top > /work/b.txt && ln -s /etc/passwd /work/link && chmod 600 /work/b.txt")

# A client of its own, runnable as another user: calls [(method, params)] on
# one connection; for work_fd it reads the tree through the fd it got.
CLIENT = r"""
import array, json, os, socket, stat, sys, msgpack
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(30)
sock.connect(sys.argv[1])
unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
out = []

def tree(fd):
    files = {}
    for root, dirs, names, rfd in os.fwalk(dir_fd=fd):
        for n in dirs + names:
            st = os.stat(n, dir_fd=rfd, follow_symlinks=False)
            p = os.path.normpath(os.path.join(root, n))
            if stat.S_ISREG(st.st_mode):
                f = os.open(n, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=rfd)
                data = os.read(f, 4096).decode()
                os.close(f)
            elif stat.S_ISLNK(st.st_mode):
                data = "-> " + os.readlink(n, dir_fd=rfd)
            else:
                data = "dir"
            files[p] = [data, st.st_uid, st.st_gid]
    st = os.fstat(fd)
    return {"files": files, "root": [st.st_uid, st.st_gid]}

for i, (method, params) in enumerate(json.loads(sys.argv[2]), 1):
    sock.sendall(msgpack.packb([0, i, method, [params]]))
    while True:
        msg = None
        for m in unpacker:
            if m[0] == 1 and m[1] == i:
                msg = m
                break
        if msg is not None:
            break
        data, anc, _, _ = sock.recvmsg(1 << 20, socket.CMSG_SPACE(16))
        fds = array.array("i")
        for lvl, typ, d in anc:
            fds.frombytes(d[:len(d) - len(d) % 4])
        if not data:
            print(json.dumps("closed")); sys.exit(0)
        unpacker.feed(data)
        got = list(fds)
    err, res = msg[2], msg[3]
    if method == "work_fd" and err is None:
        res = tree(got[res["fd"]])
    out.append([err, res])
print(json.dumps(out))
"""


def client(d, calls, user=None):
    kw = {}
    if user is not None:
        pw = pwd.getpwnam(user)

        def drop():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        kw["preexec_fn"] = drop
    cp = subprocess.run(["/usr/bin/python3", "-c", CLIENT, d.socket, json.dumps(calls)],
                        capture_output=True, text=True, timeout=60, cwd="/", **kw)
    assert cp.returncode == 0, f"client as {user} failed:\n{cp.stderr}\n{d.log()}"
    return json.loads(cp.stdout)


def ok(reply):
    err, res = reply
    assert err is None, err
    return res


def code(reply):
    err, _ = reply
    assert err is not None, f"expected an error, got {reply!r}"
    return err["code"]


def wait_finished(d, job, user=None):
    def done():
        [r] = client(d, [("inspect", {"job": job})], user)
        return ok(r)["state"] != "running"
    assert deadline_poll(done, 30), d.log()


@pytest.fixture
def users(workdir):
    require_root()
    if not shutil.which("useradd") or not shutil.which("userdel"):
        pytest.skip("useradd/userdel not available")
    names = [f"sbt-kw{i}-{os.urandom(3).hex()}" for i in range(2)]
    made = []
    try:
        for name in names:
            r = subprocess.run(["useradd", "-M", "-N", "-s", "/bin/false", name],
                               capture_output=True)
            if r.returncode != 0:
                pytest.skip(f"useradd failed: {r.stderr!r}")
            made.append(name)
        yield names
    finally:
        for name in made:
            subprocess.run(["userdel", name], check=False, capture_output=True)


@pytest.fixture
def two_user_daemon(workdir, users):
    conf = os.path.join(str(workdir), "kw.conf")
    with open(conf, "w") as f:
        f.write(f"[Access]\nAdmins=root\nClients={users[0]} {users[1]}\n")
    os.chmod(str(workdir), 0o755)
    d = Daemon(workdir, extra_args=["--config", conf]).start()
    os.chmod(d.socket, 0o666)
    yield d
    rc = d.stop()
    d.force_cleanup()
    assert rc == 0, d.log()


def test_detached_job_files_go_to_their_owner_and_nobody_else(two_user_daemon, users):
    d, (alice, bob) = two_user_daemon, users
    pw = pwd.getpwnam(alice)
    [r] = client(d, [("exec", {"argv": ["sh", "-c", WRITE], "detach": True,
                               "keep_work": True})], alice)
    job = ok(r)["job"]
    # The connection that started it is gone; the job ran on, detached.
    wait_finished(d, job, alice)
    [r] = client(d, [("work_fd", {"job": job})], alice)
    got = ok(r)
    own = [pw.pw_uid, pw.pw_gid]
    assert got["root"] == own, got
    assert got["files"] == {
        "out": ["dir"] + own, "out/deep": ["dir"] + own,
        "out/deep/a.txt": ["hello\n"] + own, "b.txt": ["top\n"] + own,
        "link": ["-> /etc/passwd"] + own}, got
    # Another client does not even see the job; an admin sees it, not its files.
    [r] = client(d, [("work_fd", {"job": job})], bob)
    assert code(r) == "NotFound", r
    [r] = client(d, [("work_fd", {"job": job})])
    assert code(r) == "PermissionDenied", r
    # Given out again on request, the same files.
    [r] = client(d, [("work_fd", {"job": job})], alice)
    assert ok(r) == got


def test_the_kept_work_is_read_only(daemon):
    """What the job left is what its owner gets: the kept tree cannot grow
    while the daemon holds it (it counts against the owner's memory)."""
    [r] = client(daemon, [("exec", {"argv": ["sh", "-c", "echo x > /work/f"], "detach": True,
                                    "keep_work": True})])
    job = ok(r)["job"]
    wait_finished(daemon, job)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(daemon.socket)
    s.sendall(msgpack.packb([0, 1, "work_fd", [{"job": job}]]))
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(4))
    s.close()
    assert msgpack.unpackb(data, raw=False)[2] is None, data
    fds = array.array("i")
    fds.frombytes(anc[0][2][:4])
    fd = fds[0]
    try:
        with pytest.raises(OSError) as e:
            os.open("new", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        assert e.value.errno == 30, e.value      # EROFS
        with pytest.raises(OSError) as e:
            os.open("f", os.O_WRONLY | os.O_APPEND, dir_fd=fd)
        assert e.value.errno == 30, e.value
    finally:
        os.close(fd)


def test_work_fd_refusals(daemon):
    [r] = client(daemon, [("exec", {"argv": ["true"], "detach": True})])
    plain = ok(r)["job"]
    wait_finished(daemon, plain)
    [r] = client(daemon, [("work_fd", {"job": plain})])
    assert code(r) == "NotFound" and "keep_work" in r[0]["message"], r
    [r] = client(daemon, [("exec", {"argv": ["sleep", "30"], "detach": True,
                                    "keep_work": True})])
    running = ok(r)["job"]
    [r] = client(daemon, [("work_fd", {"job": running})])
    assert code(r) == "Unavailable" and "running" in r[0]["message"], r
    [r] = client(daemon, [("kill", {"job": running})])
    ok(r)
    [r] = client(daemon, [("work_fd", {"job": "0123456789ab"})])
    assert code(r) == "NotFound", r


def test_keep_work_with_a_workdir_is_refused(daemon, workdir):
    fd = os.open(str(workdir), os.O_RDONLY | os.O_DIRECTORY)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(daemon.socket)
        s.sendmsg([msgpack.packb([0, 1, "exec", [{"argv": ["true"], "workdir_fd": 0,
                                                  "keep_work": True}]])],
                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        msg = msgpack.unpackb(s.recv(65536), raw=False)
        s.close()
    finally:
        os.close(fd)
    assert msg[2] and msg[2]["code"] == "InvalidArgument" and "keep_work" in msg[2]["message"], msg


def test_kept_work_is_bounded_per_owner(daemon):
    """At most 4 per owner: a fifth drops the oldest finished one (and its
    result), never a running one; with 4 running the fifth is refused."""
    jobs = []
    for i in range(4):
        [r] = client(daemon, [("exec", {"argv": ["sh", "-c", f"echo {i} > /work/n"],
                                        "detach": True, "keep_work": True})])
        jobs.append(ok(r)["job"])
        wait_finished(daemon, jobs[-1])
    [r] = client(daemon, [("exec", {"argv": ["sh", "-c", "echo 4 > /work/n"], "detach": True,
                                    "keep_work": True})])
    jobs.append(ok(r)["job"])
    wait_finished(daemon, jobs[-1])
    [r] = client(daemon, [("work_fd", {"job": jobs[0]})])
    assert code(r) == "NotFound", r
    for i, job in enumerate(jobs[1:], 1):
        [r] = client(daemon, [("work_fd", {"job": job})])
        assert ok(r)["files"]["n"][0] == f"{i}\n", r
    running = []
    small = 64 << 20        # four at once fit any host's memory quota
    for _ in range(4):
        [r] = client(daemon, [("exec", {"argv": ["sleep", "30"], "detach": True,
                                        "keep_work": True, "memory_max": small})])
        running.append(ok(r)["job"])
    [r] = client(daemon, [("exec", {"argv": ["true"], "detach": True, "keep_work": True,
                                    "memory_max": small})])
    assert code(r) == "ResourceExhausted", r
    for job in running:
        ok(client(daemon, [("kill", {"job": job})])[0])


def test_skillboxctl_run_keep_work_copies_the_files(daemon, workdir):
    dest = os.path.join(str(workdir), "out-run")
    cp = daemon.ctl("run", "--keep-work", dest, "--", "sh", "-c", WRITE)
    assert cp.returncode == 0, cp
    with open(os.path.join(dest, "out/deep/a.txt")) as f:
        assert f.read() == "hello\n"
    assert os.readlink(os.path.join(dest, "link")) == "/etc/passwd"
    assert os.stat(os.path.join(dest, "b.txt")).st_mode & 0o777 == 0o600
    # Nothing is overwritten: a second copy into the same place fails, saying where.
    cp = daemon.ctl("run", "--keep-work", dest, "--", "sh", "-c", WRITE)
    assert cp.returncode == 125 and b"File exists" in cp.stderr, cp


def test_skillboxctl_fetch_gets_a_detached_jobs_files(daemon, workdir):
    dest = os.path.join(str(workdir), "out-fetch")
    cp = daemon.ctl("run", "--detach", "--keep-work", "-", "--", "sh", "-c",
                    "sleep 0.2; " + WRITE)
    assert cp.returncode == 0, cp
    job = cp.stdout.decode().strip()
    cp = daemon.ctl("wait", job)
    assert cp.returncode == 0, cp
    cp = daemon.ctl("fetch", job, dest)
    assert cp.returncode == 0, cp
    with open(os.path.join(dest, "b.txt")) as f:
        assert f.read() == "top\n"
    assert sorted(os.listdir(dest)) == ["b.txt", "link", "out"]
    cp = daemon.ctl("run", "--detach", "--", "true")
    plain = cp.stdout.decode().strip()
    daemon.ctl("wait", plain)
    cp = daemon.ctl("fetch", plain, os.path.join(str(workdir), "none"))
    assert cp.returncode == 125 and b"keep_work" in cp.stderr, cp


def test_a_backend_that_cannot_keep_work_says_so(posix_daemon):
    [r] = client(posix_daemon, [("exec", {"argv": ["true"], "keep_work": True})])
    assert code(r) == "Unsupported" and "keep_work" in r[0]["message"], r


def test_a_kept_work_counts_in_its_owners_memory_quota(workdir):
    require_root()
    conf = os.path.join(str(workdir), "kwq.conf")
    with open(conf, "w") as f:
        f.write("[Daemon]\nMaxJobsMemory=infinity\nMaxJobsMemoryPerUser=100M\n")
    d = Daemon(workdir, extra_args=["--config", conf]).start()
    try:
        mib = 1 << 20
        [r] = client(d, [("exec", {"argv": ["sh", "-c", "head -c 60000000 /dev/zero > /work/big"],
                                   "detach": True, "keep_work": True, "memory_max": 90 * mib})])
        job = ok(r)["job"]
        wait_finished(d, job)
        # 60 MB kept + 50M asked > 100M.
        [r] = client(d, [("exec", {"argv": ["true"], "memory_max": 50 * mib})])
        assert code(r) == "ResourceExhausted" and "MaxJobsMemoryPerUser" in r[0]["message"], r
        [r] = client(d, [("exec", {"argv": ["true"], "memory_max": 30 * mib})])
        ok(r)
    finally:
        rc = d.stop()
        d.force_cleanup()
        assert rc == 0, d.log()
