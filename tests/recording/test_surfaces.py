"""Recording the surfaces beyond Runs (issue 10): a chat completion, a response and a
session chat, JSON and SSE, recorded from a stand-in upstream (a FakeRunsServer on
127.0.0.1 with a canary key) become Scripts with their `surface`; replayed offline, the
fake answers the same requests with the same bodies and frames (ids and times normalised).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentfakes import FakeRunsServer, Script
from agentfakes.models.sse import SseParser
from agentfakes.recording.httpx_recorder import recording_mock
from agentfakes.recording.proxy import serve_proxy
from agentfakes.recording.recorder import Recorder
from agentfakes.script.scenario import Scenario, ScenarioRun

pytest_plugins = ["pytester"]
# inner runs: no end-of-session gc passes, no Hypothesis plugin (slow to re-import each run)
QUIET = ("-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "no:hypothesispytest")
CANARY = "sk-canary-surfaces-0b1d-never-on-disk"
USAGE = {"input_tokens": 7, "output_tokens": 3}
TOOLED = (
    Script()
    .delta("Look")
    .delta("ing.")
    .tool("terminal", "ls -la", arguments={"command": "ls -la"}, result="a.txt b.txt")
    .delta(" Two files.")
    .complete("Looking. Two files.", USAGE)
)
FAILED = Script().delta("Hm").fail("HTTP 500: upstream exploded")
BARE_FAIL = Script().wait(0.01).fail("HTTP 500: upstream exploded")
REASONED = Script().reasoning("thinking hard").delta("Yes.").complete("Yes.", USAGE)

_VOLATILE = {
    "id",
    "created",
    "created_at",
    "call_id",
    "toolCallId",
    "item_id",
    "message_id",
    "session_id",
    "run_id",
    "response_id",
    "tool_call_id",
    "response_item_id",
    "ts",
}


def normalised(value: Any) -> Any:
    """Ids and times replaced, recursively (the rest must be byte-for-byte equal)."""
    if isinstance(value, dict):
        return {k: "<v>" if k in _VOLATILE else normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def frames(response: httpx.Response) -> list[tuple[str | None, Any]]:
    parser = SseParser()
    out: list[tuple[str | None, Any]] = []
    for chunk in response.iter_bytes():
        for frame in parser.feed(chunk):
            if frame.data is None:
                continue
            try:
                data = json.loads(frame.data)
            except ValueError:
                data = frame.data
            out.append((frame.event, normalised(data)))
    return out


def chat(client: httpx.Client, text: str, stream: bool) -> Any:
    body = {"model": "hermes-agent", "messages": [{"role": "user", "content": text}]}
    if not stream:
        answer = client.post("/v1/chat/completions", json=body)
        return answer.status_code, normalised(answer.json())
    body["stream"] = True
    with client.stream("POST", "/v1/chat/completions", json=body) as answer:
        return answer.status_code, frames(answer)


def responses(client: httpx.Client, text: str, stream: bool) -> Any:
    body: dict[str, Any] = {"model": "hermes-agent", "input": text, "store": False}
    if not stream:
        answer = client.post("/v1/responses", json=body)
        return answer.status_code, normalised(answer.json())
    body["stream"] = True
    with client.stream("POST", "/v1/responses", json=body) as answer:
        return answer.status_code, frames(answer)


def session_chat(client: httpx.Client, text: str, stream: bool) -> Any:
    session = client.post("/api/sessions", json={}).json()
    sid = session.get("id") or session.get("session", {}).get("id")
    assert sid, session
    if not stream:
        answer = client.post(f"/api/sessions/{sid}/chat", json={"message": text})
        return answer.status_code, normalised(answer.json())
    with client.stream("POST", f"/api/sessions/{sid}/chat/stream", json={"message": text}) as a:
        return a.status_code, frames(a)


Surface = Callable[[httpx.Client, str, bool], Any]
CASES: list[tuple[str, Surface, str]] = [
    ("chat", chat, "tool"),
    ("chat", chat, "fail"),
    ("responses", responses, "tool"),
    ("responses", responses, "fail"),
    ("sessions", session_chat, "tool"),
    ("sessions", session_chat, "fail"),
    ("responses", responses, "bare"),
    ("sessions", session_chat, "think"),
]


@pytest.fixture
def upstream() -> Iterator[str]:
    real = FakeRunsServer(api_key=CANARY, strict=False)
    real.on_input("tool", TOOLED)
    real.on_input("bare", BARE_FAIL)
    real.on_input("fail", FAILED)
    real.on_input("think", REASONED)
    with real.serve(verify=False) as url:
        yield url


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _record(
    url: str, app: FakeRunsServer, drive: Surface, text: str, stream: bool, proxy: bool
) -> tuple[Any, ScenarioRun]:
    recorder = Recorder(url, CANARY, app_key=app.api_key)
    if proxy:
        with serve_proxy(recorder.handle) as proxy_url, _client(proxy_url, app.api_key) as client:
            seen = drive(client, text, stream)
    else:
        with recording_mock(recorder, app.base_url), _client(app.url, app.api_key) as client:
            seen = drive(client, text, stream)
    recorder.wait()
    recorder.close()
    runs = recorder.runs()
    assert len(runs) == 1, runs
    return seen, runs[0]


def _replay(scenario: Scenario, drive: Surface, text: str, stream: bool) -> Any:
    fake = FakeRunsServer()
    player = fake.load_scenario(scenario)
    with fake.mock(), _client(fake.url, fake.api_key) as client:
        seen = drive(client, text, stream)
    assert player.unused() == []
    return seen


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize(("surface", "drive", "word"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_record_then_replay_gives_the_same_answer(
    upstream: str, surface: str, drive: Surface, word: str, stream: bool, tmp_path: Path
) -> None:
    text = f"please {word} now"
    app = FakeRunsServer()
    recorded, run = _record(upstream, app, drive, text, stream, proxy=False)
    assert run.surface == surface and run.input == text
    path = Scenario(runs=[run]).dump(tmp_path / "s.yaml")
    assert CANARY not in path.read_text()
    scenario = Scenario.load(path)
    assert scenario.runs[0].surface == surface
    replayed = _replay(scenario, drive, text, stream)
    assert replayed == recorded


def _verbs(run: ScenarioRun) -> list[str]:
    return [next(iter(step)) for step in run.script.to_dict()["steps"] if "wait" not in step]


def _steps(run: ScenarioRun, verb: str) -> list[dict[str, Any]]:
    return [s[verb] for s in run.script.to_dict()["steps"] if verb in s]


def test_chat_stream_becomes_deltas_tool_progress_and_complete(upstream: str) -> None:
    _, run = _record(upstream, FakeRunsServer(), chat, "tool time", True, proxy=False)
    assert _verbs(run) == ["delta", "delta", "tool_started", "tool_completed", "delta", "complete"]
    assert _steps(run, "tool_started") == [{"name": "terminal", "preview": "ls -la"}]
    (complete,) = _steps(run, "complete")
    assert complete["output"] == "Looking. Two files."
    assert complete["usage"]["input_tokens"] == 7 and complete["usage"]["output_tokens"] == 3


def test_a_failure_keeps_the_provider_error_without_the_retries_prefix(upstream: str) -> None:
    """(A streamed response that sent text before failing shows that text as its output,
    not the failure: the wire has no error there, so it is recorded as a completion.)"""
    for drive in (chat, responses, session_chat):
        for stream in (False, True):
            _, run = _record(upstream, FakeRunsServer(), drive, "bare fail", stream, proxy=False)
            assert _steps(run, "fail") == [{"error": "HTTP 500: upstream exploded"}], (
                drive.__name__,
                stream,
            )


def test_responses_and_sessions_record_tool_arguments_and_results(upstream: str) -> None:
    for drive in (responses, session_chat):
        _, run = _record(upstream, FakeRunsServer(), drive, "tool time", True, proxy=False)
        (started,) = _steps(run, "tool_started")
        assert started["arguments"] == {"command": "ls -la"}, drive.__name__
        (completed,) = _steps(run, "tool_completed")
        assert completed["result"] == "a.txt b.txt", drive.__name__
    _, run = _record(upstream, FakeRunsServer(), responses, "tool time", False, proxy=False)
    assert _verbs(run) == ["tool_started", "tool_completed", "complete"]
    assert _steps(run, "tool_completed")[0]["result"] == "a.txt b.txt"


@pytest.mark.parametrize("drive", [chat, responses, session_chat], ids=lambda d: d.__name__)
def test_recording_through_the_proxy_and_replay_over_loopback(
    upstream: str, drive: Surface
) -> None:
    app = FakeRunsServer()
    recorded, run = _record(upstream, app, drive, "tool via proxy", True, proxy=True)
    fake = FakeRunsServer()
    fake.load_scenario(Scenario(runs=[run]))
    with fake.serve() as url, _client(url, fake.api_key) as client:
        assert drive(client, "tool via proxy", True) == recorded


def test_replay_routes_by_surface_and_input(tmp_path: Path) -> None:
    one = ScenarioRun(input="same words", surface="chat", script=Script().complete("from chat"))
    two = ScenarioRun(
        input="same words", surface="responses", script=Script().complete("from responses")
    )
    fake = FakeRunsServer()
    fake.script(Script().complete("default"))
    fake.load_scenario(Scenario(runs=[one, two]))
    with fake.mock(), _client(fake.url, fake.api_key) as client:
        body = {"messages": [{"role": "user", "content": "same words"}]}
        answer = client.post("/v1/chat/completions", json=body).json()
        assert answer["choices"][0]["message"]["content"] == "from chat"
        answer = client.post("/v1/responses", json={"input": "same words"}).json()
        assert answer["output"][-1]["content"][0]["text"] == "from responses"
        run = client.post("/v1/runs", json={"input": "same words"}).json()
        assert run["status"] == "started"
    text = Scenario(runs=[one, two]).dumps()
    assert "surface: chat" in text and "surface: responses" in text
    plain = Scenario(runs=[ScenarioRun(input="x", script=Script().complete("y"))]).dumps()
    assert "surface" not in plain  # files of Runs read as before


SURFACE_APP = """
import json
import uuid
import httpx
import pytest

pytestmark = pytest.mark.agentfakes(scenario=True)


def test_surfaces(fake_runs_server):
    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    with httpx.Client(base_url=fake_runs_server.url, headers=headers, timeout=10) as client:
        body = {"messages": [{"role": "user", "content": "tool for chat"}], "stream": True}
        with client.stream("POST", "/v1/chat/completions", json=body) as answer:
            text = "".join(
                json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                for line in answer.iter_lines()
                if line.startswith("data: {") and '"choices"' in line
            )
        assert text == "Looking. Two files."
        answer = client.post("/v1/responses", json={"input": "bare fail", "store": False})
        final = answer.json()["output"][-1]["content"][0]["text"]
        assert final == "API call failed after 3 retries: HTTP 500: upstream exploded"
        # a fresh id each time: record and diff both create it on the same upstream
        sid = client.post("/api/sessions", json={"id": f"s-{uuid.uuid4().hex}"}).json()
        sid = sid.get("id") or sid["session"]["id"]
        said = client.post(f"/api/sessions/{sid}/chat", json={"message": "think"}).json()
        assert said["message"]["content"] == "Yes."
"""


def test_pytest_record_once_then_replay_the_surfaces_offline(
    pytester: pytest.Pytester, upstream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERMES_API_KEY", CANARY)
    pytester.makepyfile(test_app=SURFACE_APP)
    recorded = pytester.runpytest_inprocess(
        *QUIET, "--agentfakes-record-mode=once", f"--agentfakes-hermes-url={upstream}"
    )
    recorded.assert_outcomes(passed=1)
    path = pytester.path / "scenarios" / "test_app" / "test_surfaces.yaml"
    scenario = Scenario.load(path)
    assert [(r.surface, r.input) for r in scenario.runs] == [
        ("chat", "tool for chat"),
        ("responses", "bare fail"),
        ("sessions", "think"),
    ]
    assert CANARY not in path.read_text()
    for transport in ("mock", "loopback"):  # offline: the file drives all three surfaces
        replayed = pytester.runpytest_inprocess(*QUIET, f"--agentfakes-transport={transport}")
        replayed.assert_outcomes(passed=1)
    diff = pytester.runpytest_inprocess(
        *QUIET, "--agentfakes-record-mode=diff", f"--agentfakes-hermes-url={upstream}"
    )
    diff.assert_outcomes(passed=1)


def test_a_chained_json_response_records_only_its_own_tool_calls(upstream: str) -> None:
    app = FakeRunsServer()
    recorder = Recorder(upstream, CANARY, app_key=app.api_key)
    with recording_mock(recorder, app.base_url), _client(app.url, app.api_key) as client:
        first = client.post("/v1/responses", json={"input": "tool one"}).json()
        chained = {"input": "think again", "previous_response_id": first["id"]}
        second = client.post("/v1/responses", json=chained).json()
        assert second["output"][0]["type"] == "function_call"  # 0.19.0 repeats it
    recorder.wait()
    recorder.close()
    one, two = recorder.runs()
    assert _verbs(one) == ["tool_started", "tool_completed", "complete"]
    assert _verbs(two) == ["complete"]


def test_new_episodes_replays_a_stored_turn_and_records_the_others(upstream: str) -> None:
    """`new_episodes`: a turn whose surface and input a stored run has is answered by the
    fake from the file; any other goes to the real server and is recorded."""
    from agentfakes.recording.recorder import LocalRuns

    stored = ScenarioRun(input="stored words", surface="chat", script=Script().complete("kept"))
    app = FakeRunsServer()
    player = app.load_scenario(Scenario(runs=[stored]))
    recorder = Recorder(
        upstream, CANARY, app_key=app.api_key, local=LocalRuns(app.handle, player.claims)
    )
    with recording_mock(recorder, app.base_url), _client(app.url, app.api_key) as client:
        said = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "stored words"}]}
        ).json()
        assert said["choices"][0]["message"]["content"] == "kept"
        fresh = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "think"}]}
        ).json()
        assert fresh["choices"][0]["message"]["content"] == "Yes."
    recorder.wait()
    recorder.close()
    assert [(r.surface, r.input) for r in recorder.runs()] == [("chat", "think")]
    assert player.unused() == []
