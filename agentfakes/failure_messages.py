"""Everything a user reads when an agentfakes assertion fails, built in one place.

The assertions decide *whether* something is wrong; these functions say *what was found
instead* (status, stop_reason, error, output, the last few events), clipped to stay readable.
It stays one module on purpose: every message a user reads is here, so the wording, the
clipping and the layout stay consistent, and a change of voice is one file's diff.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from agentfakes.models import (
    ApprovalRequest,
    ApprovalResponded,
    MessageDelta,
    ReasoningAvailable,
    Result,
    Run,
    RunCompleted,
    RunEvent,
    RunFailed,
    RunStatus,
    ToolCompleted,
    ToolStarted,
    carries_iteration_limit_notice,
)

if TYPE_CHECKING:
    import re

    from agentfakes._observed import ObservedToolCall

CLIP = 60  # characters of a user string shown before "…"
RECENT_EVENTS = 5  # events listed under "last events:"
TABLE_CONTEXT = (4, 16)  # rows of a long sequence table shown before / after the divergence
LISTED_CALLS = 10

# What each kind of argument is called in a TypeError.
INPUT_KINDS = {
    "run": "a Run",
    "run_dict": "a run wire dict",
    "result": "a Result",
    "result_dict": "a Result.to_dict() dict",
    "events": "a list of run events (models or wire dicts)",
    "record": "a server run record (with to_run() and events)",
    "sse": "SSE text or bytes",
}


# ---------------------------------------------------------------- small renderings


def short_id(run_id: str) -> str:
    """`run_1a2b3c4d…`: enough of a run id to recognise, without 32 hex digits of noise."""
    head = len("run_") + 8
    return run_id[:head] + "…" if run_id.startswith("run_") and len(run_id) > head else run_id


def clip(text: str | None, limit: int = CLIP) -> str:
    """A quoted, one-line, length-capped rendering of a user string."""
    if text is None:
        return "None"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def clip_repr(value: object, limit: int = CLIP) -> str:
    """`repr(value)`, capped: for arguments dicts and other things the user passed."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def matcher_text(matcher: str | re.Pattern[str] | Callable[..., Any], *, exact: bool) -> str:
    """How an `output=`/`error=`/`command=` matcher reads in a sentence."""
    if isinstance(matcher, str):
        return f"equal {clip(matcher)}" if exact else f"contain {clip(matcher)}"
    if callable(matcher):
        return f"satisfy {getattr(matcher, '__name__', clip_repr(matcher))}()"
    return f"match /{matcher.pattern}/"


def first_difference(expected: str, actual: str) -> str:
    """Where two long strings part ways, so a one-character typo can be found."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            return f" (first difference at character {index})"
    return f" (lengths differ: {len(expected)} vs {len(actual)} characters)"


# ---------------------------------------------------------------- runs, Results, events


def run_subject(run: Run | None) -> str:
    """How a run is named at the start of a message."""
    return f"run {short_id(run.run_id)}" if run is not None else "run"


def run_state(run: Run) -> str:
    """`failed (error: '…', last_event: run.failed)`: the status and what explains it."""
    details: list[str] = []
    if run.status is RunStatus.COMPLETED:
        details.append(f"output: {clip(run.output)}")
    if run.status is RunStatus.FAILED:
        details.append(f"error: {clip(run.error)}")
    details.append(f"last_event: {run.last_event or 'none yet'}")
    return f"{run.status.value} ({', '.join(details)})"


def run_found(run: Run | None, *, from_events: bool) -> str:
    """The `but …` half of a run message: what the run is instead."""
    if run is None:
        return "the event list is empty"
    if from_events and not run.is_terminal and run.status is RunStatus.RUNNING:
        return f"no terminal event has arrived (last_event: {run.last_event or 'none yet'})"
    return f"it is {run_state(run)}"


def run_notice_found(run: Run) -> str:
    """The `but …` half when a completed run's iteration-limit notice is the point."""
    if carries_iteration_limit_notice(run.output):
        return (
            "it completed with Hermes' iteration-limit notice in its output "
            f"(output: {clip(run.output)})"
        )
    return f"it completed without Hermes' iteration-limit notice (output: {clip(run.output)})"


def result_state(result: Result) -> str:
    """`stop_reason is complete (turns=2, tools=1, content='Hello')`."""
    details = [f"turns={result.turns}", f"tools={len(result.tool_calls_made)}"]
    if result.error is not None:
        details.append(f"error={clip(str(result.error))}")
    details.append(f"content={clip(result.content)}")
    return f"stop_reason is {result.stop_reason.value} ({', '.join(details)})"


def event_summary(event: RunEvent) -> str:
    """One event as `name + key payload`, e.g. `tool.started terminal 'rm -rf build'`."""
    if isinstance(event, MessageDelta):
        return f"message.delta {clip(event.delta, 30)}"
    if isinstance(event, ReasoningAvailable):
        return f"reasoning.available {clip(event.text, 30)}"
    if isinstance(event, ToolStarted):
        preview = f" {clip(event.preview, 40)}" if event.preview is not None else ""
        return f"tool.started {event.tool}{preview}"
    if isinstance(event, ToolCompleted):
        return f"tool.completed {event.tool} {'error' if event.error else 'ok'}"
    if isinstance(event, ApprovalRequest):
        return f"approval.request {clip(event.command, 40)}"
    if isinstance(event, ApprovalResponded):
        return f"approval.responded {event.choice}"
    if isinstance(event, RunCompleted):
        return f"run.completed {clip(event.output, 40)}"
    if isinstance(event, RunFailed):
        return f"run.failed {clip(event.error, 40)}"
    return str(event.event)


def recent_events(events: Sequence[RunEvent], limit: int = RECENT_EVENTS) -> str:
    """`last events: …`, with each run of message.delta folded into one item."""
    items: list[str] = []
    deltas: list[str] = []
    for event in [*events, None]:
        if isinstance(event, MessageDelta):
            deltas.append(event.delta)
            continue
        if deltas:
            count = f" ×{len(deltas)}" if len(deltas) > 1 else ""
            items.append(f"message.delta{count} {clip(''.join(deltas), 30)}")
            deltas = []
        if event is not None:
            items.append(event_summary(event))
    if not items:
        return "events: none"
    more = "… " if len(items) > limit else ""
    return f"last events: {more}{', '.join(items[-limit:])}"


def expectation_failed(
    subject: str, expected: str, found: str, events: Sequence[RunEvent] | None = None
) -> str:
    """`expected <subject> to <expected>, but <found>`, plus the last events when known."""
    message = f"expected {subject} to {expected}, but {found}"
    if events is not None:
        message += "\n" + recent_events(events)
    return message


def unsupported_input(
    function: str, kinds: Sequence[str], got: object, hint: str | None = None
) -> str:
    """What a helper takes, and a short picture of what it was given."""
    accepted = [INPUT_KINDS[kind] for kind in kinds]
    listed = ", ".join(accepted[:-1]) + f" or {accepted[-1]}" if len(accepted) > 1 else accepted[0]
    message = f"{function}() accepts {listed}; got {describe_object(got)}"
    return f"{message}. {hint}" if hint else message


def describe_object(got: object) -> str:
    """A short picture of an argument of the wrong kind."""
    if isinstance(got, Run):
        return f"a Run ({short_id(got.run_id)}, {got.status.value})"
    if isinstance(got, Result):
        return f"a Result ({got.stop_reason.value})"
    if isinstance(got, dict):
        if "event" in got:
            return f"a single {got['event']!s} event dict (pass a list of events)"
        return f"a dict with keys {clip_repr(sorted(map(str, got)))}, neither a run nor a Result"
    return f"{type(got).__name__} {clip_repr(got)}"


def output_mismatch(
    subject: str,
    what: str,
    matcher: str | re.Pattern[str] | Callable[..., Any],
    actual: str | None,
) -> str:
    """The message for `output=`: what the output should have been, and what it is."""
    message = f"expected {subject}'s {what} to {matcher_text(matcher, exact=True)}, "
    message += f"but it is {clip(actual, 200)}"
    if isinstance(matcher, str) and actual is not None:
        message += first_difference(matcher, actual)
    return message


def error_mismatch(
    subject: str,
    matcher: str | re.Pattern[str],
    actual: str | None,
    events: Sequence[RunEvent] | None = None,
) -> str:
    """The message for `error=`: it failed, but not with the error the test expected."""
    wanted = (
        f"containing {clip(matcher)}"
        if isinstance(matcher, str)
        else f"matching /{matcher.pattern}/"
    )
    return expectation_failed(
        subject, f"fail with an error {wanted}", f"its error is {clip(actual, 200)}", events
    )


# ---------------------------------------------------------------- tool calls


def tool_call_mismatch(
    name: str,
    calls: Sequence[ObservedToolCall],
    matched: int,
    *,
    times: int | None,
    arguments: object,
    preview: object,
    succeeded: bool | None,
) -> str:
    """`expected tool 'search' to be called 2 times, but …`, then the calls that were made."""
    expected = tool_expectation(
        name, times=times, arguments=arguments, preview=preview, succeeded=succeeded
    )
    return f"expected {expected}, but {tool_found(name, calls, matched)}"


def tool_expectation(
    name: str,
    *,
    times: int | None,
    arguments: object,
    preview: object,
    succeeded: bool | None,
) -> str:
    """`tool 'search' to be called with arguments {…} and succeed 2 times`."""
    text = f"tool {name!r} {'not to be called' if times == 0 else 'to be called'}"
    if arguments is not None:
        if callable(arguments):
            text += f" with arguments satisfying {getattr(arguments, '__name__', 'a predicate')}()"
        else:
            text += f" with arguments {clip_repr(arguments)}"
    if preview is not None:
        text += f" with preview {clip(preview) if isinstance(preview, str) else clip_repr(preview)}"
    if succeeded is not None:
        text += " and succeed" if succeeded else " and fail"
    if times:
        text += f" {plural(times, 'time')}"
    return text


def tool_found(name: str, calls: Sequence[ObservedToolCall], matched: int) -> str:
    """The `but …` half of a tool message, with the calls that were made."""
    named = [call for call in calls if call.name == name]
    if not calls:
        return "no tools were called"
    if not named:
        found = f"{name!r} was never called"
    elif matched == len(named):
        found = f"it was called {plural(matched, 'time')}"
    else:
        found = f"{matched} of its {plural(len(named), 'call')} matched"
    return f"{found}\ncalls made: {tool_calls_listing(calls)}"


def tool_calls_listing(calls: Sequence[ObservedToolCall]) -> str:
    """`1. terminal 'ls' ok; 2. search {'q': 'x'} failed` for the first few calls."""
    items = []
    for number, call in enumerate(calls[:LISTED_CALLS], start=1):
        parts = [f"{number}. {call.name}"]
        if call.arguments is not None:
            parts.append(clip_repr(call.arguments, 50))
        if call.preview is not None:
            parts.append(clip(call.preview, 40))
        parts.append({True: "ok", False: "failed", None: "unfinished"}[call.succeeded])
        items.append(" ".join(parts))
    if len(calls) > LISTED_CALLS:
        items.append(f"… {len(calls) - LISTED_CALLS} more")
    return "; ".join(items)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ---------------------------------------------------------------- approvals


def approval_command_mismatch(
    subject: str,
    matcher: str | re.Pattern[str],
    pending: Sequence[ApprovalRequest],
    events: Sequence[RunEvent],
) -> str:
    """Waiting for approval, but not of the command the test expected."""
    if isinstance(matcher, str):
        expected = f"be waiting for approval of {clip(matcher)}"
    else:
        expected = f"be waiting for approval of a command matching /{matcher.pattern}/"
    if not pending:
        found = "no approval.request is pending in its events"
    else:
        found = "the pending approval.request is for " + ", ".join(
            clip(request.command) for request in pending
        )
    return expectation_failed(subject, expected, found, events)


# ---------------------------------------------------------------- event sequences


def sequence_mismatch(expected: Sequence[str], actual: Sequence[str]) -> str:
    """Exact sequence failed: the first divergence, then both columns side by side."""
    at = next(
        (i for i, (want, got) in enumerate(zip(expected, actual, strict=False)) if want != got),
        min(len(expected), len(actual)),
    )
    if at < min(len(expected), len(actual)):
        headline = (
            f"event sequence differs at position {at}: expected {expected[at]}, got {actual[at]}"
        )
    elif len(actual) > len(expected):
        extra = actual[at:]
        headline = (
            f"event sequence has {plural(len(extra), 'event')} more than expected "
            f"from position {at}: {', '.join(extra[:5])}{', …' if len(extra) > 5 else ''}"
        )
    else:
        missing = expected[at:]
        headline = (
            f"event sequence ended after {plural(len(actual), 'event')}; expected "
            f"{len(missing)} more: {', '.join(missing[:5])}{', …' if len(missing) > 5 else ''}"
        )
    return f"{headline}\n{aligned_table(expected, actual, at)}"


def aligned_table(expected: Sequence[str], actual: Sequence[str], mark: int) -> str:
    """Expected and actual names in two columns, `>` on the row where they diverge."""
    width = max([len("expected"), *map(len, expected)])
    rows = max(len(expected), len(actual))
    before, after = TABLE_CONTEXT
    start = max(0, mark - before) if rows > before + after else 0
    stop = min(rows, mark + after) if rows > before + after else rows
    lines = [f"{'':8}{'expected':<{width}}  actual"]
    if start:
        lines.append(f"{'':8}… {plural(start, 'matching row')} above")
    for i in range(start, stop):
        want = expected[i] if i < len(expected) else "-"
        got = actual[i] if i < len(actual) else "-"
        lines.append(f"  {'>' if i == mark else ' '} {i:>3} {want:<{width}}  {got}")
    if stop < rows:
        lines.append(f"{'':8}… {plural(rows - stop, 'more row')}")
    return "\n".join(lines)


def subsequence_missing(
    expected: Sequence[str], actual: Sequence[str], found_at: Sequence[int]
) -> str:
    """Ordered subsequence failed: where each expected name was found, and the one that wasn't."""
    missing = len(found_at)
    after = f"after actual[{found_at[-1]}] ({actual[found_at[-1]]})" if found_at else "at all"
    headline = (
        "expected these event names in order (others may come between), but "
        f"{expected[missing]!r} (expected[{missing}]) does not occur {after}"
    )
    width = max([len("expected"), *map(len, expected)])
    lines = [headline, f"{'':8}{'expected':<{width}}  found at"]
    for i, name in enumerate(expected):
        if i < missing:
            where = f"actual[{found_at[i]}]"
        elif i == missing:
            where = "- not found" + (f" after actual[{found_at[-1]}]" if found_at else "")
        else:
            where = "-"
        lines.append(f"  {'>' if i == missing else ' '} {i:>3} {name:<{width}}  {where}")
    lines.append(f"actual: {numbered_names(actual)}")
    return "\n".join(lines)


def events_after_terminal(actual: Sequence[str], terminal_at: int) -> str:
    """Something was emitted after run.completed/failed/cancelled, which Hermes never does."""
    after = actual[terminal_at + 1 :]
    return (
        f"events follow the terminal {actual[terminal_at]} at actual[{terminal_at}]: "
        f"{', '.join(after[:5])}{', …' if len(after) > 5 else ''} "
        "(a Hermes stream ends with its terminal event, spec §5.5)\n"
        f"actual: {numbered_names(actual)}"
    )


def numbered_names(names: Sequence[str], limit: int = 30) -> str:
    """`0 message.delta ×3 (0-2), 3 run.completed`: indexed, repeats folded."""
    items: list[str] = []
    i = 0
    while i < len(names):
        j = i
        while j + 1 < len(names) and names[j + 1] == names[i]:
            j += 1
        items.append(f"{i} {names[i]}" if i == j else f"{i}-{j} {names[i]} ×{j - i + 1}")
        i = j + 1
    if not items:
        return "(no events)"
    more = f", … {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def unknown_event_names(unknown: Sequence[str], known: Sequence[str]) -> str:
    """A name in the expected list that Hermes never sends, e.g. `run.started` (spec §5.3)."""
    return (
        f"Hermes never emits {', '.join(map(repr, unknown))} (spec §5.3); "
        f"run event names are: {', '.join(known)}"
    )
