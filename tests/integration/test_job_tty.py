"""exec tty: a job's stdin, stdout and stderr are one pty from the job's own
devpts instance, its controlling terminal. The client sets its size and
changes it (resize, SIGWINCH in the job), types into it (^C interrupts the
job's foreground process, stdin_close sends ^D) and reads it as stream
stdout. skillboxctl run --tty puts the user's terminal in raw mode for the
run, follows its size and gives the mode back. Linux backend; the posix
backend gives a pty of the host's."""
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from conftest import Daemon, finish_daemon, require_root, skillboxctl_path

# Inside the job: what its stdio is.
WHAT_TTY = r"""
import os, sys
print("isatty", os.isatty(0), os.isatty(1), os.isatty(2))
print("name", os.ttyname(0), os.ttyname(1))
print("ctty", os.open("/dev/tty", os.O_RDWR) >= 0)
st = os.fstat(0)
print("owner", st.st_uid == os.getuid(), st.st_gid == os.getgid(), oct(st.st_mode & 0o777))
print("size", *os.get_terminal_size(0))
print("pts", sorted(os.listdir("/dev/pts")))
print("pgrp", os.tcgetpgrp(0) == os.getpgrp(), os.getsid(0) == os.getpid())
sys.stdout.flush()
"""

# Prints "ready" and waits; a SIGWINCH prints the new size and ends it.
ON_WINCH = r"""
import os, signal, time
seen = []
def winch(*_):
    os.write(1, b"winch %d %d\n" % tuple(os.get_terminal_size(0)))
    seen.append(1)
signal.signal(signal.SIGWINCH, winch)
os.write(1, b"ready\n")
while not seen:
    time.sleep(0.05)
"""

# Prints "ready" and sleeps; ^C (SIGINT from the line discipline) ends it
# with 3.
ON_INTR = r"""
import sys, time
try:
    print("ready", flush=True)
    time.sleep(60)
    print("slept")
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
"""


def lines(out):
    return out.decode(errors="replace").replace("\r\n", "\n").splitlines()


def field(out, name):
    for line in lines(out):
        if line.startswith(name + " "):
            return line[len(name) + 1:]
    raise AssertionError(f"no {name!r} line in {out!r}")


def wait_output(c, job, want, timeout=30):
    """Pump until the job's output so far holds want; returns it."""
    end = time.monotonic() + timeout
    while True:
        got = b"".join(p["data"] for m, p in c.notifications
                       if m == "job_output" and p.get("job") == job)
        if want in got:
            return got
        if time.monotonic() > end:
            pytest.fail(f"job {job} never wrote {want!r}; it wrote {got!r}")
        c.pump(0.05)


# ---- the protocol ----

def test_a_tty_job_has_a_terminal_of_its_own(daemon):
    with daemon.rpc() as c:
        job = c.exec(["python3", "-c", WHAT_TTY], tty=True, rows=33, cols=111)
        out, err, res = c.wait_exit(job)
    assert res["state"] == "exited" and res["exit_code"] == 0, (res, out)
    # stdout and stderr alike come as stream stdout.
    assert err == b"", err
    assert field(out, "isatty") == "True True True", out
    # The job's own instance: its terminal is the first pty there, and
    # nothing of the host's (or another job's) is listed.
    assert field(out, "name") == "/dev/pts/0 /dev/pts/0", out
    assert field(out, "pts") == "['0', 'ptmx']", out
    # Its controlling terminal, with the program leading the session and
    # in the foreground: job control works.
    assert field(out, "ctty") == "True", out
    assert field(out, "pgrp") == "True True", out
    assert field(out, "size") == "111 33", out
    # The job's own terminal, as a login's is.
    assert field(out, "owner") == "True True 0o620", out
    # A prepared sandbox (PreparedSandboxes=) has its stdio already: a tty
    # request is given a sandbox built for it, not one to give up on.
    assert "not usable" not in daemon.log(), daemon.log()


def test_stty_sees_the_size_asked_for_or_24x80(daemon):
    with daemon.rpc() as c:
        job = c.exec(["stty", "size"], tty=True, rows=50, cols=132)
        out, _, res = c.wait_exit(job)
        assert res["exit_code"] == 0 and lines(out) == ["50 132"], (res, out)
        job = c.exec(["stty", "size"], tty=True)
        out, _, res = c.wait_exit(job)
        assert res["exit_code"] == 0 and lines(out) == ["24 80"], (res, out)


def test_without_tty_the_job_has_no_terminal(daemon):
    with daemon.rpc() as c:
        job = c.exec(["python3", "-c", "import os; print(os.isatty(0), os.isatty(1))"])
        out, _, res = c.wait_exit(job)
    assert res["exit_code"] == 0 and out == b"False False\n", (res, out)


def test_a_resize_reaches_the_job_as_sigwinch(daemon):
    with daemon.rpc() as c:
        job = c.exec(["python3", "-c", ON_WINCH], tty=True, rows=24, cols=80)
        wait_output(c, job, b"ready")
        c.ok("resize", {"job": job, "rows": 40, "cols": 120})
        out, _, res = c.wait_exit(job)
    assert res["state"] == "exited" and res["exit_code"] == 0, (res, out)
    assert field(out, "winch") == "120 40", out


def test_ctrl_c_interrupts_the_foreground_process(daemon):
    with daemon.rpc() as c:
        job = c.exec(["python3", "-c", ON_INTR], tty=True)
        wait_output(c, job, b"ready")
        c.ok("stdin_write", {"job": job, "data": b"\x03"})
        out, _, res = c.wait_exit(job)
    assert "interrupted" in out.decode(), out
    assert res["state"] == "exited" and res["exit_code"] == 3, (res, out)


def test_input_is_typed_and_stdin_close_ends_it(daemon):
    with daemon.rpc() as c:
        job = c.exec(["sh", "-c", "cat; echo status $?; echo to stderr >&2; exit 7"], tty=True)
        c.ok("stdin_write", {"job": job, "data": b"hello\n"})
        # ^D: cat reads end of file and the shell goes on.
        c.ok("stdin_close", {"job": job})
        out, err, res = c.wait_exit(job)
    assert res["state"] == "exited" and res["exit_code"] == 7, (res, out)
    # The terminal echoes the line, cat repeats it.
    assert lines(out).count("hello") == 2, out
    assert "status 0" in lines(out) and "to stderr" in lines(out), out
    assert err == b"" and res["stderr_bytes"] == 0, (err, res)
    assert res["stdout_bytes"] == len(out), res


def test_tty_requests_that_are_refused(daemon):
    with daemon.rpc() as c:
        err, _ = c.call("exec", {"argv": ["true"], "rows": 10, "cols": 10})
        assert err and err["code"] == "InvalidArgument" and "tty" in err["message"], err
        err, _ = c.call("exec", {"argv": ["true"], "tty": True, "rows": 5000})
        assert err and err["code"] == "InvalidArgument", err
        job = c.exec(["sleep", "30"])
        err, _ = c.call("resize", {"job": job, "rows": 10, "cols": 10})
        assert err and err["code"] == "InvalidArgument" and "no terminal" in err["message"], err
        c.ok("kill", {"job": job})
        job = c.exec(["sleep", "30"], tty=True)
        for bad in ({"job": job, "rows": 0, "cols": 10}, {"job": job, "rows": 10},
                    {"job": job, "rows": 10, "cols": 4097}):
            err, _ = c.call("resize", bad)
            assert err and err["code"] == "InvalidArgument", (bad, err)
        err, _ = c.call("resize", {"job": "nosuchjob", "rows": 10, "cols": 10})
        assert err and err["code"] == "NotFound", err
        c.ok("kill", {"job": job})
        c.wait_exit(job)
        # Its terminal went with it.
        err, _ = c.call("resize", {"job": job, "rows": 10, "cols": 10})
        assert err and err["code"] == "Unavailable", err


def test_the_posix_backend_gives_a_host_pty(workdir, request):
    require_root()
    d = Daemon(workdir, backend="posix").start()
    try:
        with d.rpc() as c:
            job = c.exec(["python3", "-c", WHAT_TTY.replace('print("pts"', '#')],
                         tty=True, rows=21, cols=71)
            out, _, res = c.wait_exit(job)
            assert res["state"] == "exited" and res["exit_code"] == 0, (res, out)
            assert field(out, "isatty") == "True True True", out
            assert field(out, "ctty") == "True" and field(out, "pgrp") == "True True", out
            assert field(out, "size") == "71 21", out
            job = c.exec(["python3", "-c", ON_WINCH], tty=True)
            wait_output(c, job, b"ready")
            c.ok("resize", {"job": job, "rows": 31, "cols": 91})
            out, _, res = c.wait_exit(job)
            assert res["exit_code"] == 0 and field(out, "winch") == "91 31", (res, out)
    finally:
        finish_daemon(d, request)


def test_tty_jobs_leave_nothing_behind(daemon):
    with daemon.rpc() as c:
        jobs = [c.exec(["sh", "-c", "sleep 0.2 & echo hi"], tty=True) for _ in range(3)]
        for job in jobs:
            out, _, res = c.wait_exit(job)
            assert res["exit_code"] == 0 and lines(out) == ["hi"], (res, out)
    daemon.assert_clean()


# ---- skillboxctl run --tty ----

def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class CtlOnPty:
    """skillboxctl run --tty on a fresh pty that is its controlling
    terminal (as in a user's shell); the test holds the master and a slave
    fd to look at the terminal's mode."""

    def __init__(self, daemon, *args, rows=20, cols=70):
        self.master, self.slave = pty.openpty()
        set_size(self.slave, rows, cols)
        self.before = termios.tcgetattr(self.slave)
        slave = self.slave

        def make_ctty():
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

        self.p = subprocess.Popen(
            [skillboxctl_path(), "--socket", daemon.socket, "run", *args],
            stdin=slave, stdout=slave, stderr=slave, preexec_fn=make_ctty,
            env={**os.environ, "TERM": "xterm-test"})
        self.got = b""

    def read_until(self, want, timeout=30):
        end = time.monotonic() + timeout
        while want not in self.got:
            left = end - time.monotonic()
            if left <= 0:
                pytest.fail(f"never saw {want!r}; got {self.got!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    pytest.fail(f"terminal closed before {want!r}; got {self.got!r}")
                self.got += chunk
        return self.got

    def finish(self, timeout=30):
        code = self.p.wait(timeout=timeout)
        os.set_blocking(self.master, False)
        try:
            while True:
                chunk = os.read(self.master, 65536)
                if not chunk:
                    break
                self.got += chunk
        except (BlockingIOError, OSError):
            pass
        return code

    def mode(self):
        return termios.tcgetattr(self.slave)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def ctl_on_pty(daemon):
    made = []

    def start(*args, **kw):
        t = CtlOnPty(daemon, *args, **kw)
        made.append(t)
        return t

    yield start
    for t in made:
        t.close()


def test_cli_tty_gives_the_job_the_users_terminal(ctl_on_pty):
    t = ctl_on_pty("--tty", "--", "sh", "-c",
                   'if [ -t 0 ] && [ -t 1 ]; then echo "isatty yes"; fi; '
                   'echo "size $(stty size)"; echo "term $TERM"; exit 5', rows=20, cols=70)
    assert t.finish() == 5, t.got
    assert field(t.got, "isatty") == "yes", t.got
    assert field(t.got, "size") == "20 70", t.got
    assert field(t.got, "term") == "xterm-test", t.got
    # The user's terminal is as it was before.
    assert t.mode() == t.before


def test_cli_tty_is_raw_while_the_job_runs_and_passes_ctrl_c(ctl_on_pty):
    t = ctl_on_pty("-t", "--", "python3", "-c", ON_INTR)
    t.read_until(b"ready")
    lflag = t.mode()[3]
    assert not lflag & (termios.ICANON | termios.ECHO | termios.ISIG), \
        "skillboxctl left the user's terminal cooked during a --tty run"
    # ^C is a byte for the job's terminal, not a signal for skillboxctl.
    os.write(t.master, b"\x03")
    assert t.finish() == 3, t.got
    assert "interrupted" in t.got.decode(), t.got
    assert t.mode() == t.before


def test_cli_tty_follows_the_window_size(ctl_on_pty):
    t = ctl_on_pty("--tty", "--", "python3", "-c", ON_WINCH, rows=20, cols=70)
    t.read_until(b"ready")
    # The user's window changes: skillboxctl gets SIGWINCH and resizes.
    set_size(t.master, 45, 150)
    assert t.finish() == 0, t.got
    assert field(t.got, "winch") == "150 45", t.got
    assert t.mode() == t.before


def test_cli_tty_gives_the_mode_back_when_killed(ctl_on_pty):
    t = ctl_on_pty("--tty", "--", "python3", "-c", ON_INTR)
    t.read_until(b"ready")
    assert t.mode() != t.before
    t.p.send_signal(signal.SIGTERM)
    assert t.finish() == -signal.SIGTERM
    assert t.mode() == t.before


def test_cli_tty_stopped_gives_the_mode_back_until_continued(ctl_on_pty):
    t = ctl_on_pty("--tty", "--", "python3", "-c", ON_INTR)
    t.read_until(b"ready")
    raw = t.mode()
    assert raw != t.before
    # Stopped (as by a job-control shell): the user's shell gets its mode.
    t.p.send_signal(signal.SIGTSTP)
    assert wait_for(lambda: t.mode() == t.before), "mode not given back on SIGTSTP"
    t.p.send_signal(signal.SIGCONT)
    assert wait_for(lambda: t.mode() == raw), "raw mode not back after SIGCONT"
    os.write(t.master, b"\x03")
    assert t.finish() == 3, t.got
    assert t.mode() == t.before


def test_cli_tty_with_piped_input_ends_it_with_eof(daemon):
    # No terminal around skillboxctl: the job still gets one (24x80), fed
    # from the pipe, and the pipe's end is the terminal's ^D.
    cp = subprocess.run([skillboxctl_path(), "--socket", daemon.socket, "run", "--tty", "--",
                         "sh", "-c", "cat; stty size"], input=b"piped\n",
                        capture_output=True, timeout=60)
    assert cp.returncode == 0, cp
    assert lines(cp.stdout) == ["piped", "piped", "24 80"], cp.stdout


def wait_for(fn, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.02)
    return False
