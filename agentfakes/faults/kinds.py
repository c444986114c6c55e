"""Faults: what can go wrong between an app and a Hermes server, armed on the fake.

A `Fault` says what goes wrong (an HTTP status with the real server's body, a transport
error, or a broken event stream); `server.fault(...)` arms it for matching requests
(endpoint, run, nth call, a count, a seeded probability). Faults are strict by default: one
that never fired fails the test at teardown, naming it, unless armed `optional=True`.
`server.chaos(rate, seed)` arms random faults at a rate, reproducible from the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from agentfakes.api import (
    INVALID_KEY_BODY,
    ApiRequest,
    ApiResponse,
    crash,
    json_response,
    openai_error,
    text_response,
)

Endpoint = Literal[
    "create", "poll", "events", "approval", "stop", "health", "models", "capabilities", "any"
]
ENDPOINTS = ("create", "poll", "events", "approval", "stop", "health", "models", "capabilities")
TransportKind = Literal["connect_error", "read_timeout", "connection_reset"]
StreamKind = Literal["drop", "malformed", "split_utf8", "no_terminal", "stall", "duplicate"]


def endpoint_of(request: ApiRequest) -> str:
    """Name the endpoint a request is for (profile prefix ignored)."""
    path = request.path
    if path.startswith("/p/"):
        path = "/" + path.split("/", 3)[-1]
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["v1", "runs"]:
        if len(parts) == 2:
            return "create"
        if len(parts) == 3:
            return "poll"
        return {"events": "events", "approval": "approval", "stop": "stop"}.get(parts[3], path)
    if parts in (["health"], ["v1", "health"], ["health", "detailed"]):
        return "health"
    if parts == ["v1", "models"]:
        return "models"
    if parts == ["v1", "capabilities"]:
        return "capabilities"
    return path


def run_id_in(request: ApiRequest) -> str | None:
    parts = [p for p in request.path.split("/") if p]
    if "runs" in parts:
        index = parts.index("runs")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None


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

    def response(self, request: ApiRequest, max_runs: int) -> ApiResponse:
        """The HTTP answer for a status fault, with the real server's body and headers."""
        status = self.status or 500
        if status == 429:
            body = openai_error(
                f"Too many concurrent runs (max {max_runs})",
                err_type="rate_limit_error",
                code="rate_limit_exceeded",
            )
            return json_response(body, 429, (("Retry-After", self.retry_after or "1"),))
        if status == 503:
            body = openai_error(
                "Gateway is draining existing work; retry shortly.", code="gateway_draining"
            )
            return json_response(body, 503, (("Retry-After", self.retry_after or "1"),))
        if status == 401:
            return json_response(INVALID_KEY_BODY, 401)
        if status == 500:
            return crash()
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        headers = (("Retry-After", self.retry_after),) if self.retry_after else ()
        return text_response(status, f"{status}: {phrase}".encode(), headers)


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


# ------------------------------------------------------------------ when it goes wrong


@dataclass
class ArmedFault:
    """A fault and the requests it applies to."""

    fault: Fault
    on: tuple[str, ...]
    run_id: str | None = None
    nth: int | None = None
    times: int | None = 1
    probability: float | None = None
    optional: bool = False
    rng: random.Random = field(default_factory=random.Random, repr=False)
    seen: int = 0
    fired: int = 0

    def describe(self) -> str:
        where = "/".join(self.on)
        parts = [f"{self.fault.describe()} on {where}"]
        if self.run_id:
            parts.append(f"for {self.run_id}")
        if self.nth:
            parts.append(f"at call #{self.nth}")
        if self.probability is not None:
            parts.append(f"with p={self.probability}")
        return " ".join(parts)

    def take(self, endpoint: str, run_id: str | None) -> bool:
        """Whether this request gets the fault (counts it when it does)."""
        if "any" not in self.on and endpoint not in self.on:
            return False
        if self.run_id is not None and run_id != self.run_id:
            return False
        self.seen += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.nth is not None and self.seen != self.nth:
            return False
        if self.probability is not None and self.rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


class FaultPlan:
    """The faults armed on one server, consulted for every request."""

    def __init__(self) -> None:
        self.armed: list[ArmedFault] = []
        self.log: list[tuple[str, str]] = []  # (endpoint, fault description) as fired

    def arm(
        self,
        fault: Fault,
        *,
        on: str | tuple[str, ...] | list[str] = "any",
        run_id: str | None = None,
        nth: int | None = None,
        times: int | None = 1,
        probability: float | None = None,
        seed: int | None = None,
        optional: bool = False,
    ) -> ArmedFault:
        endpoints = (on,) if isinstance(on, str) else tuple(on)
        for name in endpoints:
            if name != "any" and name not in ENDPOINTS:
                raise ValueError(
                    f"fault on={name!r} is not an endpoint; use one of {', '.join(ENDPOINTS)}, any"
                )
        if fault.kind == "stream" and set(endpoints) - {"events", "any"}:
            raise ValueError(f"{fault.describe()} only applies to on='events'")
        if nth is not None and nth < 1:
            raise ValueError(f"nth counts matching requests from 1, got {nth}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None (every time), got {times}")
        if probability is not None and not 0 < probability <= 1:
            raise ValueError(f"probability must be in (0, 1], got {probability}")
        if fault.kind == "stream" and endpoints == ("any",):
            endpoints = ("events",)
        armed = ArmedFault(
            fault,
            endpoints,
            run_id=run_id,
            nth=nth,
            times=times,
            probability=probability,
            optional=optional or probability is not None,
            rng=random.Random(seed),
        )
        self.armed.append(armed)
        return armed

    def chaos(self, rate: float, *, seed: int, faults: list[Fault] | None = None) -> None:
        """Random faults at `rate` on every request, the same ones for the same seed."""
        if not 0 < rate <= 1:
            raise ValueError(f"chaos rate must be in (0, 1], got {rate}")
        kinds = faults or [http_error(503), http_error(429), http_error(500), connection_reset()]
        chooser = random.Random(seed)
        chaos = _Chaos(kinds[0], ("any",), times=None, probability=rate, optional=True)
        chaos.rng, chaos.choices, chaos.chooser = random.Random(seed), kinds, chooser
        self.armed.append(chaos)

    def match(self, request: ApiRequest) -> Fault | None:
        """The fault this request meets, if any (the first armed one that takes it)."""
        if not self.armed:
            return None
        endpoint = endpoint_of(request)
        run_id = run_id_in(request)
        for armed in self.armed:
            if armed.take(endpoint, run_id):
                fault = armed.fault  # chaos picks its fault in take()
                self.log.append((endpoint, fault.describe()))
                return fault
        return None

    def unfired(self) -> list[str]:
        return [a.describe() for a in self.armed if not a.optional and a.fired == 0]


@dataclass
class _Chaos(ArmedFault):
    choices: list[Fault] = field(default_factory=list)
    chooser: random.Random = field(default_factory=random.Random, repr=False)

    def describe(self) -> str:
        return f"chaos at rate {self.probability}"

    def take(self, endpoint: str, run_id: str | None) -> bool:
        if not super().take(endpoint, run_id):
            return False
        self.fault = self.chooser.choice(
            [f for f in self.choices if f.kind != "stream" or endpoint == "events"]
        )
        return True


class TransportFault(Exception):
    """Raised by `server.handle` for a transport fault; each transport turns it into the
    failure its clients would really see."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.describe())
        self.fault = fault


def transport_fault_error(fault: Fault, request: Any) -> Exception:
    """The httpx exception an in-process client sees for a transport fault."""
    import httpx

    if fault.transport == "connect_error":
        return httpx.ConnectError("[Errno 111] Connection refused", request=request)
    if fault.transport == "read_timeout":
        return httpx.ReadTimeout("The read operation timed out", request=request)
    return httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
