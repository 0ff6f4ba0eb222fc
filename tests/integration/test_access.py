"""Access control by peer identity, with real users created for the test:
a stranger is refused before any request, a client sees and kills only its
own jobs, an admin sees and kills all, AllowedUsers= limits who may use a
profile, and MaxJobsPerUser= caps each client."""

import grp
import json
import os
import pwd
import shutil
import subprocess
import time

import pytest

from conftest import Daemon, finish_daemon, require_root

# Names unique to this run: suites may run side by side on one host.
SUFFIX = os.urandom(3).hex()


def n(name):
    return f"sbt-{name}-{SUFFIX}"


USERS = {
    # name: (supplementary groups); every user's primary group is the sock
    # group, so each can reach the socket — [Access] alone decides.
    n("alice"): [n("cli")],
    n("bob"): [n("cli")],
    n("carol"): [],           # reaches the socket, has no role
    n("dave"): [],            # admin by name
}
GROUPS = [n("sock"), n("cli")]
ALICE, BOB, CAROL, DAVE = n("alice"), n("bob"), n("carol"), n("dave")

CONFIG = f"""
[Daemon]
SocketGroup={n("sock")}
SocketMode=0660
MaxJobsPerUser=2
LogLevel=debug
[Access]
Admins=root {DAVE}
Clients=@{n("cli")}
[Profile default]
[Profile bobonly]
AllowedUsers={BOB}
"""

# Runs as the test user: one connection, the given calls in order; prints
# [[error, result], ...] as JSON, or "closed" if the daemon hung up.
CLIENT = r"""
import json, socket, sys, msgpack
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(10)
sock.connect(sys.argv[1])
unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
out = []
for i, (method, params) in enumerate(json.loads(sys.argv[2]), 1):
    try:
        sock.sendall(msgpack.packb([0, i, method, [params]], use_bin_type=True))
    except (BrokenPipeError, ConnectionResetError):
        print(json.dumps("closed")); sys.exit(0)
    while True:
        msg = next(unpacker, None)
        if msg is None:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                print(json.dumps("closed")); sys.exit(0)
            unpacker.feed(data)
            continue
        if msg[0] == 1 and msg[1] == i:
            out.append([msg[2], msg[3]])
            break
print(json.dumps(out, default=repr))
"""


def _run(*argv):
    subprocess.run(list(argv), check=False, capture_output=True)


def _must(*argv):
    """Run a user-database command; retry while another process holds the
    /etc/passwd or /etc/group lock."""
    for _ in range(20):
        cp = subprocess.run(list(argv), capture_output=True)
        if cp.returncode == 0:
            return
        if b"lock" not in cp.stderr:
            break
        time.sleep(0.25)
    raise subprocess.CalledProcessError(cp.returncode, argv, cp.stdout, cp.stderr)


def _remove_all():
    for u in USERS:
        _run("userdel", u)
    for g in GROUPS:
        _run("groupdel", g)


@pytest.fixture(scope="module")
def users():
    require_root()
    if not shutil.which("useradd") or not shutil.which("groupadd"):
        pytest.skip("useradd/groupadd are missing: cannot create the test users")
    _remove_all()
    try:
        for g in GROUPS:
            _must("groupadd", g)
        for u, extra in USERS.items():
            cmd = ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-g", n("sock")]
            if extra:
                cmd += ["-G", ",".join(extra)]
            _must(*cmd, u)
    except subprocess.CalledProcessError as e:
        _remove_all()
        pytest.skip(f"cannot create test users: {e.stderr.decode(errors='replace')}")
    yield
    _remove_all()


@pytest.fixture
def acl_daemon(request, workdir, users):
    # The socket's directory must be searchable by the test users.
    os.chmod(workdir, 0o755)
    path = os.path.join(workdir, "skillboxd.conf")
    with open(path, "w") as f:
        f.write(CONFIG)
    d = Daemon(workdir, extra_args=["--config", path]).start()
    yield d
    finish_daemon(d, request)


def as_user(d, user, calls):
    """Run calls ([(method, params), ...]) on one connection as user."""
    pw = pwd.getpwnam(user)
    extra = [grp.getgrnam(g).gr_gid for g in USERS[user]]
    cp = subprocess.run(["/usr/bin/python3",
                         "-c", CLIENT, d.socket, json.dumps(calls)],
                        user=pw.pw_uid, group=pw.pw_gid, extra_groups=extra,
                        capture_output=True, text=True, timeout=30, cwd="/")
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


SLEEP = ("exec", {"argv": ["sleep", "60"], "detach": True})


def test_stranger_is_refused_before_any_request(acl_daemon):
    d = acl_daemon
    assert as_user(d, CAROL, [("hello", {})]) == "closed"
    assert "no role in [Access]" in d.log()
    # The socket's mode and group are the configured ones.
    st = os.stat(d.socket)
    assert st.st_mode & 0o777 == 0o660
    assert st.st_gid == grp.getgrnam(n("sock")).gr_gid


def test_roles_and_visibility(acl_daemon):
    d = acl_daemon
    hello_a, job_a = as_user(d, ALICE, [("hello", {}), SLEEP])
    assert ok(hello_a)["role"] == "client"
    assert ok(hello_a)["uid"] == pwd.getpwnam(ALICE).pw_uid
    job_a = ok(job_a)["job"]
    (job_b,) = as_user(d, BOB, [SLEEP])
    job_b = ok(job_b)["job"]

    lst, insp, kill, wait = as_user(d, ALICE, [
        ("list", {}), ("inspect", {"job": job_b}), ("kill", {"job": job_b}),
        ("wait", {"job": job_b})])
    assert [j["job"] for j in ok(lst)] == [job_a]
    assert code(insp) == "NotFound"
    assert code(kill) == "NotFound"
    assert code(wait) == "NotFound"

    hello_d, lst, kill = as_user(d, DAVE, [("hello", {}), ("list", {}),
                                                 ("kill", {"job": job_b})])
    assert ok(hello_d)["role"] == "admin"
    assert {j["job"] for j in ok(lst)} == {job_a, job_b}
    assert ok(kill)["state"] == "killed"

    (kill,) = as_user(d, ALICE, [("kill", {"job": job_a})])
    assert ok(kill)["state"] == "killed"


def test_profile_permission(acl_daemon):
    d = acl_daemon
    profiles, denied = as_user(d, ALICE, [
        ("profiles", {}), ("exec", {"argv": ["true"], "profile": "bobonly"})])
    assert {p["name"] for p in ok(profiles)} == {"default"}
    assert code(denied) == "PermissionDenied"
    profiles, allowed = as_user(d, BOB, [
        ("profiles", {}), ("exec", {"argv": ["true"], "profile": "bobonly"})])
    assert {p["name"] for p in ok(profiles)} == {"default", "bobonly"}
    assert ok(allowed)["job"]
    # Admins may use every profile.
    (allowed,) = as_user(d, DAVE, [("exec", {"argv": ["true"], "profile": "bobonly"})])
    assert ok(allowed)["job"]


def test_per_user_job_cap(acl_daemon):
    d = acl_daemon
    first, second, third = as_user(d, ALICE, [SLEEP, SLEEP, SLEEP])
    jobs = [ok(first)["job"], ok(second)["job"]]
    assert code(third) == "ResourceExhausted"
    # The cap is per user: bob still may run.
    (other,) = as_user(d, BOB, [SLEEP])
    jobs.append(ok(other)["job"])
    with d.rpc() as rpc:   # root: admin
        for j in jobs:
            rpc.ok("kill", {"job": j})
