"""What an assertion can observe of its argument: which kind of thing it is, the run a list
of events implies, the approvals still pending and the tool calls made.

Plain derivations over the models, with no opinion on pass or fail: `assertions` decides on
them and `failure_messages` describes them, so both import this and it imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agentfakes.models import (
    ApprovalRequest,
    ApprovalResponded,
    MessageDelta,
    Result,
    Run,
    RunCancelled,
    RunCompleted,
    RunEvent,
    RunFailed,
    RunStatus,
    ToolCompleted,
    ToolStarted,
)


class RunRecordLike(Protocol):
    """The part of the fake server's run record the assertions read."""

    def to_run(self) -> Run: ...

    @property
    def events(self) -> Sequence[RunEvent]: ...


@dataclass
class ObservedToolCall:
    """One tool call as an assertion saw it; the wire knows no arguments, a Result no preview."""

    name: str
    arguments: dict[str, Any] | None = None
    preview: str | None = None
    succeeded: bool | None = None  # None: tool.started without its tool.completed yet


def kind_of(x: object) -> str | None:
    """Which of the accepted argument kinds `x` is, or None."""
    if isinstance(x, Result):
        return "result"
    if isinstance(x, Run):
        return "run"
    if isinstance(x, dict):
        if x.get("object") == "hermes.run" or ("run_id" in x and "status" in x):
            return "run_dict"
        if "stop_reason" in x or "tool_calls_made" in x:
            return "result_dict"
        return None
    if isinstance(x, str | bytes):
        return "sse"
    if callable(getattr(x, "to_run", None)) and hasattr(x, "events"):
        return "record"
    if isinstance(x, list | tuple):
        return "events"
    return None


def run_from_events(events: Sequence[RunEvent]) -> Run | None:
    """The run object the server would report after exactly these events (spec §3, §4)."""
    if not events:
        return None
    end = next((i + 1 for i, event in enumerate(events) if event.is_terminal), len(events))
    seen, terminal = list(events[:end]), events[end - 1]
    gates = [event for event in seen if isinstance(event, ApprovalRequest | ApprovalResponded)]
    fields: dict[str, Any] = {}
    if isinstance(terminal, RunCompleted):
        status = RunStatus.COMPLETED
        fields = {"output": terminal.output, "usage": terminal.usage}
    elif isinstance(terminal, RunFailed):
        status, fields = RunStatus.FAILED, {"error": terminal.error}
    elif isinstance(terminal, RunCancelled):
        status = RunStatus.CANCELLED
    elif gates and isinstance(gates[-1], ApprovalRequest):
        status = RunStatus.WAITING_FOR_APPROVAL  # stays so even after a timeout (§4 quirk)
    else:
        status = RunStatus.RUNNING
    named = [event for event in seen if not isinstance(event, MessageDelta)]
    return Run(
        run_id=events[0].run_id,
        status=status,
        created_at=events[0].timestamp,
        updated_at=seen[-1].timestamp,
        last_event=str(named[-1].event) if named else None,
        **fields,
    )


def pending_approvals(events: Sequence[RunEvent]) -> list[ApprovalRequest]:
    """Approval requests not yet resolved: a response resolves the oldest `resolved` (§7)."""
    pending: list[ApprovalRequest] = []
    for event in events:
        if isinstance(event, ApprovalRequest):
            pending.append(event)
        elif isinstance(event, ApprovalResponded):
            del pending[: max(event.resolved, 1)]
        elif event.is_terminal:
            pending.clear()
    return pending


def calls_from_events(events: Sequence[RunEvent]) -> list[ObservedToolCall]:
    """Pair each tool.started with the next tool.completed of the same tool, in order."""
    calls: list[ObservedToolCall] = []
    open_calls: dict[str, list[ObservedToolCall]] = {}
    for event in events:
        if isinstance(event, ToolStarted):
            call = ObservedToolCall(event.tool, preview=event.preview)
            calls.append(call)
            open_calls.setdefault(event.tool, []).append(call)
        elif isinstance(event, ToolCompleted):
            waiting = open_calls.get(event.tool)
            if waiting:
                waiting.pop(0).succeeded = not event.error
            else:  # a completion whose start the list does not hold
                calls.append(ObservedToolCall(event.tool, succeeded=not event.error))
    return calls


def find_subsequence(expected: Sequence[str], actual: Sequence[str]) -> list[int]:
    """Where each expected name occurs in order (earliest match); shorter if one is missing."""
    found_at: list[int] = []
    start = 0
    for name in expected:
        try:
            start = actual.index(name, start)
        except ValueError:
            break
        found_at.append(start)
        start += 1
    return found_at
