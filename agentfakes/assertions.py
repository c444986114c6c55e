"""Assertions over Hermes runs, agent Results and event streams.

Each helper accepts whatever a test has at hand (a `Run`, a `Result`, a wire dict of either,
a list of events, the fake server's run record, or for sequences a captured SSE body) and
raises `AssertionError` with a message that says what was found instead. This module only
decides pass or fail: `_observed` derives what the argument shows (the run its events imply,
its tool calls), `failure_messages` words the messages.

It stays one module: every helper is the same three steps (normalise the argument, compare,
fail) over one shared normaliser and one set of checks; most of its length is the typed
overloads and the docstrings users read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias, overload

from pydantic import BaseModel

from agentfakes import failure_messages as fm
from agentfakes._observed import (
    ObservedToolCall,
    RunRecordLike,
    calls_from_events,
    find_subsequence,
    kind_of,
    pending_approvals,
    run_from_events,
)
from agentfakes._observed_turns import ObservedTurn, looks_like_provider_failure, observe_turn
from agentfakes.models import (
    EVENT_NAMES,
    ApprovalRequest,
    ApprovalResponded,
    MessageDelta,
    ReasoningAvailable,
    Result,
    Run,
    RunCancelled,
    RunCompleted,
    RunEvent,
    RunFailed,
    RunStatus,
    StopReason,
    ToolCompleted,
    ToolStarted,
    carries_iteration_limit_notice,
    parse_event,
    parse_run_events,
)

# `BaseModel` too: a list literal mixing event classes is inferred as their private base class.
EventLike: TypeAlias = "RunEvent | BaseModel | dict[str, Any]"
RunSource: TypeAlias = "Run | RunRecordLike | Sequence[EventLike]"
Checkable: TypeAlias = "Run | Result | dict[str, Any] | RunRecordLike | Sequence[EventLike]"
TextMatcher: TypeAlias = "str | re.Pattern[str]"
OutputMatcher: TypeAlias = "str | re.Pattern[str] | Callable[[str | None], object]"
ArgumentsMatcher: TypeAlias = "dict[str, Any] | Callable[[dict[str, Any]], object]"

_EVENT_CLASSES = (
    MessageDelta,
    ReasoningAvailable,
    ToolStarted,
    ToolCompleted,
    ApprovalRequest,
    ApprovalResponded,
    RunCompleted,
    RunFailed,
    RunCancelled,
)
_FINISHED_KINDS = ("run", "run_dict", "result", "result_dict", "events", "record")
_RUN_KINDS = ("run", "run_dict", "events", "record")
_TOOL_KINDS = ("result", "result_dict", "events", "record")
_SEQUENCE_KINDS = ("events", "record", "sse")
_NO_EVENTS_HINT = "A Run carries no events: pass the server's run record or the run's events"
_SSE_HINT = "SSE text is read by assert_event_sequence; pass the record or an event list here"


@dataclass(frozen=True)
class _Subject:
    """An assertion's argument, normalised: a Result, or a run plus its events when known."""

    result: Result | None = None
    run: Run | None = None
    events: list[RunEvent] | None = None  # None: not known (a bare Run)
    from_events: bool = False  # `run` was derived from the events alone


# ---------------------------------------------------------------- run status


@overload
def assert_completed(x: Result, output: OutputMatcher | None = None) -> Result: ...
@overload
def assert_completed(x: RunSource, output: OutputMatcher | None = None) -> Run: ...
@overload
def assert_completed(x: dict[str, Any], output: OutputMatcher | None = None) -> Run | Result: ...
def assert_completed(x: Checkable, output: OutputMatcher | None = None) -> Run | Result:
    """The run completed (Result: stop_reason complete); `output=` checks the final text.

    `output` is a string (must equal), a compiled regex (`re.search` must find it) or a
    callable (must return truthy). A run completed with the iteration-limit notice still
    counts as completed here, as on the wire; use `assert_succeeded` to rule that out.
    """
    __tracebackhide__ = True
    if (turn := observe_turn(x)) is not None:  # a chat completion, response or session chat
        _turn_completed(turn, output)
        return x  # type: ignore[return-value]
    subject = _subject(x, "assert_completed", _FINISHED_KINDS)
    if subject.result is not None:
        result = subject.result
        if result.stop_reason is not StopReason.COMPLETE:
            _fail_result(result, "be completed (stop_reason complete)")
        _check_output(output, result.content, "Result", "content")
        return result
    run = _expect_status(subject, RunStatus.COMPLETED, "be completed")
    _check_output(output, run.output, fm.run_subject(run), "output")
    return run


@overload
def assert_truncated(x: Result) -> Result: ...
@overload
def assert_truncated(x: RunSource) -> Run: ...
@overload
def assert_truncated(x: dict[str, Any]) -> Run | Result: ...
def assert_truncated(x: Checkable) -> Run | Result:
    """The agent ran out of iterations: stop_reason max_iterations, or Hermes' notice (§9.4)."""
    __tracebackhide__ = True
    subject = _subject(x, "assert_truncated", _FINISHED_KINDS)
    expectation = "be truncated (completed with Hermes' iteration-limit notice in its output)"
    if subject.result is not None:
        if not subject.result.truncated:
            _fail_result(subject.result, "be truncated (stop_reason max_iterations)")
        return subject.result
    run = _expect_status(subject, RunStatus.COMPLETED, expectation)
    if not carries_iteration_limit_notice(run.output):
        _fail_run(subject, expectation, fm.run_notice_found(run))
    return run


@overload
def assert_succeeded(x: Result) -> Result: ...
@overload
def assert_succeeded(x: RunSource) -> Run: ...
@overload
def assert_succeeded(x: dict[str, Any]) -> Run | Result: ...
def assert_succeeded(x: Checkable) -> Run | Result:
    """RubyPi's success: no error and not truncated; for a run, completed without the notice."""
    __tracebackhide__ = True
    subject = _subject(x, "assert_succeeded", _FINISHED_KINDS)
    if subject.result is not None:
        if not subject.result.success:
            _fail_result(subject.result, "succeed (no error, stop_reason not max_iterations)")
        return subject.result
    expectation = "succeed (completed without the iteration-limit notice)"
    run = _expect_status(subject, RunStatus.COMPLETED, expectation)
    if carries_iteration_limit_notice(run.output):
        _fail_run(subject, expectation, fm.run_notice_found(run))
    return run


@overload
def assert_failed(x: Result, error: TextMatcher | None = None) -> Result: ...
@overload
def assert_failed(x: RunSource, error: TextMatcher | None = None) -> Run: ...
@overload
def assert_failed(x: dict[str, Any], error: TextMatcher | None = None) -> Run | Result: ...
def assert_failed(x: Checkable, error: TextMatcher | None = None) -> Run | Result:
    """The run failed (Result: stop_reason error); `error=` checks the error text.

    `error` is a substring that must occur in the error text, or a compiled regex that
    `re.search` must find. For a Result it is tried on the message and on `Class: message`.
    """
    __tracebackhide__ = True
    _check_matcher_type(error, "error", callables=False)
    if (turn := observe_turn(x)) is not None:  # a chat completion, response or session chat
        _turn_failed(turn, error)
        return x  # type: ignore[return-value]
    subject = _subject(x, "assert_failed", _FINISHED_KINDS)
    if subject.result is not None:
        result = subject.result
        if result.stop_reason is not StopReason.ERROR:
            _fail_result(result, "fail (stop_reason error)")
        texts = [result.error.message, str(result.error)] if result.error else [None]
        if error is not None and not any(_matches(error, text, exact=False) for text in texts):
            _fail(fm.error_mismatch("Result", error, str(result.error) if result.error else None))
        return result
    run = _expect_status(subject, RunStatus.FAILED, "fail")
    if error is not None and not _matches(error, run.error, exact=False):
        _fail(fm.error_mismatch(fm.run_subject(run), error, run.error, subject.events))
    return run


@overload
def assert_cancelled(x: Result) -> Result: ...
@overload
def assert_cancelled(x: RunSource) -> Run: ...
@overload
def assert_cancelled(x: dict[str, Any]) -> Run | Result: ...
def assert_cancelled(x: Checkable) -> Run | Result:
    """The run was stopped; a Result counts when its error is `RunCancelled` (`Result.from_run`)."""
    __tracebackhide__ = True
    subject = _subject(x, "assert_cancelled", _FINISHED_KINDS)
    if subject.result is not None:
        result = subject.result
        if result.error is None or result.error.class_name != "RunCancelled":
            _fail_result(result, "be cancelled (stop_reason error, error class RunCancelled)")
        return result
    return _expect_status(subject, RunStatus.CANCELLED, "be cancelled")


def assert_waiting_for_approval(
    x: RunSource | dict[str, Any], command: TextMatcher | None = None
) -> Run:
    """The run is blocked on an approval gate (spec §7); `command=` checks what it asks about.

    `command` is a string (must equal a pending approval.request's command) or a compiled
    regex (`re.search`); it needs the events, so pass the record or the event list.
    """
    __tracebackhide__ = True
    _check_matcher_type(command, "command", callables=False)
    subject = _subject(
        x,
        "assert_waiting_for_approval",
        _RUN_KINDS,
        hints=dict.fromkeys(
            ("result", "result_dict"), "A Result is a finished loop and never waits for approval"
        ),
    )
    if command is not None and subject.events is None:
        raise TypeError(
            "assert_waiting_for_approval(command=...) needs the run's events to see the "
            "approval.request: pass the server's run record or the event list, not a bare run"
        )
    run = _expect_status(subject, RunStatus.WAITING_FOR_APPROVAL, "be waiting for approval")
    if command is not None and subject.events is not None:
        pending = pending_approvals(subject.events)
        if not any(_matches(command, request.command, exact=True) for request in pending):
            _fail(
                fm.approval_command_mismatch(fm.run_subject(run), command, pending, subject.events)
            )
    return run


# ---------------------------------------------------------------- tool calls


def assert_tool_called(
    x: Result | dict[str, Any] | RunRecordLike | Sequence[EventLike],
    name: str,
    times: int | None = None,
    arguments: ArgumentsMatcher | None = None,
    succeeded: bool | None = None,
    *,
    preview: TextMatcher | None = None,
) -> None:
    """The agent called tool `name` (at least once, or exactly `times` times, 0 for never).

    `arguments` (Result only: the wire carries none) is a dict the call's arguments must
    equal, or a predicate over them. `preview` (events only) is a string the tool.started
    preview must equal, or a compiled regex. `succeeded` counts only calls that succeeded
    (True) or failed (False); for events that is tool.completed's `error` flag.
    """
    __tracebackhide__ = True
    if times is not None and (not isinstance(times, int) or times < 0):
        raise ValueError(f"times must be a whole number >= 0, not {times!r}")
    _check_matcher_type(preview, "preview", callables=False)
    turn = observe_turn(x)
    if turn is not None and turn.tools is None:
        raise TypeError(f"assert_tool_called: {turn.tools_hint}")
    subject = (
        _Subject()
        if turn is not None
        else _subject(
            x,
            "assert_tool_called",
            _TOOL_KINDS,
            hints={"run": _NO_EVENTS_HINT, "run_dict": _NO_EVENTS_HINT},
        )
    )
    if turn is not None:
        calls = list(turn.tools or [])
    elif subject.result is not None:
        if preview is not None:
            raise TypeError("preview= checks tool.started events; a Result's calls have arguments")
        calls = [
            ObservedToolCall(call.tool_name, arguments=call.arguments, succeeded=call.succeeded)
            for call in subject.result.tool_calls_made
        ]
    else:
        if arguments is not None:
            raise TypeError(
                "arguments= needs a Result: the Hermes wire carries no tool arguments "
                "(spec §5.3); check tool.started's preview with preview= instead"
            )
        calls = calls_from_events(subject.events or [])
    matching = [
        call
        for call in calls
        if call.name == name
        and (arguments is None or _arguments_match(arguments, call.arguments))
        and (preview is None or _matches(preview, call.preview, exact=True))
        and (succeeded is None or call.succeeded is succeeded)
    ]
    passed = len(matching) == times if times is not None else bool(matching)
    if not passed:
        _fail(
            fm.tool_call_mismatch(
                name,
                calls,
                len(matching),
                times=times,
                arguments=arguments,
                preview=preview,
                succeeded=succeeded,
            )
        )


# ---------------------------------------------------------------- event sequences


def assert_event_sequence(
    events: Sequence[EventLike] | RunRecordLike | str | bytes,
    expected_names: Sequence[str],
    *,
    subsequence: bool = False,
) -> list[RunEvent]:
    """The events came in this order and nothing followed the terminal event (spec §5.5).

    Exact by default; with `subsequence=True` other events may come between the expected
    ones. Returns the parsed events, handy when the input was a captured SSE body.
    """
    __tracebackhide__ = True
    if isinstance(expected_names, str | bytes):
        raise TypeError("expected_names is a list of event names, not one string")
    expected = list(expected_names)
    unknown = [name for name in expected if name not in EVENT_NAMES]
    if unknown:
        raise ValueError(fm.unknown_event_names(unknown, EVENT_NAMES))
    subject = _subject(
        events,
        "assert_event_sequence",
        _SEQUENCE_KINDS,
        hints={"run": _NO_EVENTS_HINT, "run_dict": _NO_EVENTS_HINT},
    )
    parsed = subject.events or []
    actual = [str(event.event) for event in parsed]
    terminal_at = next((i for i, event in enumerate(parsed) if event.is_terminal), None)
    trailing = terminal_at is not None and terminal_at < len(parsed) - 1
    if subsequence:
        found_at = find_subsequence(expected, actual)
        if len(found_at) < len(expected):
            _fail(fm.subsequence_missing(expected, actual, found_at))
    elif actual != expected:
        message = fm.sequence_mismatch(expected, actual)
        if trailing and terminal_at is not None:
            message += "\nalso: " + fm.events_after_terminal(actual, terminal_at)
        _fail(message)
    if trailing and terminal_at is not None:
        _fail(fm.events_after_terminal(actual, terminal_at))
    return parsed


# ---------------------------------------------------------------- normalising the argument


def _subject(
    x: object, function: str, kinds: Sequence[str], hints: Mapping[str, str] | None = None
) -> _Subject:
    """Normalise an assertion's argument, or raise TypeError saying what the helper accepts."""
    kind = kind_of(x)
    if kind is None or kind not in kinds:
        hint = {"sse": _SSE_HINT, **(hints or {})}.get(kind or "")
        raise TypeError(fm.unsupported_input(function, kinds, x, hint))
    if isinstance(x, Result):
        return _Subject(result=x)
    if isinstance(x, Run):
        return _Subject(run=x)
    if kind == "run_dict":
        return _Subject(run=Run.model_validate(x))
    if kind == "result_dict":
        return _Subject(result=Result.model_validate(x))
    if isinstance(x, str | bytes):
        events = parse_run_events(x)
        return _Subject(run=run_from_events(events), events=events, from_events=True)
    if kind == "record":
        run = x.to_run()  # type: ignore[attr-defined]
        if isinstance(run, dict):
            run = Run.model_validate(run)
        if not isinstance(run, Run):
            raise TypeError(f"the record's to_run() returned {type(run).__name__}, not a Run")
        return _Subject(run=run, events=_coerce_events(x.events, function))  # type: ignore[attr-defined]
    events = _coerce_events(x, function)  # type: ignore[arg-type]
    return _Subject(run=run_from_events(events), events=events, from_events=True)


def _coerce_events(items: Sequence[object], function: str) -> list[RunEvent]:
    """Event models stay as they are; wire dicts are parsed (spec §5.3)."""
    events: list[RunEvent] = []
    for index, item in enumerate(items):
        if isinstance(item, _EVENT_CLASSES):
            events.append(item)
        elif isinstance(item, dict):
            events.append(parse_event(item))
        else:
            raise TypeError(
                f"{function}() got an event list whose item {index} is "
                f"{fm.describe_object(item)}, not a run event model or wire dict"
            )
    return events


# ---------------------------------------------------------------- checks and failing


def _turn_completed(turn: ObservedTurn, output: OutputMatcher | None) -> None:
    """A chat/responses/session-chat subject completed; `output=` checks its final text."""
    __tracebackhide__ = True
    if not turn.completed:
        _fail(f"expected the {turn.label} to be completed, but it failed: {turn.error!r}")
    _check_output(output, turn.output, turn.label, "output")


def _turn_failed(turn: ObservedTurn, error: TextMatcher | None) -> None:
    """A chat/responses/session-chat subject failed; `error=` checks the error text."""
    __tracebackhide__ = True
    if turn.completed:
        message = f"expected the {turn.label} to fail, but it completed with {turn.output!r}"
        if turn.failure_hidden:
            message += (
                ".\nHermes reports a provider failure on this surface as a completed answer "
                "whose text is the error"
            )
            if looks_like_provider_failure(turn.output):
                message += " — and this text looks like one"
            message += (
                "; check the text (assert_completed(x, output=re.compile('API call failed'))) "
                "or pass the server's turn record (server.turns[i])"
            )
        _fail(message)
    if error is not None and not _matches(error, turn.error, exact=False):
        _fail(f"expected the {turn.label}'s error to match {error!r}, but it was {turn.error!r}")


def _expect_status(subject: _Subject, status: RunStatus, expectation: str) -> Run:
    """The subject's run has `status`, or the assertion fails saying what it is instead."""
    __tracebackhide__ = True
    run = subject.run
    if run is None or run.status is not status:
        _fail_run(subject, expectation, fm.run_found(run, from_events=subject.from_events))
    return run


def _fail_run(subject: _Subject, expectation: str, found: str) -> NoReturn:
    __tracebackhide__ = True
    _fail(fm.expectation_failed(fm.run_subject(subject.run), expectation, found, subject.events))


def _fail_result(result: Result, expectation: str) -> NoReturn:
    __tracebackhide__ = True
    _fail(fm.expectation_failed("Result", expectation, fm.result_state(result)))


def _fail(message: str) -> NoReturn:
    __tracebackhide__ = True
    raise AssertionError(message)


def _check_output(
    matcher: OutputMatcher | None, actual: str | None, subject: str, what: str
) -> None:
    """`output=` of assert_completed: equal string, regex found, or truthy predicate."""
    __tracebackhide__ = True
    _check_matcher_type(matcher, "output", callables=True)
    if matcher is not None and not _matches(matcher, actual, exact=True):
        _fail(fm.output_mismatch(subject, what, matcher, actual))


def _check_matcher_type(matcher: object, name: str, *, callables: bool) -> None:
    """Reject a matcher of the wrong type up front, rather than failing obscurely later."""
    if matcher is None or isinstance(matcher, str | re.Pattern):
        return
    if callables and callable(matcher):
        return
    kinds = (
        "a string, a compiled regex or a callable" if callables else "a string or a compiled regex"
    )
    raise TypeError(f"{name}= takes {kinds}, not {type(matcher).__name__}")


def _matches(
    matcher: str | re.Pattern[str] | Callable[[str | None], object],
    text: str | None,
    *,
    exact: bool,
) -> bool:
    """A string equals (or, not exact, occurs in) the text; a regex is found; a predicate holds."""
    if isinstance(matcher, str):
        return text == matcher if exact else text is not None and matcher in text
    if isinstance(matcher, re.Pattern):
        return text is not None and matcher.search(text) is not None
    return bool(matcher(text))


def _arguments_match(matcher: ArgumentsMatcher, arguments: dict[str, Any] | None) -> bool:
    if isinstance(matcher, dict):
        return arguments == matcher
    return bool(matcher(arguments or {}))


__all__ = [
    "RunRecordLike",
    "assert_cancelled",
    "assert_completed",
    "assert_event_sequence",
    "assert_failed",
    "assert_succeeded",
    "assert_tool_called",
    "assert_truncated",
    "assert_waiting_for_approval",
]
