"""Run factories: `RunFactory` (a Run that fits its status, spec §3) and `RunUsageFactory`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from agentfakes.factories import content
from agentfakes.factories.base import Factory, Lazy, Param, Values
from agentfakes.models import Run, RunStatus, RunUsage
from agentfakes.seeding import new_run_id, rng


class RunUsageFactory(Factory[RunUsage]):
    """A completed run's token counters; total is always input + output."""

    __model__ = RunUsage
    input_tokens = Lazy(lambda _: rng().randint(120, 24_000))
    output_tokens = Lazy(lambda _: rng().randint(8, 3_200))
    total_tokens = Lazy(lambda v: v["input_tokens"] + v["output_tokens"])
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        # spec §9.8: a provider that reports no usage leaves the counters at 0
        "empty": {"input_tokens": 0, "output_tokens": 0},
    }


_LAST_EVENT: dict[RunStatus, str | None] = {
    RunStatus.QUEUED: None,
    RunStatus.WAITING_FOR_APPROVAL: "approval.request",
    RunStatus.STOPPING: "run.stopping",
    RunStatus.COMPLETED: "run.completed",
    RunStatus.FAILED: "run.failed",
    RunStatus.CANCELLED: "run.cancelled",
}
# a running run was just created (no last_event yet, spec §3), or is between tool events
_RUNNING_LAST_EVENTS = (None, "tool.started", "tool.completed", "reasoning.available")


def _last_event(status: RunStatus) -> str | None:
    """The `last_event` a run in this status shows (spec §3, §4, §6.1, §7)."""
    if status is RunStatus.RUNNING:
        return rng().choice(_RUNNING_LAST_EVENTS)
    return _LAST_EVENT[status]


def _elapsed(status: RunStatus) -> float:
    """Seconds between a run's creation and its last update, plausible for its status."""
    if status is RunStatus.QUEUED:
        return 0.0  # queued lasts well under a millisecond (spec §4)
    if status.is_terminal:
        return round(rng().uniform(0.4, 90.0), 6)
    return round(rng().uniform(0.05, 30.0), 6)


def _status(values: Values) -> RunStatus:
    return RunStatus(values["status"])


def _run_updated_at(values: Values) -> float:
    if "created_at" in values:
        return float(values["created_at"]) + float(values["elapsed"])
    return time.time()


class RunFactory(Factory[Run]):
    """A Run as `GET /v1/runs/{id}` returns it, with fields that fit its status (spec §3)."""

    __model__ = Run
    run_id = Lazy(lambda _: new_run_id())
    status = RunStatus.COMPLETED
    elapsed = Param(Lazy(lambda v: _elapsed(_status(v))))
    updated_at = Lazy(_run_updated_at)
    created_at = Lazy(lambda v: float(v["updated_at"]) - float(v["elapsed"]))
    last_event = Lazy(lambda v: _last_event(_status(v)))
    output = Lazy(lambda v: content.answer() if _status(v) is RunStatus.COMPLETED else None)
    usage = Lazy(lambda v: RunUsageFactory.build() if _status(v) is RunStatus.COMPLETED else None)
    error = Lazy(lambda v: content.provider_error()[1] if _status(v) is RunStatus.FAILED else None)

    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        **{status.value: {"status": status} for status in RunStatus},
        # a completed run whose agent ran out of tool iterations (spec §4, §9.4)
        "truncated": {
            "status": RunStatus.COMPLETED,
            "output": Lazy(lambda _: content.truncated_output()),
        },
    }
    # ResultFactory's names for the same outcomes, so one word works on both factories
    traits = {
        **traits,
        "complete": traits["completed"],
        "max_iterations": traits["truncated"],
        "error": traits["failed"],
    }

    @classmethod
    def queued(cls, **overrides: Any) -> Run:
        """A run before its task's first step (rarely observable, spec §4)."""
        return cls.build("queued", **overrides)

    @classmethod
    def running(cls, **overrides: Any) -> Run:
        """A run whose agent is working."""
        return cls.build("running", **overrides)

    @classmethod
    def waiting_for_approval(cls, **overrides: Any) -> Run:
        """A run blocked on an approval gate (last_event `approval.request`)."""
        return cls.build("waiting_for_approval", **overrides)

    @classmethod
    def stopping(cls, **overrides: Any) -> Run:
        """A run after POST /stop, before the agent returned (last_event `run.stopping`)."""
        return cls.build("stopping", **overrides)

    @classmethod
    def completed(cls, **overrides: Any) -> Run:
        """A finished run with output and usage."""
        return cls.build("completed", **overrides)

    @classmethod
    def failed(cls, **overrides: Any) -> Run:
        """A run that failed: `error` text, no output or usage."""
        return cls.build("failed", **overrides)

    @classmethod
    def cancelled(cls, **overrides: Any) -> Run:
        """A stopped run: no output, usage or error."""
        return cls.build("cancelled", **overrides)

    @classmethod
    def truncated(cls, **overrides: Any) -> Run:
        """A completed run whose output carries Hermes' iteration-limit notice."""
        return cls.build("truncated", **overrides)
