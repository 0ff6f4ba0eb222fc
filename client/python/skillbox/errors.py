"""Exceptions raised by the skillbox client: one class per daemon error code."""

from typing import Dict, Optional, Type


class Error(Exception):
    """A request failed. `code` is the daemon's error code (``"NotFound"``, ...)
    or None for a failure on this side (see `Disconnected`); `message` is the
    daemon's text."""

    code: Optional[str] = None

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class InvalidArgument(Error):
    """A field is unknown, missing, of the wrong type or over a limit."""
    code = "InvalidArgument"


class PermissionDenied(Error):
    """The request asks for more than its profile allows, or the profile is
    not the caller's to use."""
    code = "PermissionDenied"


class NotFound(Error):
    """No such job visible to this peer, or no such profile."""
    code = "NotFound"


class ResourceExhausted(Error):
    """A cap on connections, jobs or memory limits is reached."""
    code = "ResourceExhausted"


class Unavailable(Error):
    """The daemon is shutting down, or a job's stdin is closed or it ended."""
    code = "Unavailable"


class Unsupported(Error):
    """The host cannot enforce what the profile requires, or the daemon does
    not speak the protocol version."""
    code = "Unsupported"


class ProtocolError(Error):
    """A malformed message; the daemon closes the connection after it. Also
    raised when the daemon sends something this client cannot read."""
    code = "ProtocolError"


class Internal(Error):
    """A bug or an unexpected system failure in the daemon."""
    code = "Internal"


class Disconnected(Error):
    """The connection to the daemon is closed (by either side); the client
    is unusable after it."""


_BY_CODE: Dict[str, Type[Error]] = {
    cls.code: cls  # type: ignore[misc]
    for cls in (InvalidArgument, PermissionDenied, NotFound, ResourceExhausted,
                Unavailable, Unsupported, ProtocolError, Internal)
}


def error_from_wire(err: object) -> Error:
    """The exception for a response's error field; an unknown code (a later
    daemon's) becomes a plain `Error` that still carries it."""
    if isinstance(err, dict):
        code = err.get("code")
        message = err.get("message")
        code = code if isinstance(code, str) else "Internal"
        message = message if isinstance(message, str) else repr(err)
    else:
        code, message = "ProtocolError", f"malformed error field {err!r}"
    cls = _BY_CODE.get(code)
    return cls(message) if cls is not None else Error(message, code)
