"""Output limits and backpressure.

A job's stdout + stderr together are capped by output_max (the profile's,
16 MiB for "default"; a request may only lower it). Past the cap the job is
killed and ends `output_limit` with `output_truncated` true, and exactly
output_max bytes were delivered (stdout_bytes + stderr_bytes == output_max).
A client that does not read pauses its job's pipes: the daemon's memory stays
bounded however much the job writes, and the job can still be killed.

Truncation (a profile with OutputTruncate=yes) needs a config file: the last
test writes one; tests/unit/test_output.c covers the cap's arithmetic.

Defences: daemon/output.c (the cap), daemon/job.c (kill, drain past the cap),
daemon/conn.c (write-queue watermarks pause the job's pipes).
"""

import json
import os
import re
import time

from conftest import MIB, Daemon, require_root, wait_for_uid_procs

DEFAULT_OUTPUT_MAX = 16 * MIB


def _rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024


def _no_job_procs(daemon):
    left = wait_for_uid_procs(daemon, present=False, timeout=10)
    assert not left, f"processes of the job uid range left: {left}"


def test_yes_ends_output_limit_exactly_at_cap(daemon):
    with daemon.rpc() as c:
        job = c.exec(["yes"], output_max=1 * MIB, timeout_ms=30000)
        out, err, r = c.wait_exit(job, timeout=30)
    assert r["state"] == "output_limit", r
    assert r["output_truncated"] is True, r
    assert r["stdout_bytes"] == 1 * MIB and r["stderr_bytes"] == 0, r
    assert len(out) == 1 * MIB and out == b"y\n" * (MIB // 2)
    assert r["exit_code"] == -1 or r["exit_code"] is None, r
    _no_job_procs(daemon)


def test_cli_output_max_exit_137(daemon):
    cp = daemon.ctl("run", "--output-max", "64K", "--", "yes", timeout=30)
    assert cp.returncode == 137, (cp.returncode, cp.stderr)
    assert len(cp.stdout) == 64 * 1024 and set(cp.stdout) == set(b"y\n")
    assert b"output_limit" in cp.stderr, cp.stderr
    cp = daemon.ctl("run", "--json", "--output-max", "100K", "--", "yes", timeout=30)
    assert cp.returncode == 137, (cp.returncode, cp.stderr)
    r = json.loads(cp.stdout)
    assert r["state"] == "output_limit" and r["output_truncated"] is True, r
    assert r["stdout_bytes"] == 100 * 1024 and len(r["stdout"]) == 100 * 1024, r["stdout_bytes"]
    cp = daemon.ctl("run", "--output-max", "lots", "--", "true")
    assert cp.returncode == 125 and b"--output-max" in cp.stderr, cp.stderr
    _no_job_procs(daemon)


def test_stdout_and_stderr_share_the_cap(daemon):
    sh = "head -c 600000 /dev/zero; head -c 600000 /dev/zero >&2; sleep 30"
    with daemon.rpc() as c:
        job = c.exec(["sh", "-c", sh], output_max=1000000, timeout_ms=30000)
        out, err, r = c.wait_exit(job, timeout=30)
    assert r["state"] == "output_limit", r
    assert r["stdout_bytes"] == 600000 and r["stderr_bytes"] == 400000, r
    assert len(out) == 600000 and len(err) == 400000
    assert r["output_truncated"] is True
    _no_job_procs(daemon)


def test_exactly_output_max_is_allowed(daemon):
    sh = "head -c 600000 /dev/zero; head -c 400000 /dev/zero >&2"
    with daemon.rpc() as c:
        job = c.exec(["sh", "-c", sh], output_max=1000000)
        out, err, r = c.wait_exit(job, timeout=30)
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    assert r["output_truncated"] is False, r
    assert len(out) + len(err) == 1000000


def test_default_profile_caps_output(daemon):
    with daemon.rpc() as c:
        profiles = c.ok("profiles")
        dflt = [p for p in profiles if p.get("name") == "default"][0]
        assert dflt["output_max"] == DEFAULT_OUTPUT_MAX and dflt["output_truncate"] is False, dflt
        # Asking for more than the profile allows is refused.
        err, res = c.call("exec", {"argv": ["true"], "output_max": DEFAULT_OUTPUT_MAX + 1})
        assert err and err.get("code") == "PermissionDenied", (err, res)
        assert "output_max" in err.get("message", ""), err
        job = c.exec(["yes"], timeout_ms=60000)
        out, _, r = c.wait_exit(job, timeout=60)
    assert r["state"] == "output_limit", r
    assert r["stdout_bytes"] == DEFAULT_OUTPUT_MAX == len(out), r
    _no_job_procs(daemon)


def test_bomb_with_client_that_never_reads(daemon):
    """Cap above the pause watermark: the job blocks on its pipe while the
    client does not read; the daemon stays small; a kill still ends it."""
    with daemon.rpc(timeout=30) as c, daemon.rpc() as other:
        base = _rss(daemon.pid)
        job = c.exec(["sh", "-c", "yes & yes >&2"], timeout_ms=60000)
        time.sleep(2.0)             # never read: the job must block, not the daemon buffer
        grown = _rss(daemon.pid) - base
        info = other.ok("inspect", {"job": job})
        assert info["state"] == "running", info
        queued = info["stdout_bytes"] + info["stderr_bytes"]
        assert queued < 4 * MIB, f"{queued} bytes taken from a job whose client does not read"
        assert grown < 8 * MIB, f"daemon RSS grew by {grown >> 20} MiB while the client did not read"
        # The kill is read and acted on while the client still does not read.
        kill_id = c.request("kill", {"job": job})
        _no_job_procs(daemon)
        # Reading again: the output taken so far, then the end.
        out, err, r = c.wait_exit(job, timeout=30)
        c.response(kill_id)
    assert r["state"] == "killed", r
    assert r["stdout_bytes"] == len(out) and r["stderr_bytes"] == len(err), r
    assert len(out) + len(err) < 4 * MIB


def test_bomb_past_cap_with_client_that_never_reads(daemon):
    """Cap below the pause watermark: the job passes the cap before the
    client's queue fills, ends output_limit and is cleaned up while the
    client still reads nothing; another connection sees the result."""
    with daemon.rpc(timeout=30) as c, daemon.rpc(timeout=30) as other:
        base = _rss(daemon.pid)
        job = c.exec(["yes"], output_max=512 * 1024, timeout_ms=60000)
        r = other.ok("wait", {"job": job}, timeout=30)
        assert r["state"] == "output_limit" and r["stdout_bytes"] == 512 * 1024, r
        _no_job_procs(daemon)
        assert _rss(daemon.pid) - base < 8 * MIB
        out, err, r2 = c.wait_exit(job, timeout=30)
    assert r2 == r
    assert len(out) == 512 * 1024 and not err


def test_capped_job_is_drained_past_a_paused_client(daemon):
    """Cap above the pause watermark, client not reading: the job is paused
    below the cap; once the client reads it reaches the cap and ends
    output_limit with exactly output_max delivered."""
    cap = 3 * MIB
    with daemon.rpc(timeout=30) as c:
        job = c.exec(["yes"], output_max=cap, timeout_ms=60000)
        time.sleep(1.0)
        out, _, r = c.wait_exit(job, timeout=30)
    assert r["state"] == "output_limit" and r["stdout_bytes"] == cap == len(out), r
    _no_job_procs(daemon)


def test_truncating_profile_drains_without_blocking(request, workdir):
    """A profile with OutputTruncate=yes (from a config file): past the cap
    the job keeps running, its output is read and dropped even though the
    client does not read, and it ends by itself with output_truncated."""
    require_root()
    conf = os.path.join(workdir, "trunc.conf")
    with open(conf, "w") as f:
        f.write("[Profile trunc]\nOutputMax=512K\nOutputTruncate=yes\n")
    d = Daemon(workdir, extra_args=["--config", conf]).start()
    try:
        with d.rpc(timeout=30) as c, d.rpc(timeout=60) as other:
            prof = [p for p in c.ok("profiles") if p["name"] == "trunc"]
            assert prof and prof[0]["output_truncate"] is True, prof
            base = _rss(d.pid)
            job = c.exec(["sh", "-c", "head -c 64M /dev/zero; echo late >&2; exit 3"],
                         profile="trunc", timeout_ms=60000)
            r = other.ok("wait", {"job": job}, timeout=60)
            assert r["state"] == "exited" and r["exit_code"] == 3, r
            assert r["output_truncated"] is True, r
            assert r["stdout_bytes"] == 512 * 1024 and r["stderr_bytes"] == 0, r
            assert _rss(d.pid) - base < 8 * MIB
            out, err, r2 = c.wait_exit(job, timeout=30)
            assert r2 == r and len(out) == 512 * 1024 and not err
            cp = d.ctl("run", "--profile", "trunc", "--", "sh", "-c", "head -c 1M /dev/zero",
                       timeout=30)
            assert cp.returncode == 0 and len(cp.stdout) == 512 * 1024, cp.returncode
            assert b"output truncated" in cp.stderr, cp.stderr
        assert d.stop() == 0, d.log()
        d.assert_clean()
    finally:
        d.stop()
        d.force_cleanup()
