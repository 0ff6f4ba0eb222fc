"""Persistent sandboxes (sandbox_create, exec with sandbox, sandbox_destroy,
sandbox_list): what one command leaves (files in /work and /tmp, processes
still running) is there for the next; limits hold for the sandbox as a
whole; each command has its own result record, timeout and kill; the idle
timeout and the maximum lifetime end it; destroy kills everything in it;
another client can neither see nor use it, and two sandboxes cannot see
each other."""

import json
import os
import pwd
import subprocess
import time

import pytest

from conftest import (Daemon, Rpc, ctl, deadline_poll, finish_daemon, procs_with_uid_in,
                      require_root)


def create(rpc, **params):
    res = rpc.ok("sandbox_create", params)
    assert isinstance(res, dict) and res["sandbox"].startswith("sbx-"), res
    return res["sandbox"]


def run(rpc, sbx, argv, timeout=30.0, **params):
    """(stdout, stderr, result) of one command in sandbox sbx."""
    job = rpc.exec(argv, sandbox=sbx, **params)
    return rpc.wait_exit(job, timeout)


def sh(rpc, sbx, script, **params):
    return run(rpc, sbx, ["sh", "-c", script], **params)


def sandboxes(rpc):
    return {s["sandbox"]: s for s in rpc.ok("sandbox_list", {})}


def test_files_in_work_and_tmp_persist(daemon):
    with Rpc(daemon.socket) as rpc:
        assert rpc.ok("hello", {})["sandboxes"] is True
        sbx = create(rpc)
        out, err, res = sh(rpc, sbx, "echo one > /work/a; echo two > /tmp/b; cd /work; pwd")
        assert res["state"] == "exited" and res["exit_code"] == 0, (res, err)
        out, err, res = sh(rpc, sbx, "cat /work/a /tmp/b")
        assert (out, res["exit_code"]) == (b"one\ntwo\n", 0), (out, err, res)
        rpc.ok("sandbox_destroy", {"sandbox": sbx})


def test_each_command_has_its_own_result_record(daemon):
    with Rpc(daemon.socket) as rpc:
        sbx = create(rpc)
        j1 = rpc.exec(["sh", "-c", "echo out; echo err >&2; exit 3"], sandbox=sbx)
        out, err, r1 = rpc.wait_exit(j1)
        assert (out, err, r1["state"], r1["exit_code"]) == (b"out\n", b"err\n", "exited", 3)
        assert r1["job"] == j1 and r1["stdout_bytes"] == 4 and r1["stderr_bytes"] == 4
        j2 = rpc.exec(["sh", "-c", "kill -TERM $$"], sandbox=sbx)
        _, _, r2 = rpc.wait_exit(j2)
        assert j2 != j1 and r2["state"] == "signaled" and r2["signal"] == 15, r2
        # wait and inspect give the command's own record.
        assert rpc.ok("wait", {"job": j1})["exit_code"] == 3
        info = rpc.ok("inspect", {"job": j2})
        assert info["state"] == "signaled" and info["argv"] == ["sh", "-c", "kill -TERM $$"]
        assert info["sandbox"] == sbx
        listed = {i["job"]: i for i in rpc.ok("list", {})}
        assert listed[j1]["sandbox"] == sbx
        # A program that is not there fails that command only.
        _, _, r3 = run(rpc, sbx, ["/no/such/program"])
        assert r3["state"] == "failed" and "execve" in r3["error"] and "ENOENT" in r3["error"], r3
        _, _, r4 = run(rpc, sbx, ["true"])
        assert r4["state"] == "exited" and r4["exit_code"] == 0
        # The sandbox's record: its commands and its totals.
        s = rpc.ok("inspect", {"job": sbx})
        assert s["sandbox"] == sbx and s["state"] == "running" and s["execs"] == 4, s
        assert s["running"] == 0 and s["owner_uid"] == 0 and s["profile"] == "default"
        assert s["enforced"]["uid"] == r1["enforced"]["uid"] == r4["enforced"]["uid"]
        assert sandboxes(rpc)[sbx]["execs"] == 4


def test_a_background_process_outlives_its_command(daemon):
    server = ("import socket\n"
              "s = socket.socket()\n"
              "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
              "s.bind(('127.0.0.1', 8765)); s.listen()\n"
              "while True:\n"
              "    c, _ = s.accept(); c.sendall(b'pong'); c.close()\n")
    client = ("import socket, time\n"
              "for _ in range(200):\n"
              "    try:\n"
              "        c = socket.create_connection(('127.0.0.1', 8765)); break\n"
              "    except OSError: time.sleep(0.05)\n"
              "print(c.recv(16).decode())\n")
    with Rpc(daemon.socket) as rpc:
        sbx = create(rpc)
        # The server's source travels in the environment.
        _, err, res = sh(rpc, sbx, 'printf "%s" "$SERVER" > /work/server.py; '
                         "setsid python3 /work/server.py </dev/null >/dev/null 2>&1 &",
                         env={"SERVER": server})
        assert res["state"] == "exited" and res["exit_code"] == 0, (res, err)
        out, err, res = run(rpc, sbx, ["python3", "-c", client])
        assert out == b"pong\n", (out, err, res)
        out, _, _ = sh(rpc, sbx, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
        assert b"python3 /work/server.py" in out
        rpc.ok("sandbox_destroy", {"sandbox": sbx})


def test_destroy_kills_everything_in_it(daemon):
    with Rpc(daemon.socket) as rpc:
        sbx = create(rpc)
        _, _, res = sh(rpc, sbx, "setsid sleep 1000 </dev/null >/dev/null 2>&1 &")
        assert res["exit_code"] == 0
        running = rpc.exec(["sleep", "1000"], sandbox=sbx)
        uid = rpc.ok("inspect", {"job": sbx})["enforced"]["uid"]
        assert deadline_poll(lambda: len(procs_with_uid_in(uid, uid)) >= 2, 10)
        rpc.ok("sandbox_destroy", {"sandbox": sbx})
        # Nothing of it runs once destroy answered.
        assert procs_with_uid_in(uid, uid) == {}
        _, _, res = rpc.wait_exit(running)
        assert res["state"] == "killed", res
        err, _ = rpc.call("exec", {"argv": ["true"], "sandbox": sbx})
        assert err["code"] == "NotFound", err
        err, _ = rpc.call("sandbox_destroy", {"sandbox": sbx})
        assert err["code"] == "NotFound", err
        assert sbx not in sandboxes(rpc)


def test_limits_hold_for_the_sandbox_as_a_whole(daemon):
    with Rpc(daemon.socket) as rpc:
        sbx = create(rpc, tasks_max=8)
        _, err, res = sh(rpc, sbx, "for i in 1 2 3 4 5 6; do setsid sleep 1000 "
                         "</dev/null >/dev/null 2>&1 & done")
        assert res["exit_code"] == 0, (res, err)
        # Six are left running: the next command cannot start six more.
        _, err, res = sh(rpc, sbx, "n=0; for i in 1 2 3 4 5 6; do sleep 1000 & "
                         "[ $? = 0 ] && n=$((n+1)); done; echo $n; kill $(jobs -p) 2>/dev/null; "
                         "exit 0")
        s = rpc.ok("inspect", {"job": sbx})
        assert s["enforced"]["tasks_max"] == 8
        assert s["tasks_peak"] is None or s["tasks_peak"] <= 8, s
        assert res["state"] != "exited" or b"fork" in err.lower() or \
            b"resource temporarily unavailable" in err.lower(), (res, err)


def test_memory_limit_is_the_sandbox_s(daemon):
    hog = ("import time; b = bytearray(60 << 20); b[::4096] = b'x' * len(b[::4096]); "
           "print('held', flush=True); time.sleep(%d)")
    with Rpc(daemon.socket) as rpc:
        sbx = create(rpc, memory_max=96 << 20)
        _, err, res = sh(rpc, sbx, f"setsid python3 -c \"{hog % 1000}\" </dev/null >/tmp/bg 2>&1 &"
                         " while ! grep -q held /tmp/bg; do sleep 0.05; done")
        assert res["exit_code"] == 0, (res, err)
        # 60M are held by the first command's process: 60M more do not fit
        # beside them, so one of the two is killed.
        out, err, res = run(rpc, sbx, ["python3", "-c", hog % 0])
        second_ok = res["state"] == "exited" and res["exit_code"] == 0
        out, _, _ = sh(rpc, sbx, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
        first_alive = b"time.sleep(1000)" in out
        assert not (second_ok and first_alive), (res, out)
        s = rpc.ok("inspect", {"job": sbx})
        assert s["memory_peak"] <= 96 << 20 and s["enforced"]["memory_max"] == 96 << 20, s


def test_command_timeout_and_kill_leave_the_sandbox(daemon):
    with Rpc(daemon.socket) as rpc:
        sbx = create(rpc)
        _, _, res = run(rpc, sbx, ["sleep", "1000"], timeout_ms=300)
        assert res["state"] == "timeout", res
        job = rpc.exec(["sleep", "1000"], sandbox=sbx)
        res = rpc.ok("kill", {"job": job})
        assert res["state"] == "killed", res
        out, _, res = sh(rpc, sbx, "echo still here")
        assert out == b"still here\n" and res["exit_code"] == 0
        # Fields that are the sandbox's cannot be given per command.
        err, _ = rpc.call("exec", {"argv": ["true"], "sandbox": sbx, "memory_max": 1 << 20})
        assert err["code"] == "InvalidArgument", err


def test_two_sandboxes_cannot_see_each_other(daemon):
    with Rpc(daemon.socket) as rpc:
        a, b = create(rpc), create(rpc)
        _, _, res = sh(rpc, a, "echo secret > /work/s; setsid sleep 1000 </dev/null "
                       ">/dev/null 2>&1 &")
        assert res["exit_code"] == 0
        out, _, res = sh(rpc, b, "ls /work; cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
        assert b"secret" not in out and b"sleep 1000" not in out, out
        ua = rpc.ok("inspect", {"job": a})["enforced"]["uid"]
        ub = rpc.ok("inspect", {"job": b})["enforced"]["uid"]
        assert ua != ub


def test_commands_cannot_reach_the_init_or_its_sockets(daemon):
    """No command holds a descriptor but its stdio (the init's start socket,
    error pipe and the other commands' report sockets are close-on-exec),
    and signals to the init (pid 1) do nothing: the next command still runs
    and reports."""
    with Rpc(daemon.socket) as rpc:
        sbx = create(rpc)
        other = rpc.exec(["sleep", "1000"], sandbox=sbx)
        out, err, res = sh(rpc, sbx, "ls /proc/self/fd")
        assert sorted(out.split()) == [b"0", b"1", b"2", b"3"], (out, err)
        _, _, res = sh(rpc, sbx, "kill -KILL 1; kill -TERM 1; kill -CHLD 1; "
                       "kill -STOP 1; kill -HUP 1; exit 0")
        assert res["state"] == "exited", res
        out, _, res = sh(rpc, sbx, "echo alive")
        assert (out, res["exit_code"]) == (b"alive\n", 0)
        assert rpc.ok("kill", {"job": other})["state"] == "killed"


def conf_daemon(workdir, text):
    path = os.path.join(workdir, "skillboxd.conf")
    with open(path, "w") as f:
        f.write(text)
    return Daemon(workdir, extra_args=["--config", path]).start()


def test_idle_timeout_ends_it_but_not_while_a_command_runs(request, workdir):
    d = conf_daemon(workdir, "[Daemon]\nSandboxIdleTimeoutSec=1s\nSandboxMaxLifetimeSec=0\n")
    try:
        with Rpc(d.socket) as rpc:
            idle, busy = create(rpc), create(rpc)
            assert rpc.ok("inspect", {"job": idle})["idle_timeout_ms"] == 1000
            sh(rpc, idle, "true")
            job = rpc.exec(["sleep", "1000"], sandbox=busy)
            assert deadline_poll(lambda: idle not in sandboxes(rpc), 20)
            err, _ = rpc.call("exec", {"argv": ["true"], "sandbox": idle})
            assert err["code"] == "NotFound"
            # A command running keeps it from going idle; once it ended, it goes.
            assert busy in sandboxes(rpc) and sandboxes(rpc)[busy]["running"] == 1
            assert rpc.ok("kill", {"job": job})["state"] == "killed"
            assert deadline_poll(lambda: busy not in sandboxes(rpc), 20)
    finally:
        finish_daemon(d, request)


def test_max_lifetime_ends_it_and_its_commands(request, workdir):
    d = conf_daemon(workdir, "[Daemon]\nSandboxIdleTimeoutSec=0\nSandboxMaxLifetimeSec=2s\n")
    try:
        with Rpc(d.socket) as rpc:
            sbx = create(rpc)
            assert rpc.ok("inspect", {"job": sbx})["lifetime_max_ms"] == 2000
            job = rpc.exec(["sleep", "1000"], sandbox=sbx)
            _, _, res = rpc.wait_exit(job, timeout=30)
            assert res["state"] == "killed", res
            assert sbx not in sandboxes(rpc)
    finally:
        finish_daemon(d, request)


# One connection as uid, the given calls in order; prints [[error, result], ...].
CLIENT = r"""
import json, socket, sys, msgpack
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(20)
sock.connect(sys.argv[1])
unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
out = []
for i, (method, params) in enumerate(json.loads(sys.argv[2]), 1):
    sock.sendall(msgpack.packb([0, i, method, [params]], use_bin_type=True))
    while True:
        msg = next(unpacker, None)
        if msg is None:
            unpacker.feed(sock.recv(65536))
            continue
        if msg[0] == 1 and msg[1] == i:
            out.append([msg[2], msg[3]])
            break
print(json.dumps(out, default=repr))
"""


def as_user(d, user, calls):
    pw = pwd.getpwnam(user)
    cp = subprocess.run(["/usr/bin/python3", "-c", CLIENT, d.socket, json.dumps(calls)],
                        user=pw.pw_uid, group=pw.pw_gid, capture_output=True, text=True,
                        timeout=60, cwd="/")
    assert cp.returncode == 0, f"client as {user} failed:\n{cp.stderr}\n{d.log()}"
    return json.loads(cp.stdout)


def test_owner_only_and_per_client_bound(request, workdir):
    require_root()
    os.chmod(workdir, 0o755)
    d = conf_daemon(workdir, "[Daemon]\nSocketGroup=\nSocketMode=0666\nSandboxesPerClient=2\n"
                    "[Access]\nAdmins=root\nClients=nobody daemon\n")
    try:
        (r1, r2, r3) = as_user(d, "nobody", [("sandbox_create", {})] * 3)
        mine = r1[1]["sandbox"]
        assert r2[0] is None and r3[0]["code"] == "ResourceExhausted", r3
        calls = [("exec", {"argv": ["true"], "sandbox": mine}),
                 ("sandbox_destroy", {"sandbox": mine}),
                 ("inspect", {"job": mine}),
                 ("sandbox_list", {})]
        ex, de, insp, lst = as_user(d, "daemon", calls)
        assert [r[0]["code"] for r in (ex, de, insp)] == ["NotFound"] * 3
        assert lst == [None, []]
        # The owner can, and root (an admin) sees it.
        ex, insp = as_user(d, "nobody", calls[0:1] + calls[2:3])
        assert ex[0] is None and insp[1]["sandbox"] == mine
        with Rpc(d.socket) as rpc:
            assert mine in sandboxes(rpc)
    finally:
        finish_daemon(d, request)


def test_config_keys_in_print_config(workdir):
    cp = subprocess.run([Daemon(workdir).argv()[0], "--print-config"], capture_output=True,
                        text=True)
    assert cp.returncode == 0, cp.stderr
    for key in ("SandboxIdleTimeoutSec=15min", "SandboxMaxLifetimeSec=8h",
                "SandboxesPerClient=8"):
        assert key in cp.stdout


def test_skillboxctl_sandbox_create_exec_ls_rm(daemon):
    cp = ctl(daemon.socket, "sandbox", "create", "--memory", "256M")
    assert cp.returncode == 0, cp.stderr
    sbx = cp.stdout.decode().strip()
    assert sbx.startswith("sbx-")
    cp = ctl(daemon.socket, "sandbox", "exec", sbx, "--", "sh", "-c", "echo kept > /work/f")
    assert cp.returncode == 0, cp.stderr
    cp = ctl(daemon.socket, "sandbox", "exec", sbx, "--", "sh", "-c", "cat /work/f; exit 7")
    assert (cp.returncode, cp.stdout) == (7, b"kept\n"), cp
    cp = ctl(daemon.socket, "sandbox", "exec", sbx, "--json", "--", "true")
    assert json.loads(cp.stdout)["state"] == "exited"
    cp = ctl(daemon.socket, "sandbox", "ls")
    assert cp.returncode == 0 and sbx.encode() in cp.stdout, cp
    cp = ctl(daemon.socket, "sandbox", "ls", "--json")
    (entry,) = [e for e in json.loads(cp.stdout) if e["sandbox"] == sbx]
    assert entry["execs"] == 3 and entry["enforced"]["memory_max"] == 256 << 20, entry
    cp = ctl(daemon.socket, "inspect", sbx)
    assert json.loads(cp.stdout)["sandbox"] == sbx, cp
    cp = ctl(daemon.socket, "sandbox", "rm", sbx)
    assert cp.returncode == 0, cp.stderr
    cp = ctl(daemon.socket, "sandbox", "exec", sbx, "--", "true")
    assert cp.returncode == 125 and b"NotFound" in cp.stderr, cp


def test_posix_backend_refuses_sandboxes(posix_daemon):
    with Rpc(posix_daemon.socket) as rpc:
        assert rpc.ok("hello", {})["sandboxes"] is False
        err, _ = rpc.call("sandbox_create", {})
        assert err["code"] == "Unsupported", err


def test_ps_shows_the_sandbox_of_each_command(daemon):
    with daemon.rpc() as rpc:
        sbx = create(rpc)
        inside = rpc.exec(["sleep", "30"], sandbox=sbx)
        alone = rpc.exec(["sleep", "30"])
        try:
            cp = ctl(daemon.socket, "ps")
            assert cp.returncode == 0, cp
            lines = cp.stdout.decode().splitlines()
            assert lines[0].split() == ["JOB", "STATE", "UID", "WALL", "SANDBOX", "COMMAND"]
            rows = {line.split()[0]: line.split() for line in lines[1:]}
            assert rows[inside][4:] == [sbx, "sleep", "30"], rows[inside]
            assert rows[alone][4:] == ["-", "sleep", "30"], rows[alone]
            cp = ctl(daemon.socket, "ps", "--json")
            by = {j["job"]: j for j in json.loads(cp.stdout)}
            assert by[inside]["sandbox"] == sbx and by[alone]["sandbox"] is None, by
        finally:
            rpc.ok("kill", {"job": alone})
            rpc.ok("sandbox_destroy", {"sandbox": sbx})
