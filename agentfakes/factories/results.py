"""Agent-loop factories: `ToolCallFactory`, `MessageFactory` and `ResultFactory` (RubyPi's
Result semantics: success, truncated, every stop_reason)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from agentfakes.factories import content
from agentfakes.factories.base import Factory, Lazy, Param, Values
from agentfakes.models import (
    Message,
    Result,
    ResultError,
    StopReason,
    ToolCall,
    ToolResult,
    Usage,
)
from agentfakes.seeding import new_call_id, rng


def _tool_result(values: Values) -> ToolResult:
    tool = content.tool(values["tool_name"])
    arguments: dict[str, Any] = values["arguments"]
    success = bool(values["success"])
    return ToolResult(
        name=values["tool_name"],
        success=success,
        value=tool.value(arguments) if success else None,
        error=None if success else tool.error(arguments),
        duration_ms=round(rng().uniform(4.0, 4_000.0), 1),
    )


class ToolCallFactory(Factory[ToolCall]):
    """One tool call with plausible arguments and a result (success by default)."""

    __model__ = ToolCall
    tool_name = Lazy(lambda _: content.random_tool_name())
    arguments = Lazy(lambda v: content.tool(v["tool_name"]).arguments())
    success = Param(True)
    result = Lazy(_tool_result)

    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "succeeded": {"success": True},
        "failed": {"success": False},
    }


def _openai_tool_call(call: ToolCall, call_id: str) -> dict[str, Any]:
    """An assistant message's `tool_calls` entry, as OpenAI-compatible APIs shape it."""
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": call.tool_name, "arguments": json.dumps(call.arguments)},
    }


def _tool_output(call: ToolCall) -> str:
    """What the model reads back from a tool: its value as JSON, or its error."""
    if call.result.success:
        return json.dumps(call.result.value)
    return json.dumps({"error": call.result.error})


def _message_content(values: Values) -> str | None:
    role = values["role"]
    if role == "user":
        return content.prompt()
    if role == "system":
        return "You are Hermes, a helpful agent. Use tools when they help; be concise."
    if role == "tool":
        name = values["name"] or content.random_tool_name()
        call = ToolCallFactory.build(tool_name=name)
        return _tool_output(call)
    if values["tool_calls"]:
        return None  # an assistant turn that only calls tools carries no text
    return content.answer()


class MessageFactory(Factory[Message]):
    """One conversation message; the content fits the role (tool messages answer a call id)."""

    __model__ = Message
    role = "user"
    tool_call_id = Lazy(lambda v: new_call_id() if v["role"] == "tool" else None)
    name = Lazy(lambda v: content.random_tool_name() if v["role"] == "tool" else None)
    tool_calls = None
    content = Lazy(_message_content)

    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "user": {"role": "user"},
        "assistant": {"role": "assistant"},
        "system": {"role": "system"},
        "tool": {"role": "tool"},
        "tool_call": {
            "role": "assistant",
            "tool_calls": Lazy(
                lambda _: [_openai_tool_call(ToolCallFactory.build(), new_call_id())]
            ),
        },
    }


def _stop_reason(values: Values) -> StopReason:
    return StopReason(values["stop_reason"])


def _result_turns(values: Values) -> int:
    """Turns as RubyPi counts them, and as `Result.from_run` maps a run."""
    stop = _stop_reason(values)
    tool_turns = len(values["tool_calls_made"])
    if stop is StopReason.MAX_ITERATIONS:
        return int(values["max_iterations"])
    if stop is StopReason.ERROR:
        return tool_turns
    return tool_turns + 1


def _result_content(values: Values) -> str | None:
    stop = _stop_reason(values)
    if stop is StopReason.ERROR:
        return None
    if stop is StopReason.MAX_ITERATIONS:
        return content.truncated_output()
    return content.answer()


def _result_error(values: Values) -> ResultError | None:
    if _stop_reason(values) is not StopReason.ERROR:
        return None
    class_name, message = content.provider_error()
    return ResultError(class_name=class_name, message=message)


def _conversation(values: Values) -> list[Message]:
    """The messages a loop accumulates: prompt, each call and its output, the final answer."""
    messages = [Message(role="user", content=values["prompt"])]
    for call in values["tool_calls_made"]:
        call_id = new_call_id()
        messages.append(Message(role="assistant", tool_calls=[_openai_tool_call(call, call_id)]))
        messages.append(
            Message(
                role="tool", tool_call_id=call_id, name=call.tool_name, content=_tool_output(call)
            )
        )
    if values["content"] is not None:
        messages.append(Message(role="assistant", content=values["content"]))
    return messages


def _result_usage(values: Values) -> Usage:
    """Tokens summed over the turns: the prompt grows each turn, so input dominates."""
    turns = max(int(values["turns"]), 1)
    return Usage(
        input_tokens=sum(rng().randint(300, 3_000) for _ in range(turns)),
        output_tokens=sum(rng().randint(10, 600) for _ in range(turns)),
    )


class ResultFactory(Factory[Result]):
    """An agent loop's Result with RubyPi's semantics; traits for every stop_reason."""

    __model__ = Result
    stop_reason = StopReason.COMPLETE
    max_iterations = Param(10)
    tools = Param(0)
    prompt = Param(Lazy(lambda _: content.prompt()))
    tool_calls_made = Lazy(lambda v: ToolCallFactory.build_batch(int(v["tools"])))
    turns = Lazy(_result_turns)
    content = Lazy(_result_content)
    error = Lazy(_result_error)
    messages = Lazy(_conversation)
    usage = Lazy(_result_usage)

    _truncated: ClassVar[Mapping[str, Any]] = {
        "stop_reason": StopReason.MAX_ITERATIONS,
        "tools": Lazy(lambda v: v["max_iterations"]),  # every turn called a tool
    }
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "complete": {"stop_reason": StopReason.COMPLETE},
        "completed": {"stop_reason": StopReason.COMPLETE},  # RunFactory's name for it
        "max_iterations": _truncated,
        "truncated": _truncated,
        "error": {"stop_reason": StopReason.ERROR},
        "failed": {"stop_reason": StopReason.ERROR},  # RunFactory's name for it
        "with_tools": {"tools": Lazy(lambda _: rng().randint(1, 4))},
    }
