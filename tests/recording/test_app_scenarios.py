"""Five app tests recorded against the real hermes-agent 0.19.0 server and replayed offline
(issue 9, "Done when"): a completed run, an approval approved, an approval denied, a stop
mid-run and a provider failure. Each replays in-process and over loopback, and again
with the app polling at another rate; the files are in scenarios/hermes-0.19.0/.

In CI (record mode none) nothing here reaches a network. `record_real.py` beside this
file records them again against a real server it starts (see its docstring).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentfakes import FakeRunsServer
from agentfakes.script.scenario import Scenario, normalise_run

from .hermes_app import Outcome, run_app

FOLDER = Path(__file__).parent / "scenarios" / "hermes-0.19.0"
RECORDED_POLL = 0.05  # the variant that records; the others replay only
VARIANTS = [
    ("mock", RECORDED_POLL),
    ("loopback", RECORDED_POLL),
    ("mock", 0.37),  # another polling rate
    ("loopback", 1.1),
]


def variants(name: str) -> Any:
    path = f"scenarios/hermes-0.19.0/{name}.yaml"
    return pytest.mark.parametrize(
        "poll",
        [
            pytest.param(
                poll,
                marks=pytest.mark.agentfakes(scenario=path, transport=transport),
                id=f"{transport}-poll{poll}",
            )
            for transport, poll in VARIANTS
        ],
    )


def _replaying(request: pytest.FixtureRequest, poll: float) -> bool:
    mode = request.config.getoption("agentfakes_record_mode") or "none"
    if mode != "none" and poll != RECORDED_POLL:
        pytest.skip("only the recorded variant runs while recording; the others replay it")
    return mode == "none"


def _same_as_recorded(name: str, outcome: Outcome) -> None:
    """The replayed run object equals the recorded one, ids and timestamps normalised."""
    (run,) = Scenario.load(FOLDER / f"{name}.yaml").runs
    assert run.final is not None
    assert normalise_run(outcome.final) == normalise_run(run.final)
    assert list(outcome.final) == list(run.final)  # the real key order, quirks included


def _run(server: FakeRunsServer, text: str, poll: float, **app: Any) -> Outcome:
    return run_app(server.url, server.api_key, text, poll=poll, **app)


@variants("completed")
def test_completed(fake_runs_server: FakeRunsServer, poll: float, request: Any) -> None:
    replaying = _replaying(request, poll)
    outcome = _run(fake_runs_server, "[[scenario:complete]] say hello", poll)
    assert outcome.final["status"] == "completed"
    assert outcome.final["output"] == "Hello from the fake LLM. The answer is 42."
    assert outcome.text == outcome.final["output"]
    assert outcome.event_names[-2:] == ["reasoning.available", "run.completed"]
    if replaying:
        _same_as_recorded("completed", outcome)


@variants("approval-approved")
def test_approval_approved(fake_runs_server: FakeRunsServer, poll: float, request: Any) -> None:
    replaying = _replaying(request, poll)
    outcome = _run(fake_runs_server, "[[scenario:approval]] clean up", poll, choice="once")
    assert outcome.final["output"] == "Removed the scratch directory."
    names = outcome.event_names
    assert names[:4] == ["tool.started", "approval.request", "approval.responded", "tool.completed"]
    assert outcome.events[3]["error"] is False
    assert "waiting_for_approval" in outcome.statuses
    if replaying:
        _same_as_recorded("approval-approved", outcome)


@variants("approval-denied")
def test_approval_denied(fake_runs_server: FakeRunsServer, poll: float, request: Any) -> None:
    replaying = _replaying(request, poll)
    outcome = _run(fake_runs_server, "[[scenario:approval]] clean up", poll, choice="deny")
    assert outcome.final["status"] == "completed"
    assert outcome.final["output"] == "The command was blocked."
    completed = [e for e in outcome.events if e["event"] == "tool.completed"]
    assert completed[0]["error"] is True
    assert outcome.events[2] == {**outcome.events[2], "choice": "deny", "resolved": 1}
    if replaying:
        _same_as_recorded("approval-denied", outcome)


@variants("stop-mid-run")
def test_stop_mid_run(fake_runs_server: FakeRunsServer, poll: float, request: Any) -> None:
    replaying = _replaying(request, poll)
    outcome = _run(fake_runs_server, "[[scenario:slow]] count slowly", poll, stop_after=1.6)
    assert outcome.final["status"] == "cancelled"
    assert outcome.final["last_event"] == "run.cancelled"
    assert "output" not in outcome.final and "error" not in outcome.final
    assert outcome.event_names[-1] == "run.cancelled"
    assert set(outcome.event_names[:-1]) == {"message.delta"}
    if replaying:
        _same_as_recorded("stop-mid-run", outcome)


@variants("provider-failure")
def test_provider_failure(fake_runs_server: FakeRunsServer, poll: float, request: Any) -> None:
    replaying = _replaying(request, poll)
    outcome = _run(fake_runs_server, "[[scenario:fail500]] try it", poll)
    assert outcome.final["status"] == "failed"
    assert outcome.final["error"] == "HTTP 500: fake upstream exploded"
    assert outcome.event_names == ["run.failed"]
    if replaying:
        _same_as_recorded("provider-failure", outcome)
