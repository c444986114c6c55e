"""Record chat completions, responses and session chats (JSON and SSE) against a REAL
hermes-agent 0.19.0 server, replay them offline, and compare what the app saw both times
(ids and times normalised).

Opt-in, because it needs the real server: `AGENTFAKES_REAL_HERMES=1` starts hermes-agent
0.19.0 on 127.0.0.1 with drift/real_hermes.py (its cached venv, e.g.
AGENTFAKES_HERMES_VENV=/root/.cache/agentfakes-hermes-venv) and the scripted fake LLM, and
stops both by PID. Markers (drift/fake_llm.py): complete, tool, fail500.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentfakes import FakeRunsServer
from agentfakes.recording.httpx_recorder import recording_mock
from agentfakes.recording.recorder import Recorder
from agentfakes.script.scenario import Scenario

from .test_surfaces import Surface, chat, responses, session_chat

ROOT = Path(__file__).resolve().parent.parent.parent
LIVE_ENV = "AGENTFAKES_REAL_HERMES"
MARKERS = ("complete", "tool", "fail500")
DRIVES: tuple[Surface, ...] = (chat, responses, session_chat)


def _cases() -> list[tuple[Surface, str, bool]]:
    return [
        (drive, f"[[scenario:{marker}]] {drive.__name__} {'sse' if stream else 'json'}", stream)
        for drive in DRIVES
        for marker in MARKERS
        for stream in (False, True)
    ]


@pytest.mark.agentfakes(clock="real")
def test_surfaces_recorded_from_the_real_server_replay_the_same(tmp_path: Path) -> None:
    if os.environ.get(LIVE_ENV) != "1":
        pytest.skip(
            "needs a real hermes-agent server: set AGENTFAKES_REAL_HERMES=1 to start "
            "hermes-agent 0.19.0 on 127.0.0.1 (drift/real_hermes.py, cached venv); the "
            "offline round trips of these surfaces are in test_surfaces.py"
        )
    sys.path.insert(0, str(ROOT / "drift"))
    try:
        from real_hermes import (  # type: ignore[import-not-found]
            REFERENCE_PROFILE,
            ensure_venv,
            running_hermes,
        )
    finally:
        sys.path.remove(str(ROOT / "drift"))
    app = FakeRunsServer()
    cases = _cases()
    recorded: list[Any] = []
    with running_hermes(venv=ensure_venv(), warm_up=True) as hermes:
        recorder = Recorder(hermes.base_url, hermes.api_key, app_key=app.api_key, timeout=120)
        headers = {"Authorization": f"Bearer {app.api_key}"}
        with (
            recording_mock(recorder, app.base_url),
            httpx.Client(base_url=app.url, headers=headers, timeout=120) as client,
        ):
            for drive, text, stream in cases:
                recorded.append(drive(client, text, stream))
        recorder.wait()
        recorder.close()
    runs = recorder.runs()
    path = Scenario(runs=runs).dump(tmp_path / "surfaces.yaml")
    assert hermes.api_key not in path.read_text()
    assert [(r.surface, r.input) for r in runs] == [
        ({"chat": "chat", "responses": "responses", "session_chat": "sessions"}[d.__name__], t)
        for d, t, _ in cases
    ]
    for run, (_, text, _) in zip(runs, cases, strict=True):
        verbs = [next(iter(s)) for s in run.script.to_dict()["steps"]]
        if "fail500" in text:
            assert verbs[-1] == "fail", (text, run.script.to_dict())
            assert "fake upstream exploded" in run.script.to_dict()["steps"][-1]["fail"]["error"]
            assert "API call failed" not in run.script.to_dict()["steps"][-1]["fail"]["error"]
        else:
            assert verbs[-1] == "complete", (text, run.script.to_dict())

    fake = FakeRunsServer(api_max_retries=REFERENCE_PROFILE.api_max_retries)
    fake.load_scenario(Scenario.load(path))
    with (
        fake.mock(),
        httpx.Client(
            base_url=fake.url, headers={"Authorization": f"Bearer {fake.api_key}"}, timeout=120
        ) as client,
    ):
        replayed = [drive(client, text, stream) for drive, text, stream in cases]
    differ = [
        text
        for (_, text, _), real, again in zip(cases, recorded, replayed, strict=True)
        if again != real
    ]
    if differ:
        out = os.environ.get("AGENTFAKES_LIVE_DUMP")
        if out:
            Path(out).write_text(json.dumps({"recorded": recorded, "replayed": replayed}, indent=1))
    assert differ == []
