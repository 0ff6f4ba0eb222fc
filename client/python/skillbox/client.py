"""The blocking client: one connection, used by one thread at a time."""

import array
import os
import select
import socket
import time
from typing import Any, Dict, Iterator, List, NoReturn, Optional, Set, Tuple

from . import _core
from ._core import Argv, FdSet, JobBuffer
from .errors import Disconnected, NotFound, Unavailable
from .records import JobInfo, Result

CLIENT_NAME = "skillbox-python"


class Job:
    """A job started by `Client.start`. Iterating it yields its output as
    `(stream, data)` chunks ("stdout"/"stderr", bytes) in arrival order until
    the job ends; `wait()` returns its `Result`, whose stdout/stderr hold all
    of the job's output (iterated or not)."""

    def __init__(self, client: "Client", job: str, buf: JobBuffer) -> None:
        self.client = client
        self.id = job
        self._buf = buf

    def __repr__(self) -> str:
        return f"<skillbox.Job {self.id}>"

    def __iter__(self) -> Iterator[Tuple[str, bytes]]:
        while True:
            if self._buf.pending:
                yield self._buf.pending.popleft()
            elif self._buf.exit is not None:
                return
            else:
                self.client._pump(None)

    @property
    def done(self) -> bool:
        """The job's job_exit has arrived (read by some call on the client)."""
        return self._buf.exit is not None

    def wait(self, timeout: Optional[float] = None) -> Result:
        """Block until the job ends (at most `timeout` seconds, else
        TimeoutError); its result with all its output."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._buf.exit is None:
            self.client._pump(deadline)
        return self._buf.result()

    def write_stdin(self, data: Any) -> None:
        """Write bytes (or str, or a binary file's content) to the job's
        stdin; returns once the job's stdin pipe took it. The job must have
        been started with stdin=True."""
        for chunk in _core.stdin_chunks(data):
            self.client.write_stdin(self.id, chunk)

    def close_stdin(self) -> None:
        """The job reads end of file once what was written is read."""
        self.client.close_stdin(self.id)

    def resize(self, rows: int, cols: int) -> None:
        """A tty job's new window size; the job gets SIGWINCH."""
        self.client.resize(self.id, rows, cols)

    def kill(self) -> Result:
        """Kill the whole job; returns once no process of it is left (the
        record without output: `wait()` has the output)."""
        return self.client.kill(self.id)

    def connect(self, port: int) -> socket.socket:
        """A socket connected to the job's 127.0.0.1:`port` (see Client.connect)."""
        return self.client.connect(self.id, port)

    def inspect(self) -> JobInfo:
        return self.client.inspect(self.id)


class Sandbox:
    """A persistent sandbox (`Client.sandbox`): `run` and `start` execute
    inside it, each command a job with its own `Result`."""

    def __init__(self, client: "Client", sandbox: str) -> None:
        self.client = client
        self.id = sandbox

    def __repr__(self) -> str:
        return f"<skillbox.Sandbox {self.id}>"

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.destroy()
        except NotFound:
            pass  # already gone (idle timeout, lifetime)

    def start(self, argv: Argv, *, timeout: Optional[float] = None,
              env: Optional[_core.Env] = None, stdin: Any = None, detach: bool = False,
              output_max: Any = None, cwd: Optional[str] = None) -> Job:
        """Start a command in the sandbox; options as `Client.start`."""
        return self.client.start(argv, timeout=timeout, env=env, stdin=stdin, detach=detach,
                                 output_max=output_max, cwd=cwd, sandbox=self.id)

    def run(self, argv: Argv, *, timeout: Optional[float] = None,
            env: Optional[_core.Env] = None, stdin: Any = None, output_max: Any = None,
            cwd: Optional[str] = None) -> Result:
        """Run a command in the sandbox and wait for its `Result`."""
        return self.start(argv, timeout=timeout, env=env, stdin=stdin, output_max=output_max,
                          cwd=cwd).wait()

    def info(self) -> Dict[str, Any]:
        """Its record: state, execs, running, idle_ms and the totals so far."""
        return self.client._call("inspect", {"job": self.id})

    def destroy(self) -> None:
        """End it, killing everything still running in it."""
        self.client._call("sandbox_destroy", {"sandbox": self.id})


class Client:
    """A blocking MessagePack-RPC connection to skillboxd.

    `path` defaults to $SKILLBOX_SOCKET, else /run/skillbox/skillboxd.sock.
    Use it as a context manager, or call close(). Not thread-safe: one
    thread at a time, or one Client per thread."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path or _core.default_socket()
        self._core = _core.Core()
        self._core.on_response = self._on_response  # type: ignore[assignment]
        self._responses: Dict[int, Tuple[Any, Any]] = {}
        # Requests whose caller stopped waiting (a timeout): their late
        # answers are dropped, not kept.
        self._abandoned: Set[int] = set()
        # fds that came with responses (job_connect's and work_fd's), oldest
        # first, and
        # the msgids of the job_connect calls in flight.
        self._rx_fds: List[int] = []
        self._connects: Set[int] = set()
        self._closed: Optional[Disconnected] = None
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            self._sock.connect(self.path)
        except OSError as e:
            self._sock.close()
            raise Disconnected(f"cannot connect to {self.path}: {e.strerror or e}") from e

    def close(self) -> None:
        """Close the connection. Jobs it started without detach are killed
        by the daemon."""
        if self._closed is None:
            self._closed = Disconnected("the client is closed")
        self._sock.close()
        while self._rx_fds:
            os.close(self._rx_fds.pop())

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- I/O

    def _on_response(self, msgid: int, error: Any, result: Any) -> None:
        if msgid in self._abandoned:
            self._abandoned.discard(msgid)
            # A job_connect nobody waits for any more: its socket goes.
            if msgid in self._connects:
                self._connects.discard(msgid)
                if error is None and self._rx_fds:
                    os.close(self._rx_fds.pop(0))
        else:
            self._responses[msgid] = (error, result)

    def _send(self, data: bytes, fds: List[int]) -> None:
        """Send one request, reading what the daemon sends meanwhile: a
        daemon whose replies to us are queued stops reading our requests
        until we read them, so a send that only waited to write could wait
        forever."""
        if self._closed is not None:
            raise self._closed
        poller = select.poll()
        poller.register(self._sock, select.POLLIN | select.POLLOUT)
        self._sock.setblocking(False)
        try:
            while data:
                try:
                    if fds:
                        # The fds travel with the request's first byte (PROTOCOL.md).
                        n = self._sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                                          array.array("i", fds))])
                        fds = []
                    else:
                        n = self._sock.send(data)
                    data = data[n:]
                except BlockingIOError:
                    for _, events in poller.poll():
                        if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
                            self._receive()
        except OSError as e:
            self._fail(f"send to {self.path}: {e.strerror or e}")
        finally:
            if self._closed is None:
                self._sock.setblocking(True)

    def _fail(self, message: str) -> NoReturn:
        self._closed = Disconnected(message)
        self._sock.close()
        raise self._closed

    def _pump(self, deadline: Optional[float]) -> None:
        """Read and dispatch what the daemon sent, waiting for at least one
        read; TimeoutError once `deadline` (monotonic) has passed."""
        if self._closed is not None:
            raise self._closed
        if deadline is None:
            self._sock.settimeout(None)
        else:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from skillboxd in time")
            self._sock.settimeout(left)
        self._receive()

    def _receive(self) -> None:
        """One recv (as the socket's timeout allows) and its dispatch."""
        try:
            data, fds, _, _ = socket.recv_fds(self._sock, 1 << 20, 8,
                                              socket.MSG_CMSG_CLOEXEC)
            self._rx_fds += fds
        except socket.timeout:
            raise TimeoutError("no answer from skillboxd in time") from None
        except BlockingIOError:
            return
        except OSError as e:
            self._fail(f"read from {self.path}: {e.strerror or e}")
        if not data:
            self._fail("skillboxd closed the connection")
        try:
            self._core.feed(data)
        except Exception as e:
            self._closed = Disconnected(f"connection unusable: {e}")
            self._sock.close()
            raise

    def _call(self, method: str, params: Optional[Dict[str, Any]] = None,
              fds: Optional[List[int]] = None, timeout: Optional[float] = None) -> Any:
        msgid, data = self._core.request(method, params)
        self._send(data, fds or [])
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while msgid not in self._responses:
                self._pump(deadline)
        except TimeoutError:
            self._abandoned.add(msgid)
            raise
        return _core.check_response(*self._responses.pop(msgid))

    # -- methods

    def hello(self, client: str = CLIENT_NAME) -> Dict[str, Any]:
        """Who the daemon is, which role this peer has, what the host can
        enforce (`host`), and what it does for the optional features:
        `sandboxes`, `tty` (bool: a job may have a terminal) and
        `network_modes` (the `network` modes a job gets as the mode says,
        from "none", "allowlist", "host"; allowlist only when the daemon
        found its egress proxy)."""
        return self._call("hello", {"client": client, "protocol": 1})

    def start(self, argv: Argv, *, profile: Optional[str] = None, memory: Any = None,
              timeout: Optional[float] = None, tasks: Optional[int] = None,
              cpu: Optional[int] = None, env: Optional[_core.Env] = None, stdin: Any = None,
              workdir: Any = None, mounts: Any = None, detach: bool = False,
              output_max: Any = None, work_size_max: Any = None,
              work_inodes_max: Optional[int] = None, cwd: Optional[str] = None,
              tty: bool = False, size: Optional[Tuple[int, int]] = None,
              network: Optional[str] = None, allow_hosts: Optional[List[str]] = None,
              publish: Optional[List[int]] = None,
              sandbox: Optional[str] = None, keep_work: bool = False) -> Job:
        """Start a job and return at once; the options are those of `run`,
        plus detach=True to keep the job running when this connection
        closes, and keep_work=True to keep its fresh /work for `work_fd`
        after it ended. stdin=True keeps the job's stdin open for
        `Job.write_stdin`; bytes, str or a file are written, then stdin is
        closed. network ("none", "allowlist", "host") and allow_hosts
        narrow the profile's; publish: ports of the job's loopback that
        `connect` may reach."""
        with FdSet() as fds:
            params = _core.exec_params(
                argv, fds, profile=profile, memory=memory, timeout=timeout, tasks=tasks,
                cpu=cpu, env=env, stdin=stdin is not None and stdin is not False,
                workdir=workdir, mounts=mounts, detach=detach, output_max=output_max,
                work_size_max=work_size_max, work_inodes_max=work_inodes_max, cwd=cwd,
                tty=tty, size=size, network=network, allow_hosts=allow_hosts,
                publish=publish, sandbox=sandbox, keep_work=keep_work)
            job = self._call("exec", params, fds.fds)["job"]
        j = Job(self, job, self._core.claim(job))
        if stdin is not None and stdin is not True and stdin is not False:
            self._feed_stdin(j, stdin)
        return j

    def _feed_stdin(self, job: Job, data: Any) -> None:
        try:
            job.write_stdin(data)
            job.close_stdin()
        except Unavailable:
            pass  # the job ended or closed its stdin: its result says what happened

    def run(self, argv: Argv, *, profile: Optional[str] = None, memory: Any = None,
            timeout: Optional[float] = None, tasks: Optional[int] = None,
            cpu: Optional[int] = None, env: Optional[_core.Env] = None, stdin: Any = None,
            workdir: Any = None, mounts: Any = None, output_max: Any = None,
            work_size_max: Any = None, work_inodes_max: Optional[int] = None,
            cwd: Optional[str] = None, tty: bool = False,
            size: Optional[Tuple[int, int]] = None, network: Optional[str] = None,
            allow_hosts: Optional[List[str]] = None) -> Result:
        """Run a program in a sandbox and wait for it.

        argv: the program and its arguments (str, or bytes for names that
        are not UTF-8). profile: the daemon's profile (default "default").
        memory: bytes (int or "256M"); timeout: seconds (wall clock); tasks:
        processes and threads; cpu: percent of one CPU; output_max and
        work_size_max: bytes; work_inodes_max: files in a fresh /work.
        Limits may only tighten the profile's. env: extra environment.
        stdin: bytes, str or a binary file to feed the job (else /dev/null).
        workdir: a directory (path, fd or open file) mounted at /work;
        mounts: `Mount(source, target, read_only)` or tuples of the same.
        cwd: the program's working directory in the job (default /work).
        tty=True: the job's stdin, stdout and stderr are a terminal of its
        own (its output, stderr included, comes as stdout; stdin is typed
        into it, b"\\x03" interrupts), size=(rows, cols) (default 24 x 80);
        `Job.resize` changes it.

        Returns the `Result` with all output; a job that fails, times out
        or is killed is a Result too (see `state`), not an exception.
        Raises a `skillbox.Error` subclass when the daemon refuses the
        request."""
        job = self.start(argv, profile=profile, memory=memory, timeout=timeout, tasks=tasks,
                         cpu=cpu, env=env, stdin=stdin, workdir=workdir, mounts=mounts,
                         output_max=output_max, work_size_max=work_size_max,
                         work_inodes_max=work_inodes_max, cwd=cwd, tty=tty, size=size,
                         network=network, allow_hosts=allow_hosts)
        return job.wait()

    def write_stdin(self, job: str, data: bytes) -> None:
        """One stdin_write of at most 1 MiB; answered once the job's pipe took it."""
        self._call("stdin_write", {"job": job, "data": bytes(data)})

    def close_stdin(self, job: str) -> None:
        self._call("stdin_close", {"job": job})

    def resize(self, job: str, rows: int, cols: int) -> None:
        """A tty job's new window size (rows and cols 1..4096)."""
        rows, cols = _core.tty_size((rows, cols))
        self._call("resize", {"job": job, "rows": rows, "cols": cols})

    def wait(self, job: str, timeout: Optional[float] = None) -> Result:
        """The result of any job this peer may see (also one another
        connection started), once it ended; without output."""
        return Result.from_wire(self._call("wait", {"job": job}, timeout=timeout))

    def kill(self, job: str) -> Result:
        """Kill a job; answered once none of its processes is left."""
        return Result.from_wire(self._call("kill", {"job": job}))

    def work_fd(self, job: str) -> int:
        """The /work of a job this peer started with keep_work=True, once it
        ended: an open directory descriptor (close it) whose files are this
        user's. Read it with dir_fd= calls, not following its symlinks (the
        job made them)."""
        self._call("work_fd", {"job": job})
        if not self._rx_fds:
            self._fail("work_fd: no descriptor came with the answer")
        return self._rx_fds.pop(0)

    def inspect(self, job: str) -> JobInfo:
        return JobInfo.from_wire(self._call("inspect", {"job": job}))

    def connect(self, job: str, port: int, timeout: Optional[float] = None) -> socket.socket:
        """A socket connected to 127.0.0.1:`port` inside the job, a port it
        published (start(..., publish=[port])): the daemon connects in the
        job's network namespace and passes the socket. Raises Unavailable
        while nothing listens there (or when output for this connection is
        still queued: a Client of its own for these calls avoids that),
        PermissionDenied for a port not published."""
        msgid, data = self._core.request("job_connect", {"job": job, "port": int(port)})
        self._connects.add(msgid)
        self._send(data, [])
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while msgid not in self._responses:
                self._pump(deadline)
        except TimeoutError:
            self._abandoned.add(msgid)
            raise
        self._connects.discard(msgid)
        result = _core.check_response(*self._responses.pop(msgid))
        if result != {"fd": 0} or not self._rx_fds:
            self._fail("job_connect: no socket came with the reply")
        return socket.socket(fileno=self._rx_fds.pop(0))

    def list(self) -> List[JobInfo]:
        """Every job this peer may see (running and retained), in start order."""
        out: List[JobInfo] = []
        after = 0
        while True:
            page = self._call("list", {"after": after, "limit": _core.LIST_MAX})
            out += [JobInfo.from_wire(r) for r in page]
            if len(page) < _core.LIST_MAX:
                return out
            after = out[-1].seq

    def stats(self) -> Dict[str, Any]:
        """The daemon's counters."""
        return self._call("stats")

    def profiles(self) -> List[Dict[str, Any]]:
        """The profiles this peer may use, with their limits."""
        return self._call("profiles")

    def sandbox(self, *, profile: Optional[str] = None, memory: Any = None,
                tasks: Optional[int] = None, cpu: Optional[int] = None,
                work_size_max: Any = None, work_inodes_max: Optional[int] = None) -> Sandbox:
        """Create a persistent sandbox: one set of namespaces, one cgroup
        (the limits hold for all its commands together), one /work and /tmp
        that its commands share, as do processes one of them leaves running.
        Use it as a context manager (`with c.sandbox() as sb: sb.run(...)`),
        which destroys it on exit; else call `Sandbox.destroy`."""
        res = self._call("sandbox_create", _core.sandbox_params(
            profile=profile, memory=memory, tasks=tasks, cpu=cpu,
            work_size_max=work_size_max, work_inodes_max=work_inodes_max))
        return Sandbox(self, res["sandbox"])

    def sandboxes(self) -> List[Dict[str, Any]]:
        """The persistent sandboxes this peer may see, with their totals."""
        return self._call("sandbox_list")
