"""Fixtures and helpers for the skillbox integration suite.

Every test talks to a real `skillboxd` started on a private socket, state dir,
cgroup name and uid range, so tests never see each other's jobs and the checks
for leftovers (processes of the uid range, cgroup job dirs, job dirs) can be
exact. Binaries come from the environment (meson sets SKILLBOXD, SKILLBOXCTL
and SKILLBOX_PROBE); a missing binary skips the suite with the reason.
"""

import ctypes
import errno
import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time

import msgpack
import pytest

CGROUP_ROOT = "/sys/fs/cgroup"


def _cgroup_v2():
    """True where the unified hierarchy holds the controllers (every current
    distribution); False on a v1 or hybrid host."""
    try:
        with open(os.path.join(CGROUP_ROOT, "cgroup.controllers")) as f:
            return "memory" in f.read().split()
    except OSError:
        return False


SYS_landlock_create_ruleset = 444   # x86_64 and aarch64 (asm-generic) alike


def kernel_landlock_abi():
    """The kernel's Landlock ABI version, 0 where it has none (the guest)."""
    libc = ctypes.CDLL(None, use_errno=True)
    v = libc.syscall(SYS_landlock_create_ruleset, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(v, 0)


CGROUP_V2 = _cgroup_v2()
CGROUP_VERSION = "v2" if CGROUP_V2 else "v1"
# The hierarchies a job lives in: v1 one per controller, v2 the one ("").
CONTROLLERS = ("",) if CGROUP_V2 else ("memory", "pids", "cpu", "cpuacct", "freezer")
# Where a job cgroup keeps its memory limit.
MEMORY_LIMIT_FILE = "memory.max" if CGROUP_V2 else "memory.limit_in_bytes"
JOB_ID_RE = re.compile(r"^[0-9a-f]{12}$")
MIB = 1024 * 1024

# The shell line that copies the probe into the job through its stdin and runs
# it; "$@" keeps the probe's arguments intact. The job's /tmp is a private tmpfs.
PROBE_SH = 'cat >/tmp/probe && chmod +x /tmp/probe && exec /tmp/probe "$@"'


def _binary(var):
    path = os.environ.get(var)
    if not path:
        pytest.skip(f"{var} is not set (run the suite through `meson test --suite integration`)")
    if not os.access(path, os.X_OK):
        pytest.skip(f"{var}={path} is not an executable")
    return path


def skillboxd_path():
    return _binary("SKILLBOXD")


def asan_build():
    """An AddressSanitizer daemon: slower, and it keeps freed memory in
    quarantine (256 MiB by default), so its RSS says little about what it
    holds."""
    with open(skillboxd_path(), "rb") as f:
        return b"__asan_init" in f.read()


def rss_kib(pid):
    """VmRSS of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def skillboxctl_path():
    return _binary("SKILLBOXCTL")


def probe_path():
    return _binary("SKILLBOX_PROBE")


def require_root():
    if os.geteuid() != 0:
        pytest.skip("needs root: skillboxd's linux backend creates namespaces, cgroups and uids")


def deadline_poll(fn, timeout, interval=0.02):
    """Call fn() until it returns a truthy value or timeout seconds pass;
    return the last value."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------- host scans

def procs_with_uid_in(first, last):
    """Host pids whose real, effective, saved or fs uid lies in [first, last],
    with their command names. Zombies count: they are left behind too."""
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                status = f.read()
        except OSError:
            continue
        uids = name = state = None
        for line in status.splitlines():
            if line.startswith("Uid:"):
                uids = [int(x) for x in line.split()[1:]]
            elif line.startswith("Name:"):
                name = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            elif line.startswith("State:"):
                state = line.split()[1]
        inrange = [u for u in (uids or []) if first <= u <= last]
        if inrange:
            # A job's init keeps root's real uid, the job's as its saved one.
            found[int(d)] = f"{name} uid={inrange[0]} state={state}"
    return found


def uid_of(what):
    """The job uid in a procs_with_uid_in() description: the first of its
    real, effective, saved and fs uid in the range."""
    return int(what.split("uid=")[1].split()[0])


def own_cgroup_paths(pid):
    """{controller: path} from /proc/<pid>/cgroup (v1 lines 'N:ctrl,ctrl:/path');
    the unified hierarchy's line '0::/path' is the key ""."""
    paths = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in ctrls.split(","):
                if c or not ctrls:
                    paths[c] = path
    return paths


def mounts_under(prefix):
    prefix = prefix.rstrip("/") + "/"
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp.startswith(prefix) or mp == prefix.rstrip("/"):
                out.append(mp)
    return out


# ---------------------------------------------------------------- the daemon

_uid_blocks_used = set()
INSTANCE_REGISTRY = "/run/skillbox-instances"


def registered_uid_ranges():
    """The uid ranges of the daemons running on this host (other test runs'
    too), from the registry each daemon holds a locked file in."""
    ranges = []
    try:
        names = os.listdir(INSTANCE_REGISTRY)
    except OSError:
        return ranges
    for n in names:
        try:
            with open(os.path.join(INSTANCE_REGISTRY, n)) as f:
                for line in f:
                    if line.startswith("uids="):
                        a, b = line[5:].strip().split("-")
                        ranges.append((int(a), int(b)))
        except (OSError, ValueError):
            pass
    return ranges


def _fresh_uid_range(size=100):
    while True:
        first = 400000 + random.randrange(0, 20000) * size
        last = first + size - 1
        if first in _uid_blocks_used or procs_with_uid_in(first, last):
            continue
        # A live daemon's range: a second daemon there refuses to start.
        if any(a <= last and first <= b for a, b in registered_uid_ranges()):
            continue
        _uid_blocks_used.add(first)
        return first, last


class Daemon:
    """One skillboxd in the foreground on a private socket/state/cgroup/uids.

    Keep cgroup, state dir and uid range when building a second instance with
    Daemon(..., like=first) — that is how a restart after SIGKILL is tested."""

    def __init__(self, workdir, backend=None, extra_args=(), like=None):
        self.workdir = workdir
        self.socket = os.path.join(workdir, "s.sock")
        if like is not None:
            self.state_dir = like.state_dir
            self.cgroup = like.cgroup
            self.uid_first, self.uid_last = like.uid_first, like.uid_last
        else:
            self.state_dir = os.path.join(workdir, "state")
            self.cgroup = "sbtest-" + os.urandom(4).hex()
            self.uid_first, self.uid_last = _fresh_uid_range()
        self.backend = backend
        self.extra_args = list(extra_args)
        self.proc = None
        self.own_paths = None
        self.log_path = os.path.join(workdir, f"daemon-{os.urandom(3).hex()}.log")

    @property
    def uid_range(self):
        return f"{self.uid_first}-{self.uid_last}"

    def argv(self):
        a = [skillboxd_path(), "--socket", self.socket, "--state-dir", self.state_dir,
             "--cgroup", self.cgroup, "--uid-range", self.uid_range]
        if self.backend:
            a += ["--backend", self.backend]
        return a + self.extra_args

    def start(self, timeout=10.0, **popen_kw):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log, **popen_kw)
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"skillboxd exited with {self.proc.returncode} before it was "
                            f"ready:\n{self.log()}")
            if os.path.exists(self.socket):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.socket)
                    break
                except OSError:
                    pass
                finally:
                    s.close()
            if time.monotonic() > end:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"skillboxd did not accept on {self.socket} within {timeout}s:\n"
                            f"{self.log()}")
            time.sleep(0.01)
        self.own_paths = own_cgroup_paths(self.proc.pid)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-6000:]
        except OSError:
            return "(no log)"

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0):
        """SIGTERM and wait; SIGKILL if it hangs. Returns the exit status, or
        None if it had to be killed."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        return rc

    def sigkill(self):
        self.proc.kill()
        self.proc.wait()
        self._log.close()

    # -- where things live on the host

    def subtree(self, ctrl):
        """The daemon's <own path>/<cgroup name> directory for a v1 controller;
        under v2 (ctrl ignored) the daemon lives in the leaf <name>.daemon
        beside its subtree <name>."""
        if CGROUP_V2:
            own = self.own_paths.get("", "/")
            if os.path.basename(own) == self.cgroup + ".daemon":
                own = os.path.dirname(own)
            return os.path.join(CGROUP_ROOT, own.lstrip("/"), self.cgroup)
        own = self.own_paths.get(ctrl, "/")
        return os.path.join(CGROUP_ROOT, ctrl, own.lstrip("/"), self.cgroup)

    def job_cgroup(self, ctrl, job):
        return os.path.join(self.subtree(ctrl), job)

    def memory_limit(self, job):
        """The memory limit the kernel holds for a job, in bytes."""
        with open(os.path.join(self.job_cgroup("memory", job), MEMORY_LIMIT_FILE)) as f:
            return int(f.read())

    def job_dirs(self):
        """Job directories under the state dir (posix jobs have one; a
        linux job's /work is a tmpfs of its own)."""
        jobs = os.path.join(self.state_dir, "jobs")
        return os.listdir(jobs) if os.path.isdir(jobs) else []

    def _sandbox_uid(self, job):
        """The uid in the range that a process of job's cgroup runs as, or
        None (no process yet, or still root in its setup)."""
        try:
            with open(os.path.join(self.job_cgroup("pids", job), "cgroup.procs")) as f:
                pids = [int(x) for x in f.read().split()]
        except OSError:
            return None
        for pid in pids:
            try:
                with open(f"/proc/{pid}/status") as f:
                    uids = next([int(x) for x in line.split()[1:]]
                                for line in f if line.startswith("Uid:"))
            except (OSError, ValueError, StopIteration):
                continue
            # Real, effective, saved or fs: a job's init holds the job's
            # uid only as its saved and fs uid.
            for uid in uids:
                if self.uid_first <= uid <= self.uid_last:
                    return uid
        return None

    def prepared(self):
        """{id: uid} of the running daemon's prepared sandboxes
        (PreparedSandboxes=): job cgroups (and, with the posix backend, job
        directories) of no job the daemon knows, with the uid a process of
        the sandbox runs as (None while it has none yet). They sit in the
        uid range by design while the daemon runs; a stopped daemon has
        none, so the final check after SIGTERM sees every one that was
        left."""
        out = {}
        if self.proc is None or self.proc.poll() is not None or self.own_paths is None:
            return out
        sub = self.subtree("pids")
        ids = set(self.job_dirs())
        if os.path.isdir(sub):
            ids |= {e for e in os.listdir(sub) if os.path.isdir(os.path.join(sub, e))}
        try:
            with self.rpc(timeout=5) as c:
                for e in sorted(ids):
                    err, _ = c.call("inspect", {"job": e})
                    if err is None:
                        continue
                    out[e] = self._sandbox_uid(e)
        except (OSError, ConnectionClosed):
            return {}
        return out

    def job_procs(self):
        """Processes in the uid range other than idle prepared sandboxes.
        The processes are listed first: a sandbox's cgroup exists before
        its process does, so the prepared() that follows knows every
        sandbox whose process the list holds."""
        procs = procs_with_uid_in(self.uid_first, self.uid_last)
        prep = set(self.prepared().values())
        return {pid: what for pid, what in procs.items() if uid_of(what) not in prep}

    def leftovers(self):
        """Everything a job could leave behind, as human-readable strings
        (the prepared sandboxes of a running daemon are not leftovers)."""
        # Everything is listed before prepared() (see job_procs()).
        procs = procs_with_uid_in(self.uid_first, self.uid_last)
        cgdirs = []
        if self.own_paths is not None:
            for c in CONTROLLERS:
                sub = self.subtree(c)
                if os.path.isdir(sub):
                    cgdirs += [(e, os.path.join(sub, e)) for e in os.listdir(sub)
                               if os.path.isdir(os.path.join(sub, e))]
        jobs = os.path.join(self.state_dir, "jobs")
        jobdirs = self.job_dirs()
        prep = self.prepared()
        prep_uids = set(prep.values())
        left = [f"process {pid} ({what})" for pid, what in procs.items()
                if uid_of(what) not in prep_uids]
        left += [f"cgroup dir {path}" for e, path in cgdirs if e not in prep]
        left += [f"job dir {os.path.join(jobs, e)}" for e in jobdirs if e not in prep]
        for mp in mounts_under(self.state_dir):
            left.append(f"mount {mp}")
        return left

    def assert_clean(self, timeout=5.0):
        deadline_poll(lambda: not self.leftovers(), timeout)
        left = self.leftovers()
        if left:
            pytest.fail("left behind by skillboxd:\n  " + "\n  ".join(left)
                        + f"\ndaemon log:\n{self.log()}")

    def force_cleanup(self):
        """Last resort after a failed test: kill what the product left (only
        processes in this daemon's private uid range) and remove empty cgroup
        dirs so the host stays usable. Never follows into mounts."""
        for pid in procs_with_uid_in(self.uid_first, self.uid_last):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.own_paths is None:
            return
        for c in CONTROLLERS:
            sub = self.subtree(c)
            if not os.path.isdir(sub):
                continue
            for e in os.listdir(sub):
                p = os.path.join(sub, e)
                if os.path.isdir(p):
                    for _ in range(50):
                        try:
                            os.rmdir(p)
                            break
                        except OSError as ex:
                            if ex.errno != errno.EBUSY:
                                break
                            time.sleep(0.02)
            try:
                os.rmdir(sub)
            except OSError:
                pass

    # -- clients

    def rpc(self, **kw):
        return Rpc(self.socket, **kw)

    def ctl(self, *args, **kw):
        return ctl(self.socket, *args, **kw)


def cleanup_workdir(workdir):
    if mounts_under(workdir):
        # Never recurse into a live mount (a bind of /usr would be wiped).
        return
    subprocess.run(["rm", "-rf", "--one-file-system", workdir], check=False)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def workdir():
    # Short paths: a Unix socket path must fit in 108 bytes.
    d = tempfile.mkdtemp(prefix="sbt-", dir="/tmp")
    yield d
    cleanup_workdir(d)


def finish_daemon(d, request=None):
    """Fixture teardown shared by every daemon fixture: stop d with SIGTERM,
    require a clean exit and no leftovers, and always force the clean-up.
    With request, the log is printed when the test's call phase failed."""
    failed = (request is not None and getattr(request.node, "rep_call", None) is not None
              and request.node.rep_call.failed)
    try:
        if d.proc.poll() is None:
            rc = d.stop()
            assert rc == 0, f"skillboxd exited with {rc} on SIGTERM:\n{d.log()}"
        d.assert_clean()
    finally:
        if failed:
            print(f"---- skillboxd log ({d.log_path}) ----\n{d.log()}")
        d.force_cleanup()


def _daemon_fixture(request, workdir, **kw):
    require_root()
    d = Daemon(workdir, **kw).start()
    yield d
    finish_daemon(d, request)


@pytest.fixture
def daemon(request, workdir):
    yield from _daemon_fixture(request, workdir)


@pytest.fixture
def posix_daemon(request, workdir):
    yield from _daemon_fixture(request, workdir, backend="posix")


# ---------------------------------------------------------------- skillboxctl

def ctl(sock, *args, input=None, stdin=None, timeout=60, env=None, socket_flag=True):
    """Run skillboxctl; returns CompletedProcess with bytes stdout/stderr."""
    argv = [skillboxctl_path()]
    if socket_flag:
        argv += ["--socket", sock]
    argv += [str(a) for a in args]
    e = dict(os.environ)
    e.pop("SKILLBOX_SOCKET", None)
    if env:
        e.update(env)
    kw = {}
    if stdin is not None:
        kw["stdin"] = stdin
    elif input is None:
        kw["stdin"] = subprocess.DEVNULL
    return subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=e, **kw)


def parse_json_output(cp):
    try:
        return json.loads(cp.stdout)
    except ValueError:
        pytest.fail(f"skillboxctl --json printed no single JSON object (exit {cp.returncode}):\n"
                    f"stdout: {cp.stdout[:2000]!r}\nstderr: {cp.stderr[:2000]!r}")


def probe_argv(mode, *args):
    """argv for a job that receives the probe on stdin and runs it."""
    return ["sh", "-c", PROBE_SH, "probe", mode] + [str(a) for a in args]


def run_probe(d, mode, *args, opts=(), json_out=True, timeout=60):
    """Run the probe in a job via skillboxctl. Returns (CompletedProcess,
    result dict or None). With json_out, the job's output is in
    result['stdout'] / result['stderr']."""
    with open(probe_path(), "rb") as f:
        cli = ["run"] + (["--json"] if json_out else []) + list(opts) + ["--"] + probe_argv(mode, *args)
        cp = d.ctl(*cli, stdin=f, timeout=timeout)
    return cp, (parse_json_output(cp) if json_out else None)


def probe_bytes():
    with open(probe_path(), "rb") as f:
        return f.read()


# ---------------------------------------------------------------- raw RPC

class ConnectionClosed(Exception):
    pass


class Rpc:
    """A minimal MessagePack-RPC client: requests, and every notification
    kept in arrival order in self.notifications as (method, params)."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.timeout = timeout
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False,
                                         max_buffer_size=256 * MIB)
        self.msgid = 0
        self.notifications = []
        self.responses = {}
        self.eof = False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(msgpack.packb(obj, use_bin_type=True))

    def read_message(self, timeout=None):
        """Next message from the daemon; raises ConnectionClosed at EOF and
        socket.timeout if nothing arrives in time."""
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                return next(self.unpacker)
            except StopIteration:
                pass
            if self.eof:
                raise ConnectionClosed()
            left = end - time.monotonic()
            if left <= 0:
                raise socket.timeout("no message from skillboxd")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 20)
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                continue
            self.unpacker.feed(data)

    def _dispatch(self, msg):
        assert isinstance(msg, list) and msg and msg[0] in (1, 2), f"unexpected frame {msg!r}"
        if msg[0] == 2:
            assert len(msg) == 3 and isinstance(msg[1], str) and isinstance(msg[2], list) \
                and len(msg[2]) == 1 and isinstance(msg[2][0], dict), f"bad notification {msg!r}"
            self.notifications.append((msg[1], msg[2][0]))
        else:
            assert len(msg) == 4, f"bad response {msg!r}"
            self.responses[msg[1]] = (msg[2], msg[3])

    def request(self, method, params=None):
        self.msgid += 1
        self.send([0, self.msgid, method, [params if params is not None else {}]])
        return self.msgid

    def response(self, msgid, timeout=None):
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while msgid not in self.responses:
            self._dispatch(self.read_message(max(0.001, end - time.monotonic())))
        return self.responses.pop(msgid)

    def call(self, method, params=None, timeout=None):
        """(error, result) of one request."""
        return self.response(self.request(method, params), timeout)

    def ok(self, method, params=None, timeout=None):
        err, res = self.call(method, params, timeout)
        assert err is None, f"{method} failed: {err!r}"
        return res

    def exec(self, argv, **params):
        p = {"argv": list(argv)}
        p.update(params)
        res = self.ok("exec", p)
        assert isinstance(res, dict) and JOB_ID_RE.match(res.get("job", "")), \
            f"exec result {res!r} has no 12-hex job id"
        return res["job"]

    def send_stdin(self, job, data, chunk=256 * 1024):
        for i in range(0, len(data), chunk):
            self.ok("stdin_write", {"job": job, "data": data[i:i + chunk]})
        self.ok("stdin_close", {"job": job})

    def exec_probe(self, mode, *args, **params):
        job = self.exec(probe_argv(mode, *args), stdin=True, **params)
        self.send_stdin(job, probe_bytes())
        return job

    def pump(self, timeout):
        """Read whatever arrives for up to timeout seconds."""
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                self._dispatch(self.read_message(max(0.001, end - time.monotonic())))
        except socket.timeout:
            pass

    def wait_exit(self, job, timeout=30.0):
        """Collect the job's output until its job_exit. Returns
        (stdout bytes, stderr bytes, result). Asserts that every job_output
        of the job precedes its job_exit on the wire."""
        end = time.monotonic() + timeout
        while not any(m == "job_exit" and p.get("job") == job for m, p in self.notifications):
            left = end - time.monotonic()
            if left <= 0:
                pytest.fail(f"no job_exit for {job} within {timeout}s")
            self._dispatch(self.read_message(left))
        out, err, result, seen_exit = [], [], None, False
        for m, p in self.notifications:
            if p.get("job") != job:
                continue
            if m == "job_output":
                assert not seen_exit, "job_output after job_exit"
                assert p.get("stream") in ("stdout", "stderr"), f"bad stream {p!r}"
                assert isinstance(p.get("data"), bytes), f"job_output data is not bin: {p!r}"
                (out if p["stream"] == "stdout" else err).append(p["data"])
            elif m == "job_exit":
                assert not seen_exit, "two job_exit notifications"
                seen_exit = True
                result = p.get("result")
        return b"".join(out), b"".join(err), result


def wait_for_uid_procs(d, present, timeout):
    """Poll until processes in d's uid range exist (present=True) or are all
    gone (present=False); returns the final {pid: description}."""
    deadline_poll(lambda: bool(d.job_procs()) == present, timeout)
    return d.job_procs()


def read_cg(path):
    with open(path) as f:
        return f.read().strip()


def pid_ns_problem(pid, ppid):
    """None if (pid, ppid) as seen inside a job shows a fresh pid namespace:
    the job's program is pid 1 itself, or pid 2 under a minimal init that is
    pid 1 (the linux backend's choice: the kernel shields pid 1 from signals
    it does not handle, so an init runs the program as pid 2)."""
    pid, ppid = int(pid), int(ppid)
    if pid == 1 or (pid == 2 and ppid == 1):
        return None
    return f"job is not in a fresh pid namespace (pid={pid} ppid={ppid})"


def preflight_sandbox(d, memory=None, tasks=None):
    """Prove that a job of this daemon is really sandboxed before a hostile
    test: non-root uid from the range, a fresh pid namespace, and the
    requested limits present in the job's cgroup files on the host. Skips if
    the daemon does not claim to enforce cgroups; fails if it claims to but
    the host disagrees."""
    params = {"timeout_ms": 20000}
    if memory:
        params["memory_max"] = memory
    if tasks:
        params["tasks_max"] = tasks
    with d.rpc() as c:
        job = c.exec(["sh", "-c", 'echo "pid=$$ ppid=$PPID uid=$(id -u)"; exec sleep 20'], **params)
        # Wait until the sleeper runs, so the cgroup is fully set up.
        c.pump(0)
        end = time.monotonic() + 10
        while b"pid=" not in b"".join(p["data"] for m, p in c.notifications
                                      if m == "job_output" and p.get("job") == job):
            if time.monotonic() > end:
                pytest.fail(f"preflight job printed nothing; notifications: {c.notifications!r}")
            c.pump(0.05)
        info = c.ok("inspect", {"job": job})
        enforced = info.get("enforced") or {}
        problems = []
        if enforced.get("cgroup") not in ("v1", "v2"):
            c.ok("kill", {"job": job})
            c.wait_exit(job)
            pytest.skip(f"daemon does not enforce cgroups here (enforced={enforced!r}); "
                        "refusing to run a hostile job unconfined")
        try:
            if memory:
                f = os.path.join(d.job_cgroup("memory", job), MEMORY_LIMIT_FILE)
                v = read_cg(f)
                if int(v) != memory:
                    problems.append(f"{f} = {v}, want {memory}")
            if tasks:
                f = os.path.join(d.job_cgroup("pids", job), "pids.max")
                v = read_cg(f)
                if v != str(tasks):
                    problems.append(f"{f} = {v}, want {tasks}")
            f = os.path.join(d.job_cgroup("pids", job), "cgroup.procs")
            if not read_cg(f):
                problems.append(f"{f} is empty: the job is not in its cgroup")
        except OSError as e:
            problems.append(f"job cgroup not where the layout says: {e}")
        out = b"".join(p["data"] for m, p in c.notifications
                       if m == "job_output" and p.get("job") == job).decode()
        m = re.search(r"pid=(\d+) ppid=(\d+) uid=(\d+)", out)
        if not m:
            problems.append(f"preflight output unparsable: {out!r}")
        else:
            pp = pid_ns_problem(m.group(1), m.group(2))
            if pp:
                problems.append(pp)
            uid = int(m.group(3))
            if uid == 0 or not d.uid_first <= uid <= d.uid_last:
                problems.append(f"job uid {uid} is root or outside {d.uid_range}")
        c.ok("kill", {"job": job})
        c.wait_exit(job)
    if problems:
        pytest.fail("daemon claims cgroup enforcement but the host disagrees:\n  "
                    + "\n  ".join(problems))


# ---------------------------------------------------------------- hostile jobs
# The hostile suite (test_hostile_*.py) runs only once a preflight proved the
# sandbox real, and after every case checks the host: the daemon answers,
# nothing of the job's uid is left, no job cgroup, no new or lost mount, the
# canary files and listeners the test planted on the host are untouched.

def _mount_table(own_workdir=None):
    """The host's mounts, but for those in another test session's scratch
    dir (/tmp/sbt-*: a concurrent suite's tmpfs or ramfs comes and goes
    there, and no job of ours can name it)."""
    rows = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            a, b = line.split(" - ", 1)
            a = a.split()
            point = a[4]
            if point.startswith("/tmp/sbt-") and not (
                    own_workdir and (point + "/").startswith(own_workdir.rstrip("/") + "/")):
                continue
            rows.append((a[3], point, b.split()[0], b.split()[1]))
    return sorted(rows)


def _stat_key(p):
    st = os.lstat(p)
    return (st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_nlink, st.st_size, st.st_mtime_ns)


class Hostile:
    SECRET_PREFIX = "sbcanary-secret-"

    def __init__(self, d, workdir):
        self.d = d
        self.workdir = workdir
        tag = os.urandom(4).hex()
        self.secret = self.SECRET_PREFIX + os.urandom(8).hex()
        self.canaries = [f"/root/sbcanary-{tag}", f"/var/tmp/sbcanary-{tag}"]
        self.canary_dir = f"/var/tmp/sbcanary-dir-{tag}"
        self.abstract_name = f"sbhostile-{tag}"
        self.files = {}

    def arm(self):
        self.mounts = _mount_table(self.d.workdir)
        os.makedirs(self.canary_dir, mode=0o700)
        for p in self.canaries + [os.path.join(self.canary_dir, "inner")]:
            with open(p, "w") as f:
                f.write(self.secret + "\n")
            os.chmod(p, 0o600)
        for p in self.canaries + [self.canary_dir, os.path.join(self.canary_dir, "inner")]:
            self.files[p] = _stat_key(p)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.setblocking(False)
        self.tcp_port = self.tcp.getsockname()[1]
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen(8)
        self.abstract.setblocking(False)
        return self

    def problems(self):
        out = []
        for s, what in ((self.tcp, "tcp listener"), (self.abstract, "abstract listener")):
            try:
                s.accept()
                out.append(f"the host {what} accepted a connection from a job")
            except BlockingIOError:
                pass
        for p, key in self.files.items():
            try:
                now = _stat_key(p)
            except OSError as e:
                out.append(f"host canary {p}: {e}")
                continue
            if now != key:
                out.append(f"host canary {p} changed: {key} -> {now}")
            if os.path.isfile(p):
                with open(p) as f:
                    if f.read() != self.secret + "\n":
                        out.append(f"host canary {p} content changed")
        if _mount_table(self.d.workdir) != self.mounts:
            before, after = set(self.mounts), set(_mount_table(self.d.workdir))
            out.append(f"host mounts changed: new {sorted(after - before)[:5]}, "
                       f"gone {sorted(before - after)[:5]}")
        return out

    def check_host(self):
        """The after-every-case host check (also callable mid-test)."""
        problems = []
        try:
            with self.d.rpc(timeout=5) as c:
                err, res = c.call("hello", {})
                if err is not None or not isinstance(res, dict):
                    problems.append(f"daemon hello failed: {err!r}")
        except Exception as e:  # noqa: BLE001 - any failure to answer is the finding
            problems.append(f"daemon does not answer hello: {e!r}")
        deadline_poll(lambda: not self.d.leftovers(), 5.0)
        problems += [f"left behind: {x}" for x in self.d.leftovers()]
        problems += self.problems()
        return problems

    def disarm(self):
        self.tcp.close()
        self.abstract.close()
        for p in self.canaries:
            try:
                os.unlink(p)
            except OSError:
                pass
        subprocess.run(["rm", "-rf", "--one-file-system", self.canary_dir], check=False)

    # -- running probes

    def run(self, *args, opts=(), timeout=60):
        """Run `probe hostile ARGS` in a job; returns the result dict with
        result['kv'] = {name: value} parsed from the probe's name=value lines."""
        cp, r = run_probe(self.d, "hostile", *args, opts=list(opts), timeout=timeout)
        r["kv"] = parse_kv(r.get("stdout", ""))
        return r

    def script(self, script, opts=(), timeout=60):
        """Run a shell script in a job with the probe at $P."""
        with open(probe_path(), "rb") as f:
            cp = self.d.ctl("run", "--json", *opts, "--", "sh", "-c",
                            "cat >/tmp/probe && chmod +x /tmp/probe && P=/tmp/probe && " + script,
                            stdin=f, timeout=timeout)
        r = parse_json_output(cp)
        r["kv"] = parse_kv(r.get("stdout", ""))
        return r


def parse_kv(text):
    kv = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            kv[k] = v
    return kv


@pytest.fixture
def hostile(daemon, workdir):
    """A daemon proven to sandbox (uid, pid namespace, cgroup limits), with
    host canaries and listeners armed; the host is checked after the case."""
    preflight_sandbox(daemon, memory=128 * MIB, tasks=32)
    h = Hostile(daemon, workdir).arm()
    try:
        yield h
        problems = h.check_host()
        if problems:
            pytest.fail("host side after a hostile job:\n  " + "\n  ".join(problems)
                        + f"\ndaemon log:\n{daemon.log()}")
    finally:
        h.disarm()
