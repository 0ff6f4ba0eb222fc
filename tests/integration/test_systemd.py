"""skillboxd under a service manager: socket activation, sd_notify
readiness, status, watchdog and stopping, and journald-style logging.

systemd-socket-activate stands in for systemd: it binds the socket, and on
the first connection execs skillboxd with LISTEN_FDS/LISTEN_PID (its -E
passes NOTIFY_SOCKET and WATCHDOG_USEC through). The test plays the service
manager's side of NOTIFY_SOCKET: a datagram socket it reads itself.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (Daemon, deadline_poll, finish_daemon, own_cgroup_paths, require_root,
                      skillboxd_path)


class Notify:
    """The service manager's end of $NOTIFY_SOCKET: a bound datagram socket
    read continuously by a thread, as systemd would. Each message is kept
    with the time it arrived. With reading=False nothing is read (a manager
    that does not keep up)."""

    def __init__(self, path, reading=True):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []   # (monotonic time, text)
        self.lock = threading.Lock()
        self.stop = False
        self.thread = None
        if reading:
            self.sock.settimeout(0.05)
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode()))

    def close(self):
        self.stop = True
        if self.thread:
            self.thread.join()
        self.sock.close()

    def read(self, timeout):
        """Let timeout seconds of messages arrive."""
        time.sleep(timeout)

    def texts(self):
        with self.lock:
            return [m for _, m in self.messages]

    def wait_for(self, pred, timeout, after=0):
        """The first message from index `after` on that satisfies pred,
        waiting up to timeout seconds; None if none came."""
        end = time.monotonic() + timeout
        while True:
            for m in self.texts()[after:]:
                if pred(m):
                    return m
            if time.monotonic() >= end:
                return None
            time.sleep(0.01)


def fields(msg):
    return dict(line.split("=", 1) for line in msg.split("\n") if "=" in line)


@pytest.fixture
def notify(workdir):
    n = Notify(os.path.join(workdir, "notify"))
    yield n
    n.close()


class ActivatedDaemon(Daemon):
    """skillboxd exec'd by systemd-socket-activate on the first connection."""

    def __init__(self, workdir, notify_path, watchdog_usec=None):
        super().__init__(workdir)
        self.notify_path = notify_path
        self.watchdog_usec = watchdog_usec

    def argv(self):
        sa = shutil.which("systemd-socket-activate")
        a = [sa, "-l", self.socket, "-E", f"NOTIFY_SOCKET={self.notify_path}"]
        if self.watchdog_usec:
            a += ["-E", f"WATCHDOG_USEC={self.watchdog_usec}"]
        # The socket path is systemd's: skillboxd must not use --socket's.
        return a + [skillboxd_path(), "--socket", self.socket + ".unused",
                    "--state-dir", self.state_dir, "--cgroup", self.cgroup,
                    "--uid-range", self.uid_range, "--log-level", "debug"]

    def launch(self):
        """Start the activator; the daemon itself runs only once a client connects."""
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)
        if not deadline_poll(lambda: os.path.exists(self.socket) or self.proc.poll() is not None,
                             10):
            pytest.fail(f"systemd-socket-activate did not create {self.socket}:\n{self.log()}")
        if self.proc.poll() is not None:
            pytest.fail(f"systemd-socket-activate exited {self.proc.returncode}:\n{self.log()}")
        return self


def require_activator():
    require_root()
    if not shutil.which("systemd-socket-activate"):
        pytest.skip("systemd-socket-activate is not installed (Debian package systemd)")


@pytest.fixture
def activated(request, workdir, notify):
    require_activator()
    skillboxd_path()
    d = ActivatedDaemon(workdir, notify.path, watchdog_usec=200000).launch()
    yield d
    finish_daemon(d, request)


def test_socket_activation_runs_a_job_and_notifies(activated, notify):
    d = activated
    # Nothing runs before the first client: no message yet.
    notify.read(0.3)
    assert notify.texts() == [], f"notified before it was started: {notify.texts()}"

    with d.rpc(timeout=20) as c:
        # This connection waited in systemd's backlog and is served by the
        # daemon that the connection itself caused to start.
        hello = c.ok("hello", {"client": "test_systemd"})
        assert isinstance(hello, dict)
        d.own_paths = own_cgroup_paths(d.proc.pid)
        ready = notify.wait_for(lambda m: "READY=1" in m, 10)
        assert ready is not None, f"no READY=1; got {notify.texts()}\n{d.log()}"
        status = notify.wait_for(lambda m: m.startswith("STATUS="), 5)
        assert status is not None and "0 running jobs" in fields(status)["STATUS"], \
            f"no initial STATUS=: {notify.texts()}"
        # The status follows the running job count (rate-limited to 1/s).
        job = c.exec(["sh", "-c", "echo activated; sleep 2"], timeout_ms=20000)
        running = notify.wait_for(lambda m: "STATUS=Serving: 1 running job" in m, 3)
        assert running is not None, f"STATUS did not show the running job: {notify.texts()}"
        after = notify.texts().index(running) + 1
        out, err, result = c.wait_exit(job, timeout=20)
        assert out == b"activated\n", (out, err, result)
        assert result["state"] == "exited" and result["exit_code"] == 0, result
        idle = notify.wait_for(lambda m: "STATUS=Serving: 0 running jobs" in m, 3, after=after)
        assert idle is not None, f"STATUS did not return to 0 jobs: {notify.texts()}"

    log = d.log()
    assert "socket activation" in log, log
    assert not os.path.exists(d.socket + ".unused"), "bound --socket despite socket activation"

    # Watchdog pings at half of WATCHDOG_USEC (200 ms -> every 100 ms).
    n0 = sum(1 for m in notify.texts() if "WATCHDOG=1" in m)
    notify.read(0.6)
    n1 = sum(1 for m in notify.texts() if "WATCHDOG=1" in m)
    assert n1 - n0 >= 3, f"{n1 - n0} WATCHDOG=1 pings in 0.6 s with WATCHDOG_USEC=200000"

    # SIGTERM: STOPPING=1, a clean exit, and systemd's socket file left alone.
    d.signal(signal.SIGTERM)
    stopping = notify.wait_for(lambda m: "STOPPING=1" in m, 10)
    assert stopping is not None, f"no STOPPING=1: {notify.texts()[-5:]}"
    assert d.wait_exit(15) == 0, d.log()
    assert os.path.exists(d.socket), "skillboxd removed the socket file systemd owns"
    assert sum(1 for m in notify.texts() if "READY=1" in m) == 1, notify.texts()


def test_ready_only_once_serving(request, workdir, notify, monkeypatch):
    """Without activation: when READY=1 arrives, the socket already exists
    and a client is served at once — not merely queued."""
    require_root()
    monkeypatch.setenv("NOTIFY_SOCKET", notify.path)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    d = Daemon(workdir)
    d._log = open(d.log_path, "ab")
    d.proc = subprocess.Popen(d.argv(), stdin=subprocess.DEVNULL, stdout=d._log, stderr=d._log)
    try:
        ready = notify.wait_for(lambda m: "READY=1" in m, 15)
        assert ready is not None, f"no READY=1: {notify.texts()}\n{d.log()}"
        # At this instant the socket must serve.
        assert os.path.exists(d.socket), "READY=1 before the socket exists"
        with d.rpc(timeout=5) as c:
            assert isinstance(c.ok("hello", {}), dict)
        log = d.log()
        assert "host check: namespaces" in log and "listening on" in log, log
        assert log.index("listening on") < log.index(" ready: backend"), log
        # No watchdog was asked for: no pings.
        notify.read(0.3)
        assert not any("WATCHDOG" in m for m in notify.texts()), notify.texts()
        d.own_paths = own_cgroup_paths(d.proc.pid)
        assert d.stop() == 0, d.log()
        assert notify.wait_for(lambda m: "STOPPING=1" in m, 2) is not None, notify.texts()
        assert not os.path.exists(d.socket), "the daemon's own socket was not removed"
        d.assert_clean()
    finally:
        if d.proc.poll() is None:
            d.sigkill()
        d.force_cleanup()


def test_log_lines_timestamped_or_journal_prefixed(workdir):
    """Elsewhere: 'YYYY-MM-DD HH:MM:SS.mmm skillboxd: <level>: ...'. With
    stderr being the stream named by $JOURNAL_STREAM: '<N>message'."""
    require_root()
    daemon = skillboxd_path()
    # A state dir that cannot be created: the daemon logs an error and exits 1.
    bad = ["--socket", os.path.join(workdir, "s.sock"), "--state-dir", "/proc/nonexistent/x"]
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET")}
    path = os.path.join(workdir, "plain.log")
    with open(path, "wb") as f:
        rc = subprocess.run([daemon] + bad, stderr=f, stdout=subprocess.DEVNULL, env=env,
                            timeout=30).returncode
    text = open(path).read()
    assert rc == 1, text
    lines = [l for l in text.splitlines() if l]
    assert lines and all(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} skillboxd: "
                                  r"(debug|info|warning|error): ", l) for l in lines), text
    assert any(": error: " in l for l in lines), text

    path = os.path.join(workdir, "journal.log")
    with open(path, "wb") as f:
        st = os.fstat(f.fileno())
        env2 = dict(env, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        rc = subprocess.run([daemon] + bad, stderr=f, stdout=subprocess.DEVNULL, env=env2,
                            timeout=30).returncode
    text = open(path).read()
    assert rc == 1, text
    lines = [l for l in text.splitlines() if l]
    assert lines and all(re.match(r"^<[3467]>", l) for l in lines), text
    assert any(l.startswith("<3>") for l in lines), text

    # JOURNAL_STREAM naming another file (inherited from a parent): plain lines.
    env3 = dict(env, JOURNAL_STREAM="1:1")
    cp = subprocess.run([daemon] + bad, capture_output=True, env=env3, timeout=30)
    assert not cp.stderr.startswith(b"<"), cp.stderr


def test_slow_manager_does_not_stall_the_daemon(workdir, monkeypatch):
    """A NOTIFY_SOCKET nobody reads fills up after a few datagrams; the
    daemon must drop pings then, not block its loop."""
    require_root()
    n = Notify(os.path.join(workdir, "notify"), reading=False)
    monkeypatch.setenv("NOTIFY_SOCKET", n.path)
    monkeypatch.setenv("WATCHDOG_USEC", "20000")   # a ping every 10 ms
    d = Daemon(workdir).start()
    try:
        time.sleep(0.5)   # far more pings than the socket queues
        with d.rpc(timeout=10) as c:
            job = c.exec(["echo", "still serving"])
            out, _, result = c.wait_exit(job, timeout=10)
        assert out == b"still serving\n", (out, result)
        assert d.stop() == 0, d.log()
        d.assert_clean()
    finally:
        if d.proc.poll() is None:
            d.sigkill()
        d.force_cleanup()
        n.close()
