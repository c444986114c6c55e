"""Transport parity: one set of app scenarios, every way in, the same outcome (issue 8).

Each scenario is an app written once against a small client (`Http`): it creates runs,
polls, reads the event stream, answers approvals, stops runs and retries, and records what
it saw. Every way in must give the same record:

* real clock: `mock()` (sync and async clients), `transport()`, `async_transport()` and
  `serve()` (a sync httpx client over the loopback socket);
* virtual clock: the same in-process ways, and `serve()` with an async client, whose
  timeouts are loop timers and so virtual too. A sync client over loopback in virtual time
  is pinned down separately: its read timeout is the kernel's, in real seconds.

Scripted times are fractions of a second so the real-clock matrix stays cheap; under the
VirtualClock they cost nothing and the virtual moment each app finished is compared too.
Spec sections: §2.3 (late stream 404), §5 (events, keepalive), §6.1 (stop), §7 (approvals).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any, Protocol

import httpx
import pytest

from agentfakes import FakeRunsServer, ManualClock, Script, VirtualClock, faults
from agentfakes.clocks import DEFAULT_START

DEFAULT_READ = 5.0  # httpx's default

# ------------------------------------------------------------------ the app's client


class Http(Protocol):
    """What an app does over HTTP, the same for sync and async clients."""

    async def request(
        self, method: str, path: str, *, json: Any = None, read: float | None = DEFAULT_READ
    ) -> httpx.Response: ...

    def lines(self, path: str, *, read: float | None = DEFAULT_READ) -> AsyncIterator[str]: ...

    async def sleep(self, seconds: float) -> None: ...


def _timeout(read: float | None) -> httpx.Timeout:
    return httpx.Timeout(DEFAULT_READ, read=read)


class SyncHttp:
    """A sync httpx client behind async methods that never suspend (see `run_sync`)."""

    def __init__(self, client: httpx.Client, sleep: Callable[[float], None]) -> None:
        self.client = client
        self._sleep = sleep

    async def request(
        self, method: str, path: str, *, json: Any = None, read: float | None = DEFAULT_READ
    ) -> httpx.Response:
        return self.client.request(method, path, json=json, timeout=_timeout(read))

    async def lines(self, path: str, *, read: float | None = DEFAULT_READ) -> AsyncIterator[str]:
        with self.client.stream("GET", path, timeout=_timeout(read)) as response:
            if response.status_code != 200:
                response.read()
                yield f"HTTP {response.status_code}"
                return
            for line in response.iter_lines():
                if line:
                    yield line

    async def sleep(self, seconds: float) -> None:
        self._sleep(seconds)


class AsyncHttp:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self, method: str, path: str, *, json: Any = None, read: float | None = DEFAULT_READ
    ) -> httpx.Response:
        return await self.client.request(method, path, json=json, timeout=_timeout(read))

    async def lines(self, path: str, *, read: float | None = DEFAULT_READ) -> AsyncIterator[str]:
        async with self.client.stream("GET", path, timeout=_timeout(read)) as response:
            if response.status_code != 200:
                await response.aread()
                yield f"HTTP {response.status_code}"
                return
            async for line in response.aiter_lines():
                if line:
                    yield line

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def run_sync(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run an app on a sync client: its awaits never suspend, so one `send` finishes it."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("a sync app awaited something that suspends")


# ------------------------------------------------------------------ the apps


Record = list[str]
App = Callable[[Http, FakeRunsServer], Awaitable[Record]]


async def create(http: Http, record: Record, text: str = "go") -> str:
    """POST /v1/runs, retrying a 429 or 503 as a client should (spec §6.5)."""
    while True:
        response = await http.request("POST", "/v1/runs", json={"input": text})
        if response.status_code in (429, 503):
            record.append(
                f"create {response.status_code} retry-after {response.headers.get('retry-after')}"
            )
            await http.sleep(0.01)
            continue
        assert response.status_code == 202, response.text
        return str(response.json()["run_id"])


def describe(line: str) -> str:
    """An SSE line as the app sees it: the event name, a comment, or `malformed`."""
    if not line.startswith("data: "):
        return line
    try:
        return str(json.loads(line[len("data: ") :])["event"])
    except json.JSONDecodeError:
        return "malformed"


async def read_stream(
    http: Http,
    run_id: str,
    record: Record,
    *,
    read: float | None = DEFAULT_READ,
    on_event: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Read the run's stream to its end, recording every line and how it ended."""
    try:
        async for line in http.lines(f"/v1/runs/{run_id}/events", read=read):
            seen = describe(line)
            record.append(seen)
            if on_event is not None:
                await on_event(seen)
    except httpx.TransportError as error:
        record.append(type(error).__name__)


async def status(http: Http, run_id: str, record: Record) -> None:
    run = (await http.request("GET", f"/v1/runs/{run_id}")).json()
    record.append(f"status {run['status']}")


async def app_complete(http: Http, server: FakeRunsServer) -> Record:
    server.script(Script().delta("a").wait(0.05).delta("b").complete("ab"))
    record: Record = []
    run_id = await create(http, record)
    await read_stream(http, run_id, record)
    await status(http, run_id, record)
    return record


def gated(timeout: float | None) -> Script:
    return (
        Script()
        .tool_started("terminal", "make deploy")
        .approval("make deploy", "deploy", timeout=timeout)
        .tool_completed("terminal", duration=0.05)
        .delta("Deployed.")
        .complete("Deployed.")
    )


def app_approval(choice: str | None) -> App:
    """Answer the approval with `choice`, or let it time out (after 0.2 s) when None."""

    async def app(http: Http, server: FakeRunsServer) -> Record:
        server.script(gated(None if choice else 0.2))
        record: Record = []
        run_id = await create(http, record)

        async def answer(event: str) -> None:
            if event == "approval.request" and choice is not None:
                response = await http.request(
                    "POST", f"/v1/runs/{run_id}/approval", json={"choice": choice}
                )
                record.append(f"answered {response.status_code} {response.json()['choice']}")

        await read_stream(http, run_id, record, on_event=answer)
        await status(http, run_id, record)
        errors = [e.error for e in server.runs[run_id].events if e.event == "tool.completed"]
        record.append(f"tool error {errors}")
        return record

    return app


async def app_stop(http: Http, server: FakeRunsServer) -> Record:
    server.script(Script().delta("a").wait(5).answer("never"))
    record: Record = []
    run_id = await create(http, record)

    async def stop(event: str) -> None:
        if event == "message.delta":
            response = await http.request("POST", f"/v1/runs/{run_id}/stop")
            record.append(f"stop {response.json()['status']}")

    await read_stream(http, run_id, record, on_event=stop)
    await status(http, run_id, record)
    return record


async def app_failure(http: Http, server: FakeRunsServer) -> Record:
    server.script(Script().delta("a").fail("kaboom"))
    record: Record = []
    run_id = await create(http, record)
    await read_stream(http, run_id, record)
    run = (await http.request("GET", f"/v1/runs/{run_id}")).json()
    record.append(f"status {run['status']} {run['error']}")
    return record


def app_retry(status_code: int) -> App:
    async def app(http: Http, server: FakeRunsServer) -> Record:
        server.script(Script().delta("ok").complete("ok"))
        server.fault(faults.http_error(status_code), on="create", times=2)
        record: Record = []
        run_id = await create(http, record)
        await read_stream(http, run_id, record)
        return record

    return app


THREE_DELTAS = Script().delta("a").delta("b").delta("c").complete("abc")


def app_stream_fault(fault: faults.Fault, *, read: float | None = DEFAULT_READ) -> App:
    async def app(http: Http, server: FakeRunsServer) -> Record:
        server.script(THREE_DELTAS)
        server.fault(fault, on="events")
        record: Record = []
        run_id = await create(http, record)
        await read_stream(http, run_id, record, read=read)
        return record

    return app


async def app_keepalive(http: Http, server: FakeRunsServer) -> Record:
    server.engine.settings.keepalive = 0.15
    server.script(Script().delta("a").wait(0.4).complete("a"))
    record: Record = []
    run_id = await create(http, record)
    await read_stream(http, run_id, record)
    return record


async def app_late_head(http: Http, server: FakeRunsServer) -> Record:
    """A second GET of a single-use stream 404s after ~1 s (spec §2.3, §5.6): a read
    timeout shorter than that fires first, a longer one sees the 404."""
    server.engine.settings.missing_stream_delay = 0.3
    server.script(Script().delta("ok").complete("ok"))
    record: Record = []
    run_id = await create(http, record)
    await read_stream(http, run_id, record)
    await read_stream(http, run_id, record, read=0.1)
    await read_stream(http, run_id, record, read=1.0)
    return record


async def app_silent_server(http: Http, server: FakeRunsServer) -> Record:
    """A server that never answers (`faults.read_timeout`) holds the line, then closes it."""
    server.script(Script().delta("ok").complete("ok"))
    server.fault(faults.read_timeout(0.3), on="poll", times=2)
    record: Record = []
    run_id = await create(http, record)
    for read in (0.1, None, DEFAULT_READ):
        try:
            response = await http.request("GET", f"/v1/runs/{run_id}", read=read)
            record.append(f"poll {response.json()['status']}")
        except httpx.TransportError as error:
            record.append(f"poll {type(error).__name__}")
    return record


COMPLETE = ["message.delta", "message.delta", "run.completed", ": stream closed"]
TOOL_TURN = ["tool.started", "approval.request"]

SCENARIOS: dict[str, tuple[App, Record]] = {
    "complete": (app_complete, [*COMPLETE, "status completed"]),
    "approve": (
        app_approval("once"),
        [
            *TOOL_TURN,
            "answered 200 once",
            "approval.responded",
            "tool.completed",
            "message.delta",
            "run.completed",
            ": stream closed",
            "status completed",
            "tool error [False]",
        ],
    ),
    "deny": (
        app_approval("deny"),
        [
            *TOOL_TURN,
            "answered 200 deny",
            "approval.responded",
            "tool.completed",
            "message.delta",
            "run.completed",
            ": stream closed",
            "status completed",
            "tool error [True]",
        ],
    ),
    "approval_timeout": (
        app_approval(None),
        [
            *TOOL_TURN,
            "tool.completed",
            "message.delta",
            "run.completed",
            ": stream closed",
            "status completed",
            "tool error [True]",
        ],
    ),
    "stop": (
        app_stop,
        ["message.delta", "stop stopping", "run.cancelled", ": stream closed", "status cancelled"],
    ),
    "failure": (
        app_failure,
        ["message.delta", "run.failed", ": stream closed", "status failed kaboom"],
    ),
    "retry_429": (
        app_retry(429),
        ["create 429 retry-after 1", "create 429 retry-after 1", *COMPLETE[1:]],
    ),
    "retry_503": (
        app_retry(503),
        ["create 503 retry-after 1", "create 503 retry-after 1", *COMPLETE[1:]],
    ),
    "drop": (
        app_stream_fault(faults.drop_stream(after=1)),
        ["message.delta", "RemoteProtocolError"],
    ),
    "stall_past_read_timeout": (
        app_stream_fault(faults.stall(0.6, after=1), read=0.2),
        ["message.delta", "ReadTimeout"],
    ),
    "stall_within_read_timeout": (
        app_stream_fault(faults.stall(0.1, after=1), read=0.5),
        ["message.delta", "message.delta", "message.delta", "run.completed", ": stream closed"],
    ),
    "malformed_frame": (
        app_stream_fault(faults.malformed_frame(after=1)),
        [
            "message.delta",
            "malformed",
            "message.delta",
            "message.delta",
            "run.completed",
            ": stream closed",
        ],
    ),
    "keepalive": (
        app_keepalive,
        ["message.delta", ": keepalive", ": keepalive", "run.completed", ": stream closed"],
    ),
    "late_head": (
        app_late_head,
        [*COMPLETE[1:], "ReadTimeout", "HTTP 404"],
    ),
    "silent_server": (
        app_silent_server,
        ["poll ReadTimeout", "poll RemoteProtocolError", "poll completed"],
    ),
}


# ------------------------------------------------------------------ the ways in


def auth(server: FakeRunsServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


def _sync_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)  # virtual under a VirtualClock: the app's own polling pause


_REAPER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="parity-reaper")


def serve(server: FakeRunsServer, stack: ExitStack) -> str:
    """`server.serve()`, stopped off the test's path (uvicorn takes ~0.2 s to stop); the
    server is verified as `serve()` does on a clean exit."""
    loopback = server.serve(verify=False)
    url = loopback.start()
    stack.callback(server.verify)
    stack.callback(lambda: _REAPER.submit(loopback.stop))
    return url


def run_way(way: str, app: App, server: FakeRunsServer) -> Record:
    """Run `app` against `server` the way `way` says."""
    headers = auth(server)
    if way in ("mock", "transport", "serve"):
        with ExitStack() as stack:
            if way == "mock":
                stack.enter_context(server.mock())
                client = httpx.Client(base_url=server.base_url, headers=headers)
            elif way == "transport":
                client = httpx.Client(
                    transport=server.transport(), base_url=server.base_url, headers=headers
                )
            else:
                url = serve(server, stack)
                client = httpx.Client(base_url=url, headers=headers)
            with client:
                record: Record = run_sync(app(SyncHttp(client, _sync_sleep), server))
            return record

    async def main() -> Record:
        with ExitStack() as stack:
            if way == "mock_async":
                stack.enter_context(server.mock())
                client = httpx.AsyncClient(base_url=server.base_url, headers=headers)
            elif way == "async_transport":
                client = httpx.AsyncClient(
                    transport=server.async_transport(), base_url=server.base_url, headers=headers
                )
            else:
                assert way == "serve_async"
                url = serve(server, stack)
                client = httpx.AsyncClient(base_url=url, headers=headers)
            async with client:
                return await app(AsyncHttp(client), server)

    return asyncio.run(main())


REAL_WAYS = ["mock", "mock_async", "transport", "async_transport", "serve"]
VIRTUAL_WAYS = ["mock", "mock_async", "transport", "async_transport", "serve_async"]


@pytest.mark.parametrize("way", REAL_WAYS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_real_clock(scenario: str, way: str) -> None:
    app, expected = SCENARIOS[scenario]
    server = FakeRunsServer()
    assert run_way(way, app, server) == expected


# Virtual seconds from the app's start to its end, the same on every way in.
VIRTUAL_ELAPSED = {
    "complete": 0.05,
    "approve": 0.05,
    "deny": 0.0,
    "approval_timeout": 0.2,
    "stop": 0.05,
    "failure": 0.0,
    "retry_429": 0.02,
    "retry_503": 0.02,
    "drop": 0.0,
    "stall_past_read_timeout": 0.2,
    "stall_within_read_timeout": 0.1,
    "malformed_frame": 0.0,
    "keepalive": 0.4,
    "late_head": 0.4,
    "silent_server": 0.4,
}


@pytest.mark.parametrize("way", VIRTUAL_WAYS)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_virtual_clock(scenario: str, way: str) -> None:
    """Over a socket the server's thread and the app's loop race in real time; the clock's
    jump rule (no jump while another thread is busy, has a moment due or moved time since
    the jumper looked) keeps the default 2 ms grace enough, even on a loaded machine."""
    app, expected = SCENARIOS[scenario]
    with VirtualClock() as clock:
        server = FakeRunsServer(clock=clock)
        record = run_way(way, app, server)
        elapsed = clock.elapsed
    assert record == expected
    assert elapsed == pytest.approx(VIRTUAL_ELAPSED[scenario], abs=1e-6)


@pytest.mark.parametrize("way", ["mock", "mock_async", "transport", "async_transport"])
def test_on_a_manual_clock_a_read_times_out_at_its_moment(way: str) -> None:
    """The engine's ManualClock is the clock timeouts run on too: a 10 min stall against a
    20 s read timeout fails at exactly +20 s (before the 30 s keepalive), with no real
    waiting; None reads it all."""
    clock = ManualClock()
    past = app_stream_fault(faults.stall(600, after=1), read=20.0)
    assert run_way(way, past, FakeRunsServer(clock=clock)) == ["message.delta", "ReadTimeout"]
    assert clock.now() - DEFAULT_START == 20
    clock = ManualClock()
    unlimited = app_stream_fault(faults.stall(600, after=1), read=None)
    record = run_way(way, unlimited, FakeRunsServer(clock=clock))
    assert record[0] == "message.delta" and record[-2:] == ["run.completed", ": stream closed"]
    assert record.count(": keepalive") == 19  # at 30, 60, ..., 570 s; at 600 s data comes
    assert clock.now() - DEFAULT_START == 600


def test_a_sync_client_over_loopback_in_virtual_time_keeps_real_read_timeouts() -> None:
    """A sync client's socket read timeout is the kernel's, in real seconds: no virtual
    clock can see it. A 60 s virtual stall passes in milliseconds over loopback, so the app
    reads on; in-process, as against the real server, its 5 s read timeout fires."""
    app = app_stream_fault(faults.stall(60, after=1), read=5.0)
    with VirtualClock() as clock:
        over_loopback = run_way("serve", app, FakeRunsServer(clock=clock))
        loopback_elapsed = clock.elapsed
    with VirtualClock() as clock:
        in_process = run_way("transport", app, FakeRunsServer(clock=clock))
        in_process_elapsed = clock.elapsed
    assert over_loopback == [
        "message.delta",
        ": keepalive",
        "message.delta",
        "message.delta",
        "run.completed",
        ": stream closed",
    ]
    assert loopback_elapsed == 60
    assert in_process == ["message.delta", "ReadTimeout"]
    assert in_process_elapsed == 5
