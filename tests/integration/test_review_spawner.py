"""The linux backend's spawner (backends/linux/spawn/spawner.c), which clones every
job: the daemon needs it, and when it dies or is stuck the job it held fails
saying so, a new spawner takes over, nothing is left behind, and the daemon's
fds do not leak on the way."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import MIB, Daemon, _daemon_fixture, deadline_poll, preflight_sandbox, run_probe
from test_prepared import wait_prepared


@pytest.fixture
def daemon(request, workdir):
    """These cases drive the spawner's clone on the request's path, so no
    prepared sandbox may serve the jobs (test_prepared_refill_without_spawner
    covers the pool)."""
    yield from _daemon_fixture(request, workdir, extra_args=["--prepared", "0"])


@pytest.fixture
def pooled_daemon(request, workdir):
    yield from _daemon_fixture(request, workdir)


def children(pid):
    """Direct children of pid as {pid: (comm, state)}."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out[int(d)] = (comm, fields[0])
    return out


def _start_time(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def spawner_of(d):
    """The daemon's spawner. A job's first process is the spawner's clone
    and a child of the daemon too (CLONE_PARENT), named sb-spawner until it
    names itself sb-init: the spawner is the oldest of that name."""
    found = [p for p, (comm, _) in children(d.pid).items() if comm == "sb-spawner"]
    assert found, f"no sb-spawner child of {d.pid}: {children(d.pid)}"
    return min(found, key=_start_time)


def fd_count(pid):
    """The daemon's open fds once it has settled: the client sees job_exit
    just before the daemon closes that job's own fds, so a count taken right
    after a job may still include them. Poll until two readings agree."""
    deadline = time.monotonic() + 3
    last = len(os.listdir(f"/proc/{pid}/fd"))
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = len(os.listdir(f"/proc/{pid}/fd"))
        if now == last:
            return now
        last = now
    return last


def run_echo(d, word):
    cp = d.ctl("run", "--", "echo", word)
    assert cp.returncode == 0, (cp, d.log())
    assert cp.stdout == word.encode() + b"\n", cp


def assert_no_caps(d):
    """All five capability sets of a job are empty (the spawner empties its
    own bounding set once, which every clone inherits; the child checks)."""
    cp = d.ctl("run", "--", "grep", "^Cap", "/proc/self/status")
    assert cp.returncode == 0, (cp, d.log())
    sets = dict(line.split(":\t") for line in cp.stdout.decode().splitlines())
    assert set(sets) == {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}, sets
    assert all(int(v, 16) == 0 for v in sets.values()), sets


def spawner_path():
    """The skillbox-spawner a daemon of SKILLBOXD starts: beside it in a
    build tree, else the installed one in libexec."""
    daemon = os.path.realpath(os.environ["SKILLBOXD"])
    beside = os.path.join(os.path.dirname(daemon), "skillbox-spawner")
    if os.path.exists(beside):
        return beside
    return os.path.join(os.path.dirname(os.path.dirname(daemon)), "libexec", "skillbox",
                        "skillbox-spawner")


def test_spawner_is_its_own_executable(daemon):
    """The daemon starts skillbox-spawner from beside itself, with only its
    socket (and its pid namespace fd) open; in a static build it maps no
    shared library, which is the point: every job's init is a clone of it."""
    sp = spawner_of(daemon)
    want = spawner_path()
    assert os.path.realpath(f"/proc/{sp}/exe") == want
    assert sorted(int(fd) for fd in os.listdir(f"/proc/{sp}/fd")) == [0, 1, 2, 3, 4]
    with open(want, "rb") as f:
        dynamic = b"ld-linux" in f.read(4096)
    with open(f"/proc/{sp}/maps") as f:
        maps = f.read()
    if not dynamic:
        assert ".so" not in maps, maps
    run_echo(daemon, "cloned")
    assert_no_caps(daemon)


def test_job_inits_are_named(pooled_daemon):
    """On the host, every job's first process (here the prepared sandboxes,
    children of the daemon like every job) is called sb-init in ps."""
    d = pooled_daemon
    run_echo(d, "warm")
    inits = lambda: sum(1 for comm, _ in children(d.pid).values() if comm == "sb-init")
    assert deadline_poll(lambda: inits() >= 2, timeout=10), children(d.pid)
    names = sorted(comm for comm, _ in children(d.pid).values())
    assert set(names) <= {"sb-spawner", "sb-init"}, names


def test_spawner_missing_fails_the_start(request, workdir, monkeypatch):
    """A skillboxd with no skillbox-spawner beside it (and none installed)
    does not start, and says where it looked."""
    copy = os.path.join(workdir, "skillboxd")
    shutil.copy2(os.environ["SKILLBOXD"], copy)
    monkeypatch.setenv("SKILLBOXD", copy)
    installed = [p for p in ("/usr/local/libexec/skillbox/skillbox-spawner",
                             "/usr/libexec/skillbox/skillbox-spawner") if os.access(p, os.X_OK)]
    if installed:
        pytest.skip(f"an installed spawner would be used: {installed}")
    d = Daemon(workdir, extra_args=["--prepared", "0"])
    with open(d.log_path, "ab") as log:
        p = subprocess.Popen(d.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
    log = d.log()
    assert rc not in (0, None), log
    assert "skillbox-spawner" in log and os.path.join(workdir, "skillbox-spawner") in log, log


def restarted(d, times=1):
    return d.log().count("spawner restarted") >= times


def test_spawner_sigkill_restarts(daemon):
    """kill -9 of an idle spawner: the next job starts a new one (logged)
    and runs; the old one is reaped, not left a zombie."""
    run_echo(daemon, "before")
    sp = spawner_of(daemon)
    os.kill(sp, signal.SIGKILL)
    for i in range(5):
        run_echo(daemon, f"after{i}")
    assert_no_caps(daemon)
    assert restarted(daemon), daemon.log()
    assert "died (signal KILL)" in daemon.log(), daemon.log()
    assert sp not in children(daemon.pid), children(daemon.pid)
    assert spawner_of(daemon) != sp
    base = fd_count(daemon.pid)
    for i in range(10):
        run_echo(daemon, f"again{i}")
    assert fd_count(daemon.pid) == base, os.listdir(f"/proc/{daemon.pid}/fd")
    assert daemon.log().count("spawner restarted") == 1, daemon.log()


def test_spawner_stopped_then_killed_while_daemon_waits(daemon):
    """The spawner dies holding a request: that job fails saying so; the
    next one gets a new spawner."""
    run_echo(daemon, "warm")
    sp = spawner_of(daemon)
    os.kill(sp, signal.SIGSTOP)
    p = subprocess.Popen([os.environ["SKILLBOXCTL"], "--socket", daemon.socket, "run", "--json",
                          "--", "echo", "late"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)             # the daemon sent the request and waits for the reply
    os.kill(sp, signal.SIGKILL)
    out, err = p.communicate(timeout=30)
    assert p.returncode != 0, (out, err, daemon.log())
    assert b"spawner died (signal KILL)" in out + err, (out, err)
    run_echo(daemon, "next")
    assert restarted(daemon), daemon.log()


def test_spawner_stuck_is_killed_and_replaced(daemon):
    """A spawner that never answers (stopped) fails the job after its
    timeout, is killed and reaped, and a new one serves the next job."""
    run_echo(daemon, "warm")
    sp = spawner_of(daemon)
    os.kill(sp, signal.SIGSTOP)
    cp = daemon.ctl("run", "--json", "--", "echo", "stuck")
    assert cp.returncode != 0, cp
    assert b"spawner was stuck" in cp.stdout + cp.stderr, cp
    run_echo(daemon, "next")
    assert sp not in children(daemon.pid), children(daemon.pid)
    assert restarted(daemon), daemon.log()


def test_spawner_that_keeps_dying_is_not_restarted_forever(request, workdir, monkeypatch):
    """A spawner that dies at start is restarted a bounded number of times;
    then jobs fail at once with the reason, and no process is forked for
    them."""
    shutil.copy2(os.environ["SKILLBOXD"], os.path.join(workdir, "skillboxd"))
    shutil.copy2(spawner_path(), os.path.join(workdir, "skillbox-spawner"))
    monkeypatch.setenv("SKILLBOXD", os.path.join(workdir, "skillboxd"))
    gen = _daemon_fixture(request, workdir, extra_args=["--prepared", "0"])
    d = next(gen)
    try:
        sp = spawner_of(d)
        assert os.path.realpath(f"/proc/{sp}/exe") == os.path.join(workdir, "skillbox-spawner")
        broken = os.path.join(workdir, "skillbox-spawner")
        os.unlink(broken)
        with open(broken, "w") as f:
            f.write("#!/bin/sh\nexit 3\n")
        os.chmod(broken, 0o755)
        os.kill(sp, signal.SIGKILL)
        errors = []
        for _ in range(7):
            cp = d.ctl("run", "--json", "--", "true")
            assert cp.returncode != 0, cp
            errors.append((cp.stdout + cp.stderr).decode())
        assert all("spawner" in e for e in errors), errors
        assert "5 times within 60 s" in errors[-1], errors
        assert "5 times within 60 s" in errors[-2], errors
        assert "5 times within 60 s" not in errors[0], errors
        assert d.log().count("backend: spawner") == 5, d.log()
        assert "exited at start" in errors[0], errors
        assert not [p for p, (c, st) in children(d.pid).items() if st != "Z"], children(d.pid)
    finally:
        next(gen, None)


def test_failing_execs_leak_no_fds(daemon):
    sp = spawner_of(daemon)
    run_echo(daemon, "warm")
    base, sbase = fd_count(daemon.pid), fd_count(sp)
    for _ in range(30):
        cp = daemon.ctl("run", "--", "/nonexistent/program")
        assert cp.returncode != 0, cp
    assert fd_count(daemon.pid) == base, os.listdir(f"/proc/{daemon.pid}/fd")
    assert fd_count(sp) == sbase, os.listdir(f"/proc/{sp}/fd")


@pytest.mark.parametrize("attempt", range(3))
def test_spawner_killed_between_clone_and_reply(daemon, attempt):
    """strace kills the spawner as it sends its reply: the child it cloned
    waits for its "go". It must not hold the spawner's socket (the daemon
    would wait for the reply forever); that job fails saying the spawner
    died, the child reads EOF and runs nothing, and the next jobs run on a
    new spawner (which strace does not trace)."""
    if not shutil.which("strace"):
        pytest.skip("needs strace")
    run_echo(daemon, "warm")
    sp = spawner_of(daemon)
    st = subprocess.Popen(["strace", "-qq", "-o", "/dev/null", "-p", str(sp), "-e", "trace=sendmsg",
                           "-e", "inject=sendmsg:signal=SIGKILL"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Attached once the tracer shows in the spawner's status.
        def traced():
            with open(f"/proc/{sp}/status") as f:
                return any(l.startswith("TracerPid:") and l.split()[1] != "0" for l in f)
        assert deadline_poll(traced, 10), "strace did not attach"
        cp = daemon.ctl("run", "--json", "--", "/bin/sh", "-c", "sleep 0.2; echo lost")
        assert cp.returncode != 0, (cp, daemon.log())
        assert b"spawner died" in cp.stdout + cp.stderr, cp
        assert b"lost" not in cp.stdout.replace(b"echo lost", b""), cp
        for i in range(3):
            cp = daemon.ctl("run", "--", "/bin/sh", "-c", f"sleep 0.2; echo job{i}")
            assert cp.returncode == 0, (cp, daemon.log())
            assert cp.stdout == f"job{i}\n".encode(), cp
    finally:
        st.wait(timeout=10)
    # The orphan of the dead spawner ran nothing: only a zombie of the
    # daemon may remain, never a live process in the uid range. The last
    # job's init may still be in its exit for a moment after job_exit (the
    # job ends on its record, init.c): 100 ms is ample for that, and half
    # of what a job run by the orphan (sleep 0.2) would live.
    def live():
        return {p: v for p, v in children(daemon.pid).items()
                if v[1] != "Z" and v[0] != "sb-spawner"}
    deadline_poll(lambda: not live(), 0.1)
    assert not live(), live()


def test_prepared_refill_without_spawner(pooled_daemon):
    """The pool refills through the spawner; killed, a new one takes over,
    and prepared sandboxes keep serving jobs."""
    d = pooled_daemon
    assert deadline_poll(lambda: len(d.prepared()) >= 2, 10), d.log()
    os.kill(spawner_of(d), signal.SIGKILL)
    for i in range(6):
        run_echo(d, f"pooled{i}")
    assert deadline_poll(lambda: len(d.prepared()) >= 2, 10), d.log()
    cp = d.ctl("run", "--json", "--", "true")
    assert cp.returncode == 0, cp


def inits_of(d):
    return [p for p, (comm, _) in children(d.pid).items() if comm == "sb-init"]


def test_oom_of_one_job_spares_the_spawner_and_other_jobs(pooled_daemon):
    """The OOM killer's pick stays inside the hog's job: the spawner that
    cloned every init, a running job and the prepared sandboxes live on."""
    d = pooled_daemon
    preflight_sandbox(d, memory=64 * MIB)
    wait_prepared(d)
    spawner = spawner_of(d)
    with d.rpc() as c:
        sleeper = c.exec(["sleep", "30"], detach=True)
        cp, r = run_probe(d, "memhog", 512 * MIB, opts=["--memory", "64M", "--timeout", "30s"])
        assert r["state"] == "oom", r
        assert spawner_of(d) == spawner
        err, info = c.call("inspect", {"job": sleeper})
        assert err is None and info["state"] == "running", (err, info)
        assert deadline_poll(lambda: len(inits_of(d)) >= 3, timeout=10), children(d.pid)
        cp = d.ctl("run", "--", "echo", "after")
        assert cp.returncode == 0 and cp.stdout == b"after\n", cp
        c.ok("kill", {"job": sleeper})
        _, _, r = c.wait_exit(sleeper)
        assert r["state"] == "killed", r
    assert "spawner restarted" not in d.log(), d.log()


@pytest.mark.parametrize("kib", [16, 40])
def test_large_argv_runs_whether_prepared_or_not(pooled_daemon, kib):
    """A prepared sandbox takes argv and environment up to 24 KiB
    (SB_LINUX_START_BYTES_MAX); a larger request gets a sandbox of its own."""
    wait_prepared(pooled_daemon)
    words = ["%04d" % i + "x" * 95 for i in range(kib * 1024 // 100)]
    cp = pooled_daemon.ctl("run", "--json", "--", "sh", "-c", 'echo "$#"', "sh", *words)
    assert cp.returncode == 0, cp
    assert f'"stdout":"{len(words)}\\n"' in cp.stdout.decode().replace(" ", ""), cp.stdout[:200]


def _hello_with_version(version, size):
    """Greet skillbox-spawner as the daemon would, speaking plan `version`
    of `size` bytes; returns its answer (errno, step)."""
    import socket
    import struct
    exe = spawner_path()
    ours, its = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with its:
        fd = its.fileno()
        p = subprocess.Popen([sys.executable, "-c", "import os, sys; os.dup2(int(sys.argv[1]), 3); "
                              "os.execv(sys.argv[2], sys.argv[2:])", str(fd), exe], pass_fds=(fd,))
    with ours:
        ours.settimeout(10)
        ours.send(struct.pack("=IIIii", 0x5b5a0003, version, size, os.getpid(), 40))
        err, _, step = struct.unpack("=ii32s", ours.recv(64))
    assert p.wait(timeout=10) == 2
    return err, step.rstrip(b"\0").decode()


def test_spawner_refuses_another_plan_version():
    """A daemon speaking another plan version (or size) gets a clear refusal
    from the spawner, never a misread plan."""
    import errno
    for version, size in ((0, 0), (99, 0)):
        err, step = _hello_with_version(version, size)
        assert err == errno.EPROTO, (err, step)
        assert step.startswith(f"plan v{version}/{size}, spawner: v"), step
