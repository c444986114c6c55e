"""`RunRecord`: one run's state, and how its scripted timeline advances on the engine clock.

A run is a timeline that starts at `created_at`. Whoever looks at the run first calls
`advance(now)`, which performs every step due by `now`, each stamped with the moment it
was scheduled, never the moment it was observed: the same script gives the same
timestamps however late it is polled. An approval gate stops the timeline until it is
resolved or times out; a stop cancels it a short latency later (spec §4, §6.1).

It stays one module: steps, approval gates, stops and the event buffer all read and write
the same record state, so splitting them would only pass that state around.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentfakes.models import (
    ApprovalRequest,
    ApprovalResponded,
    MessageDelta,
    ReasoningAvailable,
    Run,
    RunCancelled,
    RunCompleted,
    RunEvent,
    RunFailed,
    RunStatus,
    RunUsage,
    ToolCompleted,
    ToolStarted,
    run_wire,
)
from agentfakes.script import Script
from agentfakes.script.steps import (
    Approval,
    Complete,
    Delta,
    Fail,
    Reasoning,
    Step,
    Terminal,
    ToolEnd,
    ToolStart,
    Wait,
)


@dataclass
class RunTiming:
    """The engine settings a run's timeline depends on."""

    approval_timeout: float = 60.0  # spec §7: approvals.timeout default
    stop_latency: float = 0.05  # spec §6.1: a polling agent noticed the stop in ~35 ms
    approval_stop_latency: float = 1.0  # spec §6.1: a pending approval notices within ≤1 s


@dataclass
class OpenTool:
    """A tool that has started and not yet completed."""

    name: str
    started_at: float
    approval_outcome: str | None = None  # once/session/always/deny/timeout
    gated: bool = False
    approved_at: float | None = None  # when an approve let the command run (spec §5.5)


@dataclass
class PendingApproval:
    """One approval gate waiting for a choice (approvals form a FIFO, spec §5.4)."""

    step: Approval
    requested_at: float
    deadline: float
    tool: OpenTool | None
    outcome: str | None = None
    resolved_at: float | None = None


class EventStream:
    """The run's event buffer: filled from creation, read once, by one consumer (spec §5.6)."""

    CLOSED = None  # the sentinel that ends the stream

    __slots__ = ("items", "registered", "subscribers")

    def __init__(self) -> None:
        self.items: deque[RunEvent | None] = deque()
        self.registered = True
        self.subscribers = 0

    def put(self, item: RunEvent | None) -> None:
        if self.registered:
            self.items.append(item)

    def drop_items(self) -> None:
        """The stream is unregistered: free its buffer (a drained deque keeps a block)."""
        self.items = _NO_ITEMS


# The buffer of every unregistered stream: always empty, since `put` checks `registered`.
_NO_ITEMS: deque[RunEvent | None] = deque(maxlen=0)


@dataclass
class RunRecord:
    """Everything the fake server knows about one run; `server.runs[run_id]` in tests."""

    run_id: str
    created_at: float
    script: Script = field(repr=False)
    timing: RunTiming = field(repr=False)
    session_id: Any
    model: Any
    input: Any = field(repr=False)
    request: dict[str, Any] = field(repr=False)
    instructions: Any = None
    conversation_history: list[dict[str, str]] = field(default_factory=list)
    session_key: str | None = None

    status: RunStatus = field(default=RunStatus.QUEUED, init=False)
    updated_at: float = field(default=0.0, init=False)
    last_event: str | None = field(default=None, init=False)
    output: str | None = field(default=None, init=False)
    usage: RunUsage | None = field(default=None, init=False)
    error: str | None = field(default=None, init=False)
    stop_requested_at: float | None = field(default=None, init=False)
    # The optional keys of the run object in the order they were first set: the real
    # server's dict keeps insertion order (spec §3), e.g. a failure before any event
    # writes `error` before `last_event`.
    key_order: list[str] = field(default_factory=list, init=False, repr=False)

    # The events in order: built models, or (builder, timestamp, *args) tuples that build
    # them when `events` is first read (a model costs ~500 B; the tuple ~70 B).
    _events: list[Any] = field(default_factory=list, init=False, repr=False)
    status_history: list[tuple[float, RunStatus]] = field(default_factory=list, init=False)
    stream: EventStream = field(default_factory=EventStream, init=False, repr=False)

    _steps: tuple[Step, ...] = field(default=(), init=False, repr=False)
    _index: int = field(default=0, init=False, repr=False)
    _cursor: float = field(default=0.0, init=False, repr=False)
    _pending: list[PendingApproval] = field(default_factory=list, init=False, repr=False)
    _open_tools: list[OpenTool] = field(default_factory=list, init=False, repr=False)
    _cancel_at: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._steps = self.script.steps
        self._cursor = self.created_at
        self._set_status(RunStatus.QUEUED, self.created_at)
        # The background task's first step sets `running` at once (spec §4: never observed).
        self._set_status(RunStatus.RUNNING, self.created_at)

    # ------------------------------------------------------------ reading

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def pending_approvals(self) -> list[PendingApproval]:
        return [p for p in self._pending if p.outcome is None]

    @property
    def events(self) -> list[RunEvent]:
        """Every event the run emitted, in order (built on first read, then kept)."""
        events = self._events
        for i, item in enumerate(events):
            if type(item) is tuple:
                events[i] = item[0](self.run_id, *item[1:])
        return events

    @property
    def event_names(self) -> list[str]:
        return [e.event for e in self.events]

    def to_wire(self) -> dict[str, Any]:
        """The run object exactly as `GET /v1/runs/{id}` returns it (spec §3)."""
        return run_wire(
            run_id=self.run_id,
            status=self.status,
            updated_at=self.updated_at,
            created_at=self.created_at,
            session_id=self.session_id,
            model=self.model,
            last_event=self.last_event,
            output=self.output,
            usage=self.usage,
            error=self.error,
            key_order=self.key_order,
        )

    def to_run(self) -> Run:
        return Run.model_validate(self.to_wire())

    def next_due(self) -> float | None:
        """The next moment this run changes by itself, or None if only a request can move it."""
        if self.is_terminal:
            return None
        pending = self.pending_approvals
        candidates = [self._cancel_at, min(p.deadline for p in pending) if pending else None]
        if not pending and self._index < len(self._steps):
            candidates.append(self._cursor)
        due = [moment for moment in candidates if moment is not None]
        return min(due) if due else None

    # ------------------------------------------------------------ advancing

    def advance(self, now: float) -> bool:
        """Perform everything due by `now`, in time order. Returns whether anything changed."""
        changed = False
        while not self.is_terminal:
            due = self.next_due()
            if due is None or due > now:
                break
            if self._cancel_at is not None and due >= self._cancel_at:
                self._cancel(self._cancel_at)
            elif self.pending_approvals:
                self._time_out_approvals(due)
            elif self._cancel_at is not None and isinstance(
                self._steps[self._index], Terminal | Approval
            ):
                # The agent returns (or blocks) before it noticed the stop: a requested stop
                # wins over its outcome (spec §4, A:5006-5017).
                self._cancel(due)
            else:
                # Until it notices the stop, the agent goes on (stop is cooperative, §6.1).
                self._perform(self._steps[self._index])
            changed = True
        return changed

    def _perform(self, step: Step) -> None:
        at = self._cursor
        self._index += 1
        if isinstance(step, Wait):
            self._cursor += step.seconds
        elif isinstance(step, Delta):
            self._emit(_delta, at, step.text)
        elif isinstance(step, Reasoning):
            self._emit(_reasoning, at, step.text)
            self._set_status(self.status, at, "reasoning.available")
        elif isinstance(step, ToolStart):
            self._open_tools.append(OpenTool(step.name, at))
            self._emit(_tool_started, at, step.name, step.preview)
            self._set_status(self.status, at, "tool.started")
        elif isinstance(step, ToolEnd):
            done_at = self._command_done_at(step)
            if done_at is not None and done_at > at:
                # The approved command is still running: tool.completed once it has run.
                self._index -= 1
                self._cursor = done_at
            else:
                self._complete_tool(step, at)
        elif isinstance(step, Approval):
            self._request_approvals(step, at)
        elif isinstance(step, Complete):
            self.output = step.output
            self.usage = step.usage or self._estimated_usage(step.output)
            self._first_set("output", "usage")
            self._emit(_completed, at, self.output, self.usage)
            self._finish(RunStatus.COMPLETED, at, "run.completed")
        elif isinstance(step, Fail):
            self.error = step.error
            self._first_set("error")
            self._emit(_failed, at, step.error)
            self._finish(RunStatus.FAILED, at, "run.failed")

    def _command_done_at(self, step: ToolEnd) -> float | None:
        """When an approved gated tool's command finishes: `duration` after the approve.

        The gate fires inside the tool, before the command runs (spec §5.5), so the real
        server shows `approval.responded` at once and `tool.completed` only after the run."""
        if step.duration is None:
            return None
        tool = next((t for t in self._open_tools if t.name == step.name), None)
        if tool is None or tool.approved_at is None:
            return None
        return tool.approved_at + step.duration

    def _complete_tool(self, step: ToolEnd, at: float) -> None:
        tool = next((t for t in self._open_tools if t.name == step.name), None)
        if tool is None:  # the script validator rules this out; stay safe anyway
            tool = OpenTool(step.name, at)
        else:
            self._open_tools.remove(tool)
        duration = step.duration if step.duration is not None else at - tool.started_at
        error = step.error
        if error is None:
            error = tool.approval_outcome in ("deny", "timeout")
        self._emit(_tool_completed, at, step.name, duration, error)
        self._set_status(self.status, at, "tool.completed")

    def _request_approvals(self, first: Approval, at: float) -> None:
        """Raise this gate and any gates right after it: they wait at the same time."""
        group = [first]
        while self._index < len(self._steps) and isinstance(self._steps[self._index], Approval):
            step = self._steps[self._index]
            assert isinstance(step, Approval)
            group.append(step)
            self._index += 1
        for step in group:
            tool = next((t for t in self._open_tools if not t.gated), None)
            if tool is not None:
                tool.gated = True
            timeout = step.timeout if step.timeout is not None else self.timing.approval_timeout
            self._pending.append(PendingApproval(step, at, at + timeout, tool))
            self._emit(_approval_request, at, step)
        self._set_status(RunStatus.WAITING_FOR_APPROVAL, at, "approval.request")

    def _time_out_approvals(self, at: float) -> None:
        """No response in time: no event, and the status stays waiting (spec §4 quirk)."""
        for pending in self.pending_approvals:
            if pending.deadline <= at:
                self._settle(pending, "timeout", pending.deadline)
        self._resume_if_settled()

    def _settle(self, pending: PendingApproval, outcome: str, at: float) -> None:
        pending.outcome = outcome
        pending.resolved_at = at
        if pending.tool is not None:
            pending.tool.approval_outcome = outcome
            if outcome not in ("deny", "timeout"):
                pending.tool.approved_at = at

    def _resume_if_settled(self) -> None:
        if not self._pending or self.pending_approvals:
            return
        settled, self._pending = self._pending, []
        self._cursor = max([self._cursor, *(p.resolved_at or 0.0 for p in settled)])
        for pending in settled:
            branch = None
            if pending.outcome == "deny":
                branch = pending.step.on_deny
            elif pending.outcome == "timeout":
                branch = pending.step.on_timeout or pending.step.on_deny
            if branch is not None:
                self._steps, self._index = branch.steps, 0
                return

    # ------------------------------------------------------------ requests

    def resolve_approvals(self, choice: str, *, resolve_all: bool, now: float) -> int:
        """Answer the oldest pending approval (or all of them); return how many (spec §7)."""
        if self.is_terminal:
            return 0
        pending = self.pending_approvals
        chosen = pending if resolve_all else pending[:1]
        for item in chosen:
            self._settle(item, choice, now)
        if not chosen:
            return 0
        self._emit(_approval_responded, now, choice, len(chosen))
        self._set_status(RunStatus.RUNNING, now, "approval.responded")
        self._resume_if_settled()
        return len(chosen)

    def request_stop(self, now: float) -> None:
        """`stopping` now, `cancelled` once the agent notices (spec §6.1); no SSE frame."""
        if self.is_terminal:  # a terminal run never changes (spec §4)
            return
        self.stop_requested_at = self.stop_requested_at or now
        if self._cancel_at is None:
            pending = self.pending_approvals
            if pending:
                # The approval wait checks for an interrupt once per period, counted from
                # the request (AP:3126-3150): the stop lands on the next such check.
                period = self.timing.approval_stop_latency
                since = pending[0].requested_at
                checks = math.floor((now - since) / period) + 1 if period > 0 else 0
                self._cancel_at = since + checks * period
            else:
                self._cancel_at = now + self.timing.stop_latency
        self._set_status(RunStatus.STOPPING, now, "run.stopping")

    def _cancel(self, at: float) -> None:
        """The agent returned after a stop: a gated tool ends in error, then run.cancelled."""
        for pending in self.pending_approvals:
            tool = pending.tool
            if tool is not None and tool in self._open_tools:
                self._open_tools.remove(tool)
                self._emit(_tool_completed, at, tool.name, at - tool.started_at, True)
        self._pending = []
        self._emit(_cancelled, at)
        self._finish(RunStatus.CANCELLED, at, "run.cancelled")

    # ------------------------------------------------------------ bookkeeping

    def _emit(self, build: Callable[..., RunEvent], at: float, *args: Any) -> None:
        """Record an event compactly; a registered stream buffers its model at once (the
        stream's copy is freed once read, `events` builds the record's own on first read)."""
        self._events.append((build, at, *args))
        if self.stream.registered:
            self.stream.put(build(self.run_id, at, *args))

    def _finish(self, status: RunStatus, at: float, last_event: str) -> None:
        self._cancel_at = None
        self._set_status(status, at, last_event)
        self.stream.put(EventStream.CLOSED)

    def _set_status(self, status: RunStatus, at: float, last_event: str | None = None) -> None:
        """`_set_run_status`: every call moves `updated_at`; deltas never call it (spec §3)."""
        if not self.status_history or self.status_history[-1][1] is not status:
            self.status_history.append((at, status))
        self.status = status
        self.updated_at = at
        if last_event is not None:
            self.last_event = last_event
            self._first_set("last_event")

    def _first_set(self, *keys: str) -> None:
        for key in keys:
            if key not in self.key_order:
                self.key_order.append(key)

    def _estimated_usage(self, output: str | None) -> RunUsage:
        """Plausible token counts when a script gives none: about four characters a token."""
        prompt = self.input if isinstance(self.input, str) else str(self.input)
        input_tokens = max(1, math.ceil(len(prompt) / 4))
        output_tokens = math.ceil(len(output or "") / 4)
        return RunUsage(input_tokens=input_tokens, output_tokens=output_tokens)


# ---------------------------------------------------------------- event builders
# `_emit` keeps (builder, timestamp, *args): each builds the event exactly as the engine
# always has (validated), when a stream buffers it or `RunRecord.events` is read.


def _delta(run_id: str, at: float, text: str) -> RunEvent:
    return MessageDelta(run_id=run_id, timestamp=at, delta=text)


def _reasoning(run_id: str, at: float, text: str) -> RunEvent:
    return ReasoningAvailable(run_id=run_id, timestamp=at, text=text)


def _tool_started(run_id: str, at: float, tool: str, preview: str | None) -> RunEvent:
    return ToolStarted(run_id=run_id, timestamp=at, tool=tool, preview=preview)


def _tool_completed(run_id: str, at: float, tool: str, duration: float, error: Any) -> RunEvent:
    return ToolCompleted(run_id=run_id, timestamp=at, tool=tool, duration=duration, error=error)


def _approval_request(run_id: str, at: float, step: Approval) -> RunEvent:
    return ApprovalRequest.model_validate(
        {**step.request_fields(), "run_id": run_id, "timestamp": at}
    )


def _approval_responded(run_id: str, at: float, choice: str, resolved: int) -> RunEvent:
    return ApprovalResponded(run_id=run_id, timestamp=at, choice=choice, resolved=resolved)


def _completed(run_id: str, at: float, output: str | None, usage: RunUsage | None) -> RunEvent:
    return RunCompleted(run_id=run_id, timestamp=at, output=output, usage=usage)


def _failed(run_id: str, at: float, error: Any) -> RunEvent:
    return RunFailed(run_id=run_id, timestamp=at, error=error)


def _cancelled(run_id: str, at: float) -> RunEvent:
    return RunCancelled(run_id=run_id, timestamp=at)
