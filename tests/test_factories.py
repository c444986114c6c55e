"""Factories: traits, overrides, invariants over many seeds, and spec-ordered event sequences."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time

from agentfakes import seeding
from agentfakes.factories import (
    Lazy,
    MessageFactory,
    ResultFactory,
    RunEventFactory,
    RunFactory,
    RunUsageFactory,
    ToolCallFactory,
)
from agentfakes.models import (
    EVENT_NAMES,
    RUN_ID_PATTERN,
    ApprovalRequest,
    ApprovalResponded,
    Message,
    MessageDelta,
    ReasoningAvailable,
    Result,
    Run,
    RunCancelled,
    RunCompleted,
    RunEvent,
    RunFailed,
    RunStatus,
    RunUsage,
    StopReason,
    ToolCall,
    ToolCompleted,
    ToolStarted,
    carries_iteration_limit_notice,
    parse_event,
)

SEEDS = range(40)
FROZEN = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
STATUS_TRAITS = [status.value for status in RunStatus]
LAST_EVENT: dict[str, set[str | None]] = {
    "queued": {None},
    "running": {None, "tool.started", "tool.completed", "reasoning.available"},
    "waiting_for_approval": {"approval.request"},
    "stopping": {"run.stopping"},
    "completed": {"run.completed"},
    "failed": {"run.failed"},
    "cancelled": {"run.cancelled"},
}


def check_run(run: Run) -> None:
    """Every rule a factory-built Run obeys (spec §3)."""
    wire = run.to_wire()
    assert re.match(RUN_ID_PATTERN, run.run_id), run.run_id
    assert run.updated_at >= run.created_at
    assert run.last_event in LAST_EVENT[run.status.value]
    if run.status is RunStatus.COMPLETED:
        assert run.output is not None and run.usage is not None
        assert run.usage.total_tokens == run.usage.input_tokens + run.usage.output_tokens
        assert "error" not in wire
    else:
        assert "output" not in wire and "usage" not in wire
    if run.status is RunStatus.FAILED:
        assert run.error and wire["error"] == run.error
    else:
        assert run.error is None and "error" not in wire
    assert Run.model_validate(wire).to_wire() == wire


# ---------------------------------------------------------------- builds, batches, overrides


@pytest.mark.parametrize(
    ("factory", "model"),
    [
        (RunFactory, Run),
        (RunUsageFactory, RunUsage),
        (ResultFactory, Result),
        (ToolCallFactory, ToolCall),
        (MessageFactory, Message),
    ],
)
def test_build_and_build_batch_give_models(factory: Any, model: type) -> None:
    assert isinstance(factory.build(), model)
    batch = factory.build_batch(5)
    assert len(batch) == 5 and all(isinstance(item, model) for item in batch)
    assert factory.build_batch(0) == []


def test_build_batch_gives_distinct_runs_with_shared_overrides() -> None:
    runs = RunFactory.build_batch(20, "failed", model="m1")
    assert len({run.run_id for run in runs}) == 20
    assert {run.status for run in runs} == {RunStatus.FAILED}
    assert {run.model for run in runs} == {"m1"}


def test_build_batch_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError, match="n >= 0"):
        RunFactory.build_batch(-1)


def test_overrides_win_over_declarations_and_traits() -> None:
    run = RunFactory.completed(
        run_id="run_" + "a" * 32, output="Hello", session_id="s1", model="m1", last_event=None
    )
    assert run.to_wire() == {
        "object": "hermes.run",
        "run_id": "run_" + "a" * 32,
        "status": "completed",
        "updated_at": run.updated_at,
        "created_at": run.created_at,
        "session_id": "s1",
        "model": "m1",
        "output": "Hello",
        "usage": run.usage.to_wire() if run.usage else None,
    }
    assert RunFactory.build("failed", error="kaboom").error == "kaboom"
    assert RunFactory.build(status="cancelled").status is RunStatus.CANCELLED


def test_overriding_one_timestamp_keeps_the_other_consistent() -> None:
    later = RunFactory.completed(created_at=1_000.0)
    assert later.created_at == 1_000.0 and later.updated_at > 1_000.0
    earlier = RunFactory.completed(updated_at=2_000.0)
    assert earlier.updated_at == 2_000.0 and earlier.created_at < 2_000.0
    assert RunFactory.completed(elapsed=5.0, updated_at=10.0).created_at == 5.0


def test_a_subclass_changes_defaults_and_keeps_traits() -> None:
    class StagingRunFactory(RunFactory):
        model = "staging-model"
        output = Lazy(lambda v: "ok" if v["status"] == "completed" else None)

    run = StagingRunFactory.completed()
    assert (run.model, run.output) == ("staging-model", "ok")
    assert StagingRunFactory.failed().model == "staging-model"
    with pytest.raises(TypeError, match=r"StagingRunFactory\.build\(\) got an unknown field"):
        StagingRunFactory.build(modle="x")


def test_usage_total_follows_an_overridden_part() -> None:
    usage = RunUsageFactory.build(input_tokens=10, output_tokens=5)
    assert usage.to_wire() == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    assert RunUsageFactory.build("empty").to_wire() == {
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
    }


@pytest.mark.parametrize(
    ("factory", "typo", "suggestion", "allowed"),
    [
        (RunFactory, "outptu", "output", "last_event"),
        (ResultFactory, "stop_reasons", "stop_reason", "max_iterations"),
        (ToolCallFactory, "tool", "tool_name", "arguments"),
        (MessageFactory, "rol", "role", "tool_call_id"),
        (RunUsageFactory, "input", "input_tokens", "total_tokens"),
    ],
)
def test_an_unknown_override_names_the_field_and_the_allowed_ones(
    factory: Any, typo: str, suggestion: str, allowed: str
) -> None:
    with pytest.raises(TypeError) as info:
        factory.build(**{typo: 1})
    message = str(info.value)
    assert f"{factory.__name__}.build() got an unknown field {typo!r}" in message
    assert f"did you mean {suggestion!r}" in message
    assert allowed in message


def test_an_unknown_event_override_names_the_event_type() -> None:
    with pytest.raises(TypeError, match=r"build\('tool.completed'\) got an unknown field 'ok'"):
        RunEventFactory.build("tool.completed", ok=True)


def test_unknown_trait_and_unknown_event_say_what_exists() -> None:
    with pytest.raises(ValueError, match="RunFactory has no trait 'done'; traits: queued"):
        RunFactory.build("done")
    with pytest.raises(ValueError, match=r"unknown event 'run\.started'; run events are"):
        RunEventFactory.build("run.started")


# ---------------------------------------------------------------- Run traits and invariants


@pytest.mark.parametrize("trait", [*STATUS_TRAITS, "truncated"])
def test_every_run_trait_obeys_the_rules_over_many_seeds(trait: str) -> None:
    for n in SEEDS:
        seeding.seed(n)
        run = RunFactory.build(trait)
        check_run(run)
        expected = "completed" if trait == "truncated" else trait
        assert run.status.value == expected
        assert carries_iteration_limit_notice(run.output) == (trait == "truncated")


@pytest.mark.parametrize("trait", [*STATUS_TRAITS, "truncated"])
def test_each_run_trait_has_a_convenience_classmethod(trait: str) -> None:
    with freeze_time(FROZEN):
        seeding.seed(3)
        by_trait = RunFactory.build(trait).to_wire()
        seeding.seed(3)
        by_method = getattr(RunFactory, trait)().to_wire()
    assert by_method == by_trait


def test_running_runs_include_fresh_ones_without_last_event() -> None:
    last_events = set()
    for n in SEEDS:
        seeding.seed(n)
        last_events.add(RunFactory.running().last_event)
    assert None in last_events and len(last_events) > 1


def test_failed_runs_carry_redacted_provider_errors() -> None:
    errors = set()
    for n in range(200):
        seeding.seed(n)
        errors.add(RunFactory.failed().error or "")
    assert "HTTP 500: Internal Server Error" in errors
    assert any(re.fullmatch(r"HTTP 401: Invalid key sk-...\.\.\.[0-9a-fA-F]{4}", e) for e in errors)


# ---------------------------------------------------------------- Result, ToolCall, Message


def check_result(result: Result) -> None:
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    assert result.messages[0].role == "user" and result.messages[0].content
    call_ids = [call["id"] for m in result.messages if m.tool_calls for call in m.tool_calls]
    answered = [m.tool_call_id for m in result.messages if m.role == "tool"]
    assert call_ids == answered and len(call_ids) == len(result.tool_calls_made)
    assert Result.model_validate(result.model_dump()).to_dict() == result.to_dict()


def test_complete_result() -> None:
    for n in SEEDS:
        seeding.seed(n)
        result = ResultFactory.build("complete")
        check_result(result)
        assert result.success and not result.truncated and result.error is None
        assert result.content and result.messages[-1].content == result.content
        assert result.turns == len(result.tool_calls_made) + 1


@pytest.mark.parametrize("trait", ["max_iterations", "truncated"])
def test_truncated_result_stops_at_max_iterations(trait: str) -> None:
    for n in SEEDS:
        seeding.seed(n)
        result = ResultFactory.build(trait)
        check_result(result)
        assert result.stop_reason is StopReason.MAX_ITERATIONS
        assert result.turns == 10 and len(result.tool_calls_made) == 10
        assert not result.success and result.truncated
        assert carries_iteration_limit_notice(result.content)
    assert ResultFactory.build(trait, max_iterations=4).turns == 4


def test_error_result() -> None:
    for n in SEEDS:
        seeding.seed(n)
        result = ResultFactory.build("error")
        check_result(result)
        assert result.error is not None and result.error.message
        assert result.content is None and not result.success
        assert result.stop_reason is StopReason.ERROR
        assert all(m.content is None for m in result.messages if m.role == "assistant")


def test_with_tools_result_and_trait_combinations() -> None:
    result = ResultFactory.build("with_tools", tools=3)
    check_result(result)
    assert len(result.tool_calls_made) == 3 and result.turns == 4
    assert 1 <= len(ResultFactory.build("with_tools").tool_calls_made) <= 4
    errored = ResultFactory.build(["error", "with_tools"], tools=2)
    assert errored.stop_reason is StopReason.ERROR and len(errored.tool_calls_made) == 2
    assert repr(ResultFactory.build(content="Hi")).startswith("<Result status=success turns=1")


def test_tool_calls_look_like_hermes_tools() -> None:
    names = set()
    for n in SEEDS:
        seeding.seed(n)
        call = ToolCallFactory.build()
        names.add(call.tool_name)
        assert call.arguments and call.result.success and call.result.name == call.tool_name
    assert {"terminal", "read_file", "web_search"} <= names
    failed = ToolCallFactory.build("failed", tool_name="read_file", arguments={"path": "a.txt"})
    assert not failed.succeeded and failed.result.error == "File not found: a.txt"
    custom = ToolCallFactory.build(tool_name="deploy")
    assert custom.result.name == "deploy" and custom.succeeded


@pytest.mark.parametrize("role", ["user", "assistant", "system", "tool"])
def test_messages_fit_their_role(role: str) -> None:
    message = MessageFactory.build(role)
    assert message.role == role and message.content
    assert (message.tool_call_id is not None) == (role == "tool")
    assert MessageFactory.build(role=role).role == role


def test_tool_call_message_has_calls_and_no_text() -> None:
    message = MessageFactory.build("tool_call")
    assert message.role == "assistant" and message.content is None
    assert message.tool_calls and message.tool_calls[0]["id"].startswith("call_")
    json.loads(message.tool_calls[0]["function"]["arguments"])


# ---------------------------------------------------------------- determinism and the clock


def everything() -> list[Any]:
    """One of each factory's objects, as wire/plain dicts, built from the current seed."""
    return [
        *(RunFactory.build(trait).to_wire() for trait in [*STATUS_TRAITS, "truncated"]),
        *(ResultFactory.build(trait).to_dict() for trait in ["complete", "truncated", "error"]),
        ToolCallFactory.build().model_dump(),
        MessageFactory.build().model_dump(),
        *(RunEventFactory.build(name).to_wire() for name in EVENT_NAMES),
        *(e.to_wire() for e in RunEventFactory.sequence(tools=2, approval="once")),
    ]


def test_same_seed_gives_byte_identical_objects() -> None:
    with freeze_time(FROZEN):
        seeding.seed(7)
        first = everything()
        seeding.seed(7)
        second = everything()
    assert first == second
    assert json.dumps(first) == json.dumps(second)


def test_different_seeds_give_different_objects() -> None:
    with freeze_time(FROZEN):
        seeding.seed(7)
        first = everything()
        seeding.seed(8)
        second = everything()
    assert first != second
    assert first[0]["run_id"] != second[0]["run_id"]


def test_timestamps_come_from_the_frozen_clock() -> None:
    with freeze_time(FROZEN) as frozen:
        now = FROZEN.timestamp()
        queued = RunFactory.queued()
        assert queued.created_at == queued.updated_at == now
        done = RunFactory.completed()
        assert done.updated_at == now and done.created_at < now
        assert RunEventFactory.build("run.cancelled").timestamp == now
        assert RunEventFactory.sequence()[0].timestamp > now
        frozen.tick(60)
        assert RunFactory.completed().updated_at == now + 60


def run_and_its_events() -> list[Any]:
    """A run, the events it streamed, a lone event and a fresh stream, as wire dicts."""
    run = RunFactory.completed()
    return [
        run.to_wire(),
        *(e.to_wire() for e in RunEventFactory.sequence_for(run, tools=1, approval="once")),
        RunEventFactory.build("message.delta").to_wire(),
        *(e.to_wire() for e in RunEventFactory.sequence(tools=1)),
    ]


def test_same_seed_gives_the_same_timestamps_under_a_frozen_clock() -> None:
    """Issue 8: timestamps follow the clock, so freezing it makes them repeat with the seed."""
    with freeze_time(FROZEN):
        seeding.seed(11)
        first = run_and_its_events()
    with freeze_time(FROZEN):
        seeding.seed(11)
        second = run_and_its_events()
    assert json.dumps(first) == json.dumps(second)
    stamps = [first[0]["created_at"], first[0]["updated_at"]]
    stamps += [wire["timestamp"] for wire in first[1:]]
    assert len(set(stamps)) > 3  # real, distinct times, not one constant


def test_on_a_real_clock_timestamps_move_and_the_rest_repeats() -> None:
    with freeze_time(FROZEN):
        seeding.seed(11)
        frozen = run_and_its_events()[0]
    seeding.seed(11)
    before = time.time()
    real = run_and_its_events()[0]
    assert before <= real["updated_at"] <= time.time()
    assert real["updated_at"] - real["created_at"] == pytest.approx(
        frozen["updated_at"] - frozen["created_at"]
    )
    unclocked = {"created_at", "updated_at"}
    assert {k: v for k, v in real.items() if k not in unclocked} == {
        k: v for k, v in frozen.items() if k not in unclocked
    }


# ---------------------------------------------------------------- single events


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_event_type_builds_and_round_trips(name: str) -> None:
    event = RunEventFactory.build(name)
    assert event.event == name
    assert re.match(RUN_ID_PATTERN, event.run_id)
    assert parse_event(event.to_wire()) == event
    assert parse_event(event.to_sse()).to_wire() == event.to_wire()
    batch = RunEventFactory.build_batch(3, name, run_id="run_" + "b" * 32)
    assert [e.event for e in batch] == [name] * 3 and {e.run_id for e in batch} == {
        "run_" + "b" * 32
    }


def test_event_overrides() -> None:
    completed = RunEventFactory.build(
        "tool.completed", tool="terminal", duration=0.12345, error=True
    )
    assert completed.to_wire()["duration"] == 0.123 and completed.to_wire()["error"] is True
    gate = RunEventFactory.build("approval.request", smart_denied=True, allow_permanent=False)
    assert isinstance(gate, ApprovalRequest) and gate.choices == ["once", "deny"]
    assert RunEventFactory.build("approval.responded", choice="deny").to_wire()["choice"] == "deny"


# ---------------------------------------------------------------- event sequences


def check_sequence(events: list[RunEvent]) -> None:
    """The ordering rules of spec §5.5 that every generated stream obeys."""
    wires = [e.to_wire() for e in events]
    assert [parse_event(w).to_wire() for w in wires] == wires
    assert len({e.run_id for e in events}) == 1
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)
    assert [e.is_terminal for e in events] == [False] * (len(events) - 1) + [True]
    assert all(e.event in EVENT_NAMES for e in events)

    open_tool: ToolStarted | None = None
    gate_pending = False
    for event in events:
        if isinstance(event, ToolStarted):
            assert open_tool is None, "a tool started before the previous one completed"
            open_tool = event
        elif isinstance(event, ApprovalRequest):
            assert open_tool is not None and open_tool.tool == "terminal"
            assert event.command == open_tool.preview
            gate_pending = True
        elif isinstance(event, ApprovalResponded):
            assert gate_pending and event.resolved == 1
            gate_pending = False
        elif isinstance(event, ToolCompleted):
            assert open_tool is not None and event.tool == open_tool.tool
            assert event.duration == round(event.timestamp - open_tool.timestamp, 3)
            open_tool, gate_pending = None, False
        elif isinstance(event, MessageDelta | ReasoningAvailable):
            assert open_tool is None, "text streamed while a tool was running"
    assert open_tool is None


def deltas_of(events: list[RunEvent]) -> str:
    return "".join(e.delta for e in events if isinstance(e, MessageDelta))


@pytest.mark.parametrize("tools", [0, 1, 3])
@pytest.mark.parametrize("approval", [None, "once", "session", "always", "deny", "timeout"])
def test_completed_sequence(tools: int, approval: str | None) -> None:
    if approval and not tools:
        tools = 1
    for n in range(10):
        seeding.seed(n)
        events = RunEventFactory.sequence(outcome="completed", tools=tools, approval=approval)
        check_sequence(events)
        final = events[-1]
        assert isinstance(final, RunCompleted) and final.output
        assert deltas_of(events) == final.output
        reasoning = events[-2]
        assert isinstance(reasoning, ReasoningAvailable) and reasoning.text == final.output[:500]
        assert isinstance(events[-3], MessageDelta)
        assert sum(isinstance(e, ToolStarted) for e in events) == tools
        completions = [e for e in events if isinstance(e, ToolCompleted)]
        if approval:
            assert [type(e) for e in events[:2]] == [ToolStarted, ApprovalRequest]
            responded = [e for e in events if isinstance(e, ApprovalResponded)]
            assert [r.choice for r in responded] == ([] if approval == "timeout" else [approval])
            assert completions[0].error == (approval in ("deny", "timeout"))
        assert not any(c.error for c in completions[1 if approval else 0 :])


def test_deltas_sets_the_number_of_chunks() -> None:
    events = RunEventFactory.sequence(output="Hello world, how are you?", deltas=4)
    chunks = [e.delta for e in events if isinstance(e, MessageDelta)]
    assert len(chunks) == 4 and "".join(chunks) == "Hello world, how are you?"


def test_max_iterations_sequence_has_tools_then_only_run_completed() -> None:
    for n in range(10):
        seeding.seed(n)
        events = RunEventFactory.sequence(outcome="max_iterations", tools=3)
        check_sequence(events)
        assert [e.event for e in events] == ["tool.started", "tool.completed"] * 3 + [
            "run.completed"
        ]
        final = events[-1]
        assert isinstance(final, RunCompleted) and carries_iteration_limit_notice(final.output)


@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
def test_failed_and_cancelled_sequences(outcome: str) -> None:
    for n in range(10):
        seeding.seed(n)
        events = RunEventFactory.sequence(outcome=outcome, tools=n % 3)  # type: ignore[arg-type]
        check_sequence(events)
        assert not any(isinstance(e, RunCompleted | ReasoningAvailable) for e in events)
    failed = RunEventFactory.sequence(outcome="failed", error="HTTP 500: Internal Server Error")
    assert [e.to_wire()["error"] for e in failed] == ["HTTP 500: Internal Server Error"]
    cancelled = RunEventFactory.sequence(outcome="cancelled", deltas=3)
    assert [e.event for e in cancelled] == ["message.delta"] * 3 + ["run.cancelled"]
    assert isinstance(cancelled[-1], RunCancelled)


def test_failed_run_can_fail_mid_stream() -> None:
    events = RunEventFactory.sequence(outcome="failed", deltas=2)
    assert [e.event for e in events] == ["message.delta", "message.delta", "run.failed"]
    assert isinstance(events[-1], RunFailed)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "done"}, "unknown outcome 'done'"),
        ({"approval": "yes"}, "unknown approval 'yes'"),
        ({"approval": "once", "tools": 0}, "tools must be >= 1"),
        ({"outcome": "max_iterations", "tools": 0}, "tools must be >= 1"),
        ({"outcome": "max_iterations", "deltas": 2}, "emits no message.delta"),
        ({"output": "Hi", "deltas": 3}, "deltas must be between 1 and len"),
        ({"tools": -1}, "tools must be >= 0"),
        ({"started_at": 10.0, "ended_at": 5.0}, "before started_at"),
    ],
)
def test_sequence_rejects_impossible_requests(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunEventFactory.sequence(**kwargs)


@pytest.mark.parametrize("trait", ["completed", "truncated", "failed", "cancelled"])
def test_sequence_for_matches_the_run(trait: str) -> None:
    for n in range(15):
        seeding.seed(n)
        run = RunFactory.build(trait)
        tools = n % 3 + (trait == "truncated")  # the iteration limit needs a tool call
        events = RunEventFactory.sequence_for(run, tools=tools)
        check_sequence(events)
        assert {e.run_id for e in events} == {run.run_id}
        assert run.created_at <= events[0].timestamp
        assert events[-1].timestamp == run.updated_at
        assert events[-1].event == run.last_event
        final = events[-1].to_wire()
        if run.status is RunStatus.COMPLETED:
            assert final["output"] == run.output
            assert final["usage"] == (run.usage.to_wire() if run.usage else None)
        if trait == "completed":
            assert deltas_of(events) == run.output
        if trait == "truncated":
            assert deltas_of(events) == ""
        if trait == "failed":
            assert final["error"] == run.error
        result = Result.from_run(run, events)
        assert len(result.tool_calls_made) == sum(isinstance(e, ToolCompleted) for e in events)


def test_sequence_for_a_completed_run_without_output() -> None:
    events = RunEventFactory.sequence_for(RunFactory.completed(output=None), approval="deny")
    assert [e.event for e in events] == [
        "tool.started",
        "approval.request",
        "approval.responded",
        "tool.completed",
        "run.completed",
    ]
    assert events[-1].to_wire()["output"] is None


@pytest.mark.parametrize("trait", ["queued", "running", "waiting_for_approval", "stopping"])
def test_sequence_for_refuses_an_unfinished_run(trait: str) -> None:
    with pytest.raises(ValueError, match=f"is still {trait}"):
        RunEventFactory.sequence_for(RunFactory.build(trait))
