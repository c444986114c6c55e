"""The assertion helpers: pass and fail paths for every accepted input, and what they say."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from agentfakes import failure_messages as fm
from agentfakes.assertions import (
    assert_cancelled,
    assert_completed,
    assert_event_sequence,
    assert_failed,
    assert_succeeded,
    assert_tool_called,
    assert_truncated,
    assert_waiting_for_approval,
)
from agentfakes.models import (
    ApprovalRequest,
    ApprovalResponded,
    MessageDelta,
    ReasoningAvailable,
    Result,
    ResultError,
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
    ToolResult,
    ToolStarted,
    with_iteration_limit_notice,
)

pytest_plugins = ["pytester"]

RUN_ID = "run_1a2b3c4d" + "e" * 24
SHORT = "run run_1a2b3c4d…"
T0 = 1_795_283_646.0


# ---------------------------------------------------------------- building test objects


def approval(command: str = "rm -rf build") -> ApprovalRequest:
    return ApprovalRequest(
        run_id=RUN_ID,
        timestamp=T0 + 3,
        command=command,
        pattern_key="delete",
        pattern_keys=["delete"],
        description="delete in root path",
    )


def tool_started(tool: str = "terminal", preview: str | None = "rm -rf build") -> ToolStarted:
    return ToolStarted(run_id=RUN_ID, timestamp=T0 + 2, tool=tool, preview=preview)


def tool_completed(tool: str = "terminal", *, error: bool = False) -> ToolCompleted:
    return ToolCompleted(run_id=RUN_ID, timestamp=T0 + 4, tool=tool, duration=0.25, error=error)


def delta(text: str) -> MessageDelta:
    return MessageDelta(run_id=RUN_ID, timestamp=T0 + 1, delta=text)


TRUNCATED_OUTPUT = with_iteration_limit_notice("I listed the files.")

# Each scenario: the events a run emitted, and the run object the server reports after them.
SCENARIOS: dict[str, tuple[list[RunEvent], dict[str, Any]]] = {
    "completed": (
        [
            delta("Hel"),
            delta("lo"),
            ReasoningAvailable(run_id=RUN_ID, timestamp=T0 + 1, text="Hello"),
            RunCompleted(run_id=RUN_ID, timestamp=T0 + 5, output="Hello", usage=RunUsage()),
        ],
        {"status": "completed", "output": "Hello", "last_event": "run.completed"},
    ),
    "truncated": (
        [
            tool_started(preview="ls"),
            tool_completed(),
            RunCompleted(run_id=RUN_ID, timestamp=T0 + 5, output=TRUNCATED_OUTPUT),
        ],
        {"status": "completed", "output": TRUNCATED_OUTPUT, "last_event": "run.completed"},
    ),
    "failed": (
        [
            tool_started(preview="curl upstream"),
            tool_completed(error=True),
            RunFailed(run_id=RUN_ID, timestamp=T0 + 5, error="HTTP 500: upstream"),
        ],
        {"status": "failed", "error": "HTTP 500: upstream", "last_event": "run.failed"},
    ),
    "cancelled": (
        [
            tool_started(),
            approval(),
            tool_completed(error=True),
            RunCancelled(run_id=RUN_ID, timestamp=T0 + 5),
        ],
        {"status": "cancelled", "last_event": "run.cancelled"},
    ),
    "waiting": (
        [delta("Deleting"), tool_started(), approval()],
        {"status": "waiting_for_approval", "last_event": "approval.request"},
    ),
}


def make_run(**fields: Any) -> Run:
    return Run(run_id=RUN_ID, created_at=T0, updated_at=T0 + 5, **fields)


@dataclass
class Record:
    """A stand-in for the fake server's run record: `to_run()` and `events`."""

    run: Run
    events: list[RunEvent] = field(default_factory=list)

    def to_run(self) -> Run:
        return self.run


RUN_KINDS = ["run", "run_dict", "record", "events", "event_dicts"]
EVENT_KINDS = ["record", "events", "event_dicts"]


def subject(kind: str, scenario: str) -> Any:
    """The scenario's run in the requested input form."""
    events, run_fields = SCENARIOS[scenario]
    run = make_run(**run_fields)
    return {
        "run": run,
        "run_dict": run.to_wire(),
        "record": Record(run, list(events)),
        "events": list(events),
        "event_dicts": [event.to_wire() for event in events],
    }[kind]


def search_call(query: str = "x", *, success: bool = True) -> ToolCall:
    return ToolCall(
        tool_name="search",
        arguments={"q": query},
        result=ToolResult(name="search", success=success, error=None if success else "boom"),
    )


RESULTS: dict[str, Result] = {
    "completed": Result(content="Hello", turns=2, tool_calls_made=[search_call()]),
    "truncated": Result(content="partial", turns=5, stop_reason=StopReason.MAX_ITERATIONS),
    "failed": Result(
        error=ResultError(class_name="RunFailed", message="HTTP 500: upstream"),
        stop_reason=StopReason.ERROR,
    ),
    "cancelled": Result(
        error=ResultError(class_name="RunCancelled", message="stopped"),
        stop_reason=StopReason.ERROR,
    ),
}


def result_subject(kind: str, name: str) -> Any:
    result = RESULTS[name]
    return result if kind == "result" else result.to_dict()


def failure(call: Callable[[], object]) -> str:
    """The message of the AssertionError `call` must raise."""
    with pytest.raises(AssertionError) as info:
        call()
    return str(info.value)


# ---------------------------------------------------------------- status assertions: runs

PASSING = [
    (assert_completed, "completed", RunStatus.COMPLETED),
    (assert_completed, "truncated", RunStatus.COMPLETED),  # the notice is still `completed`
    (assert_truncated, "truncated", RunStatus.COMPLETED),
    (assert_succeeded, "completed", RunStatus.COMPLETED),
    (assert_failed, "failed", RunStatus.FAILED),
    (assert_cancelled, "cancelled", RunStatus.CANCELLED),
    (assert_waiting_for_approval, "waiting", RunStatus.WAITING_FOR_APPROVAL),
]


@pytest.mark.parametrize("kind", RUN_KINDS)
@pytest.mark.parametrize(("assertion", "scenario", "status"), PASSING)
def test_run_status_assertions_pass_and_return_the_run(
    assertion: Callable[[Any], Any], scenario: str, status: RunStatus, kind: str
) -> None:
    run = assertion(subject(kind, scenario))
    assert isinstance(run, Run)
    assert run.run_id == RUN_ID
    assert run.status is status


FAILING = [
    (
        assert_completed,
        "failed",
        "expected run run_1a2b3c4d… to be completed, but it is failed "
        "(error: 'HTTP 500: upstream', last_event: run.failed)",
    ),
    (
        assert_failed,
        "completed",
        f"expected {SHORT} to fail, "
        "but it is completed (output: 'Hello', last_event: run.completed)",
    ),
    (
        assert_cancelled,
        "waiting",
        f"expected {SHORT} to be cancelled, but it is waiting_for_approval "
        "(last_event: approval.request)",
    ),
    (
        assert_waiting_for_approval,
        "cancelled",
        f"expected {SHORT} to be waiting for approval, but it is cancelled "
        "(last_event: run.cancelled)",
    ),
    (
        assert_truncated,
        "completed",
        f"expected {SHORT} to be truncated (completed with Hermes' iteration-limit notice in its "
        "output), but it completed without Hermes' iteration-limit notice (output: 'Hello')",
    ),
    (
        assert_truncated,
        "failed",
        f"expected {SHORT} to be truncated (completed with Hermes' iteration-limit notice in its "
        "output), but it is failed (error: 'HTTP 500: upstream', last_event: run.failed)",
    ),
    (
        assert_succeeded,
        "truncated",
        f"expected {SHORT} to succeed (completed without the iteration-limit notice), but it "
        "completed with Hermes' iteration-limit notice in its output "
        "(output: 'I listed the files.\\n\\n⚠️ No reply: the maximum tool-iteratio…')",
    ),
    (
        assert_succeeded,
        "cancelled",
        f"expected {SHORT} to succeed (completed without the iteration-limit notice), but it is "
        "cancelled (last_event: run.cancelled)",
    ),
]


@pytest.mark.parametrize("kind", ["run", "run_dict"])
@pytest.mark.parametrize(("assertion", "scenario", "message"), FAILING)
def test_run_status_assertions_fail_with_what_the_run_is(
    assertion: Callable[[Any], Any], scenario: str, message: str, kind: str
) -> None:
    assert failure(lambda: assertion(subject(kind, scenario))) == message


@pytest.mark.parametrize("kind", EVENT_KINDS)
@pytest.mark.parametrize(("assertion", "scenario", "message"), FAILING)
def test_with_events_known_the_message_adds_the_last_events(
    assertion: Callable[[Any], Any], scenario: str, message: str, kind: str
) -> None:
    text = failure(lambda: assertion(subject(kind, scenario)))
    first, last_events = text.split("\n")
    assert first == message
    assert last_events.startswith("last events: ")


def test_last_events_name_the_key_payload() -> None:
    text = failure(lambda: assert_completed(subject("record", "waiting")))
    assert text.endswith(
        "last events: message.delta 'Deleting', tool.started terminal 'rm -rf build', "
        "approval.request 'rm -rf build'"
    )


def test_a_record_is_judged_by_its_run_not_by_its_events() -> None:
    # The record's run object is authoritative; the events only explain.
    events, _ = SCENARIOS["completed"]
    record = Record(make_run(status="cancelled", last_event="run.stopping"), list(events))
    assert assert_cancelled(record).status is RunStatus.CANCELLED
    text = failure(lambda: assert_completed(record))
    assert text.startswith(f"expected {SHORT} to be completed, but it is cancelled")
    assert "run.completed 'Hello'" in text


def test_events_without_a_terminal_event_have_not_finished() -> None:
    events = [delta("Hi"), tool_started(preview="ls")]
    text = failure(lambda: assert_completed(events))
    assert text.startswith(
        f"expected {SHORT} to be completed, but no terminal event has arrived "
        "(last_event: tool.started)\n"
    )


def test_an_answered_approval_is_no_longer_waiting() -> None:
    events, _ = SCENARIOS["waiting"]
    answered = [
        *events,
        ApprovalResponded(run_id=RUN_ID, timestamp=T0 + 4, choice="once", resolved=1),
    ]
    text = failure(lambda: assert_waiting_for_approval(answered))
    assert "no terminal event has arrived (last_event: approval.responded)" in text


def test_waiting_sticks_after_a_timed_out_approval() -> None:
    # spec §4 quirk: nothing resets the status after a timeout, so tool events keep it waiting
    events, _ = SCENARIOS["waiting"]
    assert_waiting_for_approval([*events, tool_completed(error=True), tool_started("read_file")])


def test_an_empty_event_list_says_so() -> None:
    assert failure(lambda: assert_completed([])) == (
        "expected run to be completed, but the event list is empty\nevents: none"
    )


def test_events_after_the_terminal_event_do_not_change_the_status() -> None:
    events, _ = SCENARIOS["failed"]
    assert_failed([*events, RunCompleted(run_id=RUN_ID, timestamp=T0 + 9, output="late")])


# ---------------------------------------------------------------- status assertions: Results

RESULT_PASSING = [
    (assert_completed, "completed"),
    (assert_truncated, "truncated"),
    (assert_succeeded, "completed"),
    (assert_failed, "failed"),
    (assert_failed, "cancelled"),  # a Result has no cancelled state: stop_reason error
    (assert_cancelled, "cancelled"),
]


@pytest.mark.parametrize("kind", ["result", "result_dict"])
@pytest.mark.parametrize(("assertion", "name"), RESULT_PASSING)
def test_result_assertions_pass_and_return_the_result(
    assertion: Callable[[Any], Any], name: str, kind: str
) -> None:
    result = assertion(result_subject(kind, name))
    assert isinstance(result, Result)
    assert result.stop_reason is RESULTS[name].stop_reason


RESULT_FAILING = [
    (
        assert_truncated,
        "completed",
        "expected Result to be truncated (stop_reason max_iterations), but stop_reason is "
        "complete (turns=2, tools=1, content='Hello')",
    ),
    (
        assert_completed,
        "truncated",
        "expected Result to be completed (stop_reason complete), but stop_reason is "
        "max_iterations (turns=5, tools=0, content='partial')",
    ),
    (
        assert_succeeded,
        "truncated",
        "expected Result to succeed (no error, stop_reason not max_iterations), but stop_reason "
        "is max_iterations (turns=5, tools=0, content='partial')",
    ),
    (
        assert_succeeded,
        "failed",
        "expected Result to succeed (no error, stop_reason not max_iterations), but stop_reason "
        "is error (turns=0, tools=0, error='RunFailed: HTTP 500: upstream', content=None)",
    ),
    (
        assert_failed,
        "completed",
        "expected Result to fail (stop_reason error), but stop_reason is complete "
        "(turns=2, tools=1, content='Hello')",
    ),
    (
        assert_cancelled,
        "failed",
        "expected Result to be cancelled (stop_reason error, error class RunCancelled), but "
        "stop_reason is error (turns=0, tools=0, error='RunFailed: HTTP 500: upstream', "
        "content=None)",
    ),
]


@pytest.mark.parametrize("kind", ["result", "result_dict"])
@pytest.mark.parametrize(("assertion", "name", "message"), RESULT_FAILING)
def test_result_assertions_fail_with_the_stop_reason(
    assertion: Callable[[Any], Any], name: str, message: str, kind: str
) -> None:
    assert failure(lambda: assertion(result_subject(kind, name))) == message


def test_long_content_is_clipped() -> None:
    result = Result(content="word " * 100, stop_reason=StopReason.MAX_ITERATIONS)
    text = failure(lambda: assert_completed(result))
    assert text.endswith("content='" + ("word " * 12)[:59] + "…')")


# ---------------------------------------------------------------- output= and error=


@pytest.mark.parametrize("kind", [*RUN_KINDS, "result", "result_dict"])
@pytest.mark.parametrize(
    "output", ["Hello", re.compile(r"^Hel"), lambda text: text is not None and "ell" in text]
)
def test_output_matches_by_equality_regex_or_predicate(kind: str, output: Any) -> None:
    x = (
        result_subject(kind, "completed")
        if kind.startswith("result")
        else subject(kind, "completed")
    )
    assert_completed(x, output=output)


def test_output_mismatch_shows_both_and_where_they_differ() -> None:
    assert failure(lambda: assert_completed(subject("run", "completed"), output="Help")) == (
        f"expected {SHORT}'s output to equal 'Help', but it is 'Hello' "
        "(first difference at character 3)"
    )
    assert failure(lambda: assert_completed(RESULTS["completed"], output="Hello!")) == (
        "expected Result's content to equal 'Hello!', but it is 'Hello' "
        "(lengths differ: 6 vs 5 characters)"
    )


def test_output_and_command_strings_must_match_exactly_not_as_substrings() -> None:
    assert failure(lambda: assert_completed(subject("run", "completed"), output="Hell")) == (
        f"expected {SHORT}'s output to equal 'Hell', but it is 'Hello' "
        "(lengths differ: 4 vs 5 characters)"
    )
    text = failure(lambda: assert_waiting_for_approval(subject("events", "waiting"), command="rm"))
    assert "waiting for approval of 'rm', but the pending approval.request is for" in text


def test_output_regex_and_predicate_mismatch() -> None:
    run = subject("run", "completed")
    assert failure(lambda: assert_completed(run, output=re.compile("^Bye"))) == (
        f"expected {SHORT}'s output to match /^Bye/, but it is 'Hello'"
    )

    def is_farewell(text: str | None) -> bool:
        return text == "Bye"

    assert failure(lambda: assert_completed(run, output=is_farewell)) == (
        f"expected {SHORT}'s output to satisfy is_farewell(), but it is 'Hello'"
    )


def test_a_null_output_never_matches_a_string_or_regex() -> None:
    run = make_run(status="completed", output=None)
    assert failure(lambda: assert_completed(run, output=re.compile("."))).endswith("it is None")
    assert_completed(run, output=lambda text: text is None)


def test_output_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="output= takes a string, a compiled regex or a callable"):
        assert_completed(subject("run", "completed"), output=42)  # type: ignore[call-overload]


@pytest.mark.parametrize("kind", RUN_KINDS)
def test_error_matches_a_substring_or_a_regex(kind: str) -> None:
    x = subject(kind, "failed")
    assert_failed(x, error="500")
    assert_failed(x, error=re.compile(r"^HTTP 5\d\d"))
    text = failure(lambda: assert_failed(x, error="timeout"))
    assert text.split("\n")[0] == (
        f"expected {SHORT} to fail with an error containing 'timeout', "
        "but its error is 'HTTP 500: upstream'"
    )


def test_a_result_error_matches_its_message_or_class_and_message() -> None:
    failed = RESULTS["failed"]
    assert_failed(failed, error=re.compile(r"^HTTP 500"))
    assert_failed(failed, error=re.compile(r"^RunFailed: "))
    assert failure(lambda: assert_failed(failed, error=re.compile("timed? out"))) == (
        "expected Result to fail with an error matching /timed? out/, "
        "but its error is 'RunFailed: HTTP 500: upstream'"
    )


def test_error_must_be_text_or_regex() -> None:
    with pytest.raises(TypeError, match="error= takes a string or a compiled regex, not int"):
        assert_failed(subject("run", "failed"), error=500)  # type: ignore[call-overload]


# ---------------------------------------------------------------- waiting for approval


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_waiting_for_approval_checks_the_pending_command(kind: str) -> None:
    x = subject(kind, "waiting")
    assert_waiting_for_approval(x, command="rm -rf build")
    assert_waiting_for_approval(x, command=re.compile(r"^rm "))
    text = failure(lambda: assert_waiting_for_approval(x, command="ls"))
    assert text.split("\n")[0] == (
        f"expected {SHORT} to be waiting for approval of 'ls', "
        "but the pending approval.request is for 'rm -rf build'"
    )


def test_only_unresolved_approvals_are_pending() -> None:
    events = [
        tool_started(),
        approval("rm -rf build"),
        ApprovalResponded(run_id=RUN_ID, timestamp=T0 + 4, choice="once", resolved=1),
        tool_started(preview="git push"),
        approval("git push --force"),
    ]
    assert_waiting_for_approval(events, command="git push --force")
    text = failure(lambda: assert_waiting_for_approval(events, command="rm -rf build"))
    assert "but the pending approval.request is for 'git push --force'" in text


def test_a_waiting_record_without_a_pending_request_says_so() -> None:
    record = Record(make_run(status="waiting_for_approval"), [tool_started()])
    text = failure(lambda: assert_waiting_for_approval(record, command="rm -rf build"))
    assert "but no approval.request is pending in its events" in text


def test_command_needs_the_events() -> None:
    with pytest.raises(TypeError, match=r"command=\.\.\.\) needs the run's events"):
        assert_waiting_for_approval(subject("run", "waiting"), command="rm -rf build")


def test_a_result_never_waits_for_approval() -> None:
    with pytest.raises(TypeError, match="A Result is a finished loop and never waits"):
        assert_waiting_for_approval(RESULTS["completed"])  # type: ignore[arg-type]


# ---------------------------------------------------------------- tool calls


@pytest.mark.parametrize("kind", ["result", "result_dict"])
def test_tool_called_on_a_result(kind: str) -> None:
    result = Result(
        content="done",
        tool_calls_made=[search_call("x"), search_call("y", success=False)],
    )
    x = result if kind == "result" else result.to_dict()
    assert_tool_called(x, "search")
    assert_tool_called(x, "search", times=2)
    assert_tool_called(x, "search", times=1, arguments={"q": "y"})
    assert_tool_called(x, "search", arguments=lambda args: args["q"] in "xy", times=2)
    assert_tool_called(x, "search", succeeded=True, times=1)
    assert_tool_called(x, "search", succeeded=False, arguments={"q": "y"})
    assert_tool_called(x, "fetch", times=0)


def test_tool_called_failure_lists_the_calls_made() -> None:
    result = Result(tool_calls_made=[search_call("x"), search_call("y", success=False)])
    calls = "calls made: 1. search {'q': 'x'} ok; 2. search {'q': 'y'} failed"
    assert failure(lambda: assert_tool_called(result, "search", times=3)) == (
        f"expected tool 'search' to be called 3 times, but it was called 2 times\n{calls}"
    )
    assert failure(lambda: assert_tool_called(result, "search", arguments={"q": "z"})) == (
        "expected tool 'search' to be called with arguments {'q': 'z'}, "
        f"but 0 of its 2 calls matched\n{calls}"
    )
    assert failure(lambda: assert_tool_called(result, "fetch")) == (
        f"expected tool 'fetch' to be called, but 'fetch' was never called\n{calls}"
    )
    assert failure(lambda: assert_tool_called(result, "search", times=0)) == (
        f"expected tool 'search' not to be called, but it was called 2 times\n{calls}"
    )
    assert failure(lambda: assert_tool_called(Result(), "search")) == (
        "expected tool 'search' to be called, but no tools were called"
    )


def test_a_long_call_list_is_cut() -> None:
    result = Result(tool_calls_made=[search_call(str(i)) for i in range(15)])
    text = failure(lambda: assert_tool_called(result, "fetch"))
    assert text.endswith("10. search {'q': '9'} ok; … 5 more")


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_tool_called_on_events(kind: str) -> None:
    x = subject(kind, "cancelled")  # tool.started terminal, approval, tool.completed error
    assert_tool_called(x, "terminal")
    assert_tool_called(x, "terminal", times=1, preview="rm -rf build")
    assert_tool_called(x, "terminal", preview=re.compile("^rm"), succeeded=False)
    text = failure(lambda: assert_tool_called(x, "terminal", succeeded=True))
    assert text == (
        "expected tool 'terminal' to be called and succeed, but 0 of its 1 call matched\n"
        "calls made: 1. terminal 'rm -rf build' failed"
    )


def test_tool_events_pair_in_order_and_an_open_call_is_unfinished() -> None:
    events: list[RunEvent] = [
        tool_started("terminal", "ls"),
        tool_started("terminal", "pwd"),  # a parallel batch: starts first, completions after
        tool_completed("terminal"),
        tool_completed("terminal", error=True),
        tool_started("read_file", None),
    ]
    assert_tool_called(events, "terminal", preview="ls", succeeded=True)
    assert_tool_called(events, "terminal", preview="pwd", succeeded=False)
    text = failure(lambda: assert_tool_called(events, "read_file", succeeded=True))
    assert text.endswith(
        "calls made: 1. terminal 'ls' ok; 2. terminal 'pwd' failed; 3. read_file unfinished"
    )


def test_tool_called_rejects_what_the_input_cannot_know() -> None:
    with pytest.raises(TypeError, match=r"the Hermes wire carries no tool arguments \(spec §5.3\)"):
        assert_tool_called(subject("events", "cancelled"), "terminal", arguments={"cmd": "ls"})
    with pytest.raises(TypeError, match=r"preview= checks tool\.started events"):
        assert_tool_called(RESULTS["completed"], "search", preview="x")
    with pytest.raises(TypeError, match="A Run carries no events"):
        assert_tool_called(make_run(status="completed"), "terminal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times must be a whole number >= 0, not -1"):
        assert_tool_called(RESULTS["completed"], "search", times=-1)


# ---------------------------------------------------------------- event sequences

DEPLOY: list[RunEvent] = [
    delta("Deploying"),
    tool_started(),
    approval(),
    ApprovalResponded(run_id=RUN_ID, timestamp=T0 + 4, choice="once", resolved=1),
    tool_completed(),
    RunCompleted(run_id=RUN_ID, timestamp=T0 + 5, output="Deployed"),
]
DEPLOY_NAMES = [
    "message.delta",
    "tool.started",
    "approval.request",
    "approval.responded",
    "tool.completed",
    "run.completed",
]
SSE_BODY = "".join(event.to_sse() for event in DEPLOY) + ": stream closed\n\n"


@pytest.mark.parametrize(
    "source",
    [
        DEPLOY,
        tuple(DEPLOY),
        [event.to_wire() for event in DEPLOY],
        Record(make_run(status="completed", output="Deployed"), DEPLOY),
        SSE_BODY,
        SSE_BODY.encode(),
        (": keepalive\r\n\r\n" + SSE_BODY).replace("\n\n", "\r\n\r\n"),
    ],
    ids=["models", "tuple", "wire dicts", "record", "sse text", "sse bytes", "sse crlf"],
)
def test_event_sequence_passes_for_every_source(source: Any) -> None:
    events = assert_event_sequence(source, DEPLOY_NAMES)
    assert [event.event for event in events] == DEPLOY_NAMES
    assert isinstance(events[-1], RunCompleted)
    assert_event_sequence(source, ["tool.started", "run.completed"], subsequence=True)


def test_exact_sequence_mismatch_shows_both_columns() -> None:
    expected = ["message.delta", "tool.started", "tool.completed", "run.completed"]
    assert failure(lambda: assert_event_sequence(DEPLOY, expected)) == (
        "event sequence differs at position 2: expected tool.completed, got approval.request\n"
        "        expected        actual\n"
        "      0 message.delta   message.delta\n"
        "      1 tool.started    tool.started\n"
        "  >   2 tool.completed  approval.request\n"
        "      3 run.completed   approval.responded\n"
        "      4 -               tool.completed\n"
        "      5 -               run.completed"
    )


def test_exact_sequence_too_short_or_too_long() -> None:
    text = failure(lambda: assert_event_sequence(DEPLOY[:2], DEPLOY_NAMES[:3]))
    assert text.startswith("event sequence ended after 2 events; expected 1 more: approval.request")
    assert "  >   2 approval.request  -" in text
    text = failure(lambda: assert_event_sequence(DEPLOY, DEPLOY_NAMES[:4]))
    assert text.startswith(
        "event sequence has 2 events more than expected from position 4: "
        "tool.completed, run.completed"
    )


def test_a_long_sequence_shows_a_window_around_the_divergence() -> None:
    events = [delta(str(i)) for i in range(60)]
    expected = ["message.delta"] * 30 + ["run.completed"]
    lines = failure(lambda: assert_event_sequence(events, expected)).split("\n")
    assert lines[0] == (
        "event sequence differs at position 30: expected run.completed, got message.delta"
    )
    assert lines[2] == "        … 26 matching rows above"
    assert lines[3] == "     26 message.delta  message.delta"
    assert "  >  30 run.completed  message.delta" in lines
    assert lines[-2] == "     45 -              message.delta"
    assert lines[-1] == "        … 14 more rows"


def test_subsequence_failure_shows_where_each_name_was_found() -> None:
    expected = ["tool.started", "approval.responded", "approval.request", "run.completed"]
    assert failure(lambda: assert_event_sequence(DEPLOY, expected, subsequence=True)) == (
        "expected these event names in order (others may come between), but "
        "'approval.request' (expected[2]) does not occur after actual[3] (approval.responded)\n"
        "        expected            found at\n"
        "      0 tool.started        actual[1]\n"
        "      1 approval.responded  actual[3]\n"
        "  >   2 approval.request    - not found after actual[3]\n"
        "      3 run.completed       -\n"
        "actual: 0 message.delta, 1 tool.started, 2 approval.request, 3 approval.responded, "
        "4 tool.completed, 5 run.completed"
    )


def test_subsequence_missing_from_the_start() -> None:
    text = failure(lambda: assert_event_sequence(DEPLOY, ["run.failed"], subsequence=True))
    assert "'run.failed' (expected[0]) does not occur at all" in text


def test_nothing_may_follow_the_terminal_event_even_when_expected() -> None:
    events = [*DEPLOY, delta("late")]
    names = [*DEPLOY_NAMES, "message.delta"]
    message = (
        "events follow the terminal run.completed at actual[5]: message.delta "
        "(a Hermes stream ends with its terminal event, spec §5.5)\n"
        "actual: 0 message.delta, 1 tool.started, 2 approval.request, 3 approval.responded, "
        "4 tool.completed, 5 run.completed, 6 message.delta"
    )
    assert failure(lambda: assert_event_sequence(events, names)) == message
    assert failure(lambda: assert_event_sequence(events, ["tool.started"], subsequence=True)) == (
        message
    )
    text = failure(lambda: assert_event_sequence(events, DEPLOY_NAMES))
    assert text.startswith("event sequence has 1 event more than expected from position 6")
    assert "\nalso: events follow the terminal run.completed at actual[5]" in text


def test_repeated_names_are_folded_in_the_actual_list() -> None:
    events = [
        delta("a"),
        delta("b"),
        delta("c"),
        RunCompleted(run_id=RUN_ID, timestamp=T0, output="abc"),
    ]
    text = failure(lambda: assert_event_sequence(events, ["run.failed"], subsequence=True))
    assert text.endswith("actual: 0-2 message.delta ×3, 3 run.completed")


def test_expected_names_are_checked_against_the_catalogue() -> None:
    with pytest.raises(ValueError, match=r"Hermes never emits 'run.started' \(spec §5.3\)"):
        assert_event_sequence(DEPLOY, ["run.started", "run.completed"])
    with pytest.raises(TypeError, match="a list of event names, not one string"):
        assert_event_sequence(DEPLOY, "run.completed")


def test_a_bad_sse_frame_is_a_value_error() -> None:
    with pytest.raises(
        ValueError, match=r"SSE frame 1 is not a Hermes run event: '\{\"event\": \"done\""
    ):
        assert_event_sequence(SSE_BODY.replace("\n\n", '\n\ndata: {"event": "done"}\n\n', 1), [])


def test_event_sequence_rejects_a_run_or_result() -> None:
    with pytest.raises(TypeError, match=r"accepts a list of run events .* or SSE text or bytes"):
        assert_event_sequence(make_run(status="completed"), [])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="A Run carries no events"):
        assert_event_sequence(make_run(status="completed").to_wire(), [])  # type: ignore[arg-type]


# ---------------------------------------------------------------- unsupported input

EVERYTHING = (
    "assert_completed() accepts a Run, a run wire dict, a Result, a Result.to_dict() dict, "
    "a list of run events (models or wire dicts) or a server run record (with to_run() and "
    "events); got "
)


@pytest.mark.parametrize(
    ("value", "got"),
    [
        (42, "int 42"),
        (None, "NoneType None"),
        ({"foo": 1}, "a dict with keys ['foo'], neither a run nor a Result"),
        (DEPLOY[0].to_wire(), "a single message.delta event dict (pass a list of events)"),
    ],
)
def test_unsupported_input_says_what_is_accepted(value: object, got: str) -> None:
    with pytest.raises(TypeError) as info:
        assert_completed(value)  # type: ignore[call-overload]
    assert str(info.value) == EVERYTHING + got


def test_sse_text_is_pointed_to_assert_event_sequence() -> None:
    with pytest.raises(TypeError, match="SSE text is read by assert_event_sequence"):
        assert_completed(SSE_BODY)  # type: ignore[arg-type]


def test_an_event_list_with_a_stranger_in_it() -> None:
    with pytest.raises(TypeError, match="event list whose item 1 is int 7, not a run event"):
        assert_completed([DEPLOY[0], 7])  # type: ignore[list-item]


# ---------------------------------------------------------------- message pieces


def test_short_id_and_clip() -> None:
    assert fm.short_id(RUN_ID) == "run_1a2b3c4d…"
    assert fm.short_id("custom") == "custom"
    assert fm.clip("x" * 100) == "'" + "x" * 59 + "…'"
    assert fm.clip("two\nlines") == "'two\\nlines'"
    assert fm.clip(None) == "None"


def test_recent_events_fold_deltas_and_keep_the_last_few() -> None:
    events: list[RunEvent] = [
        delta("He"),
        delta("llo"),
        *[tool_started(preview=str(i)) for i in range(5)],
    ]
    assert fm.recent_events(events[:2]) == "last events: message.delta ×2 'Hello'"
    assert fm.recent_events(events) == (
        "last events: … tool.started terminal '0', tool.started terminal '1', "
        "tool.started terminal '2', tool.started terminal '3', tool.started terminal '4'"
    )


# ---------------------------------------------------------------- in a real pytest run


def test_pytest_shows_the_users_line_and_the_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from agentfakes.assertions import assert_completed
        from agentfakes.models import Run

        def test_it():
            run = Run(run_id="run_" + "ab" * 16, status="failed", created_at=1.0,
                      updated_at=2.0, error="kaboom", last_event="run.failed")
            assert_completed(run)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            ">       assert_completed(run)",
            "E       AssertionError: expected run run_abababab… to be completed, but it is "
            "failed (error: 'kaboom', last_event: run.failed)",
        ]
    )
    assert "def _fail" not in result.stdout.str()
