"""What can go wrong between an app and a Hermes server: the `Fault` values.

A `Fault` says what goes wrong (an HTTP status, a transport error, or a broken event
stream). It is a plain value: the api writes the real server's body for an HTTP fault
(`api/errors.py`), each transport acts out a transport fault the way its clients would see
it, and `api/streaming.py` breaks a stream. `faults/plan.py` decides which request gets one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TransportKind = Literal["connect_error", "read_timeout", "connection_reset"]
StreamKind = Literal["drop", "malformed", "split_utf8", "no_terminal", "stall", "duplicate"]


# ------------------------------------------------------------------ what goes wrong


@dataclass(frozen=True)
class Fault:
    """One kind of failure; build them with the functions below."""

    kind: str
    status: int | None = None
    transport: TransportKind | None = None
    stream: StreamKind | None = None
    after: int = 0  # stream faults: after this many data frames
    seconds: float = 0.0  # stall length, or how long a read timeout holds the line
    event: str | None = None  # duplicate: which event name (None: the frame at `after`)
    retry_after: str | None = None

    def describe(self) -> str:
        if self.status is not None:
            return f"HTTP {self.status}"
        if self.transport is not None:
            return self.transport.replace("_", " ")
        detail = f" after {self.after} events" if self.after else ""
        if self.stream == "stall":
            detail += f" for {self.seconds:g} s"
        return f"stream {self.stream}{detail}"


def http_error(status: int, *, retry_after: str | None = None) -> Fault:
    """Answer with `status`: 429/503 get the real bodies and `Retry-After: 1`, 401 the
    invalid-key body, 500 aiohttp's crash text; others `"<code>: <reason>"` text."""
    if not 400 <= status <= 599:
        raise ValueError(f"http_error takes a 4xx or 5xx status, got {status}")
    return Fault(kind="http", status=status, retry_after=retry_after)


def connect_error() -> Fault:
    """The connection is refused (httpx.ConnectError in-process; a closed socket on loopback)."""
    return Fault(kind="transport", transport="connect_error")


def read_timeout(seconds: float = 30.0) -> Fault:
    """No answer comes (httpx.ReadTimeout in-process; a silent socket on loopback)."""
    return Fault(kind="transport", transport="read_timeout", seconds=seconds)


def connection_reset() -> Fault:
    """The peer resets the connection (httpx.ReadError in-process; a TCP RST on loopback)."""
    return Fault(kind="transport", transport="connection_reset")


def drop_stream(after: int) -> Fault:
    """Cut the event stream after `after` data frames, mid-body."""
    return Fault(kind="stream", stream="drop", after=_count("drop_stream", after))


def malformed_frame(after: int = 0) -> Fault:
    """Send a frame whose JSON is cut short after `after` good frames (then carry on)."""
    return Fault(kind="stream", stream="malformed", after=_count("malformed_frame", after))


def split_utf8() -> Fault:
    """Send frames with raw UTF-8 and split each chunk inside a multi-byte character.
    Valid SSE: a client must reassemble bytes before decoding."""
    return Fault(kind="stream", stream="split_utf8")


def no_terminal(after: int | None = None) -> Fault:
    """End the stream cleanly but without the terminal event or `: stream closed`."""
    return Fault(kind="stream", stream="no_terminal", after=_count("no_terminal", after or 0))


def stall(seconds: float, *, after: int = 0) -> Fault:
    """Hold the stream for `seconds` (keepalives only) after `after` data frames."""
    if seconds <= 0:
        raise ValueError(f"stall needs a positive number of seconds, got {seconds}")
    return Fault(kind="stream", stream="stall", seconds=seconds, after=_count("stall", after))


def duplicate_event(event: str | None = None, *, after: int = 0) -> Fault:
    """Send one event twice: the first `event` of that name, or the frame at `after`."""
    return Fault(kind="stream", stream="duplicate", event=event, after=_count("duplicate", after))


def _count(where: str, value: int) -> int:
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}: after must be a whole number >= 0, got {value!r}")
    return value


class TransportFault(Exception):
    """Raised by `server.handle` for a transport fault; each transport turns it into the
    failure its clients would really see."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.describe())
        self.fault = fault
