"""Running jobs end to end: output, stdin, exit codes, ordering, the result
record, and the CLI verbs a user scripts against (run, ps, kill, wait)."""

import json
import os
import re
import signal
import subprocess
import time


from conftest import (CGROUP_VERSION, JOB_ID_RE, MIB, ConnectionClosed, ctl, require_root, deadline_poll, parse_json_output, run_probe,
                      procs_with_uid_in, skillboxctl_path)

RESULT_FIELDS = {
    "job": str, "state": str, "wall_ms": int, "cpu_user_ms": int, "cpu_sys_ms": int,
    "memory_peak": int, "stdout_bytes": int, "stderr_bytes": int, "output_truncated": bool,
}
NAMESPACES = {"mount", "pid", "net", "ipc", "uts", "cgroup"}


def check_result_record(r, d, backend="linux"):
    assert isinstance(r, dict), f"result is not a map: {r!r}"
    for k, t in RESULT_FIELDS.items():
        assert k in r, f"result lacks {k}: {r!r}"
        assert isinstance(r[k], t) and not (t is int and isinstance(r[k], bool)), \
            f"result {k} is {type(r[k]).__name__}, want {t.__name__}: {r!r}"
    for k in ("exit_code", "signal", "tasks_peak"):
        assert k in r and (r[k] is None or isinstance(r[k], int)), f"result {k}: {r!r}"
    assert "error" in r and (r["error"] is None or isinstance(r["error"], str))
    assert JOB_ID_RE.match(r["job"]), r["job"]
    e = r.get("enforced")
    assert isinstance(e, dict), f"result lacks enforced: {r!r}"
    assert e.get("backend") == backend, e
    if backend == "linux":
        assert NAMESPACES <= set(e.get("namespaces", [])), f"namespaces: {e!r}"
        assert e.get("cgroup") == CGROUP_VERSION, f"this host runs cgroup {CGROUP_VERSION}: {e!r}"
        assert isinstance(e.get("uid"), int) and d.uid_first <= e["uid"] <= d.uid_last, \
            f"uid {e.get('uid')} not in {d.uid_range}"
        assert e.get("network") == "none", e
        assert e.get("no_new_privs") is True and e.get("capabilities_dropped") is True, e
        # The hardening layers, as the CLI's --json and the raw record report them.
        assert e.get("seccomp") is True and e.get("securebits") is True, e
        assert (e.get("syscall_filter") or "").startswith("@skillbox-service"), e
        assert isinstance(e.get("landlock"), int), e
        # The built-in default profile's limits are what was applied.
        assert e.get("memory_max") == 512 * MIB and e.get("tasks_max") == 64, e
        assert e.get("timeout_ms") == 60000 and e.get("cpu_percent") == 100, e
    return e


def test_echo_via_skillboxctl(daemon):
    cp = daemon.ctl("run", "--", "echo", "hello", "world")
    assert cp.returncode == 0, cp
    assert cp.stdout == b"hello world\n"

    cp = daemon.ctl("run", "--json", "--", "echo", "hello")
    assert cp.returncode == 0, cp
    r = parse_json_output(cp)
    check_result_record(r, daemon)
    assert r["state"] == "exited" and r["exit_code"] == 0 and r["signal"] is None, r
    assert r["stdout"] == "hello\n" and r["stderr"] == "", r
    assert r["stdout_bytes"] == 6 and r["stderr_bytes"] == 0, r


def test_socket_from_environment(daemon):
    cp = daemon.ctl("run", "--", "echo", "via-env", socket_flag=False,
                    env={"SKILLBOX_SOCKET": daemon.socket})
    assert cp.returncode == 0, cp
    assert cp.stdout == b"via-env\n"


def test_echo_via_raw_rpc(daemon):
    with daemon.rpc() as c:
        hello = c.ok("hello", {"client": "pytest", "protocol": 1})
        assert hello.get("server") == "skillboxd" and hello.get("protocol") == 1, hello
        assert hello.get("uid") == 0 and hello.get("role") in ("admin", "client"), hello
        job = c.exec(["sh", "-c", "echo out; echo err >&2; exit 0"])
        out, err, r = c.wait_exit(job)
        assert out == b"out\n" and err == b"err\n"
        assert r["job"] == job
        check_result_record(r, daemon)
        assert r["state"] == "exited" and r["exit_code"] == 0, r
        assert r["stdout_bytes"] == 4 and r["stderr_bytes"] == 4, r
        assert 0 < r["wall_ms"] < 10000, r
        # Finished results stay retrievable: wait and inspect give the same record.
        w = c.ok("wait", {"job": job})
        assert w["state"] == "exited" and w["job"] == job and w["exit_code"] == 0, w
        i = c.ok("inspect", {"job": job})
        assert i["state"] == "exited" and i.get("argv") == ["sh", "-c",
                                                           "echo out; echo err >&2; exit 0"], i


def test_job_environment(daemon):
    cp = daemon.ctl("run", "--env", "FOO=bar", "--env", "HOME=/elsewhere", "--",
                    "sh", "-c", 'echo "$PATH|$HOME|$LANG|$TMPDIR|$USER|$FOO|$(pwd)|$(hostname)"')
    assert cp.returncode == 0, cp
    assert cp.stdout.decode().strip() == \
        "/usr/local/bin:/usr/bin:/bin|/elsewhere|C.UTF-8|/tmp|skillbox|bar|/work|skillbox"


def test_stdin_through_cat(daemon):
    cp = daemon.ctl("run", "--", "cat", input=b"line one\nline two\n")
    assert cp.returncode == 0, cp
    assert cp.stdout == b"line one\nline two\n"

    data = os.urandom(MIB)
    cp = daemon.ctl("run", "--", "cat", input=data)
    assert cp.returncode == 0, cp.stderr
    assert len(cp.stdout) == len(data) and cp.stdout == data, "1 MiB of stdin came back altered"

    # No stdin requested: the job reads EOF at once instead of hanging.
    cp = daemon.ctl("run", "--", "cat")
    assert cp.returncode == 0 and cp.stdout == b"", cp


def test_stdin_via_raw_rpc(daemon):
    data = os.urandom(MIB + 12345)
    with daemon.rpc() as c:
        job = c.exec(["cat"], stdin=True)
        c.send_stdin(job, data, chunk=200 * 1024)
        out, err, r = c.wait_exit(job)
        assert r["state"] == "exited" and r["exit_code"] == 0, r
        assert out == data and r["stdout_bytes"] == len(data)


def test_exit_codes_and_states(daemon):
    cp = daemon.ctl("run", "--json", "--", "sh", "-c", "exit 3")
    r = parse_json_output(cp)
    assert cp.returncode == 3 and r["state"] == "exited" and r["exit_code"] == 3, (cp, r)

    # A real fault (works even if the program is pid 1 of its namespace,
    # where the kernel ignores a kill() from inside).
    cp, r = run_probe(daemon, "crash")
    assert cp.returncode == 128 + 11, (cp.returncode, r)
    assert r["state"] == "signaled" and r["signal"] == 11 and r["exit_code"] is None, r

    # A child killed by a signal is just the main process's exit status.
    cp = daemon.ctl("run", "--", "sh", "-c", "sleep 10 & kill -9 $!; wait $!")
    assert cp.returncode == 137, cp

    cp = daemon.ctl("run", "--json", "--", "/nonexistent/program")
    r = parse_json_output(cp)
    assert cp.returncode == 125, cp
    assert r["state"] == "failed" and r["error"] and "ENOENT" in r["error"], r


def test_signal_from_host_is_signaled(daemon):
    """SIGKILL sent to the job's main process from outside (not by skillboxd)
    is reported as signaled 9, exit 137."""
    p = _start_sleeper(daemon)
    try:
        # The program is `sleep`; the backend may run its own init beside it.
        procs = deadline_poll(lambda: [p for p, what in
                                       procs_with_uid_in(daemon.uid_first, daemon.uid_last).items()
                                       if what.startswith("sleep ")], 5)
        assert len(procs) == 1, procs
        os.kill(procs[0], signal.SIGKILL)
        out, err = p.communicate(timeout=10)
        r = json.loads(out)
        assert p.returncode == 137, (p.returncode, r, err)
        assert r["state"] == "signaled" and r["signal"] == 9, r
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_output_in_order(daemon):
    n = 100000
    cp, _ = run_probe(daemon, "seq", n, json_out=False)
    assert cp.returncode == 0, cp.stderr
    want = "".join(f"{i}\n" for i in range(1, n + 1)).encode()
    assert len(cp.stdout) == len(want)
    assert cp.stdout == want, "seq output arrived reordered or altered"


def test_large_output_exact(daemon):
    n = 8 * MIB + 7
    with daemon.rpc() as c:
        job = c.exec_probe("output", n)
        out, err, r = c.wait_exit(job, timeout=60)
    pat = b"abcdefghijklmnopqrstuvwxyz0123456789\n"
    want = (pat * (n // len(pat) + 1))[:n]
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    assert len(out) == n and out == want
    assert r["stdout_bytes"] == n and r["output_truncated"] is False, r


def _start_sleeper(daemon, seconds=30):
    p = subprocess.Popen([skillboxctl_path(), "--socket", daemon.socket, "run", "--json", "--", "sleep", str(seconds)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p


def _running_jobs(daemon):
    cp = daemon.ctl("ps", "--json")
    assert cp.returncode == 0, cp
    arr = json.loads(cp.stdout)
    assert isinstance(arr, list), arr
    return arr


def test_ps_and_kill_by_id(daemon):
    p = _start_sleeper(daemon)
    try:
        jobs = deadline_poll(lambda: [j for j in _running_jobs(daemon)
                                      if j.get("state") == "running"], 10)
        assert jobs, "ps --json never showed the running job"
        job = jobs[0]["job"]
        assert JOB_ID_RE.match(job), jobs
        assert jobs[0].get("argv") == ["sleep", "30"], jobs[0]

        cp = daemon.ctl("ps")
        assert cp.returncode == 0 and job.encode() in cp.stdout, cp

        cp = daemon.ctl("kill", job)
        assert cp.returncode == 0, cp
        out, err = p.communicate(timeout=10)
        assert p.returncode == 137, (p.returncode, out, err)
        r = json.loads(out)
        assert r["job"] == job and r["state"] == "killed", r

        cp = daemon.ctl("wait", job)
        assert cp.returncode == 137, cp
        cp = daemon.ctl("inspect", job)
        assert cp.returncode == 0 and b"killed" in cp.stdout, cp
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_kill_via_raw_rpc(daemon):
    with daemon.rpc() as c:
        job = c.exec(["sleep", "30"])
        lst = c.ok("list")
        assert any(j.get("job") == job and j.get("state") == "running" for j in lst), lst
        c.ok("kill", {"job": job})
        out, err, r = c.wait_exit(job, timeout=5)
        assert r["state"] == "killed" and r["wall_ms"] < 5000, r
        err_, _ = c.call("kill", {"job": "000000000000"})
        assert err_ and err_.get("code") == "NotFound", err_


def test_stats_and_profiles(daemon):
    cp = daemon.ctl("profiles")
    assert cp.returncode == 0 and b"default" in cp.stdout, cp
    with daemon.rpc() as c:
        profiles = c.ok("profiles")
        dflt = [p for p in profiles if p.get("name") == "default"]
        assert dflt, profiles
        p = dflt[0]
        assert p["memory_max"] == 512 * MIB and p["tasks_max"] == 64 and p["cpu_percent"] == 100
        assert p["timeout_ms"] == 60000 and p["tmp_size"] == 64 * MIB and p["network"] == "none"
        c.exec(["true"])
        s = c.ok("stats")
        assert s["jobs_started"] >= 1 and s["connections"] >= 1 and s["memory_rss"] > 0, s
    cp = daemon.ctl("stats")
    assert cp.returncode == 0, cp
    cp = daemon.ctl("version")
    assert cp.returncode == 0 and re.search(rb"\d+\.\d+\.\d+", cp.stdout), cp


def test_bad_cli_option_refused_before_sending():
    # A socket that does not exist: the value error must win over a connection error.
    cp = ctl("/nonexistent/skillbox.sock", "run", "--memory", "lots", "--", "true")
    assert cp.returncode == 125, cp
    assert b"--memory" in cp.stderr or b"memory" in cp.stderr, cp.stderr
    cp = ctl("/nonexistent/skillbox.sock", "run", "--timeout", "soon", "--", "true")
    assert cp.returncode == 125 and b"timeout" in cp.stderr, cp
    cp = ctl("/nonexistent/skillbox.sock", "run", "--no-such-option", "--", "true")
    assert cp.returncode == 125, cp


def test_connection_error_exits_125(workdir):
    cp = ctl(os.path.join(workdir, "nothing.sock"), "run", "--", "true")
    assert cp.returncode == 125, cp
    assert cp.stderr, "no message on a connection error"


def test_more_than_profile_is_permission_denied(daemon):
    cp = daemon.ctl("run", "--memory", "100G", "--", "true")
    assert cp.returncode == 125, cp
    assert b"PermissionDenied" in cp.stderr or b"ermission" in cp.stderr, cp.stderr
    with daemon.rpc() as c:
        for field, value in (("memory_max", 100 << 30), ("tasks_max", 100000),
                             ("cpu_percent", 800), ("timeout_ms", 3600 * 1000)):
            err, res = c.call("exec", {"argv": ["true"], field: value})
            assert err and err.get("code") == "PermissionDenied", (field, err, res)
        err, res = c.call("exec", {"argv": ["true"], "bogus_field": 1})
        assert err and err.get("code") == "InvalidArgument", (err, res)
        err, res = c.call("exec", {"argv": ["true"], "profile": "no-such-profile"})
        assert err and err.get("code") in ("NotFound", "InvalidArgument"), (err, res)


def test_posix_backend_echo(posix_daemon):
    cp = posix_daemon.ctl("run", "--json", "--", "echo", "posix")
    assert cp.returncode == 0, cp
    r = parse_json_output(cp)
    assert r["stdout"] == "posix\n" and r["state"] == "exited", r
    e = check_result_record(r, posix_daemon, backend="posix")
    assert not e.get("namespaces"), e
    assert e.get("cgroup") in ("none", None, ""), e
    assert e.get("rlimits") is True and e.get("process_group") is True, e


def test_stdout_and_stderr_stay_separate(daemon):
    cp = daemon.ctl("run", "--", "sh", "-c", "echo to-out; echo to-err >&2; echo more-out")
    assert cp.returncode == 0, cp
    assert cp.stdout == b"to-out\nmore-out\n"
    assert b"to-err\n" in cp.stderr and b"to-out" not in cp.stderr


def test_detach_then_wait(daemon):
    cp = daemon.ctl("run", "--detach", "--", "sh", "-c", "sleep 0.3; exit 5")
    assert cp.returncode == 0, cp
    m = re.search(rb"\b[0-9a-f]{12}\b", cp.stdout)
    assert m, f"run --detach printed no job id: {cp.stdout!r}"
    job = m.group(0).decode()
    cp = daemon.ctl("wait", job, timeout=15)
    assert cp.returncode == 5, cp
    cp = daemon.ctl("wait", "--json", job)
    r = parse_json_output(cp)
    assert r["job"] == job and r["state"] == "exited" and r["exit_code"] == 5, r


def test_concurrent_jobs_get_distinct_uids(daemon):
    with daemon.rpc() as c:
        jobs = [c.exec(["sleep", "1"]) for _ in range(4)]
        uids = [c.ok("inspect", {"job": j})["enforced"]["uid"] for j in jobs]
        assert len(set(uids)) == 4, f"running jobs share uids: {uids}"
        for j in jobs:
            c.wait_exit(j, timeout=10)


def test_backpressure_keeps_daemon_small(daemon):
    """A client that does not read makes its job's pipes pause; the daemon's
    memory does not grow with the job's output. (Under the default profile's
    16 MiB output cap; a bomb past the cap: test_output_limits.py.)"""
    def rss():
        with open(f"/proc/{daemon.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024
    n = 15 * MIB
    with daemon.rpc() as c:
        base = rss()
        job = c.exec_probe("output", n)
        time.sleep(1.5)          # not reading: the job must block, not the daemon buffer
        grown = rss() - base
        out, err, r = c.wait_exit(job, timeout=60)
    assert grown < 8 * MIB, f"daemon RSS grew by {grown >> 20} MiB while the client did not read"
    assert r["state"] == "exited" and len(out) == n and r["stdout_bytes"] == n, r


def test_job_caps_answer_resource_exhausted(request, workdir):
    require_root()
    from conftest import Daemon
    d = Daemon(workdir, extra_args=["--max-jobs", "2", "--max-connections", "3"]).start()
    try:
        with d.rpc() as c:
            jobs = [c.exec(["sleep", "30"]) for _ in range(2)]
            err, res = c.call("exec", {"argv": ["true"]})
            assert err and err.get("code") == "ResourceExhausted", (err, res)
            c.ok("kill", {"job": jobs[0]})
            c.wait_exit(jobs[0])
            jobs.append(c.exec(["true"]))          # a slot is free again
            conns = [d.rpc() for _ in range(2)]    # 3 connections in all
            try:
                extra = d.rpc()
                try:
                    err, res = extra.call("hello", {}, timeout=5)
                    assert err and err.get("code") == "ResourceExhausted", (err, res)
                except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
                    # Refused by closing: also fine. The daemon may close
                    # before our request is even sent (EPIPE on send).
                    pass
                finally:
                    extra.close()
            finally:
                for x in conns:
                    x.close()
        assert d.stop() == 0, d.log()
        d.assert_clean()
    finally:
        d.stop()
        d.force_cleanup()


def test_results_retained_then_forgotten(request, workdir):
    require_root()
    from conftest import Daemon
    d = Daemon(workdir, extra_args=["--retain", "1"]).start()
    try:
        with d.rpc() as c:
            job = c.exec(["true"])
            c.wait_exit(job)
            assert c.ok("wait", {"job": job})["state"] == "exited"
        with d.rpc() as c:
            def gone():
                err, _ = c.call("inspect", {"job": job})
                return err is not None and err.get("code") == "NotFound"
            assert deadline_poll(gone, 5, 0.1), "result still retrievable well after --retain 1"
        assert d.stop() == 0, d.log()
    finally:
        d.stop()
        d.force_cleanup()
