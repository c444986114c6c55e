"""Event sequences: the plan of one run's stream, in the order the server sends it (spec §5.5).

Planning only: which events, their gaps and payloads, and their timestamps. `events.py`
turns a plan into `RunEvent` models for `RunEventFactory.sequence`.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from agentfakes.factories import content
from agentfakes.factories.runs import RunUsageFactory
from agentfakes.models import RunUsage
from agentfakes.seeding import faker, rng

Outcome = Literal["completed", "failed", "cancelled", "max_iterations"]
OUTCOMES: tuple[Outcome, ...] = ("completed", "failed", "cancelled", "max_iterations")
APPROVALS = ("once", "session", "always", "deny", "timeout")
"""How an approval gate ends: a POST with that choice, or `timeout` (no response, spec §7)."""


class Unset(Enum):
    """`output` not given (draw one), as opposed to `None` (a run that has no output)."""

    UNSET = "unset"


UNSET = Unset.UNSET


@dataclass
class _Step:
    """One planned event: its name, seconds after the previous event, and its payload."""

    event: str
    gap: float
    payload: dict[str, Any] = field(default_factory=dict)
    started_index: int | None = None  # tool.completed: where its tool.started is


def _gap(low: float, high: float) -> float:
    return rng().uniform(low, high)


def _word_chunks(text: str) -> list[str]:
    """Text cut like streamed tokens: one or two words each, whitespace kept, nothing lost."""
    words = re.findall(r"\s*\S+|\s+$", text)
    chunks: list[str] = []
    while words:
        size = min(rng().randint(1, 2), len(words))
        chunks.append("".join(words[:size]))
        del words[:size]
    return chunks


def _split_deltas(text: str, deltas: int | None) -> list[str]:
    """`text` as message.delta chunks that concatenate back to it exactly."""
    if deltas is None:
        return _word_chunks(text)
    if not 1 <= deltas <= len(text):
        raise ValueError(
            f"deltas must be between 1 and len(output)={len(text)} for a completed run, "
            f"got {deltas}"
        )
    cuts = sorted(rng().sample(range(1, len(text)), deltas - 1))
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def _partial_deltas(count: int) -> list[str]:
    """The first `count` chunks of an answer cut off mid-stream (stop or failure)."""
    chunks: list[str] = []
    while len(chunks) < count:
        chunks += _word_chunks((" " if chunks else "") + faker().sentence(nb_words=10))
    return chunks[:count]


def _plan_tools(tools: int, approval: str | None) -> list[_Step]:
    """Each tool call's events; with `approval`, the first call is the gated one."""
    steps: list[_Step] = []
    for index in range(tools):
        if approval is not None and index == 0:
            steps += _gated_tool(approval, started=len(steps))
        else:
            steps += _plain_tool(started=len(steps))
    return steps


def _plain_tool(started: int) -> list[_Step]:
    """tool.started then tool.completed (spec §5.3, contract case 26)."""
    tool = content.random_tool_name()
    preview = content.tool(tool).preview(content.tool(tool).arguments())
    return [
        _Step("tool.started", _gap(0.3, 2.5), {"tool": tool, "preview": preview}),
        _Step(
            "tool.completed",
            _gap(0.01, 3.0),
            {"tool": tool, "error": False},
            started_index=started,
        ),
    ]


def _gated_tool(approval: str, started: int) -> list[_Step]:
    """A terminal command the guard stops: the approval gate fires inside it (spec §5.5)."""
    gate = content.gated_command()
    steps = [
        _Step("tool.started", _gap(0.3, 2.5), {"tool": "terminal", "preview": gate["command"]}),
        _Step("approval.request", _gap(0.001, 0.05), gate),
    ]
    if approval == "timeout":
        # spec §7: a timeout sends no event; the tool is BLOCKED once the wait runs out
        completed_gap, failed = _gap(5.0, 60.0), True
    else:
        steps.append(
            _Step("approval.responded", _gap(1.0, 30.0), {"choice": approval, "resolved": 1})
        )
        # spec §5.5: a denied tool reports error: true, an approved one runs normally
        completed_gap, failed = _gap(0.005, 0.5), approval == "deny"
    steps.append(
        _Step(
            "tool.completed",
            completed_gap,
            {"tool": "terminal", "error": failed},
            started_index=started,
        )
    )
    return steps


def _delta_steps(chunks: list[str], first_gap: float) -> list[_Step]:
    return [
        _Step("message.delta", first_gap if i == 0 else _gap(0.005, 0.08), {"delta": chunk})
        for i, chunk in enumerate(chunks)
    ]


def _plan_ending(
    outcome: Outcome,
    deltas: int | None,
    output: str | Unset | None,
    usage: RunUsage | None,
    error: str | None,
) -> list[_Step]:
    """The events after the tools, ending with the one terminal event (spec §5.5, §9.4)."""
    if outcome == "max_iterations":
        if deltas:
            raise ValueError("the iteration-limit path emits no message.delta (spec §9.4)")
        text = content.truncated_output() if output is UNSET else output
        usage = usage or RunUsageFactory.build()
        return [_Step("run.completed", _gap(0.5, 3.0), {"output": text, "usage": usage})]
    if outcome == "completed":
        text = content.answer() if output is UNSET else output
        steps: list[_Step] = []
        if text:
            steps += _delta_steps(_split_deltas(text, deltas), _gap(0.3, 2.0))
            # spec §9.4: the final answer's turn reports its text after its deltas
            steps.append(_Step("reasoning.available", _gap(0.001, 0.02), {"text": text[:500]}))
        usage = usage or RunUsageFactory.build()
        steps.append(_Step("run.completed", _gap(0.001, 0.05), {"output": text, "usage": usage}))
        return steps
    if outcome == "failed":
        steps = _delta_steps(_partial_deltas(deltas or 0), _gap(0.3, 2.0))
        message = error if error is not None else content.provider_error()[1]
        return [*steps, _Step("run.failed", _gap(0.2, 3.0), {"error": message})]
    count = rng().randint(1, 5) if deltas is None else deltas
    steps = _delta_steps(_partial_deltas(count), _gap(0.3, 2.0))
    return [*steps, _Step("run.cancelled", _gap(0.05, 1.0))]


def _timestamps(steps: list[_Step], started_at: float, ended_at: float | None) -> list[float]:
    """Non-decreasing times from the gaps; stretched to end exactly at `ended_at` if given."""
    offsets: list[float] = []
    total = 0.0
    for step in steps:
        total += step.gap
        offsets.append(total)
    if ended_at is None:
        return [started_at + offset for offset in offsets]
    if ended_at < started_at:
        raise ValueError(f"ended_at ({ended_at}) is before started_at ({started_at})")
    scale = (ended_at - started_at) / total if total else 0.0
    stamps = [min(started_at + offset * scale, ended_at) for offset in offsets]
    stamps[-1] = ended_at
    return stamps


@dataclass(frozen=True)
class PlannedEvent:
    """One event of a planned run: its type, its timestamp, and its fields (no envelope)."""

    event: str
    timestamp: float
    payload: dict[str, Any]


def plan_events(
    outcome: Outcome,
    tools: int,
    approval: str | None,
    deltas: int | None,
    output: str | Unset | None,
    usage: RunUsage | None,
    error: str | None,
    started_at: float | None,
    ended_at: float | None,
) -> list[PlannedEvent]:
    """Every event of one run in stream order, timed from `started_at` (default: the clock)."""
    steps = _plan_tools(tools, approval)
    steps += _plan_ending(outcome, deltas, output, usage, error)
    start = time.time() if started_at is None else started_at
    stamps = _timestamps(steps, start, ended_at)
    planned: list[PlannedEvent] = []
    for step, stamp in zip(steps, stamps, strict=True):
        payload = dict(step.payload)
        if step.started_index is not None:
            payload["duration"] = stamp - stamps[step.started_index]
        planned.append(PlannedEvent(step.event, stamp, payload))
    return planned
