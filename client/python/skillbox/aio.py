"""The asyncio client: one connection shared by any number of tasks."""

import array
import asyncio
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
        self._sock: Optional[socket.socket] = None
        self._reader: Optional["asyncio.Task[None]"] = None
        self._send_lock: Optional[asyncio.Lock] = None
        self._closed: Optional[Error] = None

    async def connect(self) -> "AsyncClient":
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, self.path)
        except OSError as e:
            sock.close()
            raise Disconnected(f"cannot connect to {self.path}: {e.strerror or e}") from e
        self._sock = sock
        # Made here, in the loop that uses it (Python 3.9 binds a Lock to
        # the loop current at its creation).
        self._send_lock = asyncio.Lock()
        self._reader = loop.create_task(self._read_loop())
        return self

    async def close(self) -> None:
        """Close the connection; jobs started without detach are killed."""
        self._shutdown(Disconnected("the client is closed"))
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass

    async def __aenter__(self) -> "AsyncClient":
        return await self.connect()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- I/O

    def _shutdown(self, why: Error) -> None:
        if self._closed is not None:
            return
        self._closed = why
        if self._sock is not None:
            self._sock.close()
        for fut in self._waiters.values():
            if not fut.done():
                fut.set_exception(why)
        self._waiters.clear()
        for job in list(self._jobs):
            job._event.set()   # a waiting job sees _closed and raises

    def _on_response(self, msgid: int, error: Any, result: Any) -> None:
        fut = self._waiters.pop(msgid, None)
        if fut is not None and not fut.done():
            fut.set_result((error, result))

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._sock is not None
        try:
            while True:
                data = await loop.sock_recv(self._sock, 1 << 20)
                if not data:
                    raise Disconnected("skillboxd closed the connection")
                self._core.feed(data)
        except asyncio.CancelledError:
            raise
        except Error as e:
            self._shutdown(e if isinstance(e, Disconnected) else
                           Disconnected(f"connection unusable: {e}"))
        except OSError as e:
            self._shutdown(Disconnected(f"read from {self.path}: {e.strerror or e}"))

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
        if self._sock is None:
            raise Disconnected("not connected: use `async with` or await connect()")
        if self._closed is not None:
            raise self._closed
        msgid, data = self._core.request(method, params)
        fut: "asyncio.Future[Tuple[Any, Any]]" = asyncio.get_running_loop().create_future()
        self._waiters[msgid] = fut
        try:
            await self._send(data, fds or [])
        except BaseException:
            self._waiters.pop(msgid, None)
            raise
        return _core.check_response(*await fut)

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
                    sandbox: Optional[str] = None) -> AsyncJob:
        """Start a job and return at once; options as `Client.start`.
        stdin=True keeps stdin open for `AsyncJob.write_stdin`."""
        with FdSet() as fds:
            params = _core.exec_params(
                argv, fds, profile=profile, memory=memory, timeout=timeout, tasks=tasks,
                cpu=cpu, env=env, stdin=stdin is not None and stdin is not False,
                workdir=workdir, mounts=mounts, detach=detach, output_max=output_max,
                work_size_max=work_size_max, work_inodes_max=work_inodes_max, cwd=cwd,
                tty=tty, size=size, sandbox=sandbox)
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
                  tty: bool = False, size: Optional[Tuple[int, int]] = None) -> Result:
        """Run a program in a sandbox and return its Result once it ended;
        the options are those of `Client.run`."""
        job = await self.start(argv, profile=profile, memory=memory, timeout=timeout,
                               tasks=tasks, cpu=cpu, env=env, stdin=stdin, workdir=workdir,
                               mounts=mounts, output_max=output_max,
                               work_size_max=work_size_max, work_inodes_max=work_inodes_max,
                               cwd=cwd, tty=tty, size=size)
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
