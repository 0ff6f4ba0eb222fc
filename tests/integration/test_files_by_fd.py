"""Files by descriptor: exec's workdir_fd and mounts (SCM_RIGHTS).

Defences relied on: the daemon only uses received fds (open_tree clone +
move_mount), checks them (directory, not procfs/sysfs, index in range) and
the targets (fixed prefixes); files the job writes end up owned by the client
(idmapped mount, else the no-follow ownership fix after the job)."""
import array
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile

import msgpack
import pytest

from conftest import ConnectionClosed, Daemon, deadline_poll, require_root, skillboxctl_path

pytestmark = pytest.mark.usefixtures()


def send_with_fds(rpc, obj, fds):
    """One request and its fds in one sendmsg, as libskillbox does."""
    data = msgpack.packb(obj, use_bin_type=True)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    n = rpc.sock.sendmsg([data], anc)
    if n < len(data):
        rpc.sock.sendall(data[n:])


def exec_fds(rpc, params, fds):
    rpc.msgid += 1
    send_with_fds(rpc, [0, rpc.msgid, "exec", [params]], fds)
    return rpc.response(rpc.msgid)


def wait_job(rpc, job):
    return rpc.ok("wait", {"job": job}, timeout=60)


def odir(path):
    return os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)


@pytest.fixture
def hostdir(workdir):
    d = tempfile.mkdtemp(prefix="fbd-", dir=str(workdir))
    os.chmod(d, 0o755)
    yield d


def test_workdir_output_owned_by_client(daemon, hostdir):
    cp = daemon.ctl("run", "--json", "--workdir", hostdir, "--",
                    "sh", "-c", "echo hello > /work/out.txt && mkdir /work/sub && "
                                "echo x > /work/sub/f && pwd")
    assert cp.returncode == 0, cp.stderr
    import json
    res = json.loads(cp.stdout)
    assert res["stdout"].strip() == "/work"
    assert res["enforced"]["workdir"] in ("idmap", "chown")
    out = os.path.join(hostdir, "out.txt")
    with open(out) as f:
        assert f.read() == "hello\n"
    for p in (out, os.path.join(hostdir, "sub"), os.path.join(hostdir, "sub", "f")):
        st = os.lstat(p)
        assert st.st_uid == os.getuid(), f"{p} owned by {st.st_uid}"


def test_fresh_workdir_reports_fresh(daemon):
    with daemon.rpc() as r:
        job = r.exec(["true"])
        res = wait_job(r, job)
    assert res["enforced"]["workdir"] == "fresh"


def test_readonly_mount_at_skill(daemon, hostdir):
    with open(os.path.join(hostdir, "SKILL.md"), "w") as f:
        f.write("skill text\n")
    os.chmod(os.path.join(hostdir, "SKILL.md"), 0o600)   # only the owner (client) reads it
    cp = daemon.ctl("run", "--json", "--mount", f"{hostdir}:/skill:ro", "--",
                    "sh", "-c", "cat /skill/SKILL.md; touch /skill/new 2>/dev/null && echo WROTE;"
                                "rm -f /skill/SKILL.md 2>/dev/null; echo done")
    assert cp.returncode == 0, cp.stderr
    import json
    res = json.loads(cp.stdout)
    assert "skill text" in res["stdout"]
    assert "WROTE" not in res["stdout"]
    assert os.path.exists(os.path.join(hostdir, "SKILL.md"))
    assert not os.path.exists(os.path.join(hostdir, "new"))


def expect_invalid(daemon, params, fds, code="InvalidArgument"):
    with daemon.rpc() as r:
        err, res = exec_fds(r, params, fds)
        assert err is not None and err["code"] == code, (err, res)
        # The connection still serves.
        assert r.ok("hello", {})


def test_backend_without_mounts_refuses_them(posix_daemon, hostdir):
    """A backend that cannot mount (posix: its caps say no fd mounts) gets
    no mounts: the request is Unsupported, named as such, before a job
    exists; the workdir it can take still works."""
    fd = odir(hostdir)
    try:
        with posix_daemon.rpc() as r:
            err, res = exec_fds(r, {"argv": ["true"], "mounts": [{"fd": 0, "target": "/data"}]},
                                [fd])
            assert err is not None and err["code"] == "Unsupported", (err, res)
            assert "cannot mount directories" in err["message"], err
    finally:
        os.close(fd)
    cp = posix_daemon.ctl("run", "--json", "--workdir", hostdir, "--", "pwd")
    assert cp.returncode == 0, cp.stderr
    import json
    res = json.loads(cp.stdout)
    assert res["state"] == "exited" and res["enforced"]["workdir"] == "cwd", res


@pytest.mark.parametrize("target", ["/etc", "/work", "/", "/skill/../etc", "/skill//x",
                                    "/skill/", "skill", "/mntx", "/proc/x", "/tmp"])
def test_bad_targets(daemon, hostdir, target):
    fd = odir(hostdir)
    try:
        expect_invalid(daemon, {"argv": ["true"], "mounts": [{"fd": 0, "target": target}]}, [fd])
    finally:
        os.close(fd)


def test_non_directory_fd(daemon, hostdir):
    p = os.path.join(hostdir, "file")
    open(p, "w").close()
    fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
    try:
        # /work must be a directory; a mount may be one file
        # (test_single_file_mount_by_fd).
        expect_invalid(daemon, {"argv": ["true"], "workdir_fd": 0}, [fd])
    finally:
        os.close(fd)


@pytest.mark.parametrize("path", ["/proc", "/proc/self", "/sys", "/sys/kernel"])
def test_proc_sys_fd(daemon, path):
    fd = odir(path)
    try:
        expect_invalid(daemon, {"argv": ["true"], "workdir_fd": 0}, [fd])
        expect_invalid(daemon, {"argv": ["true"], "mounts": [{"fd": 0, "target": "/input"}]}, [fd])
    finally:
        os.close(fd)


def test_index_out_of_range(daemon, hostdir):
    fd = odir(hostdir)
    try:
        expect_invalid(daemon, {"argv": ["true"], "workdir_fd": 1}, [fd])
        expect_invalid(daemon, {"argv": ["true"], "workdir_fd": 0}, [])
        expect_invalid(daemon, {"argv": ["true"], "mounts": [{"fd": 3, "target": "/mnt/a"}]}, [fd])
        expect_invalid(daemon, {"argv": ["true"], "workdir_fd": 16}, [fd])
    finally:
        os.close(fd)


def test_fds_on_other_methods_are_ignored(daemon, hostdir):
    fd = odir(hostdir)
    try:
        with daemon.rpc() as r:
            r.msgid += 1
            send_with_fds(r, [0, r.msgid, "hello", [{}]], [fd])
            err, res = r.response(r.msgid)
            assert err is None
            # The stray fd was closed, not kept for the next exec.
            err, res = exec_fds(r, {"argv": ["true"], "workdir_fd": 0}, [])
            assert err is not None and err["code"] == "InvalidArgument"
    finally:
        os.close(fd)


FDS_MAX = 16   # SBP_FDS_MAX: fds with one message
CONN_FDS_MAX = 32   # SBD_CONN_FDS_MAX: fds queued on a connection, not yet dispatched


def daemon_holds(d, path):
    """Whether skillboxd has an fd open on path."""
    fddir = f"/proc/{d.proc.pid}/fd"
    for name in os.listdir(fddir):
        try:
            if os.readlink(os.path.join(fddir, name)) == path:
                return True
        except FileNotFoundError:
            pass
    return False


def closed_unanswered(rpc):
    """Which request the bytes belong to is unknown: no answer (none could
    carry a msgid the client sent), the connection closes."""
    with pytest.raises(ConnectionClosed):
        msg = rpc.read_message()
        pytest.fail(f"answered {msg!r}")


def test_more_fds_than_a_message_takes(daemon, hostdir):
    """One over SBP_FDS_MAX: the request fails, the connection goes on,
    and the daemon keeps none of the fds."""
    fds = [odir(hostdir) for _ in range(FDS_MAX + 1)]
    try:
        with daemon.rpc() as r:
            err, _ = exec_fds(r, {"argv": ["true"], "workdir_fd": 0}, fds)
            assert err["code"] == "InvalidArgument" and "more than 16" in err["message"], err
            assert r.ok("hello", {})["role"] == "admin"
            assert not daemon_holds(daemon, hostdir)
    finally:
        for fd in fds:
            os.close(fd)


def test_fds_past_the_control_buffer_close_the_connection(daemon, hostdir):
    """More fds with one sendmsg than one read takes: the stream and its fds
    are out of step, so the connection is closed, unanswered."""
    fds = [odir(hostdir) for _ in range(FDS_MAX + 8)]
    try:
        with daemon.rpc() as r:
            r.msgid += 1
            send_with_fds(r, [0, r.msgid, "exec", [{"argv": ["true"]}]], fds)
            closed_unanswered(r)
        assert "too many file descriptors with one message" in daemon.log()
        assert deadline_poll(lambda: not daemon_holds(daemon, hostdir), 5.0)
    finally:
        for fd in fds:
            os.close(fd)


def test_fds_queued_past_the_cap_close_the_connection(daemon, hostdir):
    """fds sent with the bytes of a request that never ends are queued on the
    connection up to a cap; past it, the connection closes unanswered."""
    fds = [odir(hostdir) for _ in range(FDS_MAX)]
    frame = msgpack.packb([0, 1, "exec", [{"argv": ["true"]}]], use_bin_type=True)
    try:
        with daemon.rpc() as r:
            # Each sendmsg with fds is read on its own: one byte and 16 fds
            # at a time, and the request is never complete.
            for i in range(CONN_FDS_MAX // FDS_MAX + 1):
                r.sock.sendmsg([frame[i:i + 1]],
                               [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            closed_unanswered(r)
        assert "too many file descriptors queued" in daemon.log()
        assert deadline_poll(lambda: not daemon_holds(daemon, hostdir), 5.0)
    finally:
        for fd in fds:
            os.close(fd)


def test_symlink_to_shadow_not_chowned(daemon, hostdir):
    before = os.lstat("/etc/shadow")
    cp = daemon.ctl("run", "--workdir", hostdir, "--",
                    "sh", "-c", "ln -s /etc/shadow /work/shadow; ln -s / /work/root;"
                                "mkdir -p /work/d && ln -s /etc /work/d/etc;"
                                "ln /usr/bin/env /work/hard 2>/dev/null && echo LINKED; true")
    assert cp.returncode == 0, cp.stderr
    assert b"LINKED" not in cp.stdout
    after = os.lstat("/etc/shadow")
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid,
                                                             before.st_mode)
    etc = os.lstat("/etc")
    assert etc.st_uid == 0
    link = os.lstat(os.path.join(hostdir, "shadow"))
    assert stat.S_ISLNK(link.st_mode) and link.st_uid == os.getuid()


def test_cannot_escape_bind(daemon, workdir, hostdir):
    canary = os.path.join(os.path.dirname(hostdir), "canary-fbd")
    with open(canary, "w") as f:
        f.write("secret\n")
    try:
        cp = daemon.ctl("run", "--workdir", hostdir, "--mount", f"{hostdir}:/data/in:ro", "--",
                        "sh", "-c", "cat /work/../canary-fbd /work/../../canary-fbd "
                                    "/data/in/../canary-fbd 2>/dev/null && echo ESCAPED;"
                                    "cd /work/.. && ls; true")
        assert cp.returncode == 0, cp.stderr
        assert b"ESCAPED" not in cp.stdout and b"secret" not in cp.stdout
        assert b"usr" in cp.stdout and b"work" in cp.stdout   # the sandbox root
    finally:
        os.unlink(canary)


def test_non_root_client(workdir, hostdir):
    """A real non-root client (useradd), allowed by [Access]: what the job
    writes into its --workdir is owned by that user, not the job uid."""
    require_root()
    # A name unique to this run (suites may run side by side), removed at the end.
    name = f"sbt-fd-{os.urandom(3).hex()}"
    if not shutil.which("useradd") or not shutil.which("userdel"):
        pytest.skip("useradd/userdel not available")
    r = subprocess.run(["useradd", "-M", "-N", "-s", "/bin/false", name],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"useradd failed: {r.stderr!r}")
    try:
        _non_root_client(workdir, hostdir, name)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


def _non_root_client(workdir, hostdir, name):
    pw = pwd.getpwnam(name)
    conf = os.path.join(str(workdir), "fbd.conf")
    with open(conf, "w") as f:
        f.write(f"[Access]\nAdmins=root\nClients={name}\n")
    os.chown(hostdir, pw.pw_uid, pw.pw_gid)
    os.chmod(str(workdir), 0o755)
    d = Daemon(workdir, extra_args=["--config", conf]).start()
    try:
        os.chmod(d.socket, 0o666)

        def as_user():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        cp = subprocess.run([skillboxctl_path(), "--socket", d.socket, "run", "--json",
                             "--workdir", hostdir, "--", "sh", "-c",
                             "echo hi > /work/u.txt && mkdir /work/dd"],
                            capture_output=True, preexec_fn=as_user, stdin=subprocess.DEVNULL,
                            timeout=60)
        if cp.returncode == 125 and f"refused uid {pw.pw_uid}" in d.log():
            pytest.skip(f"the daemon does not accept uid {pw.pw_uid} here: {d.log()[-300:]}")
        assert cp.returncode == 0, (cp.stderr, d.log())
        for p in ("u.txt", "dd"):
            st = os.lstat(os.path.join(hostdir, p))
            assert (st.st_uid, st.st_gid) == (pw.pw_uid, pw.pw_gid), p
        # A directory the user cannot open is not shareable: the CLI opens as the user.
        private = tempfile.mkdtemp(dir=str(workdir))       # root's, 0700
        secret = os.path.join(private, "inner")
        os.mkdir(secret, 0o755)
        cp = subprocess.run([skillboxctl_path(), "--socket", d.socket, "run", "--mount",
                             f"{secret}/:/data:ro", "--", "true"],
                            capture_output=True, preexec_fn=as_user, stdin=subprocess.DEVNULL,
                            timeout=60)
        assert cp.returncode == 125 and b"cannot open directory" in cp.stderr, cp.stderr
    finally:
        rc = d.stop()
        d.force_cleanup()
        assert rc == 0


def test_single_file_mount_by_fd(daemon, hostdir):
    """A regular file's fd mounts onto a file target (its parents made on the
    job's root); read-only: the job reads it and can neither write nor
    replace it."""
    src = os.path.join(hostdir, "config.json")
    with open(src, "w") as f:
        f.write('{"k": 1}\n')
    os.chmod(src, 0o644)
    fd = os.open(src, os.O_PATH | os.O_CLOEXEC)
    try:
        with daemon.rpc() as r:
            err, job = exec_fds(r, {"argv": ["sh", "-c",
                                             "cat /mnt/cfg/config.json; test -f /mnt/cfg/config.json && echo FILE; "
                                             "echo x >> /mnt/cfg/config.json 2>/dev/null && echo WROTE; "
                                             "rm -f /mnt/cfg/config.json 2>/dev/null && echo REMOVED; echo done"],
                                    "mounts": [{"fd": 0, "target": "/mnt/cfg/config.json",
                                                "read_only": True}]}, [fd])
            assert err is None, err
            out, errout, res = r.wait_exit(job["job"])
    finally:
        os.close(fd)
    assert out.decode().splitlines() == ['{"k": 1}', "FILE", "done"], (out, errout, res)
    with open(src) as f:
        assert f.read() == '{"k": 1}\n'


def test_mount_fd_neither_dir_nor_file_refused(daemon):
    rfd, wfd = os.pipe()
    try:
        expect_invalid(daemon, {"argv": ["true"], "mounts": [{"fd": 0, "target": "/data"}]}, [rfd])
    finally:
        os.close(rfd)
        os.close(wfd)
