"""The recorder, offline: the "real server" here is a FakeRunsServer on 127.0.0.1 with a
canary key, so forwarding, the held stream, the proxy and the secrets rules are tested
without hermes-agent (the live recordings are in test_live_recording.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentfakes import FakeRunsServer, ManualClock, Script
from agentfakes.errors import UnmockedRequestError
from agentfakes.models.sse import SseParser
from agentfakes.recording.httpx_recorder import recording_mock
from agentfakes.recording.proxy import serve_proxy
from agentfakes.recording.recorder import Recorder
from agentfakes.script.scenario import Scenario, normalise_run

CANARY = "sk-canary-7f3a9c1e5b2d4680-never-on-disk"
USAGE = {"input_tokens": 3, "output_tokens": 2}
GATED = (
    Script()
    .delta("Cleaning ")
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path")
    .tool_completed("terminal")
    .delta("Done.")
    .reasoning("Done.")
    .complete("Done.", USAGE)
)
TOOL = Script().tool("terminal", "make", duration=0.0).answer("Built.", usage=USAGE)


@pytest.fixture
def upstream() -> Iterator[tuple[FakeRunsServer, str]]:
    """Stands in for the real server: another key, its own scripts, on 127.0.0.1."""
    real = FakeRunsServer(api_key=CANARY, strict=False)
    real.on_input("approve", GATED)
    real.on_input("tool", TOOL)
    real.on_input("long", Script().delta("tick ").wait(30).complete("late"))
    with real.serve(verify=False) as url:
        yield real, url


@pytest.fixture
def app_server() -> FakeRunsServer:
    return FakeRunsServer()  # the app's view: its url and key


def _frames(client: httpx.Client, run_id: str, approve: str | None = None) -> list[str]:
    names = []
    parser = SseParser()
    with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for chunk in stream.iter_bytes():
            for frame in parser.feed(chunk):
                if frame.data is None:
                    names.append(f": {frame.comment}")
                    continue
                name = httpx.Response(200, content=frame.data).json()["event"]
                names.append(name)
                if name == "approval.request" and approve:
                    client.post(f"/v1/runs/{run_id}/approval", json={"choice": approve})
    return names


def _client(url: str, server: FakeRunsServer) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {server.api_key}"})


def test_in_process_recording_holds_the_stream_and_writes_scripts(
    upstream: tuple[FakeRunsServer, str], app_server: FakeRunsServer
) -> None:
    real, url = upstream
    recorder = Recorder(url, CANARY, app_key=app_server.api_key)
    assert recorder.probe_version() == "hermes-agent 0.19.0"
    with recording_mock(recorder, app_server.base_url), _client(app_server.url, app_server) as c:
        run_id = c.post("/v1/runs", json={"input": "please approve"}).json()["run_id"]
        names = _frames(c, run_id, approve="once")
        assert c.get(f"/v1/runs/{run_id}").json()["status"] == "completed"
        assert c.get(f"/v1/runs/{run_id}/events").status_code == 404  # the real second read
    recorder.wait()
    recorder.close()
    assert names == [*real.runs[run_id].event_names, ": stream closed"]
    (run,) = recorder.runs()
    assert run.input == "please approve"
    assert [a.choice for a in run.approvals] == ["once"]
    assert run.final is not None and run.final["status"] == "completed"
    verbs = [next(iter(step)) for step in run.script.to_dict()["steps"] if "wait" not in step]
    assert verbs == [
        "delta",
        "tool_started",
        "approval",
        "tool_completed",
        "delta",
        "reasoning",
        "complete",
    ]


def test_an_app_that_only_polls_still_records_the_whole_run(
    upstream: tuple[FakeRunsServer, str], app_server: FakeRunsServer
) -> None:
    _, url = upstream
    recorder = Recorder(url, CANARY, app_key=app_server.api_key)
    with recording_mock(recorder, app_server.base_url), _client(app_server.url, app_server) as c:
        run_id = c.post("/v1/runs", json={"input": "tool please"}).json()["run_id"]
        recorder.tapes[run_id].done.wait(5)  # the held stream has it all, no subscriber
        assert c.get(f"/v1/runs/{run_id}").json()["status"] == "completed"
    recorder.wait()
    (run,) = recorder.runs()
    recorder.close()
    assert run.polls == 1
    steps = [next(iter(step)) for step in run.script.to_dict()["steps"] if "wait" not in step]
    assert steps == ["tool_started", "tool_completed", "delta", "reasoning", "complete"]


def test_only_the_hermes_host_passes_through_in_process(
    upstream: tuple[FakeRunsServer, str], app_server: FakeRunsServer
) -> None:
    _, url = upstream
    recorder = Recorder(url, CANARY, app_key=app_server.api_key)
    with recording_mock(recorder, app_server.base_url):
        with pytest.raises(UnmockedRequestError, match=r"only http://hermes\.test"):
            httpx.get("http://example.com/anything")
        with pytest.raises(UnmockedRequestError):
            httpx.get("http://127.0.0.2:9/")
        assert httpx.get(f"{url}/health").status_code == 200  # the real server's host
    recorder.close()


def test_recording_through_the_loopback_proxy(
    upstream: tuple[FakeRunsServer, str], app_server: FakeRunsServer
) -> None:
    real, url = upstream
    recorder = Recorder(url, CANARY, app_key=app_server.api_key)
    with serve_proxy(recorder.handle) as proxy_url, _client(proxy_url, app_server) as c:
        assert proxy_url.startswith("http://127.0.0.1:")
        run_id = c.post("/v1/runs", json={"input": "please approve"}).json()["run_id"]
        names = _frames(c, run_id, approve="deny")
        wrong = c.get("/v1/models", headers={"Authorization": "Bearer wrong-key-123456789"})
        assert wrong.status_code == 401  # a wrong app key is not replaced: the real 401
    recorder.wait()
    recorder.close()
    assert names[-2:] == ["run.completed", ": stream closed"]
    (run,) = recorder.runs()
    assert [a.choice for a in run.approvals] == ["deny"]
    assert real.runs[run_id].status.value == "completed"


def test_a_stop_is_recorded_and_replayed_by_the_engine(
    upstream: tuple[FakeRunsServer, str], app_server: FakeRunsServer
) -> None:
    _, url = upstream
    recorder = Recorder(url, CANARY, app_key=app_server.api_key)
    with recording_mock(recorder, app_server.base_url), _client(app_server.url, app_server) as c:
        run_id = c.post("/v1/runs", json={"input": "long one"}).json()["run_id"]
        parser = SseParser()
        with c.stream("GET", f"/v1/runs/{run_id}/events") as stream:
            for chunk in stream.iter_bytes():
                frames = [f.data for f in parser.feed(chunk) if f.data]
                if any("message.delta" in f for f in frames):
                    assert c.post(f"/v1/runs/{run_id}/stop").status_code == 200
                if any("run.cancelled" in f for f in frames):
                    break
    recorder.wait()
    recorder.close()
    (run,) = recorder.runs()
    assert run.stop is not None
    assert run.final is not None and run.final["status"] == "cancelled"
    # replayed: the app stops it again, the engine plays the cancel
    clock = ManualClock()
    fake = FakeRunsServer(clock=clock)
    fake.load_scenario(Scenario(runs=[run], source="stop.yaml"))
    with fake.mock(verify=False), _client(fake.url, fake) as c:
        replayed = c.post("/v1/runs", json={"input": "long one"}).json()["run_id"]
        clock.advance(0.5)
        c.post(f"/v1/runs/{replayed}/stop")
        clock.advance(1)
        final = c.get(f"/v1/runs/{replayed}").json()
    assert normalise_run(final) == normalise_run(run.final)
    fake.verify()


def test_no_file_written_contains_the_real_key_and_scrub_patterns_apply(
    upstream: tuple[FakeRunsServer, str], app_server: FakeRunsServer, tmp_path: Path
) -> None:
    _, url = upstream
    recorder = Recorder(url, CANARY, app_key=app_server.api_key, scrub=[r"rm -rf \S+"])
    with recording_mock(recorder, app_server.base_url), _client(app_server.url, app_server) as c:
        body = {"input": f"please approve (my key is {CANARY})"}
        run_id = c.post("/v1/runs", json=body).json()["run_id"]
        _frames(c, run_id, approve="once")
    recorder.wait()
    path = recorder.scenario().dump(tmp_path / "scenarios" / "canary.yaml")
    recorder.close()
    text = path.read_text()
    assert "<scrubbed>" in text and "rm -rf build" not in text
    for written in tmp_path.rglob("*"):
        if written.is_file():
            assert CANARY not in written.read_text(errors="replace"), written
            assert "Authorization" not in written.read_text(errors="replace")
    assert Scenario.load(path).runs[0].input == "please approve (my key is <scrubbed>)"


def test_async_clients_record_in_process_too(
    upstream: tuple[FakeRunsServer, str], app_server: FakeRunsServer
) -> None:
    import asyncio

    real, url = upstream
    recorder = Recorder(url, CANARY, app_key=app_server.api_key)
    headers = {"Authorization": f"Bearer {app_server.api_key}"}

    async def app() -> list[str]:
        names: list[str] = []
        async with httpx.AsyncClient(base_url=app_server.url, headers=headers) as client:
            created = await client.post("/v1/runs", json={"input": "please approve"})
            run_id = created.json()["run_id"]
            parser = SseParser()
            async with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
                async for chunk in stream.aiter_bytes():
                    for frame in parser.feed(chunk):
                        if frame.data is None:
                            continue
                        name = httpx.Response(200, content=frame.data).json()["event"]
                        names.append(name)
                        if name == "approval.request":
                            answer = {"choice": "session"}
                            await client.post(f"/v1/runs/{run_id}/approval", json=answer)
        return names

    with recording_mock(recorder, app_server.base_url):
        names = asyncio.run(app())
    recorder.wait()
    recorder.close()
    assert names[-1] == "run.completed"
    (run,) = recorder.runs()
    assert [a.choice for a in run.approvals] == ["session"]
    assert real.runs.last.status.value == "completed"
