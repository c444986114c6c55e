"""Run event factories: one event of any type, or a whole spec-ordered stream for one run.

`RunEventFactory.build("tool.completed")` picks the per-type factory below (the envelope,
run_id and a clock timestamp, is shared); `sequence()` and `sequence_for()` build a plan in
`sequences.py` and give it the run's envelope (spec §5.2, §5.3, §5.5).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from pydantic import BaseModel

from agentfakes.factories import content
from agentfakes.factories.base import Factory, Lazy, Param, T, Values
from agentfakes.factories.runs import RunUsageFactory
from agentfakes.factories.sequences import (
    APPROVALS,
    OUTCOMES,
    UNSET,
    Outcome,
    PlannedEvent,
    Unset,
    plan_events,
)
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
    carries_iteration_limit_notice,
)
from agentfakes.seeding import faker, new_run_id, rng


class _EnvelopeFactory(Factory[T]):
    """The envelope every event shares: a run id and a `time.time()` timestamp (spec §5.2)."""

    run_id = Lazy(lambda _: new_run_id())
    timestamp = Lazy(lambda _: time.time())


def _started_preview(values: Values) -> str:
    tool = content.tool(values["tool"])
    return tool.preview(tool.arguments())


class _MessageDeltaFactory(_EnvelopeFactory[MessageDelta]):
    __model__ = MessageDelta
    _label = "RunEventFactory.build('message.delta')"
    delta = Lazy(lambda _: " " + faker().word())


class _ReasoningAvailableFactory(_EnvelopeFactory[ReasoningAvailable]):
    __model__ = ReasoningAvailable
    _label = "RunEventFactory.build('reasoning.available')"
    text = Lazy(lambda _: faker().sentence(nb_words=12))


class _ToolStartedFactory(_EnvelopeFactory[ToolStarted]):
    __model__ = ToolStarted
    _label = "RunEventFactory.build('tool.started')"
    tool = Lazy(lambda _: content.random_tool_name())
    preview = Lazy(_started_preview)


class _ToolCompletedFactory(_EnvelopeFactory[ToolCompleted]):
    __model__ = ToolCompleted
    _label = "RunEventFactory.build('tool.completed')"
    tool = Lazy(lambda _: content.random_tool_name())
    duration = Lazy(lambda _: rng().uniform(0.01, 4.0))
    error = False


class _ApprovalRequestFactory(_EnvelopeFactory[ApprovalRequest]):
    __model__ = ApprovalRequest
    _label = "RunEventFactory.build('approval.request')"
    gate = Param(Lazy(lambda _: content.gated_command()))
    command = Lazy(lambda v: v["gate"]["command"])
    pattern_key = Lazy(lambda v: v["gate"]["pattern_key"])
    pattern_keys = Lazy(lambda v: v["gate"]["pattern_keys"])
    description = Lazy(lambda v: v["gate"]["description"])
    allow_permanent = True


class _ApprovalRespondedFactory(_EnvelopeFactory[ApprovalResponded]):
    __model__ = ApprovalResponded
    _label = "RunEventFactory.build('approval.responded')"
    choice = "once"
    resolved = 1


class _RunCompletedFactory(_EnvelopeFactory[RunCompleted]):
    __model__ = RunCompleted
    _label = "RunEventFactory.build('run.completed')"
    output = Lazy(lambda _: content.answer())
    usage = Lazy(lambda _: RunUsageFactory.build())


class _RunFailedFactory(_EnvelopeFactory[RunFailed]):
    __model__ = RunFailed
    _label = "RunEventFactory.build('run.failed')"
    error = Lazy(lambda _: content.provider_error()[1])


class _RunCancelledFactory(_EnvelopeFactory[RunCancelled]):
    __model__ = RunCancelled
    _label = "RunEventFactory.build('run.cancelled')"


_EVENT_FACTORIES: dict[str, type[Factory[Any]]] = {
    "message.delta": _MessageDeltaFactory,
    "reasoning.available": _ReasoningAvailableFactory,
    "tool.started": _ToolStartedFactory,
    "tool.completed": _ToolCompletedFactory,
    "approval.request": _ApprovalRequestFactory,
    "approval.responded": _ApprovalRespondedFactory,
    "run.completed": _RunCompletedFactory,
    "run.failed": _RunFailedFactory,
    "run.cancelled": _RunCancelledFactory,
}


_EVENT_MODELS: dict[str, type[BaseModel]] = {
    name: factory.__model__ for name, factory in _EVENT_FACTORIES.items()
}


def _events(run_id: str, planned: list[PlannedEvent]) -> list[RunEvent]:
    """The planned events as models, in one run's envelope."""
    events: list[RunEvent] = []
    for step in planned:
        model = _EVENT_MODELS[step.event]
        event: Any = model(run_id=run_id, timestamp=step.timestamp, **step.payload)
        events.append(event)
    return events


class RunEventFactory:
    """Run events (spec §5.3): one of any type, or a whole spec-ordered stream for one run."""

    EVENTS: ClassVar[tuple[str, ...]] = tuple(_EVENT_FACTORIES)

    @classmethod
    def _factory(cls, event: str) -> type[Factory[Any]]:
        try:
            return _EVENT_FACTORIES[event]
        except KeyError:
            raise ValueError(
                f"unknown event {event!r}; run events are: {', '.join(_EVENT_FACTORIES)}"
            ) from None

    @classmethod
    def build(cls, event: str = "message.delta", **overrides: Any) -> RunEvent:
        """One event of the given type, e.g. `build("tool.completed", error=True)`."""
        built: RunEvent = cls._factory(event).build(**overrides)
        return built

    @classmethod
    def build_batch(cls, n: int, event: str = "message.delta", **overrides: Any) -> list[RunEvent]:
        """`n` independent events of one type (pass `run_id=` to put them in one run)."""
        return list(cls._factory(event).build_batch(n, **overrides))

    @classmethod
    def sequence(
        cls,
        run_id: str | None = None,
        outcome: Outcome = "completed",
        tools: int | None = None,
        approval: str | None = None,
        deltas: int | None = None,
        *,
        output: str | Unset | None = UNSET,
        usage: RunUsage | None = None,
        error: str | None = None,
        started_at: float | None = None,
        ended_at: float | None = None,
    ) -> list[RunEvent]:
        """Every event of one run, in the order the server streams them (spec §5.5).

        `tools` tool calls, each `tool.started` then `tool.completed`; with `approval`
        (`once`, `session`, `always`, `deny` or `timeout`) the first one is a gated terminal
        command: `approval.request`, `approval.responded` (none on timeout) between its
        start and completion, which carries `error: true` when denied or timed out. Then, by
        `outcome`: completed streams `deltas` message.delta chunks of `output`,
        `reasoning.available` and `run.completed`; max_iterations only `run.completed` with
        the iteration-limit notice; failed `run.failed` (after `deltas` partial chunks, if
        asked); cancelled a few partial chunks then `run.cancelled`. Timestamps start after
        `started_at` (default: now) and, if `ended_at` is given, end exactly there.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; outcomes: {', '.join(OUTCOMES)}")
        if approval is not None and approval not in APPROVALS:
            raise ValueError(f"unknown approval {approval!r}; approvals: {', '.join(APPROVALS)}")
        if deltas is not None and deltas < 0:
            raise ValueError(f"deltas must be >= 0, got {deltas}")
        if tools is None:
            tools = 3 if outcome == "max_iterations" else int(approval is not None)
        if tools < 0:
            raise ValueError(f"tools must be >= 0, got {tools}")
        if approval is not None and tools == 0:
            raise ValueError("an approval gate sits inside a tool call: tools must be >= 1")
        if outcome == "max_iterations" and tools == 0:
            raise ValueError("a run that hit the iteration limit called tools: tools must be >= 1")

        run_id = run_id or new_run_id()
        planned = plan_events(
            outcome, tools, approval, deltas, output, usage, error, started_at, ended_at
        )
        return _events(run_id, planned)

    @classmethod
    def sequence_for(
        cls,
        run: Run,
        *,
        tools: int | None = None,
        approval: str | None = None,
        deltas: int | None = None,
    ) -> list[RunEvent]:
        """The events a finished `run` streamed: its run_id, output, usage or error, and
        timestamps from its `created_at` to its `updated_at` (the terminal event)."""
        if not run.is_terminal:
            raise ValueError(
                f"run {run.run_id} is still {run.status.value}; sequence_for builds the "
                "events of a finished run (completed, failed or cancelled)"
            )
        outcome: Outcome
        if run.status is RunStatus.COMPLETED:
            truncated = carries_iteration_limit_notice(run.output)
            outcome = "max_iterations" if truncated else "completed"
        elif run.status is RunStatus.FAILED:
            outcome = "failed"
        else:
            outcome = "cancelled"
        return cls.sequence(
            run.run_id,
            outcome,
            tools=tools,
            approval=approval,
            deltas=deltas,
            output=run.output,
            usage=run.usage,
            error=run.error,
            started_at=run.created_at,
            ended_at=run.updated_at,
        )
