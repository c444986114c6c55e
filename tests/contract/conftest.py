"""Fixtures of the contract suite: each case runs in-process and over a real socket.

`make_api(**server_kwargs)` builds a `FakeRunsServer` and opens it the way the test is
parametrised: `server.mock()` (respx, in-process) or `server.serve()` (uvicorn on
127.0.0.1). Either way the test talks to it with a plain sync `httpx.Client` through the
`Api` helper, which also reads an SSE response frame by frame, raw, so the framing itself
(`data: <json>\\n\\n`, `: keepalive\\n\\n`, `: stream closed\\n\\n`) can be asserted.

Time: `auto_clock()` is a ManualClock whose stream readers jump to the next scheduled
moment (nothing sleeps); `driven_clock()` is one that only the test moves, for cases where
the test acts while a stream is open (otherwise a reader on the loopback server's thread
would run the timeline ahead of the test).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from agentfakes.clocks import ManualClock
from agentfakes.drift.client import authorized
from agentfakes.server import FakeRunsServer

KEEPALIVE = b": keepalive\n\n"
CLOSED = b": stream closed\n\n"
JSON_TYPE = "application/json; charset=utf-8"
SECURITY_HEADERS = {  # spec §1.2; the values the spec spells out are checked exactly
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "permissions-policy": None,
    "strict-transport-security": None,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "x-xss-protection": "0",
    "referrer-policy": "no-referrer",
}
# How long (real seconds) a reader on a driven clock may wait before the clock jumps by
# itself. Tests never rely on it: they move the clock before reading. It only bounds the
# damage if a test reads a frame that is not due yet.
DRIVEN_GRACE = 5.0
# No case reads more frames than this from one stream; more means an endless stream (say,
# keepalives forever after a lost `: stream closed`), which must fail, not hang.
MAX_FRAMES = 200


def auto_clock() -> ManualClock:
    """Virtual time that stream readers jump forward to the next scheduled moment."""
    return ManualClock()


def driven_clock() -> ManualClock:
    """Virtual time that only the test moves (`clock.advance`)."""
    return ManualClock(grace=DRIVEN_GRACE)


# ---------------------------------------------------------------- expected bodies


def err(message: str, code: str | None, err_type: str = "invalid_request_error") -> dict[str, Any]:
    """The `_openai_error` envelope (spec §1.4)."""
    return {"error": {"message": message, "type": err_type, "param": None, "code": code}}


def run404(run_id: str) -> dict[str, Any]:
    return err(f"Run not found: {run_id}", "run_not_found")


INVALID_KEY = {
    "error": {
        "message": "Invalid API key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}


def data_frame(event: dict[str, Any]) -> bytes:
    """The exact bytes of one SSE event frame: a single `data:` line (spec §5.1)."""
    return b"data: " + json.dumps(event).encode("ascii") + b"\n\n"


def parse_frame(frame: bytes) -> dict[str, Any]:
    """The event of a `data:` frame; fails unless the frame is exactly one data line."""
    assert frame.startswith(b"data: "), frame
    assert frame.endswith(b"\n\n"), frame
    line = frame[len(b"data: ") : -2]
    assert b"\n" not in line, f"more than one line in {frame!r}"
    event = json.loads(line)
    assert isinstance(event, dict)
    assert frame == data_frame(event), f"not json.dumps' default form: {frame!r}"
    return event


def events_of(frames: list[bytes]) -> list[dict[str, Any]]:
    return [parse_frame(f) for f in frames if f.startswith(b"data: ")]


def names_of(frames: list[bytes]) -> list[str]:
    return [e["event"] for e in events_of(frames)]


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert name in response.headers, f"{name} missing on {response.request.url}"
        if value is not None:
            assert response.headers[name] == value


def assert_no_security_headers(response: httpx.Response) -> None:
    present = [name for name in SECURITY_HEADERS if name in response.headers]
    assert present == [], f"security headers on a response that must not carry them: {present}"


def assert_json(
    response: httpx.Response, status: int, body: dict[str, Any], *, exact_bytes: bool = True
) -> None:
    """Status, JSON content type, security headers, the parsed body and (by default) the
    exact bytes json.dumps writes: `", "` / `": "` separators, this key order."""
    assert response.status_code == status, (
        response.status_code,
        response.headers.get("content-type"),
    )
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json() == body
    if exact_bytes:
        assert response.content == json.dumps(body).encode("ascii")
    assert_security_headers(response)


# ---------------------------------------------------------------- the client helper


class Stream:
    """An open SSE response, read raw and split into frames as the bytes arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._chunks = response.iter_raw()
        self._buffer = b""
        self.frames: list[bytes] = []
        self.eof = False

    def next(self) -> bytes | None:
        """The next whole frame (including its `\\n\\n`), or None at the end of the body."""
        assert len(self.frames) < MAX_FRAMES, f"a runaway stream: {self.frames[-3:]}"
        while b"\n\n" not in self._buffer:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.eof = True
                assert self._buffer == b"", f"the stream ended mid-frame: {self._buffer!r}"
                return None
            self._buffer += chunk
        head, self._buffer = self._buffer.split(b"\n\n", 1)
        frame = head + b"\n\n"
        self.frames.append(frame)
        return frame

    def next_event(self) -> dict[str, Any]:
        """The next data frame's event; keepalives are not expected here."""
        frame = self.next()
        assert frame is not None, f"the stream ended; frames so far: {self.frames}"
        return parse_frame(frame)

    def until(self, event_name: str) -> list[bytes]:
        """Frames up to and including the first event called `event_name`."""
        start = len(self.frames)
        while True:
            frame = self.next()
            assert frame is not None, f"no {event_name} before the end: {self.frames}"
            if frame.startswith(b"data: ") and parse_frame(frame)["event"] == event_name:
                return self.frames[start:]

    def rest(self) -> list[bytes]:
        """Every remaining frame, up to the end of the body."""
        start = len(self.frames)
        while self.next() is not None:
            pass
        return self.frames[start:]


@dataclass
class Api:
    """One fake server, opened one way, and a sync httpx client aimed at it."""

    server: FakeRunsServer
    base_url: str
    http: httpx.Client
    transport: str  # "mock" or "loopback"

    @property
    def clock(self) -> ManualClock:
        clock = self.server.clock
        assert isinstance(clock, ManualClock), "this test needs FakeRunsServer(clock=ManualClock())"
        return clock

    @property
    def key(self) -> str:
        return self.server.api_key

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool | str = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """`auth=True` sends `Bearer <key>`, `False` nothing, a string that raw header."""
        sent = authorized(headers, auth, self.key)
        return self.http.request(method, path, headers=sent, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def create(self, body: Any = None, **kwargs: Any) -> str:
        """POST /v1/runs (default `{"input": "hi"}`); assert 202; return the run id."""
        response = self.post("/v1/runs", json={"input": "hi"} if body is None else body, **kwargs)
        assert response.status_code == 202, response.text
        run_id: str = response.json()["run_id"]
        return run_id

    def run(self, run_id: str) -> dict[str, Any]:
        """GET /v1/runs/{id}; assert 200; the run object."""
        response = self.get(f"/v1/runs/{run_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def get_events(self, run_id: str) -> httpx.Response:
        """GET …/events expecting an error: the body is read only if it is not SSE (a
        stream that should not exist could be endless, and then this fails, not hangs)."""
        headers = {"Authorization": f"Bearer {self.key}"}
        with self.http.stream("GET", f"/v1/runs/{run_id}/events", headers=headers) as response:
            if response.headers.get("content-type") != "text/event-stream":
                response.read()
        return response

    def approve(self, run_id: str, body: Any) -> httpx.Response:
        return self.post(f"/v1/runs/{run_id}/approval", json=body)

    def stop(self, run_id: str) -> httpx.Response:
        return self.post(f"/v1/runs/{run_id}/stop")

    @contextmanager
    def stream(self, run_id: str, **kwargs: Any) -> Iterator[Stream]:
        """GET …/events as an open stream; assert the SSE status and headers."""
        headers = {"Authorization": f"Bearer {self.key}"}
        with self.http.stream("GET", f"/v1/runs/{run_id}/events", headers=headers, **kwargs) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"] == "text/event-stream"
            assert r.headers["cache-control"] == "no-cache"
            assert r.headers["x-accel-buffering"] == "no"
            assert_no_security_headers(r)
            yield Stream(r)

    def read(self, run_id: str) -> list[bytes]:
        """Every frame of the run's stream, to the end of the body."""
        with self.stream(run_id) as stream:
            frames = stream.rest()
        assert stream.eof
        return frames


MakeApi = Callable[..., Api]


@pytest.fixture(scope="session")
def loopback_reaper() -> Iterator[ThreadPoolExecutor]:
    """Stops finished loopback servers off the test's critical path.

    uvicorn takes 0.1-0.3 s to shut down (it polls `should_exit` every 0.1 s and sleeps
    0.1 s in `shutdown`); paid once per loopback case that would dominate the suite. The
    servers are still stopped and their threads joined, at the latest when the session ends.
    (`with server.serve()` itself, stop and thread clean-up included, is tested in
    test_clients.py.)
    """
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="contract-reaper") as pool:
        yield pool


@pytest.fixture(params=["mock", "loopback"])
def transport(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def make_api(transport: str, loopback_reaper: ThreadPoolExecutor) -> Iterator[MakeApi]:
    """Build servers (`FakeRunsServer(**kwargs)`) opened the parametrised way; on teardown
    the client is closed and `server.verify()` runs (strict: unused scripts fail)."""
    stopping: list[Future[None]] = []
    with ExitStack() as stack:

        def make(*, verify: bool = True, **server_kwargs: Any) -> Api:
            server = FakeRunsServer(**server_kwargs)
            if transport == "mock":
                stack.enter_context(server.mock(verify=verify))
                base_url = server.base_url
            else:
                loopback = server.serve(verify=verify)
                base_url = loopback.start()
                # LIFO: after the client closes, verify now, stop in the background.
                stack.callback(lambda: stopping.append(loopback_reaper.submit(loopback.stop)))
                if verify:
                    stack.callback(server.verify)
            # Reads outlast the 30 s keepalive: in-process, the read timeout runs on the
            # server's clock (issue 8), as it would against the real server.
            timeout = httpx.Timeout(10.0, read=45.0)
            http = stack.enter_context(
                httpx.Client(base_url=base_url, trust_env=False, timeout=timeout, verify=False)
            )
            return Api(server, base_url, http, transport)

        yield make


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    """A default server (real clock, default settings) opened the parametrised way."""
    return make_api()
