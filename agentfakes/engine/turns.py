"""`TurnRecord`: one agent turn of a surface other than Runs (a chat completion, a response,
a session chat), driven by a `Script` exactly like a run.

A turn is not a Run: it is never in `server.runs` nor at `/v1/runs/{id}` (beyond-runs §2.1),
but it holds a concurrency slot until its scripted end. Its timeline is fixed when it
starts — these surfaces have no stop or approval endpoint — so the whole of it is laid
out at creation, each event stamped with its scripted moment; a stream reveals the events
as the clock reaches them, a JSON answer waits (on the clock) for the end.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from agentfakes.models import RunUsage
from agentfakes.script import Script
from agentfakes.script.steps import (
    Approval,
    Complete,
    Delta,
    Fail,
    Reasoning,
    Step,
    ToolEnd,
    ToolStart,
    Wait,
)
from agentfakes.seeding import new_call_id

SURFACE_NAMES = ("chat", "responses", "sessions")


@dataclass(frozen=True)
class TurnEvent:
    """One moment of a turn: `kind` is delta, reasoning, tool.started or tool.completed."""

    kind: str
    at: float
    text: str = ""
    tool: str = ""
    call_id: str = ""
    preview: str | None = None
    arguments: dict[str, Any] | None = field(default=None, hash=False)
    result: str = ""
    error: bool = False


@dataclass(frozen=True)
class TurnOutcome:
    """How the turn ended: `output` (complete) or `error` (the provider's, as a run shows it)."""

    at: float
    output: str | None
    usage: RunUsage
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class TurnRecord:
    """Everything the fake knows about one non-run agent turn."""

    turn_id: str
    surface: str
    created_at: float
    script: Script = field(repr=False)
    input: Any = field(repr=False)
    history: list[dict[str, Any]] = field(default_factory=list, repr=False)
    session_id: str | None = None
    session_key: str | None = None
    model: Any = None
    instructions: Any = None
    request: dict[str, Any] = field(default_factory=dict, repr=False)

    interrupted: bool = field(default=False, init=False)  # the client went away mid-stream
    events: list[TurnEvent] = field(default_factory=list, init=False, repr=False)
    outcome: TurnOutcome = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.events, self.outcome = _lay_out(self.script.steps, self.created_at, self.input)

    @property
    def ends_at(self) -> float:
        return self.outcome.at

    def is_done(self, now: float) -> bool:
        return now >= self.ends_at

    @property
    def output(self) -> str | None:
        return self.outcome.output

    @property
    def error(self) -> str | None:
        return self.outcome.error

    @property
    def usage(self) -> RunUsage:
        return self.outcome.usage

    @property
    def tool_calls(self) -> list[TurnEvent]:
        return [e for e in self.events if e.kind == "tool.started"]

    @property
    def text(self) -> str:
        """The streamed text: every delta joined (after a tool round it may start with \\n\\n)."""
        return "".join(e.text for e in self.events if e.kind == "delta")

    def transcript(self, final_text: str) -> list[dict[str, Any]]:
        """The agent's new messages, as the agent returns and state.db stores them: one
        assistant message per tool call, the tool's result, the final assistant message.
        A failed turn adds none: only its user message is stored (drift capture)."""
        if self.error is not None:
            return []
        messages: list[dict[str, Any]] = []
        results = {e.call_id: e for e in self.events if e.kind == "tool.completed"}
        for start in self.tool_calls:
            call = {
                "id": start.call_id,
                "call_id": start.call_id,
                "response_item_id": "fc_" + start.call_id.removeprefix("call_"),
                "type": "function",
                "function": {"name": start.tool, "arguments": arguments_json(start.arguments)},
            }
            messages.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [call],
                    "finish_reason": "tool_calls",
                    "reasoning": None,
                }
            )
            done = results.get(start.call_id)
            if done is not None:
                messages.append(
                    {
                        "role": "tool",
                        "content": done.result,
                        "tool_call_id": start.call_id,
                        "tool_name": start.tool,
                    }
                )
        messages.append(
            {"role": "assistant", "content": final_text, "finish_reason": "stop", "reasoning": None}
        )
        return messages


def arguments_json(arguments: dict[str, Any] | None) -> str:
    """A tool call's arguments as the model sends them: a JSON string."""
    return json.dumps(arguments or {})


def estimated_usage(prompt: Any, output: str | None) -> RunUsage:
    """Plausible token counts when a script gives none: about four characters a token."""
    text = prompt if isinstance(prompt, str) else json.dumps(prompt)
    return RunUsage(
        input_tokens=max(1, math.ceil(len(text) / 4)),
        output_tokens=math.ceil(len(output or "") / 4),
    )


def _lay_out(
    steps: tuple[Step, ...], start: float, prompt: Any
) -> tuple[list[TurnEvent], TurnOutcome]:
    """The whole timeline: approval gates pass at once (no approval endpoint on these
    surfaces), waits move the clock, tool ends pair with the oldest open start."""
    events: list[TurnEvent] = []
    open_calls: list[TurnEvent] = []
    at = start
    for step in steps:
        if isinstance(step, Wait):
            at += step.seconds
        elif isinstance(step, Delta):
            events.append(TurnEvent("delta", at, text=step.text))
        elif isinstance(step, Reasoning):
            events.append(TurnEvent("reasoning", at, text=step.text))
        elif isinstance(step, ToolStart):
            started = TurnEvent(
                "tool.started",
                at,
                tool=step.name,
                call_id=new_call_id(),
                preview=step.preview,
                arguments=dict(step.arguments or {}),
            )
            open_calls.append(started)
            events.append(started)
        elif isinstance(step, ToolEnd):
            opened = next((c for c in open_calls if c.tool == step.name), None)
            if opened is not None:
                open_calls.remove(opened)
            events.append(
                TurnEvent(
                    "tool.completed",
                    at,
                    tool=step.name,
                    call_id=opened.call_id if opened else new_call_id(),
                    result=step.result if step.result is not None else "",
                    error=bool(step.error),
                )
            )
        elif isinstance(step, Approval):
            continue
        elif isinstance(step, Complete):
            usage = step.usage or estimated_usage(prompt, step.output)
            return events, TurnOutcome(at, step.output, usage)
        elif isinstance(step, Fail):
            zero = RunUsage(input_tokens=0, output_tokens=0, total_tokens=0)
            return events, TurnOutcome(at, None, zero, error=step.error)
    raise AssertionError("a validated script ends with a terminal step")
