"""The protocol state shared by the blocking and the asyncio client, without
any I/O: request encoding, exec params, fds to send, and the dispatch of what
the daemon sends (responses by msgid, job notifications by job id)."""

import collections
import math
import os
import re
from typing import Any, Callable, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import msgpack

from .errors import ProtocolError, error_from_wire
from .records import DirSource, Mount, Result

DEFAULT_SOCKET = "/run/skillbox/skillboxd.sock"
MSGID_MAX = 2 ** 32 - 1
FDS_MAX = 16            # SBP_FDS_MAX: fds with one request
DATA_MAX = 1 << 20      # SBP_DATA_MAX: one stdin_write
STDIN_CHUNK = 256 * 1024
LIST_MAX = 256          # SBP_LIST_MAX: one list page
# One message is at most SBP_MESSAGE_MAX (4 MiB); the buffer bound only has
# to exceed it, so a hostile or broken peer cannot make the client buffer more.
UNPACK_BUFFER_MAX = 8 << 20

Argv = Sequence[Union[str, bytes]]
Env = Mapping[Union[str, bytes], Union[str, bytes]]


def default_socket() -> str:
    """$SKILLBOX_SOCKET if set and not empty, else the daemon's default."""
    return os.environ.get("SKILLBOX_SOCKET") or DEFAULT_SOCKET


_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)


def parse_size(value: Union[int, str, None], name: str) -> Optional[int]:
    """Bytes from an int or a string such as "512K", "256M", "1.5G"."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected bytes as int or str, not bool")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{name}: must not be negative")
        return value
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if not m:
            raise ValueError(f"{name}: cannot read size {value!r}")
        mult = 1024 ** ("KMGT".find(m.group(2).upper()) + 1) if m.group(2) else 1
        return int(float(m.group(1)) * mult)
    raise TypeError(f"{name}: expected bytes as int or str")


def seconds_to_ms(value: Optional[float], name: str) -> Optional[int]:
    """A duration in seconds as whole milliseconds, rounded up so that a
    short timeout never becomes 0 (which would mean the profile's)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name}: expected seconds >= 0")
    return int(math.ceil(value * 1000))


class FdSet:
    """The fds one request sends: those opened here from paths are closed
    by close(); fds the caller handed in stay the caller's."""

    def __init__(self) -> None:
        self.fds: List[int] = []
        self._owned: List[int] = []

    def add(self, src: DirSource, what: str) -> int:
        if len(self.fds) >= FDS_MAX:
            raise ValueError(f"{what}: more than {FDS_MAX} directories in one request")
        if isinstance(src, bool):
            raise TypeError(f"{what}: expected a path, an fd or an open file")
        if isinstance(src, int):
            fd = src
        elif hasattr(src, "fileno"):
            fd = src.fileno()
        elif isinstance(src, (str, bytes, os.PathLike)):
            # O_PATH: the daemon needs the directory, not the right to read it;
            # it never resolves a path through the fd with its own rights.
            fd = os.open(src, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            self._owned.append(fd)
        else:
            raise TypeError(f"{what}: expected a path, an fd or an open file, not {type(src).__name__}")
        self.fds.append(fd)
        return len(self.fds) - 1

    def close(self) -> None:
        for fd in self._owned:
            os.close(fd)
        self._owned.clear()

    def __enter__(self) -> "FdSet":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _text_or_bytes(v: Any, what: str) -> Union[str, bytes]:
    # bytes go as bin: the only way to pass a name that is not UTF-8.
    if isinstance(v, (str, bytes)):
        return v
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    raise TypeError(f"{what}: expected str or bytes, not {type(v).__name__}")


TTY_SIZE_MAX = 4096     # SBP_TTY_SIZE_MAX


def tty_size(size: Tuple[int, int]) -> Tuple[int, int]:
    """(rows, cols) of a terminal, each 1..TTY_SIZE_MAX."""
    rows, cols = size
    for what, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= TTY_SIZE_MAX:
            raise ValueError(f"{what}: expected an int from 1 to {TTY_SIZE_MAX}, not {v!r}")
    return rows, cols


def exec_params(argv: Argv, fds: FdSet, *, profile: Optional[str] = None,
                memory: Union[int, str, None] = None, tasks: Optional[int] = None,
                cpu: Optional[int] = None, timeout: Optional[float] = None,
                env: Optional[Env] = None, stdin: bool = False,
                workdir: Optional[DirSource] = None,
                mounts: Optional[Iterable[Union[Mount, Tuple[Any, ...]]]] = None,
                detach: bool = False, output_max: Union[int, str, None] = None,
                work_size_max: Union[int, str, None] = None,
                work_inodes_max: Optional[int] = None,
                cwd: Optional[str] = None, tty: bool = False,
                size: Optional[Tuple[int, int]] = None, network: Optional[str] = None,
                allow_hosts: Optional[Iterable[str]] = None,
                publish: Optional[Iterable[int]] = None,
                sandbox: Optional[str] = None,
                keep_work: bool = False) -> Dict[str, Any]:
    """The params map of `exec` (PROTOCOL.md); directories are added to fds.
    sandbox: run in that persistent sandbox (then only argv, env, timeout,
    output_max, stdin, detach and cwd may be given)."""
    if isinstance(argv, (str, bytes)) or not argv:
        raise ValueError("argv: expected a non-empty list of str or bytes")
    p: Dict[str, Any] = {"argv": [_text_or_bytes(a, "argv") for a in argv]}
    if env:
        p["env"] = {_text_or_bytes(k, "env key"): _text_or_bytes(v, "env value")
                    for k, v in env.items()}
    if profile is not None:
        p["profile"] = profile
    for key, value in (("memory_max", parse_size(memory, "memory")),
                       ("tasks_max", tasks), ("cpu_percent", cpu),
                       ("timeout_ms", seconds_to_ms(timeout, "timeout")),
                       ("output_max", parse_size(output_max, "output_max")),
                       ("work_size_max", parse_size(work_size_max, "work_size_max")),
                       ("work_inodes_max", work_inodes_max)):
        if value is not None:
            p[key] = value
    if cwd is not None:
        if not isinstance(cwd, str):
            raise TypeError(f"cwd: expected str, not {type(cwd).__name__}")
        p["cwd"] = cwd
    if tty:
        p["tty"] = True
        if size is not None:
            p["rows"], p["cols"] = tty_size(size)
    elif size is not None:
        raise ValueError("size: only with tty=True")
    if network is not None:
        p["network"] = network
    if allow_hosts:
        p["allow_hosts"] = [str(h) for h in allow_hosts]
    if publish:
        p["publish"] = [int(port) for port in publish]
    if detach:
        p["detach"] = True
    if keep_work:
        p["keep_work"] = True
    if stdin:
        p["stdin"] = True
    if workdir is not None:
        p["workdir_fd"] = fds.add(workdir, "workdir")
    if mounts:
        entries = []
        for m in mounts:
            if not isinstance(m, Mount):
                m = Mount(*m)
            entries.append({"fd": fds.add(m.source, f"mount {m.target}"),
                            "target": m.target, "read_only": bool(m.read_only)})
        p["mounts"] = entries
    if sandbox is not None:
        p["sandbox"] = sandbox
    return p


def sandbox_params(*, profile: Optional[str] = None, memory: Union[int, str, None] = None,
                   tasks: Optional[int] = None, cpu: Optional[int] = None,
                   work_size_max: Union[int, str, None] = None,
                   work_inodes_max: Optional[int] = None) -> Dict[str, Any]:
    """The params map of `sandbox_create` (PROTOCOL.md)."""
    p: Dict[str, Any] = {}
    if profile is not None:
        p["profile"] = profile
    for key, value in (("memory_max", parse_size(memory, "memory")),
                       ("tasks_max", tasks), ("cpu_percent", cpu),
                       ("work_size_max", parse_size(work_size_max, "work_size_max")),
                       ("work_inodes_max", work_inodes_max)):
        if value is not None:
            p[key] = value
    return p


class JobBuffer:
    """What arrived for one job: chunks not yet iterated, all output, and
    the job_exit record once it came."""

    def __init__(self) -> None:
        self.pending: Deque[Tuple[str, bytes]] = collections.deque()
        self.stdout: List[bytes] = []
        self.stderr: List[bytes] = []
        self.exit: Optional[Dict[str, Any]] = None
        self.claimed = False
        self.on_change: Optional[Callable[[], None]] = None

    def changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def result(self) -> Result:
        assert self.exit is not None
        return Result.from_wire(self.exit, b"".join(self.stdout), b"".join(self.stderr))


class Core:
    """Encodes requests and dispatches incoming messages. Responses land in
    `on_response`; job notifications in the job's JobBuffer, which exists
    from the first notification on, so output that arrives before the exec
    reply is kept until the Job claims it."""

    def __init__(self) -> None:
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False,
                                         unicode_errors="surrogateescape",
                                         max_buffer_size=UNPACK_BUFFER_MAX)
        self._packer = msgpack.Packer(use_bin_type=True)
        self._next_msgid = 0
        self.in_flight: set = set()
        self.jobs: Dict[str, JobBuffer] = {}

    def request(self, method: str, params: Optional[Dict[str, Any]] = None) -> Tuple[int, bytes]:
        """A new msgid (never one in flight) and the request's bytes."""
        while True:
            msgid = self._next_msgid
            self._next_msgid = 0 if msgid == MSGID_MAX else msgid + 1
            if msgid not in self.in_flight:
                break
        data = self._packer.pack([0, msgid, method, [params if params is not None else {}]])
        self.in_flight.add(msgid)
        return msgid, data

    def feed(self, data: bytes) -> None:
        try:
            self.unpacker.feed(data)
            for msg in self.unpacker:
                self._dispatch(msg)
        except (ValueError, msgpack.UnpackException) as e:
            raise ProtocolError(f"cannot read the daemon's message: {e}") from e

    def on_response(self, msgid: int, error: Any, result: Any) -> None:
        raise NotImplementedError

    def claim(self, job: str) -> JobBuffer:
        """The buffer of a job this connection just started."""
        buf = self.jobs.get(job)
        if buf is None:
            buf = self.jobs[job] = JobBuffer()
        buf.claimed = True
        if buf.exit is not None:
            del self.jobs[job]
        return buf

    def _dispatch(self, msg: Any) -> None:
        if not isinstance(msg, list) or not msg:
            raise ProtocolError(f"unexpected message {msg!r:.200}")
        if msg[0] == 1 and len(msg) == 4 and isinstance(msg[1], int):
            if msg[1] not in self.in_flight:
                raise ProtocolError(f"response to msgid {msg[1]}, which is not in flight")
            self.in_flight.discard(msg[1])
            self.on_response(msg[1], msg[2], msg[3])
        elif msg[0] == 2 and len(msg) == 3:
            params = msg[2][0] if isinstance(msg[2], list) and msg[2] else {}
            if isinstance(params, dict):
                self._notification(msg[1], params)
        else:
            raise ProtocolError(f"unexpected message {msg!r:.200}")

    def _notification(self, method: Any, p: Dict[str, Any]) -> None:
        job = p.get("job")
        if not isinstance(job, str) or method not in ("job_output", "job_exit"):
            return  # a later daemon's notification: ignored
        buf = self.jobs.get(job)
        if buf is None:
            buf = self.jobs[job] = JobBuffer()
        if method == "job_output":
            data, stream = p.get("data"), p.get("stream")
            if not isinstance(data, bytes) or stream not in ("stdout", "stderr"):
                raise ProtocolError(f"malformed job_output for {job}")
            buf.pending.append((stream, data))
            (buf.stdout if stream == "stdout" else buf.stderr).append(data)
        else:
            rec = p.get("result")
            buf.exit = rec if isinstance(rec, dict) else {"job": job, "state": "failed"}
            if buf.claimed:
                del self.jobs[job]
        buf.changed()


def check_response(error: Any, result: Any) -> Any:
    """The result, or the typed exception for the error."""
    if error is not None:
        raise error_from_wire(error)
    return result


def stdin_chunks(data: Any) -> Iterable[bytes]:
    """bytes, str (UTF-8) or a binary file object, in stdin_write sized chunks."""
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        mv = memoryview(data)
        for i in range(0, len(mv), STDIN_CHUNK):
            yield bytes(mv[i:i + STDIN_CHUNK])
        return
    if hasattr(data, "read"):
        while True:
            chunk = data.read(STDIN_CHUNK)
            if not chunk:
                return
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)
    raise TypeError("stdin: expected bytes, str or a file object")
