"""Recording the surfaces beyond Runs (issue 10): a chat completion, a response and a
session chat, JSON or SSE, become scenario runs with their `surface`.

A `TurnTape` is what the recorder saw of one such turn: the request's input and time, the
answer's status and headers, and either the JSON body or the stream (its chunks, held and
served to the app as they arrive, and its frames with their names and times). How the
wire becomes a Script:

- chat: content chunks -> `delta`; `hermes.tool.progress` frames -> `tool_started` (the
  label as preview) / `tool_completed` (the wire shows no arguments or result); the finish
  chunk -> `complete(output, usage)` or, with `finish_reason: "error"`, `fail(error)`.
- responses: `response.output_text.delta` -> `delta`; `function_call` items ->
  `tool_started(arguments=)`; `function_call_output` items -> `tool_completed(result=)`;
  the final message text -> `complete`, or `fail` when it is the provider failure text.
- sessions: `assistant.delta` -> `delta`; the `_thinking` `tool.progress` -> `reasoning`;
  `tool.started` (its `args`) / `tool.completed` (the result from `run.completed`'s
  messages) -> tool steps; `assistant.completed` / `run.completed` -> `complete` / `fail`.

The server adds "API call failed after N retries: " (from `api_max_retries`) to a provider
failure, so the script's `fail(error)` keeps the provider's error without it. A JSON
answer has no timeline: its steps come at the end, after a wait as long as the answer took.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from agentfakes.recording.tape import STEP_RESOLUTION, RunTape, _seconds
from agentfakes.script import Script
from agentfakes.script.scenario import ScenarioRun

__all__ = ["TURN_SURFACES", "TurnTape", "failure_error", "turn_to_run"]

TURN_SURFACES = ("chat", "responses", "sessions")
_FAILURE = re.compile(r"^API call failed after \d+ retries: (.*)$", re.DOTALL)
_CHAT_PATH = re.compile(r"^(?:/p/[^/]+)?/v1/chat/completions/?$")
_RESPONSES_PATH = re.compile(r"^(?:/p/[^/]+)?/v1/responses/?$")
_SESSION_CHAT_PATH = re.compile(r"^(?:/p/[^/]+)?/api/sessions/[^/]+/chat(/stream)?/?$")


def failure_error(text: str | None) -> str | None:
    """The provider's error inside a surface's failure text, or None if it is not one."""
    if not isinstance(text, str):
        return None
    match = _FAILURE.match(text)
    return match.group(1) if match else None


def turn_surface(method: str, path: str) -> tuple[str, bool] | None:
    """("chat" | "responses" | "sessions", whether the path itself streams) for a request
    that starts an agent turn on another surface than Runs; None otherwise."""
    if method != "POST":
        return None
    if _CHAT_PATH.match(path):
        return "chat", False
    if _RESPONSES_PATH.match(path):
        return "responses", False
    match = _SESSION_CHAT_PATH.match(path)
    if match:
        return "sessions", match.group(1) is not None
    return None


def turn_input(surface: str, body: dict[str, Any]) -> Any:
    """The user message a turn is matched by, as the fake picks it (raw; `input_text`
    makes it text): chat's last user/assistant message, responses' `input` (its last
    item), a session chat's `message` (or `input`)."""
    if surface == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list):
            return None
        said = [
            m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")
        ]
        return said[-1].get("content", "") if said else None
    if surface == "responses":
        raw = body.get("input")
        if isinstance(raw, list):
            if not raw:
                return None
            last = raw[-1]
            return last if isinstance(last, str) else (last or {}).get("content", "")
        return raw
    return body.get("message") or body.get("input")


@dataclass
class TurnTape(RunTape):
    """One recorded turn: `frames` are (time, SSE event name, data) of a stream; `body`
    is a JSON answer (`answered` its time)."""

    surface: str = "chat"
    streamed: bool = False
    frames: list[tuple[float, str | None, Any]] = field(default_factory=list)
    body: dict[str, Any] | None = None
    answered: float | None = None
    chained: bool = False  # a response continuing an earlier one

    def add_frames(self, at: float, chunk: bytes, frames: list[tuple[str | None, Any]]) -> None:
        with self._changed:
            self.chunks.append(chunk)
            self.frames += [(at, name, data) for name, data in frames]
            self._changed.notify_all()


# ---------------------------------------------------------------- tape -> scenario run


class _Steps:
    """Steps with waits between them, timed from the turn's request."""

    def __init__(self, start: float) -> None:
        self.steps: list[dict[str, Any]] = []
        self.cursor = start

    def at(self, when: float) -> None:
        gap = _seconds(when - self.cursor)
        if gap >= STEP_RESOLUTION:
            self.steps.append({"wait": {"seconds": gap}})
        self.cursor = max(self.cursor, when)

    def add(self, when: float, verb: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.at(when)
        step = {verb: arguments}
        self.steps.append(step)
        return step


def _usage(data: Any, names: tuple[str, str, str]) -> dict[str, int] | None:
    if not isinstance(data, dict):
        return None
    values = [data.get(name) for name in names]
    given, taken, total = values
    if not isinstance(given, int) or not isinstance(taken, int):
        return None
    usage = {"input_tokens": given, "output_tokens": taken}
    if isinstance(total, int):
        usage["total_tokens"] = total
    return usage


_CHAT_USAGE = ("prompt_tokens", "completion_tokens", "total_tokens")
_TOKENS = ("input_tokens", "output_tokens", "total_tokens")


def _end(steps: _Steps, when: float, text: str | None, usage: Any, error: str | None) -> None:
    """The terminal step: `fail(error)` when the surface shows a provider failure."""
    if error is None:
        error = failure_error(text)
    if error is not None:
        steps.add(when, "fail", {"error": error})
    else:
        steps.add(when, "complete", {"output": text or "", "usage": usage})


def _chat(tape: TurnTape, steps: _Steps) -> bool:
    if not tape.streamed:
        body = tape.body or {}
        choice = (body.get("choices") or [{}])[0]
        content = (choice.get("message") or {}).get("content")
        error = None
        if choice.get("finish_reason") == "error":
            error = (body.get("hermes") or {}).get("error") or failure_error(content) or ""
        usage = _usage(body.get("usage"), _CHAT_USAGE)
        _end(steps, tape.answered or tape.created, content, usage, error)
        return True
    streamed: list[str] = []
    for at, name, data in tape.frames:
        if not isinstance(data, dict):
            continue
        if name == "hermes.tool.progress":
            tool = str(data.get("tool", ""))
            if data.get("status") == "running":
                label = data.get("label")
                preview = label if isinstance(label, str) and label != tool else None
                steps.add(at, "tool_started", {"name": tool, "preview": preview})
            else:
                steps.add(at, "tool_completed", {"name": tool})
            continue
        choice = (data.get("choices") or [{}])[0]
        content = (choice.get("delta") or {}).get("content")
        if isinstance(content, str) and content:
            streamed.append(content)
            steps.add(at, "delta", {"text": content})
        reason = choice.get("finish_reason")
        if reason is not None:
            error = None
            if reason == "error":
                error = (
                    (data.get("error") or {}).get("message")
                    or (data.get("hermes") or {}).get("error")
                    or ""
                )
            _end(steps, at, "".join(streamed), _usage(data.get("usage"), _CHAT_USAGE), error)
            return True
    return False


def _message_text(output: Any) -> str | None:
    """The last assistant message's text in a response's `output`."""
    text = None
    for item in output if isinstance(output, list) else []:
        if isinstance(item, dict) and item.get("type") == "message":
            parts = item.get("content") or []
            text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
    return text


def _tool_output(output: Any) -> str:
    if isinstance(output, list):
        return "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
    return output if isinstance(output, str) else json.dumps(output)


def _arguments(raw: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return value if isinstance(value, dict) and value else None


def _responses(tape: TurnTape, steps: _Steps, seen: set[str]) -> bool:
    names: dict[str, str] = {}

    def item_step(at: float, item: dict[str, Any]) -> None:
        call_id = str(item.get("call_id", ""))
        if item.get("type") == "function_call":
            if tape.chained and not tape.streamed and call_id in seen:
                return  # a chained JSON response repeats earlier turns' items (§5.5)
            seen.add(call_id)
            names[call_id] = str(item.get("name", ""))
            arguments: dict[str, Any] = {"name": names[call_id]}
            if (parsed := _arguments(item.get("arguments"))) is not None:
                arguments["arguments"] = parsed
            steps.add(at, "tool_started", arguments)
        elif item.get("type") == "function_call_output" and call_id in names:
            result = _tool_output(item.get("output"))
            steps.add(at, "tool_completed", {"name": names.pop(call_id), "result": result})

    if not tape.streamed:
        body = tape.body or {}
        when = tape.answered or tape.created
        for item in body.get("output") or []:
            if isinstance(item, dict):
                item_step(when, item)
        text = _message_text(body.get("output"))
        _end(steps, when, text, _usage(body.get("usage"), _TOKENS), None)
        return True
    deltas: list[dict[str, Any]] = []
    for at, _name, data in tape.frames:
        if not isinstance(data, dict):
            continue
        kind = data.get("type")
        if kind == "response.output_text.delta":
            deltas.append(steps.add(at, "delta", {"text": str(data.get("delta", ""))}))
        elif kind == "response.output_item.added" and isinstance(data.get("item"), dict):
            item_step(at, data["item"])
        elif kind == "response.completed":
            response = data.get("response") or {}
            text = _message_text(response.get("output"))
            if (
                failure_error(text) is not None
                and "".join(d["delta"]["text"] for d in deltas) == text
            ):  # the server streams its failure text itself: not the script's
                steps.steps = [s for s in steps.steps if not any(s is d for d in deltas)]
            _end(steps, at, text, _usage(response.get("usage"), _TOKENS), None)
            return True
    return False


def _sessions(tape: TurnTape, steps: _Steps) -> bool:
    if not tape.streamed:
        body = tape.body or {}
        text = (body.get("message") or {}).get("content")
        _end(steps, tape.answered or tape.created, text, _usage(body.get("usage"), _TOKENS), None)
        return True
    completed: list[dict[str, Any]] = []
    final: str | None = None
    for at, name, data in tape.frames:
        if not isinstance(data, dict):
            continue
        if name == "assistant.delta":
            steps.add(at, "delta", {"text": str(data.get("delta", ""))})
        elif name == "tool.progress" and data.get("tool_name") == "_thinking":
            steps.add(at, "reasoning", {"text": str(data.get("delta", ""))})
        elif name == "tool.started":
            arguments: dict[str, Any] = {
                "name": str(data.get("tool_name", "")),
                "preview": data.get("preview"),
            }
            if isinstance(data.get("args"), dict) and data["args"]:
                arguments["arguments"] = data["args"]
            steps.add(at, "tool_started", arguments)
        elif name == "tool.completed":
            completed.append(steps.add(at, "tool_completed", {"name": str(data.get("tool_name"))}))
        elif name == "assistant.completed":
            final = data.get("content")
        elif name == "run.completed":
            results = [
                m
                for m in data.get("messages") or []
                if isinstance(m, dict) and m.get("role") == "tool"
            ]
            for step in completed:
                found = next(
                    (m for m in results if m.get("tool_name") == step["tool_completed"]["name"]),
                    None,
                )
                if found is not None:
                    results.remove(found)
                    step["tool_completed"]["result"] = _tool_output(found.get("content", ""))
            _end(steps, at, final, _usage(data.get("usage"), _TOKENS), None)
            return True
    return False


def turn_to_run(tape: TurnTape, seen: set[str] | None = None) -> ScenarioRun:
    """The tape as a scenario run on its surface (`seen`: response call ids recorded
    before, left out of a chained response)."""
    from agentfakes.recording.tape import CUT_SHORT

    steps = _Steps(tape.created)
    if tape.surface == "chat":
        ended = _chat(tape, steps)
    elif tape.surface == "responses":
        ended = _responses(tape, steps, seen if seen is not None else set())
    else:
        ended = _sessions(tape, steps)
    if not ended:
        steps.add(steps.cursor, "fail", {"error": tape.error or CUT_SHORT})
    final = tape.body if not tape.streamed else _last_data(tape)
    return ScenarioRun(
        input=tape.input,
        surface=tape.surface,
        script=Script.from_dict({"steps": steps.steps}),
        final=final,
    )


def _last_data(tape: TurnTape) -> dict[str, Any] | None:
    """The stream's last word: the finish chunk, `response.completed`, `run.completed`."""
    for _at, name, data in reversed(tape.frames):
        if isinstance(data, dict) and data and name not in ("done",):
            return data
    return None
