"""No job can reach a terminal: skillboxd leaves the controlling terminal it
was started on (even as that terminal's session leader), and every job runs
in a session of its own, so /dev/tty cannot be opened in a job (ENXIO) and
TIOCSTI has no terminal to type into. Both backends."""
import fcntl
import os
import termios

import pytest

from conftest import Daemon, deadline_poll, finish_daemon, parse_json_output, require_root

# Inside the job: open /dev/tty and, if that works, type into it.
TOUCH_TTY = r"""
import errno, fcntl, os, termios
try:
    fd = os.open("/dev/tty", os.O_RDWR)
except OSError as e:
    print("open", errno.errorcode[e.errno])
else:
    print("open ok")
    try:
        for c in b"echo injected\n":
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([c]))
        print("tiocsti ok")
    except OSError as e:
        print("tiocsti", errno.errorcode[e.errno])
"""


def tty_nr(pid):
    """The controlling terminal's device number of pid; 0 = none."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    return int(stat[stat.rindex(")") + 2:].split()[4])


@pytest.fixture
def on_pty(request, workdir):
    """Start a daemon as the session leader of a fresh pty, which is its
    controlling terminal when it starts (as in a root terminal)."""
    require_root()
    master, slave = os.openpty()
    started = []

    def make_ctty():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    def start(backend=None):
        d = Daemon(workdir, backend=backend)
        d.start(preexec_fn=make_ctty, pass_fds=(slave,))
        started.append(d)
        return d

    yield start, master
    try:
        for d in started:
            finish_daemon(d, request)
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize("backend", ["posix", "linux"])
def test_daemon_started_on_a_terminal_leaves_it(on_pty, backend):
    start, _ = on_pty
    d = start(backend)
    assert deadline_poll(lambda: tty_nr(d.proc.pid) == 0, 5), \
        f"skillboxd keeps controlling terminal {tty_nr(d.proc.pid):#x}"
    # Its SIGHUP on leaving was not taken for a reload (nor did it kill it).
    assert d.proc.poll() is None
    assert "reload" not in d.log().lower(), d.log()


@pytest.mark.parametrize("backend", ["posix", "linux"])
def test_a_job_cannot_open_or_type_into_a_terminal(on_pty, backend):
    start, master = on_pty
    d = start(backend)
    cp = d.ctl("run", "--json", "--", "python3", "-c", TOUCH_TTY)
    r = parse_json_output(cp)
    assert r["state"] == "exited", r
    assert r["stdout"].split("\n")[0] == "open ENXIO", r["stdout"]
    # Nothing arrived on the terminal's input either.
    os.set_blocking(master, False)
    try:
        echoed = os.read(master, 4096)
    except BlockingIOError:
        echoed = b""
    assert b"injected" not in echoed, echoed


def test_posix_job_leads_its_own_session(workdir, request):
    require_root()
    d = Daemon(workdir, backend="posix").start()
    try:
        cp = d.ctl("run", "--json", "--", "python3", "-c",
                   "import os; print(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid())")
        r = parse_json_output(cp)
        assert r["stdout"] == "True True\n", r
    finally:
        finish_daemon(d, request)
