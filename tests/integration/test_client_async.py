"""libskillbox's asynchronous API (libskillbox(3)) against the real daemon.

tests/client/client_async.c does the work; each scenario bounds itself with
alarm(), so a call that blocks where it must return at once fails the test
as SIGALRM rather than by a timing assertion. examples/libuv_host.c is run
too: two jobs on one connection in a libuv loop, one killed from its output
callback."""
import os
import signal
import subprocess

import pytest



def _exe(var):
    path = os.environ.get(var)
    if not path or not os.path.exists(path):
        pytest.skip(f"{var} not set (run through meson test)")
    return path


def run_scenario(daemon, name):
    cp = subprocess.run([_exe("SKILLBOX_CLIENT_ASYNC"), daemon.socket, name],
                        capture_output=True, timeout=60)
    out = cp.stdout.decode(errors="replace") + cp.stderr.decode(errors="replace")
    if cp.returncode == -signal.SIGALRM:
        pytest.fail(f"{name}: blocked until the alarm:\n{out}")
    assert cp.returncode == 0, f"{name} failed ({cp.returncode}):\n{out}"
    assert out.rstrip().endswith("ok"), out
    return out


def test_kill_from_output_callback(daemon):
    """Both jobs are killed from their own output callbacks (one with
    sb_kill_async, one with a blocking sb_kill), and each job_exit callback
    frees its job."""
    out = run_scenario(daemon, "kill-from-output")
    assert "job 0 killed" in out and "job 1 killed" in out


def test_stdin_write_to_job_not_reading_reports_backpressure(daemon):
    """Writes to a job that never reads its stdin come back -EAGAIN at once
    instead of blocking; a kill on the same connection then still works, and
    the writes left pending are answered Unavailable."""
    out = run_scenario(daemon, "stdin-backpressure")
    assert "backpressure after" in out


def test_requests_in_flight_complete_out_of_order(daemon):
    """wait(A), wait(B), stats in flight at once: B and stats complete while
    A's job still runs; A completes once its job ended."""
    out = run_scenario(daemon, "out-of-order")
    line = [x for x in out.splitlines() if x.startswith("completion order")][0]
    assert line.split()[-1][-1] == "A", line


def test_cancelled_requests_never_call_back(daemon):
    """Cancelled before the reply, from another request's callback while its
    reply was already read, and a wait held for its job's end: none of their
    callbacks runs, and the connection goes on."""
    run_scenario(daemon, "cancel")


def test_requests_in_flight_fail_when_the_connection_is_lost(daemon):
    """Two waits on running jobs in flight (one sent, one perhaps queued)
    when the connection fails: each callback runs once, with an error, from
    sb_process()."""
    out = run_scenario(daemon, "conn-lost")
    assert "failed 2" in out


def test_libuv_example(daemon):
    exe = os.environ.get("SKILLBOX_LIBUV_HOST")
    if not exe or not os.path.exists(exe):
        pytest.skip("examples/libuv_host not built (no libuv)")
    cp = subprocess.run([exe, daemon.socket], capture_output=True, timeout=60)
    out = cp.stdout.decode(errors="replace")
    assert cp.returncode == 0, out + cp.stderr.decode(errors="replace")
    assert "[counter] ended exited 0" in out
    assert "[endless] ended killed" in out
    assert "line 5" in out
