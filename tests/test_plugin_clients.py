"""fake_runs_client / async_fake_runs_client: ready to call, closed at teardown, async under
pytest-asyncio (strict and auto) and anyio."""

from __future__ import annotations

import httpx
import pytest

from agentfakes import FakeRunsServer, Script, assert_completed

pytest_plugins = ["pytester"]


def test_the_client_is_authenticated_and_aimed_at_the_fake(
    fake_runs_server: FakeRunsServer, fake_runs_client: httpx.Client
) -> None:
    fake_runs_server.script(Script().answer("hi"))
    assert str(fake_runs_client.base_url).rstrip("/") == fake_runs_server.url
    assert fake_runs_client.headers["authorization"] == f"Bearer {fake_runs_server.api_key}"
    run_id = fake_runs_client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
    assert_completed(fake_runs_client.get(f"/v1/runs/{run_id}").json(), output="hi")


ASYNC_TEST = """
import pytest
from agentfakes import Script, assert_completed

{decorator}
async def test_async(fake_runs_server, async_fake_runs_client):
    fake_runs_server.script(Script().wait(3).answer("async hi"))
    created = await async_fake_runs_client.post("/v1/runs", json={{"input": "x"}})
    run_id = created.json()["run_id"]
    async with async_fake_runs_client.stream("GET", f"/v1/runs/{{run_id}}/events") as stream:
        body = (await stream.aread()).decode()
    assert "run.completed" in body
    assert_completed((await async_fake_runs_client.get(f"/v1/runs/{{run_id}}")).json())
    CLIENTS.append(async_fake_runs_client)

CLIENTS = []

def test_closed_after_teardown():
    assert CLIENTS and all(client.is_closed for client in CLIENTS)
"""


@pytest.mark.parametrize(
    ("decorator", "args"),
    [
        ("@pytest.mark.asyncio", ("-p", "asyncio", "-o", "asyncio_mode=strict")),
        ("", ("-p", "asyncio", "-o", "asyncio_mode=auto")),
        ("@pytest.mark.anyio", ("-p", "no:asyncio")),
    ],
    ids=["pytest-asyncio-strict", "pytest-asyncio-auto", "anyio"],
)
@pytest.mark.parametrize("transport", ["mock", "loopback"])
def test_async_client(
    pytester: pytest.Pytester, decorator: str, args: tuple[str, ...], transport: str
) -> None:
    pytester.makepyfile(ASYNC_TEST.format(decorator=decorator))
    if decorator == "@pytest.mark.anyio":
        pytester.makeconftest(
            "import pytest\n\n@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n"
        )
    result = pytester.runpytest(
        *args,
        "-p",
        "no:randomly",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        f"--agentfakes-transport={transport}",
    )
    result.assert_outcomes(passed=2)


def test_the_sync_client_is_closed_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        CLIENTS = []

        def test_uses(fake_runs_client):
            CLIENTS.append(fake_runs_client)
            assert not fake_runs_client.is_closed

        def test_closed():
            assert CLIENTS[0].is_closed
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
