"""The records the daemon answers with, as Python objects (PROTOCOL.md,
"The result record" and "The job_info record")."""

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
# A directory given to the daemon: a path (opened here, O_PATH), an fd number,
# or an object with fileno() (an open directory, a file opened with os.open).
DirSource = Union[PathLike, int, Any]


@dataclass(frozen=True)
class Mount:
    """An extra directory for the job: `source` mounted at `target` (under
    /skill, /data, /input or /mnt)."""

    source: DirSource
    target: str
    read_only: bool = False


def _int_or_none(v: Any) -> Optional[int]:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _uint(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


@dataclass
class Result:
    """How a job ended (or, from `inspect`/`list`, how it runs so far).

    `stdout`/`stderr` hold the output this client received for a job it
    started (empty for a result fetched with `Client.wait(job_id)` or from
    another connection). Durations are milliseconds, sizes bytes, as on the
    wire. `enforced` is the isolation actually applied. `denied` lists what
    the sandbox refused the job, as `{"kind", "what", "count"}` maps (kind
    "syscall": `socket(AF_NETLINK)`, `mount`; kind "network": `host:port`);
    empty when nothing was refused.
    `raw` is the record as it came, for fields this client does not know."""

    job: str
    state: str
    exit_code: Optional[int] = None
    signal: Optional[int] = None
    stdout: bytes = b""
    stderr: bytes = b""
    wall_ms: int = 0
    cpu_user_ms: int = 0
    cpu_sys_ms: int = 0
    memory_peak: int = 0
    tasks_peak: Optional[int] = None
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    output_truncated: bool = False
    error: Optional[str] = None
    enforced: Dict[str, Any] = field(default_factory=dict)
    denied: List[Any] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, rec: Dict[str, Any], stdout: bytes = b"", stderr: bytes = b"") -> "Result":
        denied = rec.get("denied")
        return cls(
            job=str(rec.get("job", "")),
            state=str(rec.get("state", "")),
            exit_code=_int_or_none(rec.get("exit_code")),
            signal=_int_or_none(rec.get("signal")),
            stdout=stdout,
            stderr=stderr,
            wall_ms=_uint(rec.get("wall_ms")),
            cpu_user_ms=_uint(rec.get("cpu_user_ms")),
            cpu_sys_ms=_uint(rec.get("cpu_sys_ms")),
            memory_peak=_uint(rec.get("memory_peak")),
            tasks_peak=_int_or_none(rec.get("tasks_peak")),
            stdout_bytes=_uint(rec.get("stdout_bytes")),
            stderr_bytes=_uint(rec.get("stderr_bytes")),
            output_truncated=bool(rec.get("output_truncated")),
            error=rec.get("error") if isinstance(rec.get("error"), str) else None,
            enforced=dict(rec.get("enforced") or {}),
            denied=list(denied) if isinstance(denied, (list, tuple)) else [],
            raw=dict(rec),
        )

    @property
    def ok(self) -> bool:
        """The program exited by itself with status 0."""
        return self.state == "exited" and self.exit_code == 0

    @property
    def cpu_ms(self) -> int:
        """User plus system CPU time of all the job's processes."""
        return self.cpu_user_ms + self.cpu_sys_ms

    @property
    def accounting(self) -> Dict[str, Optional[int]]:
        """The resource use of the job in one map."""
        return {
            "wall_ms": self.wall_ms,
            "cpu_user_ms": self.cpu_user_ms,
            "cpu_sys_ms": self.cpu_sys_ms,
            "memory_peak": self.memory_peak,
            "tasks_peak": self.tasks_peak,
            "stdout_bytes": self.stdout_bytes,
            "stderr_bytes": self.stderr_bytes,
        }


@dataclass
class JobInfo:
    """One job as `inspect` and `list` describe it: its result so far
    (state "running" while it runs) and how it was started."""

    result: Result
    profile: str
    owner_uid: int
    started_ms: int
    detached: bool
    argv: List[Union[str, bytes]]
    argv_truncated: bool
    seq: int
    sandbox: Optional[str] = None   # the persistent sandbox it ran in

    @property
    def job(self) -> str:
        return self.result.job

    @property
    def state(self) -> str:
        return self.result.state

    @classmethod
    def from_wire(cls, rec: Dict[str, Any]) -> "JobInfo":
        argv = rec.get("argv")
        return cls(
            result=Result.from_wire(rec),
            profile=str(rec.get("profile", "")),
            owner_uid=_uint(rec.get("owner_uid")),
            started_ms=_uint(rec.get("started_ms")),
            detached=bool(rec.get("detached")),
            argv=list(argv) if isinstance(argv, (list, tuple)) else [],
            argv_truncated=bool(rec.get("argv_truncated")),
            seq=_uint(rec.get("seq")),
            sandbox=rec["sandbox"] if isinstance(rec.get("sandbox"), str) else None,
        )
