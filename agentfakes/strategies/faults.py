"""Strategies for fault plans: which faults a server arms, and on which requests.

A `FaultPlanSpec` is a plain value (it prints as the `server.fault(...)` calls that arm
it), so a shrunk failing plan can be pasted into a regular test like a shrunk Script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from agentfakes.faults import (
    Fault,
    connect_error,
    connection_reset,
    drop_stream,
    duplicate_event,
    http_error,
    malformed_frame,
    no_terminal,
    read_timeout,
    split_utf8,
    stall,
)
from agentfakes.server import FakeRunsServer

ENDPOINTS = ("create", "poll", "events", "approval", "stop")
HTTP_STATUSES = (401, 404, 429, 500, 502, 503)


@dataclass(frozen=True)
class PlannedFault:
    """One `server.fault(fault, on=..., nth=..., times=...)` call."""

    fault: Fault
    code: str  # the faults.* call that builds `fault`
    on: str
    nth: int | None
    times: int | None

    def arm(self, server: FakeRunsServer) -> None:
        # optional: a generated plan may name a request the app never makes
        server.fault(self.fault, on=self.on, nth=self.nth, times=self.times, optional=True)

    def to_code(self, server: str = "server") -> str:
        extra = f", nth={self.nth}" if self.nth is not None else ""
        if self.times != 1:
            extra += f", times={self.times}"
        return f"{server}.fault(faults.{self.code}, on={self.on!r}{extra}, optional=True)"


@dataclass(frozen=True)
class FaultPlanSpec:
    """The faults one example arms; `arm(server)` arms them, `to_code()` prints them."""

    faults: tuple[PlannedFault, ...] = ()

    def arm(self, server: FakeRunsServer) -> None:
        for planned in self.faults:
            planned.arm(server)

    def to_code(self, server: str = "server") -> str:
        return "\n".join(planned.to_code(server) for planned in self.faults)

    def __repr__(self) -> str:
        return f"FaultPlanSpec({self.to_code() or 'no faults'})"


def http_faults(statuses: Sequence[int] = HTTP_STATUSES) -> st.SearchStrategy[tuple[Fault, str]]:
    return st.sampled_from(list(statuses)).map(
        lambda status: (http_error(status), f"http_error({status})")
    )


def transport_faults() -> st.SearchStrategy[tuple[Fault, str]]:
    return st.sampled_from(
        [
            (connect_error(), "connect_error()"),
            (connection_reset(), "connection_reset()"),
            (read_timeout(10.0), "read_timeout(10.0)"),
        ]
    )


@st.composite
def stream_faults(draw: st.DrawFn) -> tuple[Fault, str]:
    """Broken event streams: cut, garbled, split, unterminated, stalled, duplicated."""
    after = draw(st.integers(0, 4))
    kind = draw(st.sampled_from(["drop", "malformed", "split", "no_terminal", "stall", "dup"]))
    if kind == "drop":
        return drop_stream(after), f"drop_stream({after})"
    if kind == "malformed":
        return malformed_frame(after), f"malformed_frame({after})"
    if kind == "split":
        return split_utf8(), "split_utf8()"
    if kind == "no_terminal":
        return no_terminal(after), f"no_terminal({after})"
    if kind == "stall":
        seconds = draw(st.sampled_from([1.0, 31.0, 120.0]))
        return stall(seconds, after=after), f"stall({seconds}, after={after})"
    return duplicate_event(after=after), f"duplicate_event(after={after})"


@st.composite
def _planned(
    draw: st.DrawFn,
    endpoints: tuple[str, ...],
    kinds: tuple[str, ...],
    max_nth: int,
    statuses: tuple[int, ...],
    counts: tuple[int | None, ...],
) -> PlannedFault:
    kind = draw(st.sampled_from([k for k in kinds if k != "stream" or "events" in endpoints]))
    if kind == "stream":
        on = "events"
        fault, code = draw(stream_faults())
    else:
        on = draw(st.sampled_from(endpoints))
        fault, code = draw(http_faults(statuses) if kind == "http" else transport_faults())
    nth = draw(st.none() | st.integers(1, max_nth))
    times = draw(st.sampled_from(counts))
    return PlannedFault(fault, code, on, nth, times)


def fault_plans(
    *,
    endpoints: Sequence[str] = ENDPOINTS,
    kinds: Sequence[str] = ("http", "transport", "stream"),
    max_faults: int = 3,
    max_nth: int = 3,
    statuses: Sequence[int] = HTTP_STATUSES,
    times: Sequence[int | None] = (1, 1, 2, 3),
) -> st.SearchStrategy[FaultPlanSpec]:
    """Plans of up to `max_faults` faults on `endpoints` (names as `server.fault(on=...)`
    takes them) of the given `kinds` ("http", "transport", "stream"), HTTP `statuses`,
    each firing `times` times (None: every time); shrinks to no faults."""
    unknown = set(kinds) - {"http", "transport", "stream"}
    if unknown or not kinds:
        raise ValueError(f"kinds must be some of http, transport, stream; got {tuple(kinds)!r}")
    if "stream" in kinds and "events" not in endpoints and set(kinds) == {"stream"}:
        raise ValueError("stream faults need 'events' among the endpoints")
    planned = _planned(tuple(endpoints), tuple(kinds), max_nth, tuple(statuses), tuple(times))
    return st.lists(planned, max_size=max_faults).map(lambda items: FaultPlanSpec(tuple(items)))
