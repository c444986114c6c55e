"""Script: what every step does to a run, immutability, and every build-time error."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from agentfakes.clocks import DEFAULT_START, ManualClock
from agentfakes.engine import RunRecord, RunTiming
from agentfakes.errors import ScriptError
from agentfakes.models import (
    ITERATION_LIMIT_NOTICE,
    ApprovalRequest,
    MessageDelta,
    ReasoningAvailable,
    RunCompleted,
    RunFailed,
    RunStatus,
    RunUsage,
    ToolCompleted,
    ToolStarted,
)
from agentfakes.script import Complete, Delta, Fail, Script, Wait
from agentfakes.server import FakeRunsServer

T0 = DEFAULT_START
RUN_ID = "run_" + "ab" * 16


def start(script: Script, *, input: str = "hello there") -> RunRecord:
    """A run of `script` created at T0 and brought up to T0, as the engine does."""
    record = RunRecord(
        run_id=RUN_ID,
        created_at=T0,
        script=script.validate(),
        timing=RunTiming(),
        session_id=RUN_ID,
        model="hermes-agent",
        input=input,
        request={"input": input},
    )
    record.advance(T0)
    return record


def run_to_end(script: Script, *, input: str = "hello there") -> RunRecord:
    record = start(script, input=input)
    record.advance(T0 + 10_000)
    return record


def wire_events(record: RunRecord) -> list[dict[str, Any]]:
    """The events as the SSE payload would carry them (through JSON)."""
    return [json.loads(e.to_sse()[len("data: ") :]) for e in record.events]


# ============================================================ each step's effect


class TestDelta:
    def test_emits_message_delta_with_its_text(self) -> None:
        record = run_to_end(Script().delta("Hel").delta("lo").complete("Hello"))
        deltas = [e for e in record.events if isinstance(e, MessageDelta)]
        assert [d.delta for d in deltas] == ["Hel", "lo"]
        assert all(d.timestamp == T0 for d in deltas)

    def test_does_not_touch_the_run_object(self) -> None:
        record = start(Script().wait(1).delta("x").wait(5).complete("x"))
        record.advance(T0 + 2)
        assert record.event_names == ["message.delta"]
        assert record.last_event is None
        assert record.updated_at == T0
        assert "last_event" not in record.to_wire()

    def test_empty_delta_is_allowed(self) -> None:
        record = run_to_end(Script().delta("").complete(""))
        assert record.events[0] == MessageDelta(run_id=RUN_ID, timestamp=T0, delta="")


class TestReasoning:
    def test_emits_reasoning_available_and_touches_the_run(self) -> None:
        record = start(Script().wait(2).reasoning("thinking").wait(5).complete("x"))
        record.advance(T0 + 3)
        assert record.events == [
            ReasoningAvailable(run_id=RUN_ID, timestamp=T0 + 2, text="thinking")
        ]
        assert record.last_event == "reasoning.available"
        assert record.updated_at == T0 + 2
        assert record.status is RunStatus.RUNNING

    def test_default_text_is_empty(self) -> None:
        record = run_to_end(Script().reasoning().complete("x"))
        assert wire_events(record)[0]["text"] == ""

    def test_truncated_to_500_characters(self) -> None:
        text = "".join(chr(ord("a") + i % 26) for i in range(777))
        script = Script().reasoning(text)
        record = run_to_end(script.complete("x"))
        sent = wire_events(record)[0]["text"]
        assert sent == text[:500]
        assert len(sent) == 500

    def test_exactly_500_characters_is_kept_whole(self) -> None:
        record = run_to_end(Script().reasoning("r" * 500).complete("x"))
        assert wire_events(record)[0]["text"] == "r" * 500


class TestToolSteps:
    def test_tool_started_emits_tool_and_preview(self) -> None:
        record = run_to_end(
            Script()
            .tool_started("terminal", "ls -la")
            .wait(1)
            .tool_completed("terminal")
            .complete("x")
        )
        assert record.events[0] == ToolStarted(
            run_id=RUN_ID, timestamp=T0, tool="terminal", preview="ls -la"
        )

    def test_tool_started_preview_defaults_to_null_on_the_wire(self) -> None:
        record = run_to_end(Script().tool_started("web").tool_completed("web").complete("x"))
        first = wire_events(record)[0]
        assert first["event"] == "tool.started"
        assert "preview" in first
        assert first["preview"] is None

    def test_tool_started_sets_last_event_and_keeps_status(self) -> None:
        record = start(Script().wait(1).tool_started("t").wait(9).tool_completed("t").complete())
        record.advance(T0 + 1)
        assert record.last_event == "tool.started"
        assert record.updated_at == T0 + 1
        assert record.status is RunStatus.RUNNING

    def test_tool_completed_duration_defaults_to_scripted_time_since_start(self) -> None:
        script = Script().tool_started("t").wait(2.5).delta("x").wait(1).tool_completed("t")
        record = run_to_end(script.complete("done"))
        done = [e for e in record.events if isinstance(e, ToolCompleted)]
        assert len(done) == 1
        assert done[0].duration == 3.5
        assert done[0].timestamp == T0 + 3.5
        assert done[0].error is False

    def test_tool_completed_duration_is_rounded_to_3_dp_on_the_wire(self) -> None:
        record = run_to_end(
            Script().tool_started("t").wait(0.12345).tool_completed("t").complete("x")
        )
        completed = wire_events(record)[1]
        assert completed["event"] == "tool.completed"
        assert completed["duration"] == 0.123
        assert '"duration": 0.123,' in record.events[1].to_sse()

    def test_explicit_duration_overrides_the_scripted_time(self) -> None:
        record = run_to_end(
            Script().tool_started("t").wait(5).tool_completed("t", duration=1.23456).complete()
        )
        completed = wire_events(record)[1]
        assert completed["duration"] == 1.235
        assert completed["timestamp"] == T0 + 5

    def test_tool_completed_error_flag(self) -> None:
        record = run_to_end(
            Script()
            .tool_started("a")
            .tool_completed("a", error=True)
            .tool_started("b")
            .tool_completed("b", error=False)
            .complete()
        )
        flags = [e.error for e in record.events if isinstance(e, ToolCompleted)]
        assert flags == [True, False]

    def test_tool_completed_closes_the_oldest_open_tool_of_that_name(self) -> None:
        script = (
            Script()
            .tool_started("t", "first")
            .wait(1)
            .tool_started("t", "second")
            .wait(2)
            .tool_completed("t")
            .tool_completed("t")
            .complete()
        )
        record = run_to_end(script)
        durations = [e.duration for e in record.events if isinstance(e, ToolCompleted)]
        assert durations == [3.0, 2.0]

    def test_tool_is_started_wait_completed(self) -> None:
        script = Script().tool("terminal", "ls", duration=2)
        assert [type(s).__name__ for s in script] == ["ToolStart", "Wait", "ToolEnd"]
        record = run_to_end(script.complete("x"))
        assert record.event_names == ["tool.started", "tool.completed", "run.completed"]
        completed = record.events[1]
        assert isinstance(completed, ToolCompleted)
        assert (completed.tool, completed.duration, completed.timestamp) == (
            "terminal",
            2.0,
            T0 + 2,
        )
        assert record.events[0].preview == "ls"  # type: ignore[union-attr]

    def test_tool_without_duration_has_no_wait(self) -> None:
        script = Script().tool("web")
        assert [type(s).__name__ for s in script] == ["ToolStart", "ToolEnd"]
        record = run_to_end(script.complete())
        assert record.events[1].duration == 0.0  # type: ignore[union-attr]

    def test_tool_error_is_passed_on(self) -> None:
        record = run_to_end(Script().tool("web", error=True).complete())
        assert record.events[1].error is True  # type: ignore[union-attr]


class TestWait:
    def test_wait_moves_later_steps(self) -> None:
        record = run_to_end(Script().delta("a").wait(1.5).delta("b").wait(3).complete("ab"))
        assert [e.timestamp for e in record.events] == [T0, T0 + 1.5, T0 + 4.5]

    def test_wait_zero_and_int_are_accepted(self) -> None:
        script = Script().wait(0).wait(2)
        assert list(script) == [Wait(0.0), Wait(2.0)]
        assert isinstance(script.steps[1].seconds, float)  # type: ignore[attr-defined]

    def test_nothing_happens_before_the_wait_ends(self) -> None:
        record = start(Script().wait(10).complete("x"))
        record.advance(T0 + 9.999)
        assert record.events == []
        assert record.status is RunStatus.RUNNING
        record.advance(T0 + 10)
        assert record.status is RunStatus.COMPLETED

    def test_duration_property_sums_the_waits(self) -> None:
        built = Script().wait(2).tool("t", duration=3).delta("x").complete()
        assert built.duration == 5.0
        assert Script().duration == 0


class TestApprovalStep:
    def test_request_fields_and_status(self) -> None:
        script = (
            Script()
            .tool_started("terminal", "rm -rf build")
            .approval("rm -rf build", "delete in root path")
            .tool_completed("terminal")
            .complete("ok")
        )
        record = start(script)
        request = wire_events(record)[1]
        assert list(request) == [
            "command",
            "pattern_key",
            "pattern_keys",
            "description",
            "allow_permanent",
            "event",
            "run_id",
            "timestamp",
            "choices",
        ]
        assert request == {
            "command": "rm -rf build",
            "pattern_key": "delete in root path",
            "pattern_keys": ["delete in root path"],
            "description": "delete in root path",
            "allow_permanent": True,
            "event": "approval.request",
            "run_id": RUN_ID,
            "timestamp": T0,
            "choices": ["once", "session", "always", "deny"],
        }
        assert record.status is RunStatus.WAITING_FOR_APPROVAL
        assert record.last_event == "approval.request"
        assert len(record.pending_approvals) == 1

    def test_explicit_pattern_keys(self) -> None:
        record = start(
            Script().approval("cmd", "desc", pattern_key="k1", pattern_keys=["k1", "k2"]).complete()
        )
        event = record.events[0]
        assert isinstance(event, ApprovalRequest)
        assert (event.pattern_key, event.pattern_keys) == ("k1", ["k1", "k2"])

    def test_allow_permanent_false_offers_three_choices(self) -> None:
        record = start(Script().approval("cmd", "d", allow_permanent=False).complete())
        request = wire_events(record)[0]
        assert request["allow_permanent"] is False
        assert request["choices"] == ["once", "session", "deny"]

    def test_allow_permanent_none_is_absent(self) -> None:
        record = start(Script().approval("cmd", "d", allow_permanent=None).complete())
        request = wire_events(record)[0]
        assert "allow_permanent" not in request
        assert request["choices"] == ["once", "session", "always", "deny"]

    def test_smart_denied(self) -> None:
        record = start(Script().approval("cmd", "d", smart_denied=True).complete())
        request = wire_events(record)[0]
        assert request["smart_denied"] is True
        assert request["choices"] == ["once", "deny"]
        assert list(request).index("smart_denied") < list(request).index("event")

    def test_the_run_waits_until_resolved(self) -> None:
        record = start(Script().approval("cmd", "d").delta("after").complete("x"))
        record.advance(T0 + 30)
        assert record.event_names == ["approval.request"]
        assert record.resolve_approvals("once", resolve_all=False, now=T0 + 30) == 1
        record.advance(T0 + 30)
        assert record.event_names == [
            "approval.request",
            "approval.responded",
            "message.delta",
            "run.completed",
        ]
        assert record.events[2].timestamp == T0 + 30


class TestTerminalSteps:
    def test_complete_with_output_and_usage(self) -> None:
        record = run_to_end(
            Script().complete("Hello", usage={"input_tokens": 10, "output_tokens": 5})
        )
        assert record.events == [
            RunCompleted(
                run_id=RUN_ID,
                timestamp=T0,
                output="Hello",
                usage=RunUsage(input_tokens=10, output_tokens=5, total_tokens=15),
            )
        ]
        wire = record.to_wire()
        assert wire["status"] == "completed"
        assert wire["last_event"] == "run.completed"
        assert wire["output"] == "Hello"
        assert wire["usage"] == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        assert "error" not in wire

    def test_complete_accepts_a_run_usage(self) -> None:
        usage = RunUsage(input_tokens=1, output_tokens=2, total_tokens=7)
        record = run_to_end(Script().complete("x", usage=usage))
        assert record.to_wire()["usage"] == {
            "input_tokens": 1,
            "output_tokens": 2,
            "total_tokens": 7,
        }

    def test_complete_without_output_reports_null(self) -> None:
        record = run_to_end(Script().complete())
        wire = record.to_wire()
        assert "output" in wire
        assert wire["output"] is None
        assert wire_events(record)[0]["output"] is None

    def test_fail(self) -> None:
        record = run_to_end(Script().delta("x").fail("HTTP 500: upstream"))
        assert record.events[-1] == RunFailed(
            run_id=RUN_ID, timestamp=T0, error="HTTP 500: upstream"
        )
        wire = record.to_wire()
        assert (wire["status"], wire["last_event"], wire["error"]) == (
            "failed",
            "run.failed",
            "HTTP 500: upstream",
        )
        assert "output" not in wire
        assert "usage" not in wire

    def test_answer_deltas_concatenate_to_the_output(self) -> None:
        text = "The deployment finished; 3 services restarted."
        record = run_to_end(Script().answer(text))
        deltas = [e.delta for e in record.events if isinstance(e, MessageDelta)]
        assert len(deltas) == math.ceil(len(text) / 12)
        assert all(len(d) <= 12 for d in deltas)
        assert "".join(deltas) == text
        assert record.event_names[-2:] == ["reasoning.available", "run.completed"]
        assert record.events[-2].text == text  # type: ignore[union-attr]
        assert record.output == text
        assert record.event_names == ["message.delta"] * len(deltas) + [
            "reasoning.available",
            "run.completed",
        ]

    def test_answer_chunk_size(self) -> None:
        record = run_to_end(Script().answer("abcdefg", chunk=3))
        assert [e.delta for e in record.events if isinstance(e, MessageDelta)] == [
            "abc",
            "def",
            "g",
        ]

    def test_answer_usage_is_passed_on(self) -> None:
        record = run_to_end(Script().answer("hi", usage={"input_tokens": 3, "output_tokens": 1}))
        assert record.to_wire()["usage"]["total_tokens"] == 4

    def test_long_answer_reasoning_is_truncated_but_output_is_whole(self) -> None:
        text = "y" * 620
        record = run_to_end(Script().answer(text, chunk=100))
        assert len(record.events[-2].text) == 500  # type: ignore[union-attr]
        assert record.output == text

    def test_empty_answer_emits_no_reasoning(self) -> None:
        record = run_to_end(Script().answer(""))
        assert record.event_names == ["run.completed"]

    def test_max_iterations_appends_the_notice_and_emits_no_deltas(self) -> None:
        record = run_to_end(Script().tool("terminal").max_iterations("I listed the files."))
        assert record.output == f"I listed the files.\n\n{ITERATION_LIMIT_NOTICE}"
        assert record.event_names == ["tool.started", "tool.completed", "run.completed"]
        assert record.status is RunStatus.COMPLETED
        assert record.to_wire()["output"].endswith(ITERATION_LIMIT_NOTICE)

    def test_max_iterations_without_summary_is_only_the_notice(self) -> None:
        record = run_to_end(Script().max_iterations())
        assert record.output == ITERATION_LIMIT_NOTICE
        assert record.event_names == ["run.completed"]


# ============================================================ immutability


class TestImmutability:
    def test_a_prefix_can_start_two_scripts(self) -> None:
        prefix = Script().delta("Hel").tool("terminal")
        ok = prefix.answer("ok")
        bad = prefix.fail("boom")
        assert len(prefix) == 3
        assert prefix.terminal is None
        assert isinstance(ok.terminal, Complete)
        assert isinstance(bad.terminal, Fail)
        assert ok.steps[:3] == prefix.steps == bad.steps[:3]
        assert run_to_end(ok).status is RunStatus.COMPLETED
        assert run_to_end(bad).status is RunStatus.FAILED
        # building on the prefix again still works: it was never ended
        assert prefix.complete("again").terminal == Complete("again", None)

    def test_every_builder_call_returns_a_new_script(self) -> None:
        empty = Script()
        with_delta = empty.delta("x")
        assert with_delta is not empty
        assert len(empty) == 0
        assert list(with_delta) == [Delta("x")]

    def test_scripts_are_frozen(self) -> None:
        script = Script().delta("x")
        with pytest.raises(dataclasses.FrozenInstanceError):
            script.steps = ()  # type: ignore[misc]

    def test_named_returns_a_copy_and_names_do_not_affect_equality(self) -> None:
        base = Script().complete("x")
        named = base.named("greeting")
        assert named is not base
        assert (base.name, named.name) == (None, "greeting")
        assert named == base

    def test_one_script_drives_many_runs_identically(self) -> None:
        script = Script().delta("a").wait(1).tool("t", duration=2).answer("done")
        first, second = run_to_end(script), run_to_end(script)
        assert first.events == second.events


# ============================================================ build-time errors


NO_TERMINAL = (
    "end it with .complete(output), .answer(text), .max_iterations(output) or .fail(error)"
)


class TestTerminalErrors:
    def test_validate_without_terminal(self) -> None:
        with pytest.raises(ScriptError) as info:
            Script().delta("a").delta("b").wait(1).tool_started("t").validate()
        message = str(info.value)
        assert "script has no terminal step (after delta('b'), wait(1.0), tool_started('t'))" in (
            message
        )
        assert NO_TERMINAL in message

    def test_validate_empty_script(self) -> None:
        with pytest.raises(ScriptError, match=r"script has no terminal step \(after no steps\)"):
            Script().validate()

    def test_validate_names_the_script(self) -> None:
        with pytest.raises(ScriptError, match="deploy script 'happy' has no terminal step"):
            Script().delta("x").named("happy").validate("deploy script")

    def test_server_script_refuses_a_script_without_terminal(self) -> None:
        server = FakeRunsServer(clock=ManualClock())
        with pytest.raises(
            ScriptError,
            match=r"default script has no terminal step \(after "
            r"delta\('x'\)\)",
        ):
            server.script(Script().delta("x"))
        assert server.router.default is None

    def test_validate_returns_the_script(self) -> None:
        script = Script().complete("x")
        assert script.validate() is script

    @pytest.mark.parametrize(
        "ended",
        [
            Script().complete("done"),
            Script().answer("done"),
            Script().max_iterations("done"),
            Script().fail("boom"),
        ],
        ids=["complete", "answer", "max_iterations", "fail"],
    )
    def test_a_step_after_the_terminal_one(self, ended: Script) -> None:
        with pytest.raises(ScriptError) as info:
            ended.delta("late")
        message = str(info.value)
        assert f"step {len(ended) + 1} (delta('late')) comes after the terminal step " in message
        assert ended.terminal is not None
        assert ended.terminal.describe() in message
        assert "a run ends exactly once" in message

    def test_a_second_terminal_step(self) -> None:
        with pytest.raises(
            ScriptError,
            match=r"step 2 \(fail\('x'\)\) comes after the terminal "
            r"step complete\('ok'\)",
        ):
            Script().complete("ok").fail("x")

    def test_terminal_not_last_in_a_hand_built_script(self) -> None:
        script = Script(steps=(Complete("a", None), Complete("b", None)))
        with pytest.raises(ScriptError, match=r"step 1 \(complete\('a'\)\) is not the last step"):
            script.validate()


class TestToolPairing:
    def test_tool_completed_without_tool_started(self) -> None:
        script = Script().delta("x").tool_completed("terminal").complete()
        with pytest.raises(ScriptError) as info:
            script.validate()
        assert str(info.value) == (
            "script: step 2 (tool_completed('terminal')) has no matching "
            "tool_started('terminal') before it (open tools: none)"
        )

    def test_tool_completed_of_another_tool_lists_the_open_ones(self) -> None:
        script = Script().tool_started("web").tool_completed("terminal").complete()
        with pytest.raises(
            ScriptError,
            match=r"step 2 \(tool_completed\('terminal'\)\).*"
            r"\(open tools: web\)",
        ):
            script.validate()

    def test_completing_one_start_twice(self) -> None:
        script = Script().tool_started("t").tool_completed("t").tool_completed("t").complete()
        with pytest.raises(ScriptError, match=r"step 3 \(tool_completed\('t'\)\) has no matching"):
            script.validate()

    def test_server_refuses_an_unpaired_script_naming_it(self) -> None:
        server = FakeRunsServer(clock=ManualClock())
        bad = Script().tool_completed("t").complete().named("broken")
        with pytest.raises(ScriptError, match=r"queued script #1 'broken': step 1"):
            server.queue(bad)

    def test_a_tool_left_open_is_allowed(self) -> None:
        # Hermes may end a run with a tool still "running" (e.g. the iteration limit).
        assert Script().tool_started("t").max_iterations().validate()


BAD_SECONDS = [-1, -0.001, float("nan"), float("inf"), "1", True, [1]]


class TestSecondsErrors:
    @pytest.mark.parametrize("value", [*BAD_SECONDS, None], ids=repr)
    def test_wait(self, value: Any) -> None:
        with pytest.raises(ScriptError, match=r"^wait: seconds must be"):
            Script().wait(value)

    def test_negative_wait_message(self) -> None:
        with pytest.raises(ScriptError, match=r"^wait: seconds must be >= 0 seconds, got -2$"):
            Script().wait(-2)

    def test_nan_wait_message(self) -> None:
        with pytest.raises(
            ScriptError, match=r"^wait: seconds must be a number of seconds, got nan$"
        ):
            Script().wait(float("nan"))

    @pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
    def test_tool_completed_duration(self, value: Any) -> None:
        with pytest.raises(ScriptError, match=r"^tool_completed\('t'\): duration must be"):
            Script().tool_started("t").tool_completed("t", duration=value)

    @pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
    def test_approval_timeout(self, value: Any) -> None:
        with pytest.raises(ScriptError, match=r"^approval\('rm'\): timeout must be"):
            Script().approval("rm", "delete", timeout=value)

    @pytest.mark.parametrize("value", [-1, float("nan"), "x"], ids=repr)
    def test_tool_duration_names_the_tool_step(self, value: Any) -> None:
        with pytest.raises(ScriptError, match=r"^tool\('t'\): duration must be"):
            Script().tool("t", duration=value)

    def test_tool_duration_is_refused(self) -> None:
        # Whatever the message, a bad tool() duration never builds a script.
        for value in (-1, float("nan"), "x"):
            with pytest.raises(ScriptError):
                Script().tool("t", duration=value)


class TestTypeErrors:
    @pytest.mark.parametrize(
        ("build", "message"),
        [
            (lambda: Script().delta(5), r"^delta: text must be a string, got int$"),
            (lambda: Script().reasoning(None), r"^reasoning: text must be a string, got NoneType$"),
            (lambda: Script().tool_started(1), r"^tool_started: name must be a string, got int$"),
            (lambda: Script().tool_started("t", 2), r"^tool_started: preview must be a string"),
            (lambda: Script().tool_completed(None), r"^tool_completed: name must be a string"),
            (
                lambda: Script().tool_started("t").tool_completed("t", error="yes"),
                r"^tool_completed\('t'\): error must be True, False or None$",
            ),
            (lambda: Script().approval(1, "d"), r"^approval: command must be a string, got int$"),
            (
                lambda: Script().approval("rm", None),
                r"^approval\('rm'\): description must be a string, got NoneType$",
            ),
            (
                lambda: Script().approval("rm", "d", allow_permanent="yes"),
                r"^approval\('rm'\): allow_permanent must be True, False or None",
            ),
            (
                lambda: Script().approval("rm", "d", smart_denied=1),
                r"^approval\('rm'\): smart_denied must be True or False$",
            ),
            (
                lambda: Script().approval("rm", "d", pattern_keys=["ok", 1]),
                r"^approval\('rm'\): pattern_keys must be strings$",
            ),
            (lambda: Script().complete(1), r"^complete: output must be a string, got int$"),
            (lambda: Script().fail(None), r"^fail: error must be a string, got NoneType$"),
            (lambda: Script().answer(5), r"^answer: text must be a string, got int$"),
            (
                lambda: Script().answer("x", chunk=0),
                r"^answer: chunk must be a whole number >= 1, got 0$",
            ),
            (lambda: Script().max_iterations(3), r"^max_iterations: output must be a string"),
            (
                lambda: Script().complete("x", usage={"input_tokens": -1}),
                r"usage must be \{input_tokens, output_tokens\[, total_tokens\]\} ints",
            ),
            (lambda: Script().complete("x", usage="many"), r"usage must be"),
        ],
        ids=[
            "delta",
            "reasoning",
            "tool_started-name",
            "tool_started-preview",
            "tool_completed-name",
            "tool_completed-error",
            "approval-command",
            "approval-description",
            "approval-allow_permanent",
            "approval-smart_denied",
            "approval-pattern_keys",
            "complete-output",
            "fail-error",
            "answer-text",
            "answer-chunk",
            "max_iterations-output",
            "usage-negative",
            "usage-type",
        ],
    )
    def test_refused_with_a_message_naming_the_step(self, build: Any, message: str) -> None:
        with pytest.raises(ScriptError, match=message):
            build()

    def test_script_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="delta"):
            Script().delta(b"bytes")  # type: ignore[arg-type]

    def test_bad_usage_names_the_step(self) -> None:
        with pytest.raises(ScriptError, match=r"^complete\('x'\): usage must be"):
            Script().complete("x", usage={"input_tokens": -1})

    @pytest.mark.parametrize("chunk", ["a", 1.5], ids=repr)
    def test_answer_chunk_of_the_wrong_type(self, chunk: Any) -> None:
        with pytest.raises(ScriptError, match=r"^answer: chunk"):
            Script().answer("hello", chunk=chunk)


# ============================================================ approval branches


class TestBranches:
    @pytest.mark.parametrize("kind", ["on_deny", "on_timeout"])
    @pytest.mark.parametrize(
        "value", ["fail", {"steps": []}, lambda: Script()], ids=["str", "dict", "function"]
    )
    def test_a_branch_must_be_a_script(self, kind: str, value: Any) -> None:
        with pytest.raises(ScriptError) as info:
            Script().approval("rm", "delete", **{kind: value})
        assert str(info.value) == (
            f"approval('rm'): {kind} must be a Script, not {type(value).__name__}"
        )

    def test_a_branch_may_complete_the_gated_tool(self) -> None:
        branch = Script().tool_completed("terminal").answer("Not deleted.")
        script = (
            Script()
            .tool_started("terminal", "rm -rf /")
            .approval("rm -rf /", "delete in root path", on_deny=branch, on_timeout=branch)
            .tool_completed("terminal")
            .answer("Deleted.")
        )
        assert script.validate() is script

    @pytest.mark.parametrize("kind", ["on_deny", "on_timeout"])
    def test_an_unmatched_tool_completed_in_a_branch_is_refused_at_once(self, kind: str) -> None:
        branch = Script().tool_completed("web").fail("x")
        with pytest.raises(ScriptError) as info:
            Script().tool_started("terminal").approval("rm", "delete", **{kind: branch})
        assert str(info.value) == (
            f"approval('rm').{kind} → step 1 (tool_completed('web')) has no matching "
            "tool_started('web') before it (open tools: terminal)"
        )

    def test_a_tool_closed_before_the_gate_cannot_be_closed_again_in_a_branch(self) -> None:
        branch = Script().tool_completed("t").fail("x")
        with pytest.raises(ScriptError, match=r"on_deny → step 1 .* \(open tools: none\)"):
            Script().tool("t").approval("rm", "delete", on_deny=branch)

    def test_a_branch_without_a_terminal_step_is_refused(self) -> None:
        with pytest.raises(ScriptError) as info:
            Script().approval("rm", "delete", on_deny=Script().delta("no"))
        assert str(info.value) == ("approval('rm').on_deny → has no terminal step; " + NO_TERMINAL)

    def test_a_branch_with_its_own_tools_is_fine(self) -> None:
        branch = Script().tool("web", "search", duration=1).answer("Found it elsewhere.")
        assert Script().approval("rm", "d", on_deny=branch).complete("ok").validate()

    def test_approval_kwargs_are_kept_on_the_step(self) -> None:
        deny = Script().fail("denied")
        late = Script().complete("late")
        script = Script().approval("rm", "d", timeout=5, on_deny=deny, on_timeout=late)
        step = script.steps[0]
        assert step.timeout == 5.0  # type: ignore[attr-defined]
        assert step.on_deny is deny  # type: ignore[attr-defined]
        assert step.on_timeout is late  # type: ignore[attr-defined]


# ============================================================ repr and inspection


class TestInspection:
    def test_repr_of_an_empty_script(self) -> None:
        assert repr(Script()) == "Script()"

    def test_repr_reads_like_the_builder(self) -> None:
        script = (
            Script()
            .delta("Hel")
            .wait(1)
            .reasoning("r" * 40)
            .tool("terminal", "ls", duration=2)
            .approval("rm -rf build", "delete")
            .fail("boom")
        )
        assert repr(script) == (
            "Script().delta('Hel').wait(1.0).reasoning('" + "r" * 29 + "…')"
            ".tool_started('terminal').wait(2.0).tool_completed('terminal')"
            ".approval('rm -rf build').fail('boom')"
        )

    def test_repr_shortens_long_outputs(self) -> None:
        assert repr(Script().complete("x" * 31)) == "Script().complete('" + "x" * 29 + "…')"
        assert repr(Script().complete("x" * 30)) == "Script().complete('" + "x" * 30 + "')"
        assert repr(Script().complete()) == "Script().complete(None)"

    def test_terminal_property(self) -> None:
        assert Script().terminal is None
        assert Script().delta("x").terminal is None
        assert Script().fail("e").terminal == Fail("e")

    def test_len_and_iteration(self) -> None:
        script = Script().delta("a").wait(1).complete("a")
        assert len(script) == 3
        assert [type(s) for s in script] == [Delta, Wait, Complete]
