"""skillbox: run programs in skillboxd sandboxes from Python.

    import skillbox
    with skillbox.Client() as c:
        r = c.run(["python3", "-c", "print(6 * 7)"], memory="256M", timeout=10)
        print(r.state, r.exit_code, r.stdout)

`Client` blocks; `AsyncClient` is its asyncio twin. Both speak the daemon's
MessagePack-RPC protocol (protocol/PROTOCOL.md) over its Unix socket and pass
directories by file descriptor."""

from .aio import AsyncClient, AsyncJob, AsyncSandbox
from .client import Client, Job, Sandbox
from ._core import default_socket
from .errors import (Disconnected, Error, Internal, InvalidArgument, NotFound, PermissionDenied,
                     ProtocolError, ResourceExhausted, Unavailable, Unsupported)
from .records import JobInfo, Mount, Result

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "AsyncJob", "AsyncSandbox", "Client", "Job", "Sandbox", "JobInfo", "Mount", "Result", "default_socket",
    "Error", "InvalidArgument", "PermissionDenied", "NotFound", "ResourceExhausted",
    "Unavailable", "Unsupported", "ProtocolError", "Internal", "Disconnected",
]
