"""Faults the daemon must survive (issue 10, item 8): its spawner killed
while jobs stream through, a full state directory, and running out of file
descriptors. In each case no job is lost or hangs, the daemon neither
crashes nor spins, it answers with a clear error while the fault lasts, and
it serves again once the fault is gone; nothing is left behind.
"""

import errno
import os
import resource
import signal
import subprocess
import threading
import time

import pytest

from conftest import Daemon, Rpc, ConnectionClosed, deadline_poll, finish_daemon, \
    require_root

SH_UP = ["sh", "-c", "echo up; exec sleep 30"]


def children(pid):
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(None, 1)[1].strip()
    return None


def spawner_pid(d):
    """The skillbox-spawner beside the daemon: its child in the daemon's own
    pid namespace (the jobs' inits, also its children, each have their own),
    running the spawner executable."""
    found = []
    for pid in children(d.pid):
        try:
            ns = status_field(pid, "NSpid")
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if ns is not None and len(ns.split()) == 1 and "spawner" in os.path.basename(exe):
            found.append(pid)
    return found


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])    # utime + stime


def assert_not_spinning(d, seconds=1.0):
    """The daemon uses (almost) no CPU while nothing is asked of it."""
    t0 = cpu_ticks(d.pid)
    time.sleep(seconds)
    used = (cpu_ticks(d.pid) - t0) / os.sysconf("SC_CLK_TCK")
    assert used < 0.5 * seconds, f"skillboxd used {used:.2f}s of CPU in {seconds}s while idle"


def wait_output(c, job, timeout=30):
    end = time.monotonic() + timeout
    while not any(m == "job_output" and p.get("job") == job for m, p in c.notifications):
        assert time.monotonic() < end, f"job {job} printed nothing in {timeout}s"
        c.pump(0.02)


def exits_of(c, job):
    return [p["result"] for m, p in c.notifications if m == "job_exit" and p.get("job") == job]


def run_ok(c, argv=("sh", "-c", "echo ok"), timeout=30, **params):
    """Run a job to its end on c; returns (stdout, result) after checking
    it got exactly one job_exit, equal to wait's answer."""
    job = c.exec(list(argv), **params)
    out, _, res = c.wait_exit(job, timeout=timeout)
    assert exits_of(c, job) == [res]
    assert c.ok("wait", {"job": job}) == res
    return out, res


# ---------------------------------------------------------------- spawner killed

def test_spawner_killed_mid_stream(daemon):
    d = daemon
    spawners = spawner_pid(d)
    assert len(spawners) == 1, f"expected one spawner child of skillboxd, found {spawners}"
    victim = spawners[0]

    with d.rpc(timeout=30) as c:
        # Jobs already running when the spawner dies.
        running = [c.exec(SH_UP) for _ in range(3)]
        # And one that ends by itself once the spawner is gone.
        ends = c.exec(["sh", "-c", "echo up; read x; exit 5"], stdin=True)
        for job in running + [ends]:
            wait_output(c, job)

        # Streams of jobs on other connections while the spawner dies.
        streams = [{"results": [], "problems": []} for _ in range(3)]
        stop = threading.Event()

        def streamer(stream):
            try:
                with d.rpc(timeout=30) as s:
                    for i in range(40):
                        # Default jobs (prepared sandboxes) and ones built
                        # on request, in turn.
                        params = {"memory_max": 64 << 20} if i % 2 else {}
                        job = s.exec(["sh", "-c", f"echo n{i}"], **params)
                        out, _, res = s.wait_exit(job, timeout=30)
                        if s.ok("wait", {"job": job}) != res:
                            stream["problems"].append(f"{job}: wait != job_exit")
                        stream["results"].append((job, out, res))
                        if stop.is_set() and i >= 30:
                            break
            except Exception as e:  # noqa: BLE001 - reported below
                stream["problems"].append(repr(e))

        threads = [threading.Thread(target=streamer, args=(st,), daemon=True) for st in streams]
        for t in threads:
            t.start()
        deadline_poll(lambda: all(len(st["results"]) >= 5 for st in streams), 30)
        os.kill(victim, signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(timeout=120)
            assert not t.is_alive(), "a job stream hangs after the spawner was killed"
        failed = []
        for stream in streams:
            assert not stream["problems"], stream["problems"]
            # Every job of the stream ended with a clear state: it ran, or
            # (one caught in the spawner's death) failed saying why.
            for i, (job, out, res) in enumerate(stream["results"]):
                if res["state"] == "failed":
                    assert res.get("error"), f"{job} failed without an error: {res!r}"
                    failed.append(res["error"])
                else:
                    assert res["state"] == "exited" and res["exit_code"] == 0, res
                    assert out == f"n{i}\n".encode(), (job, out)
        assert len(failed) <= len(streams), f"jobs failed after the spawner died: {failed}"

        # The jobs that were running are still the daemon's: they end by
        # themselves, or can be inspected and killed, and report it once.
        c.ok("stdin_close", {"job": ends})
        _, _, ex = c.wait_exit(ends)
        assert ex["state"] == "exited" and ex["exit_code"] == 5, ex
        assert ex == c.ok("wait", {"job": ends}) and exits_of(c, ends) == [ex]
        for job in running:
            info = c.ok("inspect", {"job": job})
            assert info["state"] == "running", info
            res = c.ok("kill", {"job": job})
            assert res["state"] == "killed", res
            _, _, ex = c.wait_exit(job)
            assert ex == c.ok("wait", {"job": job}) and exits_of(c, job) == [ex]

        # Later jobs run, also ones built on request (non-default limits).
        for params in ({}, {"memory_max": 64 << 20}, {"timeout_ms": 20000}):
            out, res = run_ok(c, **params)
            assert res["state"] == "exited" and out == b"ok\n", res

    # The killed spawner is reaped, not left a zombie.
    deadline_poll(lambda: not os.path.exists(f"/proc/{victim}"), 10)
    assert not os.path.exists(f"/proc/{victim}") or \
        status_field(victim, "State")[0] != "Z", "the killed spawner is left a zombie"
    assert_not_spinning(d)


def test_spawner_stopped(daemon):
    """A spawner that stops answering (here: SIGSTOP) must not hold the
    daemon: it is given up on like a dead one (killed and reaped), the job it
    held fails saying so, and a new spawner runs the jobs after it."""
    d = daemon
    spawners = spawner_pid(d)
    assert len(spawners) == 1, spawners
    victim = spawners[0]
    os.kill(victim, signal.SIGSTOP)
    try:
        with d.rpc(timeout=60) as c:
            # Built on request, so the spawner is asked at once.
            out, res = run_ok(c, timeout=60, memory_max=64 << 20)
            assert res["state"] == "failed" and "spawner was stuck" in res["error"], res
            with d.rpc(timeout=10) as o:
                o.ok("hello", {})
            # The stuck spawner was ended and reaped, not left stopped.
            deadline_poll(lambda: not os.path.exists(f"/proc/{victim}"), 10)
            assert not os.path.exists(f"/proc/{victim}"), \
                f"the stuck spawner is still there: {status_field(victim, 'State')}"
            for params in ({}, {"memory_max": 64 << 20}, {}):
                out, res = run_ok(c, **params)
                assert res["state"] == "exited" and out == b"ok\n", res
    finally:
        try:
            os.kill(victim, signal.SIGCONT)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------- state dir full

def _mount_tmpfs(path, opts):
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "sbtest-state", path], check=True)


def _umount(path):
    subprocess.run(["umount", path], check=False)
    if os.path.ismount(path):
        subprocess.run(["umount", "-l", path], check=False)


def _fill(dirpath):
    """Fill the file system of dirpath: data, then inodes. Returns the
    files made."""
    made = []
    big = os.path.join(dirpath, "fill-data")
    made.append(big)
    with open(big, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    i = 0
    while True:
        p = os.path.join(dirpath, f"fill-{i}")
        try:
            os.mkdir(p)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
            break
        made.append(p)
        i += 1
    return made


def _unfill(made):
    for p in made:
        if os.path.isdir(p):
            os.rmdir(p)
        else:
            os.unlink(p)


def _tmpfs_daemon(request, workdir, fill_first, backend=None):
    """A daemon whose state dir is a small tmpfs of its own (filled before
    the daemon starts, with fill_first); the mount is gone afterwards, and
    what the daemon left in it is checked first. Yields (daemon, the files
    that fill it)."""
    require_root()
    d = Daemon(workdir, backend=backend)
    _mount_tmpfs(d.state_dir, "size=4m,nr_inodes=200,mode=0700")
    made = []
    try:
        if fill_first:
            # What the daemon needs to start (it refuses to start, saying
            # "mkdir .../root: ENOSPC", without them) is there; nothing for
            # a job is.
            os.mkdir(os.path.join(d.state_dir, "root"), 0o755)
            os.mkdir(os.path.join(d.state_dir, "jobs"), 0o700)
            made = _fill(d.state_dir)
        d.start()
        yield d, made
        if d.proc.poll() is None:
            rc = d.stop()
            assert rc == 0, f"skillboxd exited with {rc} on SIGTERM:\n{d.log()}"
        # The tmpfs itself is ours, not the daemon's.
        ours = f"mount {d.state_dir}"
        deadline_poll(lambda: not [x for x in d.leftovers() if x != ours], 5)
        left = [x for x in d.leftovers() if x != ours]
        assert not left, f"left behind by skillboxd: {left}\n{d.log()}"
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.sigkill()
        d.force_cleanup()
        _umount(d.state_dir)


# A posix job has a directory of its own under the state dir (its /work);
# a linux job has none (its /work is a tmpfs in its own mount namespace),
# so only the posix backend can be refused by a full state dir.

@pytest.fixture
def full_daemon(request, workdir):
    for d, _ in _tmpfs_daemon(request, workdir, False, backend="posix"):
        yield d


@pytest.fixture
def started_full_daemon(request, workdir):
    yield from _tmpfs_daemon(request, workdir, True, backend="posix")


@pytest.fixture
def linux_full_daemon(request, workdir):
    for d, _ in _tmpfs_daemon(request, workdir, False):
        yield d


def exec_on_full(c, params):
    """Run a job while the state dir is full: None if it ran, else the
    error, which must say ENOSPC and come promptly."""
    err, r = c.call("exec", {"argv": ["sh", "-c", "echo ok"], **params}, timeout=30)
    if err is not None:
        assert err["code"] in ("ResourceExhausted", "Internal"), err
        assert "ENOSPC" in err["message"], err
        return err["message"]
    job = r["job"]
    out, _, res = c.wait_exit(job, timeout=30)
    assert exits_of(c, job) == [res] and c.ok("wait", {"job": job}) == res
    if res["state"] == "failed":
        assert "ENOSPC" in (res.get("error") or ""), res
        return res["error"]
    assert res["state"] == "exited" and out == b"ok\n", res
    return None


def test_state_dir_fills_up(full_daemon):
    d = full_daemon
    with d.rpc(timeout=30) as c:
        out, res = run_ok(c)
        assert res["state"] == "exited" and out == b"ok\n"
        # That job's directory is removed after its result, off the loop:
        # gone first, so that its inodes are not freed into the full disk.
        assert deadline_poll(lambda: not d.job_dirs(), 10), d.job_dirs()

        made = _fill(d.state_dir)
        try:
            # Full: every job fails, saying why, promptly.
            errors = [e for params in ({}, {}, {}, {}, {"memory_max": 64 << 20},
                                       {"timeout_ms": 20000}, {"tasks_max": 16})
                      if (e := exec_on_full(c, params)) is not None]
            assert len(errors) == 7, errors
            c.ok("hello", {})
            assert d.proc.poll() is None, "skillboxd died on a full state dir"
            assert_not_spinning(d)
        finally:
            _unfill(made)

        # Space again: jobs run, built on request and prepared alike.
        for params in ({"memory_max": 64 << 20}, {}, {}, {}, {}):
            out, res = run_ok(c, **params)
            assert res["state"] == "exited" and out == b"ok\n", (params, res)


def test_state_dir_full_from_the_start(started_full_daemon):
    d, made = started_full_daemon
    with d.rpc(timeout=30) as c:
        try:
            # No sandbox can be built: not on request, not ahead of one.
            for params in ({}, {"memory_max": 64 << 20}, {}, {"tasks_max": 16}):
                assert exec_on_full(c, params) is not None, params
            c.ok("hello", {})
            assert not d.prepared()
            assert_not_spinning(d)
        finally:
            _unfill(made)

        # Space again: jobs run.
        for params in ({"memory_max": 64 << 20}, {"timeout_ms": 20000}, {"tasks_max": 16}, {}):
            out, res = run_ok(c, **params)
            assert res["state"] == "exited" and out == b"ok\n", (params, res)


def test_linux_jobs_take_nothing_from_a_full_state_dir(linux_full_daemon):
    """Nothing of a linux job lands on the host disk: with the state dir
    full, jobs built on request and prepared ones run, and the pool refills."""
    d = linux_full_daemon
    with d.rpc(timeout=30) as c:
        deadline_poll(lambda: len(d.prepared()) >= 2, 10)
        made = _fill(d.state_dir)
        try:
            for params in ({}, {}, {}, {"memory_max": 64 << 20}, {"timeout_ms": 20000},
                           {"tasks_max": 16}):
                assert exec_on_full(c, params) is None, params
            assert deadline_poll(lambda: len(d.prepared()) >= 2, 30, interval=0.2), d.log()
        finally:
            _unfill(made)


# ---------------------------------------------------------------- out of fds

NOFILE = 96


@pytest.fixture(params=[0, 2], ids=["unprepared", "prepared"])
def fd_daemon(request, workdir):
    """A daemon that may hold only NOFILE descriptors; without prepared
    sandboxes (the descriptors it holds at rest are a known number then)
    or with the default two."""
    require_root()

    class LowFdDaemon(Daemon):
        def argv(self):
            return ["prlimit", f"--nofile={NOFILE}:{NOFILE}", "--"] + super().argv()

    conf = os.path.join(workdir, "fd.conf")
    with open(conf, "w") as f:
        # Caps on connections above what the descriptors allow: the
        # descriptors run out first.
        f.write("[Daemon]\nMaxConnections=1000\nMaxConnectionsPerUser=1000\n")
    d = LowFdDaemon(workdir, extra_args=["--prepared", str(request.param),
                                         "--config", conf]).start()
    d.prepared_count = request.param
    yield d
    finish_daemon(d, request)


@pytest.mark.parametrize("backend", ["linux", "posix"])
def test_jobs_run_under_a_low_hard_descriptor_limit(request, workdir, backend):
    """A daemon started with a hard RLIMIT_NOFILE below what it gives jobs
    (and, like in many containers, without CAP_SYS_RESOURCE to raise it)
    still runs them: a job never gets more than the daemon has."""
    require_root()

    class LowFdDaemon(Daemon):
        def argv(self):
            return ["prlimit", f"--nofile={NOFILE}:{NOFILE}", "--"] + super().argv()

    d = LowFdDaemon(workdir, backend=backend).start()
    try:
        with d.rpc(timeout=30) as c:
            out, res = run_ok(c, argv=["sh", "-c", "ulimit -n"])
            assert res["state"] == "exited", res
            assert 0 < int(out) <= NOFILE, out
    finally:
        finish_daemon(d, request)


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_out_of_fds(fd_daemon):
    d = fd_daemon
    assert resource.prlimit(d.pid, resource.RLIMIT_NOFILE)[0] == NOFILE

    with d.rpc(timeout=30) as c:
        out, res = run_ok(c)
        assert res["state"] == "exited" and out == b"ok\n"
        base_fds = open_fds(d.pid)
        spawner = spawner_pid(d)
        assert len(spawner) == 1, spawner

        # Connections until the daemon takes no more: it closes new ones
        # (or refuses them), and keeps serving the ones it has.
        held, refused = [], 0
        try:
            for _ in range(NOFILE * 2):
                h = Rpc(d.socket, timeout=10)
                try:
                    err, _ = h.call("hello", {}, timeout=10)
                except (ConnectionClosed, OSError):
                    err = {"code": "closed"}
                if err is None:
                    held.append(h)
                    continue
                h.close()
                assert err["code"] in ("closed", "ResourceExhausted"), err
                refused += 1
                if refused >= 3:
                    break
            assert refused, f"{len(held)} connections and no refusal"
            assert open_fds(d.pid) >= NOFILE - 2, f"{open_fds(d.pid)} fds open"
            assert_not_spinning(d)

            # One descriptor more at a time: each try of a job gets a step
            # further along its setup before it runs out, so every step that
            # opens a descriptor fails in turn. Each must fail the job (or
            # the exec) saying why, and leave nothing of it behind.
            jobs, failures = [], []
            for _ in range(min(len(held), 40)):
                held.pop().close()
                time.sleep(0.02)
                err, r = c.call("exec", {"argv": SH_UP, "timeout_ms": 60000,
                                         "memory_max": 64 << 20}, timeout=15)
                if err is not None:
                    assert err["code"] in ("ResourceExhausted", "Internal"), err
                    failures.append(err["message"])
                    continue
                job = r["job"]
                info = c.ok("inspect", {"job": job})
                if info["state"] == "failed":
                    _, _, res = c.wait_exit(job)
                    assert res["error"], res
                    failures.append(res["error"])
                else:
                    jobs.append(job)
            assert failures, "no job ran out of descriptors"
            assert all("EMFILE" in f for f in failures), failures
            assert d.proc.poll() is None, f"skillboxd died out of fds:\n{d.log()}"
            assert_not_spinning(d)
            c.ok("hello", {})

            # The jobs that did start run, and end when killed.
            for job in jobs:
                res = c.ok("kill", {"job": job})
                assert res["state"] in ("killed", "exited", "signaled"), res
                _, _, ex = c.wait_exit(job)
                assert ex == c.ok("wait", {"job": job})
        finally:
            for h in held:
                h.close()

        # Every descriptor is given back, and nothing of any job is left.
        # (libuv's spare descriptor for accepting at EMFILE may be back or
        # not: one more is fine. Prepared sandboxes hold a varying number.)
        if not d.prepared_count:
            deadline_poll(lambda: open_fds(d.pid) <= base_fds + 1, 10)
            assert open_fds(d.pid) <= base_fds + 1, \
                f"skillboxd holds {open_fds(d.pid)} fds, {base_fds} at start"
        d.assert_clean()
        # A reply of the spawner whose descriptor could not be received
        # fails that job only: the spawner is still the one it was.
        assert spawner_pid(d) == spawner, "the spawner was lost to EMFILE"

        # And it serves again: new connections and new jobs.
        for params in ({}, {"memory_max": 64 << 20}, {}, {}):
            with d.rpc(timeout=30) as n:
                out, res = run_ok(n, **params)
                assert res["state"] == "exited" and out == b"ok\n", res
        if d.prepared_count:
            deadline_poll(lambda: len(d.prepared()) >= d.prepared_count, 30, interval=0.2)
            assert len(d.prepared()) >= d.prepared_count, \
                f"no prepared sandboxes after the descriptors were freed:\n{d.log()}"
