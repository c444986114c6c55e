"""The same app-level scenarios through every way in and the HTTP clients apps really use.

Scenarios: poll a run to completion; stream it; answer an approval read from the stream
and see the run go on; stop a run. Clients: httpx sync via `server.mock()` and via
`server.transport()`; httpx async via `server.async_transport()` and via `server.mock()`
with httpx-sse; `requests` and aiohttp against `server.serve()`.

Nothing sleeps. Where a real app would sleep between polls, the test moves the ManualClock;
where two parts of an app hand over (a stream reader and an approver), they use events.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol

import aiohttp
import httpx
import httpx_sse
import pytest
import requests

from agentfakes.clocks import ManualClock
from agentfakes.errors import (
    NoScriptError,
    UnmockedRequestError,
    UnusedScriptError,
    VerificationError,
)
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer

from .conftest import auto_clock, driven_clock

TERMINAL = {"completed", "failed", "cancelled"}
TERMINAL_EVENTS = {"run.completed", "run.failed", "run.cancelled"}

POLLED = Script().wait(2).tool("terminal", "ls", duration=3).wait(1).answer("Listed.")
STREAMED = Script().wait(1).delta("Hel").wait(1).delta("lo").reasoning("Hello").complete("Hello")
GATED = (
    Script()
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path")
    .tool_completed("terminal")
    .answer("Deleted.")
)
SLOW = Script().delta("Hel").wait(60).delta("lo").complete("Hello")


def auth(server: FakeRunsServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


def data_lines(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Events from SSE lines; comments (`: keepalive`, `: stream closed`) are skipped.
    No scenario has 200 lines: more means an endless stream, which must fail, not hang."""
    for count, line in enumerate(lines):
        assert count < 200, "a runaway stream"
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])


async def _aenumerate(items: AsyncIterable[Any]) -> AsyncIterator[tuple[int, Any]]:
    count = 0
    async for item in items:
        yield count, item
        count += 1


# ====================================================================== sync clients


def _ok(response: httpx.Response) -> dict[str, Any]:
    """A 200 JSON answer from an httpx client, or the body in the failure message."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class SyncApp(Protocol):
    def create(self, text: str) -> str: ...
    def get(self, run_id: str) -> dict[str, Any]: ...
    def events(self, run_id: str) -> Iterator[dict[str, Any]]: ...
    def approve(self, run_id: str, choice: str) -> dict[str, Any]: ...
    def stop(self, run_id: str) -> dict[str, Any]: ...


class HttpxApp:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def create(self, text: str) -> str:
        response = self.client.post("/v1/runs", json={"input": text})
        assert response.status_code == 202, response.text
        run_id: str = response.json()["run_id"]
        return run_id

    def get(self, run_id: str) -> dict[str, Any]:
        return _ok(self.client.get(f"/v1/runs/{run_id}"))

    def events(self, run_id: str) -> Iterator[dict[str, Any]]:
        with self.client.stream("GET", f"/v1/runs/{run_id}/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream"
            yield from data_lines(response.iter_lines())

    def approve(self, run_id: str, choice: str) -> dict[str, Any]:
        return _ok(self.client.post(f"/v1/runs/{run_id}/approval", json={"choice": choice}))

    def stop(self, run_id: str) -> dict[str, Any]:
        return _ok(self.client.post(f"/v1/runs/{run_id}/stop"))


class RequestsApp:
    def __init__(self, session: requests.Session, url: str) -> None:
        self.session = session
        self.url = url

    def create(self, text: str) -> str:
        response = self.session.post(f"{self.url}/v1/runs", json={"input": text}, timeout=10)
        assert response.status_code == 202, response.text
        run_id: str = response.json()["run_id"]
        return run_id

    def get(self, run_id: str) -> dict[str, Any]:
        return self._ok(self.session.get(f"{self.url}/v1/runs/{run_id}", timeout=10))

    def events(self, run_id: str) -> Iterator[dict[str, Any]]:
        url = f"{self.url}/v1/runs/{run_id}/events"
        with self.session.get(url, stream=True, timeout=10) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream"
            yield from data_lines(response.iter_lines(decode_unicode=True))

    def approve(self, run_id: str, choice: str) -> dict[str, Any]:
        url = f"{self.url}/v1/runs/{run_id}/approval"
        return self._ok(self.session.post(url, json={"choice": choice}, timeout=10))

    def stop(self, run_id: str) -> dict[str, Any]:
        return self._ok(self.session.post(f"{self.url}/v1/runs/{run_id}/stop", timeout=10))

    @staticmethod
    def _ok(response: requests.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


SYNC_CLIENTS = ["httpx-mock", "httpx-transport", "requests-loopback"]


@contextmanager
def sync_app(kind: str, server: FakeRunsServer) -> Iterator[SyncApp]:
    """The app's client, wired to `server` the `kind` way; verify() when it is done."""
    if kind == "httpx-mock":
        with (
            server.mock(),
            httpx.Client(base_url=server.base_url, headers=auth(server), verify=False) as c,
        ):
            yield HttpxApp(c)
    elif kind == "httpx-transport":
        with httpx.Client(
            transport=server.transport(), base_url="http://hermes.test", headers=auth(server)
        ) as c:
            yield HttpxApp(c)
        server.verify()
    else:
        with server.serve() as url, requests.Session() as session:
            session.trust_env = False
            session.headers.update(auth(server))
            yield RequestsApp(session, url)


# ====================================================================== async clients


class AsyncApp(Protocol):
    async def create(self, text: str) -> str: ...
    async def get(self, run_id: str) -> dict[str, Any]: ...
    def events(self, run_id: str) -> AsyncIterator[dict[str, Any]]: ...
    async def approve(self, run_id: str, choice: str) -> dict[str, Any]: ...
    async def stop(self, run_id: str) -> dict[str, Any]: ...


class AsyncHttpxApp:
    """httpx.AsyncClient; streams read with `aiter_lines`, or with httpx-sse if `sse`."""

    def __init__(self, client: httpx.AsyncClient, *, sse: bool) -> None:
        self.client = client
        self.sse = sse

    async def create(self, text: str) -> str:
        response = await self.client.post("/v1/runs", json={"input": text})
        assert response.status_code == 202, response.text
        run_id: str = response.json()["run_id"]
        return run_id

    async def get(self, run_id: str) -> dict[str, Any]:
        return _ok(await self.client.get(f"/v1/runs/{run_id}"))

    async def events(self, run_id: str) -> AsyncIterator[dict[str, Any]]:
        path = f"/v1/runs/{run_id}/events"
        if self.sse:
            async with httpx_sse.aconnect_sse(self.client, "GET", path) as source:
                source.response.raise_for_status()
                async for sse in source.aiter_sse():
                    assert sse.event == "message"  # no `event:` field on the wire
                    assert sse.id == ""  # no `id:` field either
                    yield json.loads(sse.data)
            return
        async with self.client.stream("GET", path) as response:
            assert response.status_code == 200
            async for count, line in _aenumerate(response.aiter_lines()):
                assert count < 200, "a runaway stream"
                if line.startswith("data: "):
                    yield json.loads(line[len("data: ") :])

    async def approve(self, run_id: str, choice: str) -> dict[str, Any]:
        path = f"/v1/runs/{run_id}/approval"
        return _ok(await self.client.post(path, json={"choice": choice}))

    async def stop(self, run_id: str) -> dict[str, Any]:
        return _ok(await self.client.post(f"/v1/runs/{run_id}/stop"))


class AiohttpApp:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def create(self, text: str) -> str:
        async with self.session.post(f"{self.url}/v1/runs", json={"input": text}) as response:
            assert response.status == 202, await response.text()
            run_id: str = (await response.json())["run_id"]
            return run_id

    async def get(self, run_id: str) -> dict[str, Any]:
        async with self.session.get(f"{self.url}/v1/runs/{run_id}") as response:
            return await self._ok(response)

    async def events(self, run_id: str) -> AsyncIterator[dict[str, Any]]:
        async with self.session.get(f"{self.url}/v1/runs/{run_id}/events") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/event-stream"
            async for count, raw in _aenumerate(response.content):
                assert count < 200, "a runaway stream"
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    yield json.loads(line[len("data: ") :])

    async def approve(self, run_id: str, choice: str) -> dict[str, Any]:
        url = f"{self.url}/v1/runs/{run_id}/approval"
        async with self.session.post(url, json={"choice": choice}) as response:
            return await self._ok(response)

    async def stop(self, run_id: str) -> dict[str, Any]:
        async with self.session.post(f"{self.url}/v1/runs/{run_id}/stop") as response:
            return await self._ok(response)

    @staticmethod
    async def _ok(response: aiohttp.ClientResponse) -> dict[str, Any]:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


ASYNC_CLIENTS = ["httpx-async-transport", "httpx-sse-mock", "aiohttp-loopback"]


@asynccontextmanager
async def async_app(kind: str, server: FakeRunsServer) -> AsyncIterator[AsyncApp]:
    headers = auth(server)
    if kind == "httpx-async-transport":
        async with httpx.AsyncClient(
            transport=server.async_transport(), base_url="http://hermes.test", headers=headers
        ) as client:
            yield AsyncHttpxApp(client, sse=False)
        server.verify()
    elif kind == "httpx-sse-mock":
        with server.mock():
            async with httpx.AsyncClient(
                base_url=server.base_url, headers=headers, verify=False
            ) as client:
                yield AsyncHttpxApp(client, sse=True)
    else:
        with server.serve() as url:
            timeout = aiohttp.ClientTimeout(total=10)
            async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
                yield AiohttpApp(session, url)


# ====================================================================== sync scenarios


@pytest.mark.parametrize("kind", SYNC_CLIENTS)
def test_sync_poll_to_completion(kind: str) -> None:
    server = FakeRunsServer(clock=driven_clock())
    server.script(POLLED)
    clock = server.clock
    assert isinstance(clock, ManualClock)
    with sync_app(kind, server) as app:
        run_id = app.create("list the files")
        seen = []
        while (run := app.get(run_id))["status"] not in TERMINAL:
            seen.append((run["status"], run.get("last_event")))
            clock.advance(1)  # where the app would sleep between polls
    assert seen[0] == ("running", None)
    assert ("running", "tool.started") in seen
    assert run["status"] == "completed"
    assert run["output"] == "Listed."
    assert len(seen) == 6  # 2 + 3 + 1 scripted seconds, one poll a second


@pytest.mark.parametrize("kind", SYNC_CLIENTS)
def test_sync_stream(kind: str) -> None:
    server = FakeRunsServer(clock=auto_clock())
    server.script(STREAMED)
    with sync_app(kind, server) as app:
        run_id = app.create("hi")
        events = list(app.events(run_id))
        final = app.get(run_id)
    assert [e["event"] for e in events] == [
        "message.delta",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert "".join(e["delta"] for e in events if e["event"] == "message.delta") == "Hello"
    assert events[-1]["output"] == final["output"] == "Hello"
    assert {e["run_id"] for e in events} == {run_id}


@pytest.mark.parametrize("kind", SYNC_CLIENTS)
def test_sync_approval_from_the_stream(kind: str) -> None:
    server = FakeRunsServer(clock=driven_clock())
    server.script(GATED)
    with sync_app(kind, server) as app:
        run_id = app.create("clean up")
        names = []
        for event in app.events(run_id):
            names.append(event["event"])
            if event["event"] == "approval.request":
                assert app.get(run_id)["status"] == "waiting_for_approval"
                reply = app.approve(run_id, event["choices"][0])
                assert reply == {
                    "object": "hermes.run.approval_response",
                    "run_id": run_id,
                    "choice": "once",
                    "resolved": 1,
                }
        final = app.get(run_id)
    assert names == [
        "tool.started",
        "approval.request",
        "approval.responded",
        "tool.completed",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert final["status"] == "completed"


@pytest.mark.parametrize("kind", SYNC_CLIENTS)
def test_sync_approval_from_another_thread(kind: str) -> None:
    """The stream reader hands the approval to a worker thread and keeps reading."""
    server = FakeRunsServer(clock=driven_clock())
    server.script(GATED)
    asked = threading.Event()
    replies: list[dict[str, Any]] = []
    with sync_app(kind, server) as app:
        run_id = app.create("clean up")

        def approver() -> None:
            assert asked.wait(5)
            replies.append(app.approve(run_id, "session"))

        worker = threading.Thread(target=approver)
        worker.start()
        names = []
        try:
            for event in app.events(run_id):
                names.append(event["event"])
                if event["event"] == "approval.request":
                    asked.set()  # and read on: the worker answers while we wait
        finally:
            asked.set()
            worker.join(5)
    assert not worker.is_alive()
    assert [r["choice"] for r in replies] == ["session"]
    assert names[names.index("approval.request") + 1] == "approval.responded"
    assert names[-1] == "run.completed"


@pytest.mark.parametrize("kind", SYNC_CLIENTS)
def test_sync_stop(kind: str) -> None:
    server = FakeRunsServer(clock=driven_clock())
    server.script(SLOW)
    clock = server.clock
    assert isinstance(clock, ManualClock)
    with sync_app(kind, server) as app:
        run_id = app.create("hi")
        names = []
        for event in app.events(run_id):
            names.append(event["event"])
            if event["event"] == "message.delta":
                assert app.stop(run_id) == {"run_id": run_id, "status": "stopping"}
                assert app.get(run_id)["status"] == "stopping"
                clock.advance(1)  # the agent notices the stop
        final = app.get(run_id)
    assert names == ["message.delta", "run.cancelled"]
    assert final["status"] == "cancelled"
    assert "output" not in final


# ====================================================================== async scenarios


@pytest.mark.parametrize("kind", ASYNC_CLIENTS)
def test_async_poll_to_completion(kind: str) -> None:
    server = FakeRunsServer(clock=driven_clock())
    server.script(POLLED)
    clock = server.clock
    assert isinstance(clock, ManualClock)

    async def main() -> tuple[dict[str, Any], int]:
        async with async_app(kind, server) as app:
            run_id = await app.create("list the files")
            polls = 0
            while (run := await app.get(run_id))["status"] not in TERMINAL:
                polls += 1
                clock.advance(1)
            return run, polls

    run, polls = asyncio.run(main())
    assert run["status"] == "completed"
    assert run["output"] == "Listed."
    assert polls == 6


@pytest.mark.parametrize("kind", ASYNC_CLIENTS)
def test_async_stream(kind: str) -> None:
    server = FakeRunsServer(clock=auto_clock())
    server.script(STREAMED)

    async def main() -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        async with async_app(kind, server) as app:
            run_id = await app.create("hi")
            events = [event async for event in app.events(run_id)]
            return run_id, events, await app.get(run_id)

    run_id, events, final = asyncio.run(main())
    assert [e["event"] for e in events] == [
        "message.delta",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert [e["timestamp"] - final["created_at"] for e in events] == [1.0, 2.0, 2.0, 2.0]
    assert events[-1]["output"] == final["output"] == "Hello"
    assert {e["run_id"] for e in events} == {run_id}


@pytest.mark.parametrize("kind", ASYNC_CLIENTS)
def test_async_approval_in_another_task(kind: str) -> None:
    """One task reads the stream; another, told by an asyncio.Event, posts the approval."""
    server = FakeRunsServer(clock=driven_clock())
    server.script(GATED)

    async def main() -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        async with async_app(kind, server) as app:
            run_id = await app.create("clean up")
            asked = asyncio.Event()
            names: list[str] = []

            async def reader() -> None:
                async for event in app.events(run_id):
                    names.append(event["event"])
                    if event["event"] == "approval.request":
                        asked.set()

            async def approver() -> dict[str, Any]:
                await asyncio.wait_for(asked.wait(), 5)
                return await app.approve(run_id, "approve")

            _, reply = await asyncio.wait_for(asyncio.gather(reader(), approver()), 10)
            return names, reply, await app.get(run_id)

    names, reply, final = asyncio.run(main())
    assert reply["choice"] == "once"
    assert reply["resolved"] == 1
    assert names == [
        "tool.started",
        "approval.request",
        "approval.responded",
        "tool.completed",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert final["status"] == "completed"
    assert final["last_event"] == "run.completed"


@pytest.mark.parametrize("kind", ASYNC_CLIENTS)
def test_async_stop(kind: str) -> None:
    server = FakeRunsServer(clock=driven_clock())
    server.script(SLOW)
    clock = server.clock
    assert isinstance(clock, ManualClock)

    async def main() -> tuple[list[str], dict[str, Any]]:
        async with async_app(kind, server) as app:
            run_id = await app.create("hi")
            names = []
            async for event in app.events(run_id):
                names.append(event["event"])
                if event["event"] == "message.delta":
                    assert (await app.stop(run_id))["status"] == "stopping"
                    clock.advance(1)
            return names, await app.get(run_id)

    names, final = asyncio.run(main())
    assert names == ["message.delta", "run.cancelled"]
    assert final["status"] == "cancelled"


# ====================================================================== mistakes, verify()


def test_mock_refuses_other_hosts_with_a_clear_message() -> None:
    server = FakeRunsServer()
    with server.mock(), pytest.raises(UnmockedRequestError) as raised:
        httpx.get("https://api.example.com/v1/things")
    message = str(raised.value)
    assert "GET https://api.example.com/v1/things" in message
    assert server.base_url in message
    assert "pass_through=['api.example.com']" in message
    assert len(server.requests) == 0


def test_mock_refuses_other_hosts_for_async_clients_too() -> None:
    server = FakeRunsServer()

    async def main() -> None:
        async with httpx.AsyncClient(verify=False) as client:
            await client.get("http://other.test/health")

    with server.mock(), pytest.raises(UnmockedRequestError, match=r"other\.test"):
        asyncio.run(main())


@pytest.mark.parametrize("way", ["mock", "transport", "loopback"])
def test_verify_complains_about_an_unused_queued_script(way: str) -> None:
    server = FakeRunsServer(clock=auto_clock())
    server.queue(Script().complete("first"), Script().named("never-run").complete("second"))
    headers = auth(server)
    with pytest.raises(UnusedScriptError) as raised:
        if way == "mock":
            with server.mock():
                httpx.post(f"{server.base_url}/v1/runs", json={"input": "x"}, headers=headers)
        elif way == "transport":
            with httpx.Client(transport=server.transport(), base_url=server.base_url) as c:
                c.post("/v1/runs", json={"input": "x"}, headers=headers)
            server.verify()
        else:
            with server.serve() as url:
                requests.post(f"{url}/v1/runs", json={"input": "x"}, headers=headers, timeout=10)
    message = str(raised.value)
    assert "registered but never used" in message
    assert "never-run" in message
    assert len(server.runs) == 1


def test_no_script_raises_into_the_in_process_client() -> None:
    server = FakeRunsServer()
    with server.mock(verify=False):
        with pytest.raises(NoScriptError, match="no script for a run with input 'deploy now'"):
            httpx.post(
                f"{server.base_url}/v1/runs", json={"input": "deploy now"}, headers=auth(server)
            )
        with pytest.raises(VerificationError, match="no script for a run"):
            server.verify()
    assert len(server.runs) == 0
    assert [e.status for e in server.requests] == [500]


def test_no_script_is_a_500_text_body_on_loopback() -> None:
    server = FakeRunsServer()
    # verify() raises as the `with` block leaves serve(), after the client got its 500.
    with (
        pytest.raises(VerificationError, match="no script for a run with input 'deploy now'"),
        server.serve() as url,
    ):
        response = requests.post(
            f"{url}/v1/runs", json={"input": "deploy now"}, headers=auth(server), timeout=10
        )
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("agentfakes: no script for a run with input")
    assert "server.script(" in response.text
    assert len(server.runs) == 0


# ====================================================================== loopback lifecycle


def test_loopback_binds_localhost_on_a_free_port_starts_fast_and_cleans_up() -> None:
    before = set(threading.enumerate())
    server = FakeRunsServer()
    started = time.monotonic()
    loopback = server.serve()
    with loopback as url:
        # Listening as soon as serve() returns: a bare connect succeeds at once.
        with socket.create_connection((loopback.host, loopback.port), timeout=1):
            pass
        response = requests.get(f"{url}/health", timeout=5)
        took = time.monotonic() - started
        assert response.status_code == 200
        assert loopback.host == "127.0.0.1"
        assert url == f"http://127.0.0.1:{loopback.port}"
        assert loopback.port not in (0, 8642)
        assert took < 1.0, f"the loopback server took {took:.2f} s to answer"
        assert any(t.name == f"agentfakes-loopback-{loopback.port}" for t in threading.enumerate())
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == [], f"threads left behind: {left}"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/health", timeout=1)


def test_two_loopback_servers_get_different_ports() -> None:
    one, two = FakeRunsServer(), FakeRunsServer()
    with one.serve() as url_one, two.serve() as url_two:
        assert url_one != url_two
        for url in (url_one, url_two):
            assert requests.get(f"{url}/health", timeout=5).json()["status"] == "ok"


def test_loopback_closes_an_open_stream_on_exit() -> None:
    """Leaving `with serve()` while a client still reads a stream neither hangs nor leaks."""
    before = set(threading.enumerate())
    server = FakeRunsServer(clock=driven_clock())
    server.script(GATED)
    loopback = server.serve(verify=False)  # leaves with the approval still pending
    with loopback as url:
        session = requests.Session()
        run_id = session.post(
            f"{url}/v1/runs", json={"input": "x"}, headers=auth(server), timeout=10
        ).json()["run_id"]
        response = session.get(
            f"{url}/v1/runs/{run_id}/events", headers=auth(server), stream=True, timeout=10
        )
        lines = response.iter_lines(decode_unicode=True)
        assert next(lines).startswith('data: {"event": "tool.started"')
        started = time.monotonic()
    assert time.monotonic() - started < 2.0
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []
    response.close()
    session.close()
