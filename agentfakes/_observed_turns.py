"""What a chat completion, a response or a session chat shows, for the assertions.

A test-side turn record (`server.turns[i]`) is judged by its script's terminal step; a wire
dict by what the wire shows. Hermes reports a provider failure on `/v1/responses` and
session chat as a normal answer whose text is the error (beyond-runs §7 item 2), so those
wire dicts cannot show a failure: the assertion messages say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentfakes._observed import ObservedToolCall

PROVIDER_FAILURE_PREFIX = "API call failed after "


@dataclass(frozen=True)
class ObservedTurn:
    """A non-run turn as the assertions see it."""

    label: str  # "chat completion", "response", "session chat", "chat turn record", ...
    completed: bool
    output: str | None
    error: str | None
    tools: list[ObservedToolCall] | None = field(default=None)  # None: the wire hides them
    failure_hidden: bool = False  # the wire reports provider failures as completed text
    tools_hint: str = ""


def observe_turn(x: object) -> ObservedTurn | None:
    """The turn `x` shows, or None when `x` is not a chat/responses/session-chat subject."""
    if _is_turn_record(x):
        return _from_record(x)
    if not isinstance(x, dict):
        return None
    kind = x.get("object")
    if kind == "chat.completion":
        return _from_chat(x)
    if kind == "response" and "output" in x:
        return _from_response(x)
    if kind == "hermes.session.chat.completion":
        message = x.get("message") or {}
        return ObservedTurn(
            "session chat completion",
            completed=True,
            output=message.get("content"),
            error=None,
            failure_hidden=True,
            tools_hint="a session chat answer carries no tool calls; read the session's "
            "messages or pass the server's turn record (server.turns[i])",
        )
    return None


def looks_like_provider_failure(text: str | None) -> bool:
    return bool(text) and str(text).startswith(PROVIDER_FAILURE_PREFIX)


def _is_turn_record(x: object) -> bool:
    return all(hasattr(x, name) for name in ("surface", "outcome", "events", "turn_id"))


def _from_record(record: Any) -> ObservedTurn:
    outcome = record.outcome
    starts = {e.call_id: e for e in record.events if e.kind == "tool.started"}
    ends = {e.call_id: e for e in record.events if e.kind == "tool.completed"}
    tools = [
        ObservedToolCall(
            start.tool,
            arguments=dict(start.arguments or {}),
            preview=start.preview,
            succeeded=None if call_id not in ends else not ends[call_id].error,
        )
        for call_id, start in starts.items()
    ]
    return ObservedTurn(
        f"{record.surface} turn record {record.turn_id}",
        completed=outcome.error is None,
        output=outcome.output,
        error=outcome.error,
        tools=tools,
    )


def _from_chat(body: dict[str, Any]) -> ObservedTurn:
    choice = (body.get("choices") or [{}])[0]
    finish = choice.get("finish_reason")
    hermes = body.get("hermes") or {}
    return ObservedTurn(
        f"chat completion (finish_reason {finish!r})",
        completed=finish == "stop",
        output=(choice.get("message") or {}).get("content"),
        error=hermes.get("error") if finish != "stop" else None,
        tools_hint="a non-streaming chat completion carries no tool calls (beyond-runs "
        "§4.2); pass the server's turn record (server.turns[i]) instead",
    )


def _from_response(body: dict[str, Any]) -> ObservedTurn:
    output = body.get("output") or []
    text = None
    for item in output:
        if item.get("type") == "message":
            parts = item.get("content") or [{}]
            text = parts[0].get("text")
    results = {i.get("call_id") for i in output if i.get("type") == "function_call_output"}
    tools = []
    for item in output:
        if item.get("type") != "function_call":
            continue
        try:
            arguments = json.loads(item.get("arguments") or "{}")
        except ValueError:
            arguments = None
        tools.append(
            ObservedToolCall(
                item.get("name", ""),
                arguments=arguments if isinstance(arguments, dict) else None,
                succeeded=True if item.get("call_id") in results else None,
            )
        )
    status = body.get("status")
    error = (body.get("error") or {}).get("message") if status == "failed" else None
    return ObservedTurn(
        f"response (status {status!r})",
        completed=status == "completed",
        output=text,
        error=error,
        tools=tools,
        failure_hidden=status == "completed",
    )
