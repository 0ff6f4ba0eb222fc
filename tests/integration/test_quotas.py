"""Daemon-side quotas: what one client can make the daemon hold is bounded,
and one client never evicts or starves another.

- MaxJobsMemory= / MaxJobsMemoryPerUser=: the memory limits of running jobs
  together; an exec past them is ResourceExhausted naming the quota.
- StdinQueueMax=: stdin_write data queued for a job; past it the writing
  connection is not read (nothing lost), other connections go on.
- Retained results: argv cut to 4 KiB, MaxRetainedJobsPerUser= (a user's
  own oldest go first, never another user's), list in pages.
- A job being cleaned up still counts against its owner's MaxJobsPerUser=.
"""

import json
import os
import subprocess
import sys
import threading

import pytest

from conftest import (MIB, Daemon, Rpc, deadline_poll, finish_daemon, parse_json_output,
                      asan_build, require_root, rss_kib, skillboxd_path)

NOBODY = 65534


def start_daemon(workdir, config, backend=None):
    require_root()
    # The socket's directory must be searchable by the other user.
    os.chmod(workdir, 0o755)
    path = os.path.join(workdir, "skillboxd.conf")
    with open(path, "w") as f:
        f.write(config)
    return Daemon(workdir, backend=backend, extra_args=["--config", path]).start()


@pytest.fixture
def daemons(request, workdir):
    started = []

    def start(config, backend=None):
        d = start_daemon(workdir, config, backend)
        started.append(d)
        return d

    yield start
    for d in started:
        finish_daemon(d, request)


# Runs as another user: one connection, the given calls in order; prints
# [[error, result], ...] as JSON. An "exec_wait" call execs and waits for
# the job's job_exit.
AS_USER = r"""
import json, socket, sys, msgpack
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(30)
sock.connect(sys.argv[1])
unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
msgid = 0
def read(pred):
    while True:
        for msg in unpacker:
            if pred(msg):
                return msg
        data = sock.recv(65536)
        if not data:
            raise SystemExit("closed")
        unpacker.feed(data)
def call(method, params):
    global msgid
    msgid += 1
    sock.sendall(msgpack.packb([0, msgid, method, [params]], use_bin_type=True))
    m = read(lambda m: m[0] == 1 and m[1] == msgid)
    return [m[2], m[3]]
out = []
for method, params in json.loads(sys.argv[2]):
    if method == "exec_wait":
        err, res = call("exec", params)
        if err is None:
            read(lambda m: m[0] == 2 and m[1] == "job_exit" and m[2][0]["job"] == res["job"])
        out.append([err, res])
    else:
        out.append(call(method, params))
print(json.dumps(out, default=repr))
"""


def as_user(d, uid, calls):
    cp = subprocess.run([sys.executable, "-c", AS_USER, d.socket, json.dumps(calls)],
                        user=uid, group=uid, capture_output=True, timeout=60)
    assert cp.returncode == 0, cp.stderr.decode(errors="replace")
    return json.loads(cp.stdout)


def sleeper(rpc, seconds=60, **params):
    return rpc.exec(["sleep", str(seconds)], **params)


# ---- memory quotas ----

def test_defaults_in_print_config():
    cp = subprocess.run([skillboxd_path(), "--print-config"], capture_output=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    text = cp.stdout.decode()
    for line in ("MaxJobsMemory=75%", "MaxJobsMemoryPerUser=50%", "StdinQueueMax=1M",
                 "MaxRetainedJobsPerUser=200"):
        assert line in text.splitlines(), f"{line} missing from --print-config"


def test_memory_quota_in_total(daemons):
    d = daemons("[Daemon]\nMaxJobsMemory=100M\nMaxJobsMemoryPerUser=infinity\n"
                "PreparedSandboxes=0\n")
    with Rpc(d.socket) as c:
        first = sleeper(c, memory_max=60 * MIB)
        err, _ = c.call("exec", {"argv": ["true"], "memory_max": 60 * MIB})
        assert err and err["code"] == "ResourceExhausted", err
        assert "MaxJobsMemory" in err["message"], err
        # What is left still fits.
        small = sleeper(c, memory_max=30 * MIB)
        c.ok("kill", {"job": first})
        # The charge went with the job.
        job = c.exec(["true"], memory_max=60 * MIB)
        c.wait_exit(job)
        c.ok("kill", {"job": small})


def test_memory_quota_per_user(daemons):
    d = daemons("[Daemon]\nMaxJobsMemory=infinity\nMaxJobsMemoryPerUser=100M\n"
                "SocketMode=0666\nPreparedSandboxes=0\n[Access]\nClients=nobody\n")
    with Rpc(d.socket) as c:
        held = sleeper(c, memory_max=80 * MIB)
        err, _ = c.call("exec", {"argv": ["true"], "memory_max": 40 * MIB})
        assert err and err["code"] == "ResourceExhausted", err
        assert "MaxJobsMemoryPerUser" in err["message"] and "uid 0" in err["message"], err
        # Another user has a quota of its own.
        (res,) = as_user(d, NOBODY, [("exec_wait", {"argv": ["true"],
                                                     "memory_max": 80 * MIB})])
        assert res[0] is None, res
        c.ok("kill", {"job": held})


def test_job_without_memory_limit_counts_as_the_quota(daemons):
    d = daemons("[Daemon]\nMaxJobsMemory=infinity\nMaxJobsMemoryPerUser=200M\n"
                "PreparedSandboxes=0\n[Profile unlimited]\nMemoryMax=infinity\n")
    with Rpc(d.socket) as c:
        held = sleeper(c, memory_max=40 * MIB)
        err, _ = c.call("exec", {"argv": ["true"], "profile": "unlimited"})
        assert err and err["code"] == "ResourceExhausted", err
        assert "MaxJobsMemoryPerUser" in err["message"], err
        c.ok("kill", {"job": held})
        # Alone, it runs.
        job = c.exec(["true"], profile="unlimited")
        _, _, res = c.wait_exit(job)
        assert res["state"] == "exited", res


# ---- stdin ----

def test_stdin_queue_bounded_other_clients_served(daemons):
    d = daemons("[Daemon]\nStdinQueueMax=1M\n")
    writes, chunk = 48, b"x" * MIB
    with Rpc(d.socket, timeout=60) as a:
        # A job that never reads its stdin.
        slow = a.exec(["sleep", "600"], stdin=True)
        a.ok("hello")
        base = rss_kib(d.pid) * 1024
        ids = []

        def flood():
            for _ in range(writes):
                a.msgid += 1
                ids.append(a.msgid)
                a.send([0, a.msgid, "stdin_write", [{"job": slow, "data": chunk}]])

        t = threading.Thread(target=flood, daemon=True)
        t.start()
        # The flood stalls in send(): the daemon stopped reading it.
        t.join(5)
        assert t.is_alive(), "the daemon read every stdin_write for a job that reads nothing"
        grown = rss_kib(d.pid) * 1024 - base
        if not asan_build():
            assert grown < 12 * MIB, f"daemon grew by {grown >> 20} MiB of queued stdin"
        # Another client is served meanwhile.
        with Rpc(d.socket) as b:
            other = b.exec(["echo", "served"])
            out, _, res = b.wait_exit(other)
            assert out == b"served\n" and res["state"] == "exited", res
            # The job ends: its queued writes are answered, and the
            # connection is read again.
            b.ok("kill", {"job": slow})
        t.join(60)
        assert not t.is_alive(), "the connection stayed stalled after the job ended"
        for i in ids:
            err, _ = a.response(i, timeout=60)
            assert err is None or err["code"] == "Unavailable", err
        a.ok("hello")


def test_stdin_queue_nothing_lost(daemons):
    d = daemons("[Daemon]\nStdinQueueMax=1M\n")
    writes, chunk = 24, b"y" * MIB
    with Rpc(d.socket, timeout=60) as a:
        # Reads its stdin only after a while: the writes queue up meanwhile.
        job = a.exec(["sh", "-c", "sleep 2; exec wc -c"], stdin=True)
        ids = []

        def flood():
            for _ in range(writes):
                a.msgid += 1
                ids.append(a.msgid)
                a.send([0, a.msgid, "stdin_write", [{"job": job, "data": chunk}]])

        t = threading.Thread(target=flood, daemon=True)
        t.start()
        t.join(60)
        assert not t.is_alive()
        for i in ids:
            err, _ = a.response(i, timeout=60)
            assert err is None, err
        a.ok("stdin_close", {"job": job})
        out, _, res = a.wait_exit(job, timeout=60)
        assert res["state"] == "exited", res
        assert int(out) == writes * MIB


# ---- retained results ----

def test_argv_cut_and_ps_with_big_argvs(daemons):
    d = daemons("[Daemon]\nMaxRetainedJobs=1000\nMaxRetainedJobsPerUser=1000\n",
                backend="posix")
    big = ["a" * 60000 for _ in range(16)]     # just under 1 MiB of argv
    base = None
    with Rpc(d.socket) as c:
        for i in range(120):
            job = c.exec(["/bin/true"] + big)
            c.wait_exit(job)
            c.notifications.clear()
            if i == 9:
                base = rss_kib(d.pid) * 1024
        info = c.ok("inspect", {"job": job})
    assert info["argv_truncated"] is True
    assert sum(len(a) + 1 for a in info["argv"]) <= 4096
    assert info["argv"][0] == "/bin/true" and info["argv"][1].startswith("aaa")
    grown = rss_kib(d.pid) * 1024 - base
    if not asan_build():
        assert grown < 40 * MIB, f"110 retained jobs grew the daemon by {grown >> 20} MiB"
    cp = d.ctl("ps")
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.decode().splitlines()
    assert len(lines) == 121 and all(line.endswith("...") for line in lines[1:])
    cp = d.ctl("ps", "--json")
    assert cp.returncode == 0, cp.stderr
    jobs = parse_json_output(cp)
    assert len(jobs) == 120 and all(j["argv_truncated"] for j in jobs)


def test_list_pages_and_ps_with_1000_jobs(daemons):
    d = daemons("[Daemon]\nMaxRetainedJobs=1000\nMaxRetainedJobsPerUser=1000\n",
                backend="posix")
    started = []
    with Rpc(d.socket) as c:
        for i in range(1000):
            job = c.exec(["/bin/true", str(i)])
            started.append(job)
            c.wait_exit(job)
            c.notifications.clear()
        first = c.ok("list")
        assert len(first) == 256, len(first)
        seen, after = [], 0
        while True:
            page = c.ok("list", {"after": after, "limit": 100})
            assert len(page) <= 100
            seen += page
            if len(page) < 100:
                break
            after = page[-1]["seq"]
        assert [j["job"] for j in seen] == started
        assert [j["job"] for j in first] == started[:256]
        err, _ = c.call("list", {"limit": 257})
        assert err and err["code"] == "InvalidArgument", err
    cp = d.ctl("ps")
    assert cp.returncode == 0, cp.stderr
    ids = [line.split()[0] for line in cp.stdout.decode().splitlines()[1:]]
    assert ids == started


def test_retention_per_user_never_evicts_another_user(daemons):
    d = daemons("[Daemon]\nMaxRetainedJobs=5\nMaxRetainedJobsPerUser=3\n"
                "SocketMode=0666\n[Access]\nClients=nobody\n", backend="posix")
    theirs = as_user(d, NOBODY, [("exec_wait", {"argv": ["/bin/true"]})] * 2)
    their_ids = [res["job"] for err, res in theirs]
    ours = []
    with Rpc(d.socket) as c:
        for _ in range(10):
            job = c.exec(["/bin/true"])
            c.wait_exit(job)
            ours.append(job)
        kept = {j["job"] for j in c.ok("list")}
        # Theirs all stay; ours: the 3 newest (per-user cap, total 5).
        assert kept == set(their_ids) | set(ours[-3:]), kept
        # A new result of ours makes room among ours, never theirs.
        job = c.exec(["/bin/true"])
        c.wait_exit(job)
        kept = {j["job"] for j in c.ok("list")}
        assert kept == set(their_ids) | set(ours[-2:]) | {job}, kept
    # They see their own two.
    (lst,) = as_user(d, NOBODY, [("list", {})])
    assert sorted(j["job"] for j in lst[1]) == sorted(their_ids)


def test_retention_total_full_of_others(daemons):
    # The total is full of another user's results: ours are not kept, and
    # theirs are not touched.
    d = daemons("[Daemon]\nMaxRetainedJobs=3\nMaxRetainedJobsPerUser=3\n"
                "SocketMode=0666\n[Access]\nClients=nobody\n", backend="posix")
    theirs = as_user(d, NOBODY, [("exec_wait", {"argv": ["/bin/true"]})] * 3)
    their_ids = {res["job"] for err, res in theirs}
    with Rpc(d.socket) as c:
        job = c.exec(["/bin/true"])
        _, _, res = c.wait_exit(job)
        assert res["state"] == "exited"
        kept = {j["job"] for j in c.ok("list")}
        assert kept == their_ids, kept


# ---- cleanup ----

def test_job_in_cleanup_counts_against_its_owner(daemons):
    d = daemons("[Daemon]\nMaxJobsPerUser=1\nPreparedSandboxes=0\n")
    make_files = ("import os\n"
                  "for i in range(30000):\n"
                  "    os.close(os.open(f'/work/f{i}', os.O_CREAT | os.O_WRONLY, 0o600))\n")
    refused = None
    with Rpc(d.socket, timeout=60) as c:
        for _ in range(3):
            job = c.exec(["python3", "-c", make_files])
            _, err, res = c.wait_exit(job, timeout=120)
            assert res["state"] == "exited", (res, err)
            # Its 30000 files are being removed now, with its uid held.
            e, r = c.call("exec", {"argv": ["true"]})
            if e is not None:
                refused = e
                break
            c.wait_exit(r["job"])
        assert refused is not None, "a job being cleaned up did not count for its owner"
        assert refused["code"] == "ResourceExhausted", refused
        assert "MaxJobsPerUser" in refused["message"], refused
        # Once the cleanup is done, the owner may run again.
        assert deadline_poll(lambda: c.call("exec", {"argv": ["true"]})[0] is None, 60, 0.2)
    d.assert_clean(timeout=30)
