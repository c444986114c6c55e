"""Faults: HTTP statuses with the real bodies, transport errors, broken streams, strictness,
chaos; in-process (sync and async) and on loopback where a socket is involved."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import requests

from agentfakes import FakeRunsServer, ManualClock, Script, faults
from agentfakes.errors import UnfiredFaultError

RUN = Script().delta("héllo ").delta("wörld").reasoning("x").complete("héllo wörld")


@pytest.fixture
def server() -> FakeRunsServer:
    server = FakeRunsServer(clock=ManualClock())
    server.script(RUN)
    return server


def client(server: FakeRunsServer) -> httpx.Client:
    return httpx.Client(
        transport=server.transport(),
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.api_key}"},
    )


def start(c: httpx.Client) -> str:
    return str(c.post("/v1/runs", json={"input": "x"}).json()["run_id"])


def frames(c: httpx.Client, run_id: str) -> list[bytes]:
    with c.stream("GET", f"/v1/runs/{run_id}/events") as response:
        return list(response.iter_raw())


# ------------------------------------------------------------------ HTTP statuses


@pytest.mark.parametrize(
    ("status", "content_type", "body", "retry_after"),
    [
        (
            429,
            "application/json; charset=utf-8",
            {
                "error": {
                    "message": "Too many concurrent runs (max 10)",
                    "type": "rate_limit_error",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
            "1",
        ),
        (
            503,
            "application/json; charset=utf-8",
            {
                "error": {
                    "message": "Gateway is draining existing work; retry shortly.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "gateway_draining",
                }
            },
            "1",
        ),
        (
            401,
            "application/json; charset=utf-8",
            {
                "error": {
                    "message": "Invalid API key",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            None,
        ),
        (
            500,
            "text/plain; charset=utf-8",
            "500 Internal Server Error\n\nServer got itself in trouble",
            None,
        ),
        (502, "text/plain; charset=utf-8", "502: Bad Gateway", None),
    ],
)
def test_status_faults_carry_the_real_bodies(
    server: FakeRunsServer, status: int, content_type: str, body: object, retry_after: str | None
) -> None:
    server.fault(faults.http_error(status), on="create")
    with client(server) as c:
        response = c.post("/v1/runs", json={"input": "x"})
        assert response.status_code == status
        assert response.headers["content-type"] == content_type
        assert response.headers.get("retry-after") == retry_after
        got = response.json() if content_type.startswith("application/json") else response.text
        assert got == body
        assert c.post("/v1/runs", json={"input": "x"}).status_code == 202  # fired once
    assert [e.status for e in server.requests.creates()] == [status, 202]
    server.verify()


def test_matching_by_run_nth_and_times(server: FakeRunsServer) -> None:
    with client(server) as c:
        first, second = start(c), start(c)
        server.fault(faults.http_error(500), on="poll", run_id=second, nth=2, times=None)
        statuses = [c.get(f"/v1/runs/{rid}").status_code for rid in (first, second, second, second)]
    assert statuses == [200, 200, 500, 200]


def test_probability_is_reproducible_from_the_seed() -> None:
    def outcomes(seed: int) -> list[int]:
        server = FakeRunsServer(clock=ManualClock())
        server.fault(faults.http_error(503), on="health", times=None, probability=0.5, seed=seed)
        with client(server) as c:
            return [c.get("/health").status_code for _ in range(20)]

    assert outcomes(7) == outcomes(7)
    assert outcomes(7) != outcomes(8)
    assert {200, 503} == set(outcomes(7))


def test_chaos_is_reproducible_and_bounded() -> None:
    def run(seed: int) -> list[str]:
        server = FakeRunsServer(clock=ManualClock(), strict=False)
        server.script(Script().answer("ok"))
        server.chaos(0.3, seed=seed)
        seen = []
        with client(server) as c:
            for _ in range(40):
                try:
                    seen.append(str(c.get("/health").status_code))
                except httpx.TransportError as error:
                    seen.append(type(error).__name__)
        return seen

    assert run(1) == run(1)
    assert run(1) != run(2)
    faulty = [s for s in run(1) if s != "200"]
    assert 0 < len(faulty) < 40


# ------------------------------------------------------------------ transport errors


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (faults.connect_error(), httpx.ConnectError),
        (faults.read_timeout(), httpx.ReadTimeout),
        (faults.connection_reset(), httpx.ReadError),
    ],
)
def test_transport_faults_in_process(
    server: FakeRunsServer, fault: faults.Fault, error: type[Exception]
) -> None:
    server.fault(fault, on="poll")
    with client(server) as c:
        run_id = start(c)
        with pytest.raises(error):
            c.get(f"/v1/runs/{run_id}")
        assert c.get(f"/v1/runs/{run_id}").status_code == 200


def test_read_timeout_costs_the_client_timeout_in_virtual_time(server: FakeRunsServer) -> None:
    server.fault(faults.read_timeout(), on="health")
    before = server.clock.now()
    with client(server) as c, pytest.raises(httpx.ReadTimeout):
        c.get("/health", timeout=7.0)
    assert server.clock.now() - before == 7.0


def test_transport_faults_async(server: FakeRunsServer) -> None:
    server.fault(faults.connection_reset(), on="create")

    async def main() -> None:
        async with httpx.AsyncClient(
            transport=server.async_transport(),
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as c:
            with pytest.raises(httpx.ReadError):
                await c.post("/v1/runs", json={"input": "x"})
            assert (await c.post("/v1/runs", json={"input": "x"})).status_code == 202

    asyncio.run(main())


def test_transport_faults_under_mock(server: FakeRunsServer) -> None:
    server.fault(faults.connect_error(), on="create")
    with (
        server.mock(),
        httpx.Client(base_url=server.base_url) as c,
        pytest.raises(httpx.ConnectError),
    ):
        c.post("/v1/runs", json={"input": "x"})


@pytest.mark.parametrize("fault", [faults.connect_error(), faults.connection_reset()])
def test_transport_faults_on_loopback_are_socket_failures(
    server: FakeRunsServer, fault: faults.Fault
) -> None:
    server.fault(fault, on="health")
    with server.serve() as url:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/health", timeout=5)
        assert requests.get(f"{url}/health", timeout=5).status_code == 200


# ------------------------------------------------------------------ stream faults


def test_drop_stream_in_process(server: FakeRunsServer) -> None:
    server.fault(faults.drop_stream(after=1), on="events")
    with client(server) as c:
        run_id = start(c)
        received = []
        with (
            pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"),
            c.stream("GET", f"/v1/runs/{run_id}/events") as response,
        ):
            received.extend(response.iter_lines())
        assert [line for line in received if line] == [
            server.runs[run_id].events[0].to_sse().strip()
        ]
        assert c.get(f"/v1/runs/{run_id}/events").status_code == 404  # the stream is gone


def test_drop_stream_on_loopback(server: FakeRunsServer) -> None:
    server.fault(faults.drop_stream(after=2), on="events")
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with server.serve() as url:
        run_id = requests.post(f"{url}/v1/runs", json={"input": "x"}, headers=headers).json()[
            "run_id"
        ]
        lines = []
        events_url = f"{url}/v1/runs/{run_id}/events"
        with (
            pytest.raises(requests.exceptions.ChunkedEncodingError),
            requests.get(events_url, headers=headers, stream=True) as r,
        ):
            lines.extend(line for line in r.iter_lines() if line)
        assert len(lines) == 2


def test_malformed_frame_then_the_stream_goes_on(server: FakeRunsServer) -> None:
    server.fault(faults.malformed_frame(after=1), on="events")
    with client(server) as c:
        chunks = frames(c, start(c))
    bad = chunks[1]
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad[len(b"data: ") :].strip())
    assert chunks[-1] == b": stream closed\n\n"
    assert len(chunks) == 6  # 4 events + the bad frame + the close


def test_split_utf8_is_valid_once_reassembled(server: FakeRunsServer) -> None:
    server.fault(faults.split_utf8(), on="events")
    with client(server) as c:
        chunks = frames(c, start(c))
    with pytest.raises(UnicodeDecodeError):
        chunks[0].decode("utf-8")  # the first chunk ends inside "é"
    text = b"".join(chunks).decode("utf-8")
    assert '"delta": "héllo "' in text and text.endswith(": stream closed\n\n")


def test_no_terminal_ends_cleanly_without_the_terminal_event(server: FakeRunsServer) -> None:
    server.fault(faults.no_terminal(), on="events")
    with client(server) as c:
        body = b"".join(frames(c, start(c))).decode()
    assert "run.completed" not in body and ": stream closed" not in body
    assert body.count("data: ") == 3


def test_stall_sends_only_keepalives(server: FakeRunsServer) -> None:
    server.fault(faults.stall(65, after=1), on="events")
    with client(server) as c:
        c.timeout = httpx.Timeout(5.0, read=None)  # a 5 s read timeout would fire (issue 8)
        run_id = start(c)
        chunks = frames(c, run_id)
    assert chunks[1:3] == [b": keepalive\n\n", b": keepalive\n\n"]
    assert chunks[-1] == b": stream closed\n\n"
    assert server.clock.now() - server.runs[run_id].created_at == 65


def test_duplicate_event(server: FakeRunsServer) -> None:
    server.fault(faults.duplicate_event("reasoning.available"), on="events")
    with client(server) as c:
        body = b"".join(frames(c, start(c))).decode()
    assert body.count('"event": "reasoning.available"') == 2
    assert body.count('"event": "message.delta"') == 2


def test_stream_faults_async(server: FakeRunsServer) -> None:
    server.fault(faults.drop_stream(after=2), on="events")

    async def main() -> list[str]:
        async with httpx.AsyncClient(
            transport=server.async_transport(),
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as c:
            run_id = (await c.post("/v1/runs", json={"input": "x"})).json()["run_id"]
            lines: list[str] = []
            with pytest.raises(httpx.RemoteProtocolError):
                async with c.stream("GET", f"/v1/runs/{run_id}/events") as response:
                    async for line in response.aiter_lines():
                        if line:
                            lines.append(line)
            return lines

    assert len(asyncio.run(main())) == 2


# ------------------------------------------------------------------ strictness and bad input


def test_a_fault_that_never_fired_fails_verify(server: FakeRunsServer) -> None:
    server.fault(faults.http_error(503), on="stop")
    server.fault(faults.http_error(429), on="create", optional=True)
    with pytest.raises(UnfiredFaultError, match=r"fault armed but never fired: HTTP 503 on stop"):
        server.verify()


def test_mock_exit_reports_unfired_faults(server: FakeRunsServer) -> None:
    server.fault(faults.connect_error(), on="poll")
    with pytest.raises(UnfiredFaultError, match="connect error on poll"), server.mock():
        pass


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.fault(faults.http_error(503), on="nowhere"), "not an endpoint"),
        (lambda s: s.fault(faults.drop_stream(1), on="poll"), "only applies to on='events'"),
        (lambda s: s.fault(faults.http_error(503), nth=0), "nth counts matching requests from 1"),
        (lambda s: s.fault(faults.http_error(503), probability=2), "probability must be in"),
        (lambda s: faults.http_error(200), "4xx or 5xx"),
        (lambda s: faults.stall(0), "positive number of seconds"),
        (lambda s: faults.drop_stream(-1), "whole number >= 0"),
        (lambda s: s.chaos(0, seed=1), "chaos rate must be in"),
    ],
)
def test_bad_fault_arguments_are_refused(
    server: FakeRunsServer, call: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call(server)  # type: ignore[operator]


def test_provider_errors_look_real(server: FakeRunsServer) -> None:
    server.on_input("key", Script().fail("HTTP 401: Invalid key sk-pro...6789"))
    with client(server) as c:
        run_id = c.post("/v1/runs", json={"input": "bad key"}).json()["run_id"]
        body = b"".join(frames(c, run_id)).decode()
    assert body == (
        f'data: {{"event": "run.failed", "run_id": "{run_id}", "timestamp": '
        f'{server.runs[run_id].created_at}, "error": "HTTP 401: Invalid key sk-pro...6789"}}\n\n'
        ": stream closed\n\n"
    )
