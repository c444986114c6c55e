"""Scenario files (issue 9): lossless Script data, YAML load/dump, errors that name the
file, line and field, the JSON Schema, and replay through `server.load_scenario`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from agentfakes import FakeRunsServer, ManualClock, Script
from agentfakes.errors import ScriptError, VerificationError
from agentfakes.script.scenario import (
    ApprovalRecord,
    RecordedBy,
    Scenario,
    ScenarioError,
    ScenarioRun,
    StopRecord,
    normalise_run,
)

USAGE = {"input_tokens": 22, "output_tokens": 14}
GATED = (
    Script()
    .tool_started("terminal", "rm -rf /tmp/x")
    .approval("rm -rf /tmp/x", "delete in root path")
    .wait(0.04)
    .tool_completed("terminal")
    .delta("Removed ")
    .delta("it.")
    .reasoning("Removed it.")
    .complete("Removed it.", USAGE)
)
DENIED_REST = (
    Script()
    .tool_completed("terminal")
    .delta("The command was blocked.")
    .complete("The command was blocked.", USAGE)
)

SCRIPTS = [
    Script().answer("Hello from the fake LLM. The answer is 42.", chunk=6),
    Script().delta("tick ").wait(0.5).delta("tick ").fail("HTTP 500: fake upstream exploded"),
    GATED,
    GATED.named("with a name"),
    Script()
    .tool_started("terminal", arguments={"command": "ls"})
    .approval(
        "ls",
        "d",
        pattern_key="k",
        pattern_keys=["k", "j"],
        allow_permanent=None,
        smart_denied=True,
        timeout=5.0,
        on_deny=DENIED_REST,
        on_timeout=Script().fail("timed out"),
    )
    .tool_completed("terminal", duration=0.25, error=False, result="ok")
    .max_iterations("summary"),
    Script().tool("terminal", "make", duration=2.0).complete(None),
    Script().reasoning("multi\nline\ntext").complete("a\nb"),
]


@pytest.mark.parametrize("script", SCRIPTS, ids=range(len(SCRIPTS)))
def test_script_to_dict_from_dict_is_lossless(script: Script, tmp_path: Path) -> None:
    assert Script.from_dict(script.to_dict()) == script
    scenario = Scenario(runs=[ScenarioRun(input="x", script=script)])
    path = scenario.dump(tmp_path / "s.yaml")
    loaded = Scenario.load(path)
    assert loaded.runs[0].script == script
    assert loaded.runs[0].script.name == script.name
    assert loaded.source == str(path)


def test_a_scenario_round_trips_through_yaml(tmp_path: Path) -> None:
    scenario = Scenario(
        recorded=RecordedBy(agentfakes="0.1.0", server="hermes-agent 0.19.0", at="2026-12-02"),
        runs=[
            ScenarioRun(
                input="[[scenario:approval]] go",
                script=GATED,
                approvals=[
                    ApprovalRecord(choice="once", after=0.3, branches={"deny": DENIED_REST})
                ],
                polls=4,
                final={"object": "hermes.run", "status": "completed"},
            ),
            ScenarioRun(input="stop me", script=SCRIPTS[1], stop=StopRecord(after=1.5)),
        ],
    )
    text = scenario.dumps()
    assert "- delta: {text: 'Removed '}" in text  # one line per step, readable
    assert Scenario.loads(text).to_data() == scenario.to_data()
    scenario.dump(tmp_path / "a" / "b.yaml")  # folders are made
    assert Scenario.load(tmp_path / "a" / "b.yaml").to_data() == scenario.to_data()
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.yaml"]  # no temp file left


EXAMPLE = """\
version: 1
recorded: {agentfakes: 0.1.0, server: hermes-agent 0.19.0}
runs:
- input: hello
  script:
    steps:
    - delta: {text: 'Hi'}
    - complete: {output: Hi}
  final: {status: completed}
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("- delta: {text: 'Hi'}", "- deltaa: {text: 'Hi'}", ["bad.yaml:7:", "steps[0]", "delta,"]),
        ("{text: 'Hi'}", "{txt: 'Hi'}", ["bad.yaml:7:", "unknown argument 'txt'", "'text'"]),
        ("  final:", "  finale: 1\n  final:", ["bad.yaml:9:", "runs[0].finale", "allowed here"]),
        ("version: 1", "version: 2", ["bad.yaml:1:", "version", "reads scenario version 1"]),
        ("  script:", "  approvals: [{choice: maybe}]\n  script:", ["bad.yaml:5:", "choice"]),
        ("- complete: {output: Hi}", "- wait: {seconds: 1}", ["no terminal step"]),
        ("runs:", "runs: [", ["bad.yaml:", "not valid YAML"]),
    ],
)
def test_a_malformed_file_names_file_line_field_and_what_is_allowed(
    old: str, new: str, expected: list[str]
) -> None:
    assert old in EXAMPLE
    with pytest.raises(ScenarioError) as caught:
        Scenario.loads(EXAMPLE.replace(old, new, 1), source="bad.yaml")
    for part in expected:
        assert part in str(caught.value), str(caught.value)
    assert isinstance(caught.value, ScriptError)


def test_load_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope.yaml: cannot read"):
        Scenario.load(tmp_path / "nope.yaml")


def test_json_schema_describes_the_file() -> None:
    schema = Scenario.json_schema()
    json.dumps(schema)
    assert set(schema["properties"]) == {"version", "recorded", "runs"}
    run = schema["$defs"]["ScenarioRun"]
    assert {"input", "script", "approvals", "stop", "final"} <= set(run["properties"])
    assert "source" not in schema["properties"]


def test_stale_compares_server_versions() -> None:
    scenario = Scenario(recorded=RecordedBy(server="hermes-agent 0.19.0"))
    assert not scenario.stale("0.19.0") and not scenario.stale("hermes-agent 0.19.0")
    assert scenario.stale("0.20.0")
    assert not Scenario().stale("0.20.0")


def test_normalise_run_hides_ids_and_times() -> None:
    run = {"run_id": "run_a", "status": "completed", "created_at": 1.5, "session_id": "run_a"}
    assert normalise_run(run) == {
        "run_id": "<run_id>",
        "status": "completed",
        "created_at": 0,
        "session_id": "<run_id>",
    }


# ---------------------------------------------------------------- replay


def _scenario(**run: object) -> Scenario:
    fields: dict[str, object] = {
        "input": "go",
        "script": GATED,
        "approvals": [ApprovalRecord(choice="once")],
        "final": {"status": "completed"},
    }
    fields.update(run)
    return Scenario(runs=[ScenarioRun.model_validate(fields)], source="t.yaml")


def _drive(server: FakeRunsServer, clock: ManualClock, text: str, choice: str | None) -> dict:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with server.mock(verify=False), httpx.Client(base_url=server.url, headers=headers) as client:
        run_id = client.post("/v1/runs", json={"input": text}).json()["run_id"]
        if choice is not None:
            assert client.post(f"/v1/runs/{run_id}/approval", json={"choice": choice}).is_success
        clock.advance(5)
        result: dict = client.get(f"/v1/runs/{run_id}").json()
        return result


def test_replay_matches_by_input_and_ends_as_recorded() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    server.load_scenario(_scenario())
    final = _drive(server, clock, "go", "once")
    assert final["status"] == "completed" and final["output"] == "Removed it."
    assert server.runs.last.event_names[:3] == [
        "tool.started",
        "approval.request",
        "approval.responded",
    ]
    server.verify()


def test_another_choice_without_a_branch_fails_the_run_and_the_test() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    server.load_scenario(_scenario())
    final = _drive(server, clock, "go", "deny")
    assert final["status"] == "failed"
    assert "recorded as 'once', but the app denied it" in final["error"]
    with pytest.raises(VerificationError) as caught:
        server.verify()
    message = str(caught.value)
    assert "t.yaml: run 1" in message and "'deny'" in message and "'once'" in message


def test_a_branch_serves_the_other_choice() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    branched = ApprovalRecord(choice="once", branches={"deny": DENIED_REST})
    server.load_scenario(_scenario(approvals=[branched]))
    final = _drive(server, clock, "go", "deny")
    assert final["status"] == "completed" and final["output"] == "The command was blocked."
    server.verify()


def test_a_recorded_deny_replays_the_deny_path() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    deny_script = (
        Script()
        .tool_started("terminal", "rm")
        .approval("rm", "d")
        .tool_completed("terminal")
        .complete("The command was blocked.", USAGE)
    )
    server.load_scenario(_scenario(script=deny_script, approvals=[ApprovalRecord(choice="deny")]))
    final = _drive(server, clock, "go", "deny")
    assert final["output"] == "The command was blocked."
    completed = [e for e in server.runs.last.events if e.event == "tool.completed"]
    assert completed[0].error is True  # type: ignore[union-attr]
    server.verify()


def test_once_and_session_are_told_apart_at_teardown() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    server.load_scenario(_scenario())
    _drive(server, clock, "go", "session")
    with pytest.raises(VerificationError, match="record the test again"):
        server.verify()


def test_scenario_runs_come_first_then_the_tests_rules() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    server.on_input("go", Script().complete("from a rule"))
    server.load_scenario(_scenario())
    assert _drive(server, clock, "go", "once")["output"] == "Removed it."
    assert _drive(server, clock, "go", None)["output"] == "from a rule"  # each run once
    server.verify()


def test_a_recorded_run_nobody_replayed_fails_verify() -> None:
    server = FakeRunsServer()
    server.load_scenario(_scenario())
    with pytest.raises(VerificationError, match=r"run 1 .*'go'.* was never replayed"):
        server.verify()
    assert server.problems(skip={"scenario_runs"}) == []


def test_fail_unmatched_accepts_the_run_and_fails_it_naming_input_and_file() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock, strict=False)
    server.load_scenario(_scenario(), fail_unmatched=True)
    final = _drive(server, clock, "something else", None)
    assert final["status"] == "failed"
    assert "'something else'" in final["error"] and "t.yaml" in final["error"]


def test_a_stopped_recording_replays_until_the_app_stops_it() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    script = (
        Script()
        .delta("tick ")
        .wait(0.5)
        .delta("tick ")
        .wait(30)
        .fail("agentfakes: past the recording")
    )
    server.load_scenario(
        _scenario(
            script=script, approvals=[], stop=StopRecord(after=0.6), final={"status": "cancelled"}
        )
    )
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with server.mock(verify=False), httpx.Client(base_url=server.url, headers=headers) as client:
        run_id = client.post("/v1/runs", json={"input": "go"}).json()["run_id"]
        clock.advance(0.6)
        assert client.post(f"/v1/runs/{run_id}/stop").status_code == 200
        clock.advance(1)
        final = client.get(f"/v1/runs/{run_id}").json()
    assert final["status"] == "cancelled"
    assert normalise_run(final) == normalise_run(server.wire(run_id))
    server.verify()


def test_a_run_that_ends_otherwise_than_recorded_is_reported() -> None:
    clock = ManualClock()
    server = FakeRunsServer(clock=clock)
    script = Script().delta("tick ").wait(30).fail("agentfakes: past the recording")
    server.load_scenario(
        _scenario(
            script=script, approvals=[], stop=StopRecord(after=1), final={"status": "cancelled"}
        )
    )
    _drive(server, clock, "go", None)
    clock.advance(60)
    with pytest.raises(VerificationError, match=r"ended 'failed'.*recording ended 'cancelled'"):
        server.verify()


def test_concurrent_writers_leave_one_whole_file_and_no_temp_files(tmp_path: Path) -> None:
    """What pytest-xdist workers writing at once see: each write is a rename, never half."""
    import threading

    path = tmp_path / "shared.yaml"
    scenarios = [
        Scenario(runs=[ScenarioRun(input=f"run {n}", script=SCRIPTS[n % len(SCRIPTS)])])
        for n in range(8)
    ]
    threads = [threading.Thread(target=s.dump, args=(path,)) for s in scenarios]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loaded = Scenario.load(path)
    assert loaded.to_data() in [s.to_data() for s in scenarios]
    assert [p.name for p in tmp_path.iterdir()] == ["shared.yaml"]


def test_every_legal_script_survives_a_scenario_file() -> None:
    """Lossless for every Script (agentfakes.strategies draws them), through YAML too."""
    from hypothesis import HealthCheck, given, settings

    from agentfakes.strategies import scripts

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scripts())
    def round_trip(script: Script) -> None:
        assert Script.from_dict(script.to_dict()) == script
        text = Scenario(runs=[ScenarioRun(input="x", script=script)]).dumps()
        assert Scenario.loads(text).runs[0].script == script

    round_trip()
