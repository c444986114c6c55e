"""What a black-box case may use: plain HTTP to a base URL with a key, and nothing else.

`Target` says where the server is and how it is configured; `DriftClient` sends requests
(httpx) and reads SSE streams raw, frame by frame, so the framing itself is compared;
`DriftMismatch` names the case, the field, the expected value (what the fake and the
reference real server send) and this server's value. Ids and timestamps are compared by
shape, timings with a tolerance, everything else exactly.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from agentfakes.drift.profile import REFERENCE_PROFILE, ServerProfile
from agentfakes.drift.script_book import DEFAULT_SCRATCH

__all__ = ["DriftClient", "DriftMismatch", "EventStream", "Target", "authorized"]

KEEPALIVE = b": keepalive\n\n"
CLOSED = b": stream closed\n\n"
JSON_TYPE = "application/json; charset=utf-8"
SECURITY_HEADERS = {  # the values spec §1.2 spells out
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "x-xss-protection": "0",
    "referrer-policy": "no-referrer",
}
RUN_ID = re.compile(r"^run_[0-9a-f]{32}$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")
MAX_FRAMES = 500  # more from one stream means it never ends: fail, never hang


@dataclass(frozen=True)
class Target:
    """A server to run the cases against.

    `scratch` is the directory the `approval` marker's command deletes (the real server's
    fake LLM chooses it); `real_time` says the server keeps real time, which allows wall-clock
    checks (the ~1 s before a stream 404). A fake on a ManualClock is not real time: there,
    every wait is read from the event stream and costs nothing.
    """

    base_url: str
    api_key: str
    profile: ServerProfile = REFERENCE_PROFILE
    scratch: str = DEFAULT_SCRATCH
    real_time: bool = True
    name: str = "server"
    timeout: float = 60.0  # per request; a stream waits up to this long between frames


class DriftMismatch(AssertionError):
    """A server answered a black-box case differently from the reference behaviour."""

    def __init__(self, case: str, field: str, expected: Any, actual: Any, note: str = "") -> None:
        self.case, self.field, self.expected, self.actual, self.note = (
            case,
            field,
            expected,
            actual,
            note,
        )
        extra = f" ({note})" if note else ""
        super().__init__(
            f"{case}: {field}: expected (fake/reference) {_show(expected)}, "
            f"got {_show(actual)}{extra}"
        )


def _show(value: Any, limit: int = 300) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


@dataclass
class EventStream:
    """An open `GET …/events`, split into frames as the bytes arrive."""

    response: httpx.Response
    case: str
    frames: list[bytes] = field(default_factory=list)
    eof: bool = False
    _chunks: Iterator[bytes] | None = None
    _buffer: bytes = b""

    def next(self) -> bytes | None:
        """The next whole frame (with its blank line), or None at the end of the body."""
        if len(self.frames) >= MAX_FRAMES:
            raise DriftMismatch(self.case, "stream", f"< {MAX_FRAMES} frames", "more")
        if self._chunks is None:
            self._chunks = self.response.iter_raw()
        while b"\n\n" not in self._buffer:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.eof = True
                if self._buffer:
                    raise DriftMismatch(self.case, "stream end", b"", self._buffer) from None
                return None
            self._buffer += chunk
        head, self._buffer = self._buffer.split(b"\n\n", 1)
        frame = head + b"\n\n"
        self.frames.append(frame)
        return frame

    def event(self) -> dict[str, Any]:
        """The next frame, which must be one `data:` event frame."""
        frame = self.next()
        if frame is None:
            raise DriftMismatch(self.case, "stream", "another event", "end of stream")
        return parse_event_frame(self.case, frame)

    def until(self, name: str) -> list[dict[str, Any]]:
        """Events up to and including the first called `name` (keepalives skipped)."""
        events: list[dict[str, Any]] = []
        while True:
            frame = self.next()
            if frame is None:
                seen = [e["event"] for e in events]
                raise DriftMismatch(self.case, "stream", f"an {name} event", f"only {seen}")
            if frame == KEEPALIVE:
                continue
            events.append(parse_event_frame(self.case, frame))
            if events[-1]["event"] == name:
                return events

    def rest(self) -> list[bytes]:
        """Every remaining frame, to the end of the body."""
        start = len(self.frames)
        while self.next() is not None:
            pass
        return self.frames[start:]


def parse_event_frame(case: str, frame: bytes) -> dict[str, Any]:
    """The event of a frame that must be exactly `data: <json.dumps(event)>\\n\\n` (§5.1)."""
    if not frame.startswith(b"data: ") or b"\n" in frame[:-2]:
        raise DriftMismatch(case, "frame", "one `data: {json}` line", frame)
    try:
        event = json.loads(frame[6:-2])
    except ValueError:
        raise DriftMismatch(case, "frame", "JSON data", frame) from None
    if not isinstance(event, dict) or b"data: " + json.dumps(event).encode() + b"\n\n" != frame:
        raise DriftMismatch(case, "frame", "json.dumps' default form", frame)
    return event


def authorized(headers: dict[str, str] | None, auth: bool | str, key: str) -> dict[str, str]:
    """`headers` plus the Authorization a case asks for: `auth=True` is `Bearer <key>`,
    False none, a string that raw header (how black-box cases probe §1.2's auth)."""
    sent = dict(headers or {})
    if auth is True:
        sent["Authorization"] = f"Bearer {key}"
    elif isinstance(auth, str):
        sent["Authorization"] = auth
    return sent


class DriftClient:
    """httpx against one Target, for one case; remembers the runs it created."""

    def __init__(self, target: Target, case: str) -> None:
        self.target = target
        self.case = case
        self.runs: list[str] = []
        self.consumed: set[str] = set()
        self.http = httpx.Client(
            base_url=target.base_url.rstrip("/"),
            trust_env=False,
            timeout=httpx.Timeout(target.timeout, connect=10.0),
        )

    def close(self) -> None:
        self.http.close()

    # -- requests

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool | str = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """`auth=True` sends `Bearer <key>`, False nothing, a string that raw header."""
        sent = authorized(headers, auth, self.target.api_key)
        return self.http.request(method, path, headers=sent, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def create(self, body: Any, **kwargs: Any) -> str:
        """POST /v1/runs; expect 202 and a well-formed id; return it."""
        response = self.post("/v1/runs", json=body, **kwargs)
        self.status(response, 202, "POST /v1/runs")
        run_id = response.json().get("run_id")
        self.check("POST /v1/runs run_id", run_id, RUN_ID)
        self.runs.append(run_id)
        return str(run_id)

    def run(self, run_id: str) -> dict[str, Any]:
        """GET /v1/runs/{id}; expect 200; the run object."""
        response = self.get(f"/v1/runs/{run_id}")
        self.status(response, 200, "GET run")
        body: dict[str, Any] = response.json()
        return body

    def approve(
        self, run_id: str, body: Any = None, *, content: bytes | None = None
    ) -> httpx.Response:
        path = f"/v1/runs/{run_id}/approval"
        if content is not None:
            return self.post(path, content=content)
        return self.post(path, json=body)

    def stop(self, run_id: str) -> httpx.Response:
        return self.post(f"/v1/runs/{run_id}/stop")

    def events_error(self, run_id: str) -> tuple[httpx.Response, float]:
        """GET …/events expecting no stream: the response (body read) and its wall time."""
        started = time.monotonic()
        auth = {"Authorization": f"Bearer {self.target.api_key}"}
        with self.http.stream("GET", f"/v1/runs/{run_id}/events", headers=auth) as response:
            if response.headers.get("content-type") == "text/event-stream":
                raise DriftMismatch(self.case, f"GET events {run_id}", "no stream", "a stream")
            response.read()
        return response, time.monotonic() - started

    @contextmanager
    def stream(self, run_id: str) -> Iterator[EventStream]:
        """GET …/events as an open stream; the status and SSE headers are checked."""
        auth = {"Authorization": f"Bearer {self.target.api_key}"}
        with self.http.stream("GET", f"/v1/runs/{run_id}/events", headers=auth) as response:
            if response.status_code != 200:
                response.read()
            self.status(response, 200, "GET events")
            for name, value in (
                ("content-type", "text/event-stream"),
                ("cache-control", "no-cache"),
                ("x-accel-buffering", "no"),
            ):
                self.equal(f"events header {name}", value, response.headers.get(name))
            self.equal(
                "events header content-security-policy (none on streams)",
                None,
                response.headers.get("content-security-policy"),
            )
            self.consumed.add(run_id)
            yield EventStream(response, self.case)

    def read(self, run_id: str) -> list[bytes]:
        """Every frame of a run's stream, to the end."""
        with self.stream(run_id) as events:
            return events.rest()

    # -- comparing

    def equal(self, field: str, expected: Any, actual: Any, note: str = "") -> None:
        if expected != actual or type(expected) is not type(actual):
            raise DriftMismatch(self.case, field, expected, actual, note)

    def check(self, field: str, actual: Any, pattern: re.Pattern[str]) -> None:
        if not isinstance(actual, str) or not pattern.match(actual):
            raise DriftMismatch(self.case, field, f"/{pattern.pattern}/", actual)

    def near(self, field: str, expected: float, actual: Any, tolerance: float) -> None:
        """A timing: `actual` within `tolerance` seconds of `expected`."""
        if (
            not isinstance(actual, int | float)
            or not math.isfinite(actual)
            or abs(actual - expected) > tolerance
        ):
            raise DriftMismatch(self.case, field, f"{expected} ± {tolerance} s", actual)

    def status(self, response: httpx.Response, expected: int, what: str) -> None:
        if response.status_code != expected:
            body = response.content[:200]
            raise DriftMismatch(
                self.case, f"{what} status", expected, response.status_code, f"body {body!r}"
            )

    def json(self, response: httpx.Response, status: int, body: Any, what: str) -> None:
        """Status, the JSON content type and the exact bytes `json.dumps(body)` writes."""
        self.status(response, status, what)
        self.equal(f"{what} content-type", JSON_TYPE, response.headers.get("content-type"))
        try:
            parsed = response.json()
        except ValueError:
            raise DriftMismatch(self.case, f"{what} body", body, response.content) from None
        self.equal(f"{what} body", body, parsed)
        self.equal(f"{what} body bytes", json.dumps(body).encode(), response.content)
        for name, value in SECURITY_HEADERS.items():  # on every JSON answer (§1.2)
            self.equal(f"{what} header {name}", value, response.headers.get(name))

    def keys(self, field: str, expected: list[str], actual: dict[str, Any]) -> None:
        """The keys of an object, in order (the real server's dicts keep insertion order)."""
        self.equal(f"{field} keys", expected, list(actual))

    def event(
        self, field: str, run_id: str, event: dict[str, Any], expected: dict[str, Any]
    ) -> float:
        """An event equal to `expected` once its `run_id` and `timestamp` are checked by
        shape; the envelope keys come first (§5.2). Returns its timestamp."""
        stamp = event.get("timestamp")
        if not isinstance(stamp, float):
            raise DriftMismatch(self.case, f"{field}.timestamp", "a float", stamp)
        self.equal(f"{field}.run_id", run_id, event.get("run_id"))
        rest = {k: v for k, v in event.items() if k not in ("run_id", "timestamp")}
        self.equal(field, expected, rest)
        envelope = ["event", "run_id", "timestamp"]
        if event.get("event") != "approval.request":
            self.equal(f"{field} key order", envelope + list(expected)[1:], list(event))
        return stamp

    def names(self, field: str, expected: list[str], events: list[dict[str, Any]]) -> None:
        self.equal(field, expected, [e.get("event") for e in events])
