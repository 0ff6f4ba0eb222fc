"""The asyncio client: one connection shared by any number of tasks."""

import array
import asyncio
import os
import socket
from typing import Any, AsyncIterator, Dict, Generator, List, Optional, Set, Tuple

from . import _core
from ._core import Argv, FdSet, JobBuffer
from .client import CLIENT_NAME
from .errors import Disconnected, Error, NotFound, Unavailable
from .records import JobInfo, Result


class AsyncJob:
    """A job started by `AsyncClient.start`. `async for stream, data in job`
    yields its output chunks until it ends; `await job.wait()` its Result."""

    def __init__(self, client: "AsyncClient", job: str, buf: JobBuffer) -> None:
        self.client = client
        self.id = job
        self._buf = buf
        self._event = asyncio.Event()
        buf.on_change = self._on_change
        if buf.exit is None:
            client._jobs.add(self)

    def _on_change(self) -> None:
        self._event.set()
        if self._buf.exit is not None:
            self.client._jobs.discard(self)

    def __repr__(self) -> str:
        return f"<skillbox.AsyncJob {self.id}>"

    async def _changed(self) -> None:
        if self.client._closed is not None:
            raise self.client._closed
        self._event.clear()
        await self._event.wait()

    async def __aiter__(self) -> AsyncIterator[Tuple[str, bytes]]:
        while True:
            if self._buf.pending:
                yield self._buf.pending.popleft()
            elif self._buf.exit is not None:
                return
            else:
                await self._changed()

    @property
    def done(self) -> bool:
        return self._buf.exit is not None

    async def wait(self, timeout: Optional[float] = None) -> Result:
        """The job's Result, with all its output, once it ended (at most
        `timeout` seconds, else TimeoutError; the job keeps running)."""
        if timeout is not None:
            return await asyncio.wait_for(self.wait(), timeout)
        while self._buf.exit is None:
            await self._changed()
        return self._buf.result()

    async def write_stdin(self, data: Any) -> None:
        """Write bytes (or str, or a binary file's content) to the job's stdin."""
        for chunk in _core.stdin_chunks(data):
            await self.client.write_stdin(self.id, chunk)

    async def close_stdin(self) -> None:
        await self.client.close_stdin(self.id)

    async def resize(self, rows: int, cols: int) -> None:
        """A tty job's new window size; the job gets SIGWINCH."""
        await self.client.resize(self.id, rows, cols)

    async def kill(self) -> Result:
        return await self.client.kill(self.id)

    async def connect(self, port: int) -> socket.socket:
        """A socket connected to the job's 127.0.0.1:`port` (see
        `AsyncClient.connect`)."""
        return await self.client.connect(self.id, port)

    async def inspect(self) -> JobInfo:
        return await self.client.inspect(self.id)


class AsyncSandbox:
    """A persistent sandbox (`AsyncClient.sandbox`): `run` and `start`
    execute inside it. `async with client.sandbox() as sb:` destroys it on
    exit; `sb = await client.sandbox()` leaves that to `destroy`."""

    def __init__(self, client: "AsyncClient", sandbox: str) -> None:
        self.client = client
        self.id = sandbox

    def __repr__(self) -> str:
        return f"<skillbox.AsyncSandbox {self.id}>"

    async def start(self, argv: Argv, *, timeout: Optional[float] = None,
                    env: Optional[_core.Env] = None, stdin: Any = None, detach: bool = False,
                    output_max: Any = None, cwd: Optional[str] = None) -> AsyncJob:
        """Start a command in the sandbox; options as `Client.start`."""
        return await self.client.start(argv, timeout=timeout, env=env, stdin=stdin,
                                       detach=detach, output_max=output_max, cwd=cwd,
                                       sandbox=self.id)

    async def run(self, argv: Argv, *, timeout: Optional[float] = None,
                  env: Optional[_core.Env] = None, stdin: Any = None, output_max: Any = None,
                  cwd: Optional[str] = None) -> Result:
        """Run a command in the sandbox and wait for its `Result`."""
        job = await self.start(argv, timeout=timeout, env=env, stdin=stdin,
                               output_max=output_max, cwd=cwd)
        return await job.wait()

    async def info(self) -> Dict[str, Any]:
        """Its record: state, execs, running, idle_ms and the totals so far."""
        return await self.client._call("inspect", {"job": self.id})

    async def destroy(self) -> None:
        """End it, killing everything still running in it."""
        await self.client._call("sandbox_destroy", {"sandbox": self.id})


class _SandboxCreate:
    """What `AsyncClient.sandbox` returns: awaitable, or an async context
    manager that destroys the sandbox on exit."""

    def __init__(self, client: "AsyncClient", params: Dict[str, Any]) -> None:
        self._client = client
        self._params = params
        self._sandbox: Optional[AsyncSandbox] = None

    async def _create(self) -> AsyncSandbox:
        res = await self._client._call("sandbox_create", self._params)
        return AsyncSandbox(self._client, res["sandbox"])

    def __await__(self) -> Generator[Any, None, AsyncSandbox]:
        return self._create().__await__()

    async def __aenter__(self) -> AsyncSandbox:
        self._sandbox = await self._create()
        return self._sandbox

    async def __aexit__(self, *exc: Any) -> None:
        if self._sandbox is not None:
            try:
                await self._sandbox.destroy()
            except NotFound:
                pass  # already gone (idle timeout, lifetime)


class AsyncClient:
    """An asyncio MessagePack-RPC connection to skillboxd.

        async with skillbox.AsyncClient() as c:
            results = await asyncio.gather(c.run(["true"]), c.run(["false"]))

    Requests from many tasks share the connection; a reader task matches
    responses by msgid and hands job output to the job it belongs to."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path or _core.default_socket()
        self._core = _core.Core()
        self._core.on_response = self._on_response  # type: ignore[assignment]
        self._waiters: Dict[int, "asyncio.Future[Tuple[Any, Any]]"] = {}
        self._jobs: Set[AsyncJob] = set()
        # fds that came with responses (job_connect's and work_fd's), oldest
        # first, and the msgids of the calls in flight that get one: their
        # response takes the oldest fd as it is read.
        self._rx_fds: List[int] = []
        self._fd_calls: Set[int] = set()
        self._sock: Optional[socket.socket] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._send_lock: Optional[asyncio.Lock] = None
        self._closed: Optional[Error] = None

    async def open(self) -> "AsyncClient":
        """Connect to the daemon (what `async with` does)."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, self.path)
        except OSError as e:
            sock.close()
            raise Disconnected(f"cannot connect to {self.path}: {e.strerror or e}") from e
        self._sock = sock
        self._loop = loop
        # Made here, in the loop that uses it (Python 3.9 binds a Lock to
        # the loop current at its creation).
        self._send_lock = asyncio.Lock()
        # A reader callback rather than loop.sock_recv: that one drops the
        # fds job_connect and work_fd send with their responses.
        loop.add_reader(sock.fileno(), self._on_readable)
        return self

    async def close(self) -> None:
        """Close the connection; jobs started without detach are killed."""
        self._shutdown(Disconnected("the client is closed"))

    async def __aenter__(self) -> "AsyncClient":
        return await self.open()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- I/O

    def _shutdown(self, why: Error) -> None:
        if self._closed is not None:
            return
        self._closed = why
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
        while self._rx_fds:
            os.close(self._rx_fds.pop())
        for fut in self._waiters.values():
            if not fut.done():
                fut.set_exception(why)
        self._waiters.clear()
        for job in list(self._jobs):
            job._event.set()   # a waiting job sees _closed and raises

    def _on_response(self, msgid: int, error: Any, result: Any) -> None:
        fd: Optional[int] = None
        if msgid in self._fd_calls:
            self._fd_calls.discard(msgid)
            if error is None and self._rx_fds:
                fd = self._rx_fds.pop(0)
        fut = self._waiters.pop(msgid, None)
        if fut is not None and not fut.done():
            fut.set_result((error, result, fd))
        elif fd is not None:
            os.close(fd)   # its caller stopped waiting (cancelled)

    def _on_readable(self) -> None:
        """One recv and its dispatch, run by the loop when the socket has
        something to read."""
        if self._closed is not None or self._sock is None:
            return
        try:
            data, fds, _, _ = socket.recv_fds(self._sock, 1 << 20, 8,
                                              socket.MSG_CMSG_CLOEXEC)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._shutdown(Disconnected(f"read from {self.path}: {e.strerror or e}"))
            return
        self._rx_fds += fds
        if not data:
            self._shutdown(Disconnected("skillboxd closed the connection"))
            return
        try:
            self._core.feed(data)
        except Error as e:
            self._shutdown(e if isinstance(e, Disconnected) else
                           Disconnected(f"connection unusable: {e}"))
        except Exception as e:
            self._shutdown(Disconnected(f"connection unusable: {e}"))

    async def _writable(self) -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        assert self._sock is not None
        fd = self._sock.fileno()
        loop.add_writer(fd, lambda: fut.done() or fut.set_result(None))
        try:
            await fut
        finally:
            loop.remove_writer(fd)

    async def _send(self, data: bytes, fds: List[int]) -> None:
        loop = asyncio.get_running_loop()
        assert self._send_lock is not None
        async with self._send_lock:
            if self._closed is not None:
                raise self._closed
            assert self._sock is not None
            try:
                if fds:
                    # The fds travel with the request's first byte (PROTOCOL.md).
                    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                    while True:
                        try:
                            n = self._sock.sendmsg([data], anc)
                            break
                        except BlockingIOError:
                            await self._writable()
                    data = data[n:]
                if data:
                    await loop.sock_sendall(self._sock, data)
            except OSError as e:
                err = Disconnected(f"send to {self.path}: {e.strerror or e}")
                self._shutdown(err)
                raise err from e

    async def _call(self, method: str, params: Optional[Dict[str, Any]] = None,
                    fds: Optional[List[int]] = None) -> Any:
        return (await self._call_fd(method, params, fds, takes_fd=False))[0]

    async def _call_fd(self, method: str, params: Optional[Dict[str, Any]] = None,
                       fds: Optional[List[int]] = None,
                       takes_fd: bool = True) -> Tuple[Any, Optional[int]]:
        """A request and its result; with takes_fd, also the fd that came
        with its response (None if none did; the caller owns it)."""
        if self._sock is None:
            raise Disconnected("not connected: use `async with` or await open()")
        if self._closed is not None:
            raise self._closed
        msgid, data = self._core.request(method, params)
        fut: "asyncio.Future[Tuple[Any, Any, Optional[int]]]" = \
            asyncio.get_running_loop().create_future()
        self._waiters[msgid] = fut
        if takes_fd:
            self._fd_calls.add(msgid)
        try:
            await self._send(data, fds or [])
        except BaseException:
            self._waiters.pop(msgid, None)
            self._fd_calls.discard(msgid)
            if fut.done() and not fut.cancelled():
                fut.exception()   # the send's failure shut it down: the caller gets that
            raise
        error, result, fd = await fut
        try:
            return _core.check_response(error, result), fd
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise

    def _take_fd(self, method: str, fd: Optional[int]) -> int:
        if fd is None:
            err = Disconnected(f"{method}: no descriptor came with the answer")
            self._shutdown(err)
            raise err
        return fd

    # -- methods

    async def hello(self, client: str = CLIENT_NAME) -> Dict[str, Any]:
        return await self._call("hello", {"client": client, "protocol": 1})

    async def start(self, argv: Argv, *, profile: Optional[str] = None, memory: Any = None,
                    timeout: Optional[float] = None, tasks: Optional[int] = None,
                    cpu: Optional[int] = None, env: Optional[_core.Env] = None,
                    stdin: Any = None, workdir: Any = None, mounts: Any = None,
                    detach: bool = False, output_max: Any = None, work_size_max: Any = None,
                    work_inodes_max: Optional[int] = None, cwd: Optional[str] = None,
                    tty: bool = False, size: Optional[Tuple[int, int]] = None,
                    network: Optional[str] = None, allow_hosts: Optional[List[str]] = None,
                    publish: Optional[List[int]] = None,
                    sandbox: Optional[str] = None, keep_work: bool = False) -> AsyncJob:
        """Start a job and return at once; options as `Client.start`.
        stdin=True keeps stdin open for `AsyncJob.write_stdin`; publish:
        ports `connect` may reach; keep_work=True keeps a fresh /work for
        `work_fd` after the job."""
        with FdSet() as fds:
            params = _core.exec_params(
                argv, fds, profile=profile, memory=memory, timeout=timeout, tasks=tasks,
                cpu=cpu, env=env, stdin=stdin is not None and stdin is not False,
                workdir=workdir, mounts=mounts, detach=detach, output_max=output_max,
                work_size_max=work_size_max, work_inodes_max=work_inodes_max, cwd=cwd,
                tty=tty, size=size, network=network, allow_hosts=allow_hosts,
                publish=publish, sandbox=sandbox, keep_work=keep_work)
            job = (await self._call("exec", params, fds.fds))["job"]
        j = AsyncJob(self, job, self._core.claim(job))
        if stdin is not None and stdin is not True and stdin is not False:
            try:
                await j.write_stdin(stdin)
                await j.close_stdin()
            except Unavailable:
                pass  # the job ended or closed its stdin: its result says why
        return j

    async def run(self, argv: Argv, *, profile: Optional[str] = None, memory: Any = None,
                  timeout: Optional[float] = None, tasks: Optional[int] = None,
                  cpu: Optional[int] = None, env: Optional[_core.Env] = None,
                  stdin: Any = None, workdir: Any = None, mounts: Any = None,
                  output_max: Any = None, work_size_max: Any = None,
                  work_inodes_max: Optional[int] = None, cwd: Optional[str] = None,
                  tty: bool = False, size: Optional[Tuple[int, int]] = None,
                  network: Optional[str] = None, allow_hosts: Optional[List[str]] = None,
                  keep_work: bool = False) -> Result:
        """Run a program in a sandbox and return its Result once it ended;
        the options are those of `Client.run`, and keep_work as `start`'s
        (`work_fd(result.job)` then)."""
        job = await self.start(argv, profile=profile, memory=memory, timeout=timeout,
                               tasks=tasks, cpu=cpu, env=env, stdin=stdin, workdir=workdir,
                               mounts=mounts, output_max=output_max,
                               work_size_max=work_size_max, work_inodes_max=work_inodes_max,
                               cwd=cwd, tty=tty, size=size, network=network,
                               allow_hosts=allow_hosts, keep_work=keep_work)
        return await job.wait()

    async def write_stdin(self, job: str, data: bytes) -> None:
        await self._call("stdin_write", {"job": job, "data": bytes(data)})

    async def close_stdin(self, job: str) -> None:
        await self._call("stdin_close", {"job": job})

    async def resize(self, job: str, rows: int, cols: int) -> None:
        rows, cols = _core.tty_size((rows, cols))
        await self._call("resize", {"job": job, "rows": rows, "cols": cols})

    async def wait(self, job: str) -> Result:
        """The result of any job this peer may see, once it ended (no output)."""
        return Result.from_wire(await self._call("wait", {"job": job}))

    async def kill(self, job: str) -> Result:
        return Result.from_wire(await self._call("kill", {"job": job}))

    async def inspect(self, job: str) -> JobInfo:
        return JobInfo.from_wire(await self._call("inspect", {"job": job}))

    async def work_fd(self, job: str) -> int:
        """The /work of a job this peer started with keep_work=True, once it
        ended: an open directory descriptor (close it); see
        `Client.work_fd`. Unavailable while the job runs, or while output
        for this connection is still queued (read it and ask again)."""
        _, fd = await self._call_fd("work_fd", {"job": job})
        return self._take_fd("work_fd", fd)

    async def connect(self, job: str, port: int) -> socket.socket:
        """A socket connected to 127.0.0.1:`port` inside the job, a port it
        published (start(..., publish=[port])); non-blocking, ready for
        `asyncio.open_connection(sock=...)`. Raises Unavailable while
        nothing listens there (or while output for this connection is
        still queued: an AsyncClient of its own for these calls avoids
        that), PermissionDenied for a port not published."""
        result, fd = await self._call_fd("job_connect", {"job": job, "port": int(port)})
        fd = self._take_fd("job_connect", fd)
        if result != {"fd": 0}:
            os.close(fd)
            err = Disconnected("job_connect: unexpected result")
            self._shutdown(err)
            raise err
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        return sock

    async def list(self) -> List[JobInfo]:
        out: List[JobInfo] = []
        after = 0
        while True:
            page = await self._call("list", {"after": after, "limit": _core.LIST_MAX})
            out += [JobInfo.from_wire(r) for r in page]
            if len(page) < _core.LIST_MAX:
                return out
            after = out[-1].seq

    async def stats(self) -> Dict[str, Any]:
        return await self._call("stats")

    async def profiles(self) -> List[Dict[str, Any]]:
        return await self._call("profiles")

    def sandbox(self, *, profile: Optional[str] = None, memory: Any = None,
                tasks: Optional[int] = None, cpu: Optional[int] = None,
                work_size_max: Any = None, work_inodes_max: Optional[int] = None
                ) -> _SandboxCreate:
        """Create a persistent sandbox (see `Client.sandbox`):
        `async with client.sandbox() as sb: await sb.run([...])`."""
        return _SandboxCreate(self, _core.sandbox_params(
            profile=profile, memory=memory, tasks=tasks, cpu=cpu,
            work_size_max=work_size_max, work_inodes_max=work_inodes_max))

    async def sandboxes(self) -> List[Dict[str, Any]]:
        """The persistent sandboxes this peer may see, with their totals."""
        return await self._call("sandbox_list")
