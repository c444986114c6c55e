"""FakeAgent: the agent loop, with RubyPi's semantics, driven by a scripted model.

The loop mirrors RubyPi's `Agent::Loop#run` (lib/ruby_pi/agent/loop.rb):

1. Before every model turn, stop with `max_iterations` if this call already took
   `max_iterations` turns (`content` is then the last assistant message's content).
2. Emit `turn_start`, take the next scripted turn, stream its text as `text_delta`s and
   record the assistant message. A turn that raises ends the call with stop_reason `error`.
3. If the turn requested tools: emit `tool_execution_start` for each, run them in order,
   then per tool emit `tool_execution_end` and append a tool message; emit `turn_end` and
   go to 1. A raising or unknown tool is a failed tool call fed back to the model.
4. Otherwise emit `turn_end` and stop with `complete`. `agent_end` fires after every call.

The events and their payloads are listed in `agentfakes.agent.events`.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

from agentfakes.agent.errors import (
    NEVER_SWALLOWED,
    PROGRAMMING_ERRORS,
    FakeAgentError,
    TurnsExhaustedError,
)
from agentfakes.agent.events import AgentEvents, EventHandler
from agentfakes.agent.turns import ModelTurn, ToolCallSpec, Turn, check_turn, reply
from agentfakes.models import (
    Message,
    Result,
    ResultError,
    StopReason,
    ToolCall,
    ToolResult,
    Usage,
)

Tool: TypeAlias = Callable[..., Any]


@dataclass(frozen=True)
class AgentCall:
    """One run/continue call the test made, and what it returned."""

    method: Literal["run", "continue_", "arun", "acontinue"]
    prompt: str
    result: Result


@dataclass
class _CallState:
    """What one run/continue call accumulates (RubyPi builds a fresh Loop per call)."""

    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    tool_calls_made: list[ToolCall] = field(default_factory=list)


class FakeAgent:
    """A scripted stand-in for a RubyPi-style agent: same loop, events and Result."""

    def __init__(
        self,
        turns: Iterable[Turn],
        *,
        max_iterations: int = 10,
        tools: Mapping[str, Tool] | None = None,
        system_prompt: str | None = None,
        messages: Iterable[Message | Mapping[str, Any]] = (),
        repeat_last: bool = False,
    ) -> None:
        if isinstance(turns, str | ModelTurn) or not isinstance(turns, Iterable):
            raise TypeError(
                f"turns must be a list of turns, got {type(turns).__name__}; "
                'e.g. turns=[call_tool("search", q="x"), reply("Done")]'
            )
        self._script: list[Turn] = list(turns)
        for index, turn in enumerate(self._script):
            check_turn(turn, where=f"turns[{index}]")
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int):
            raise TypeError(f"max_iterations must be an int, got {max_iterations!r}")
        if max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {max_iterations}")
        if repeat_last and not self._script:
            raise ValueError("repeat_last=True needs at least one scripted turn to repeat")
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise TypeError(f"system_prompt must be a str or None, got {system_prompt!r}")

        self.max_iterations = max_iterations
        self.repeat_last = repeat_last
        self.tools: dict[str, Tool] = _checked_tools(tools)
        self.calls: list[AgentCall] = []
        self.turns_consumed = 0
        self._history: list[Message] = []
        if system_prompt is not None:
            self._history.append(Message(role="system", content=system_prompt))
        self._history.extend(Message.model_validate(m) for m in messages)
        self._events = AgentEvents()
        self._tool_call_ids = 0

    # ------------------------------------------------------------ public API

    @property
    def messages(self) -> list[Message]:
        """A copy of the conversation so far (it grows across run and continue_)."""
        return [m.model_copy(deep=True) for m in self._history]

    def on(self, event: str, handler: EventHandler) -> EventHandler:
        """Call `handler(payload)` whenever `event` fires; returns it (for `off`)."""
        return self._events.on(event, handler)

    def off(self, event: str, handler: EventHandler) -> None:
        """Stop calling `handler` for `event` (no-op if it was not registered)."""
        self._events.off(event, handler)

    def run(self, prompt: str) -> Result:
        """Send `prompt` and loop until the model answers, the limit hits, or it fails.

        Like RubyPi's `run`, this appends to the conversation rather than starting a new one.
        """
        return _finish_without_event_loop(self._call("run", prompt, allow_async=False))

    def continue_(self, prompt: str) -> Result:
        """A follow-up on the same conversation; the same as `run` (as in RubyPi)."""
        return _finish_without_event_loop(self._call("continue_", prompt, allow_async=False))

    async def arun(self, prompt: str) -> Result:
        """`run` for async apps: tools and turn functions may be coroutine functions."""
        return await self._call("arun", prompt, allow_async=True)

    async def acontinue(self, prompt: str) -> Result:
        """`continue_` for async apps."""
        return await self._call("acontinue", prompt, allow_async=True)

    def __repr__(self) -> str:
        return (
            f"<FakeAgent turns={self.turns_consumed}/{len(self._script)} used "
            f"max_iterations={self.max_iterations} tools={sorted(self.tools)} "
            f"calls={len(self.calls)}>"
        )

    # ------------------------------------------------------------ the loop

    async def _call(
        self,
        method: Literal["run", "continue_", "arun", "acontinue"],
        prompt: str,
        *,
        allow_async: bool,
    ) -> Result:
        """RubyPi's Core#run/#continue: append the prompt, run the loop, emit agent_end."""
        if not isinstance(prompt, str):
            raise TypeError(f"{method}() takes a str prompt, got {type(prompt).__name__}")
        self._history.append(Message(role="user", content=prompt))
        result = await self._loop(method, prompt, allow_async=allow_async)
        self.calls.append(AgentCall(method=method, prompt=prompt, result=result))
        self._events.emit("agent_end", result=result, success=result.success)
        return result

    async def _loop(self, method: str, prompt: str, *, allow_async: bool) -> Result:
        """Think, act, observe until done; the iteration counter starts at 0 for every call."""
        state = _CallState()
        try:
            while True:
                if state.turns >= self.max_iterations:  # checked BEFORE each model turn
                    return self._result(
                        state, self._last_assistant_content(), StopReason.MAX_ITERATIONS
                    )
                turn = await self._think(state, method, prompt, allow_async=allow_async)
                state.usage += turn.usage
                state.turns += 1
                if not turn.tool_calls:
                    self._events.emit("turn_end", turn=state.turns, has_tool_calls=False)
                    return self._result(state, turn.text, StopReason.COMPLETE)
                await self._act(turn, state, allow_async=allow_async)
                self._events.emit("turn_end", turn=state.turns, has_tool_calls=True)
        except PROGRAMMING_ERRORS:
            raise
        except Exception as exc:
            self._events.emit("error", error=exc, source="agent_loop")
            return self._result(state, None, StopReason.ERROR, error=exc)

    async def _think(
        self, state: _CallState, method: str, prompt: str, *, allow_async: bool
    ) -> ModelTurn:
        """One model turn: turn_start, the scripted response streamed, the assistant message."""
        scripted = self._next_scripted_turn(state, method, prompt)
        self._events.emit("turn_start", turn=state.turns + 1)
        turn = await self._materialise(scripted, allow_async=allow_async)
        for delta in turn.stream():
            self._events.emit("text_delta", content=delta)
        if turn.raises is not None:
            raise turn.raises
        tool_calls = [self._with_id(call) for call in turn.tool_calls]
        turn = replace(turn, tool_calls=tuple(tool_calls))
        self._history.append(
            Message(
                role="assistant",
                content=turn.text,
                tool_calls=[_openai_tool_call(call) for call in tool_calls] or None,
            )
        )
        return turn

    async def _act(self, turn: ModelTurn, state: _CallState, *, allow_async: bool) -> None:
        """Run the turn's tools: all starts, then each end with its tool message (RubyPi)."""
        for call in turn.tool_calls:
            self._events.emit(
                "tool_execution_start", tool_name=call.name, arguments=dict(call.arguments)
            )
        results = [await self._execute(call, allow_async=allow_async) for call in turn.tool_calls]
        for call, result in zip(turn.tool_calls, results, strict=True):
            self._events.emit(
                "tool_execution_end",
                tool_name=call.name,
                result=result,
                success=result.success,
                duration_ms=result.duration_ms,
            )
            state.tool_calls_made.append(
                ToolCall(tool_name=call.name, arguments=dict(call.arguments), result=result)
            )
            self._history.append(
                Message(
                    role="tool",
                    content=_tool_message_content(result),
                    tool_call_id=call.id,
                    name=call.name,
                )
            )

    async def _execute(self, call: ToolCallSpec, *, allow_async: bool) -> ToolResult:
        """Run one tool; a raise or an unknown name is a failed ToolResult, not a crash."""
        tool = self.tools.get(call.name)
        if tool is None:  # RubyPi Tools::Executor's wording
            return ToolResult(
                name=call.name, success=False, error=f"Tool '{call.name}' not found in registry"
            )
        started = time.perf_counter()
        try:
            value = await _resolve(
                tool(**call.arguments), what=f"tool {call.name!r}", allow_async=allow_async
            )
        except NEVER_SWALLOWED:
            raise
        except Exception as exc:
            return ToolResult(
                name=call.name,
                success=False,
                error=str(exc) or type(exc).__name__,
                duration_ms=_elapsed_ms(started),
            )
        return ToolResult(
            name=call.name, success=True, value=value, duration_ms=_elapsed_ms(started)
        )

    # ------------------------------------------------------------ helpers

    def _next_scripted_turn(self, state: _CallState, method: str, prompt: str) -> Turn:
        """The next scripted turn, the last again with repeat_last, or a clear error."""
        if self.turns_consumed < len(self._script):
            turn = self._script[self.turns_consumed]
        elif self.repeat_last:
            turn = self._script[-1]
        else:
            raise TurnsExhaustedError(
                f"FakeAgent ran out of scripted turns: {len(self._script)} scripted, "
                f"{self.turns_consumed} consumed, and {method}({prompt!r}) needs another "
                f"model turn (turn {state.turns + 1} of this call). Script more turns, or "
                "pass repeat_last=True to repeat the last one."
            )
        self.turns_consumed += 1
        return turn

    async def _materialise(self, scripted: Turn, *, allow_async: bool) -> ModelTurn:
        """Turn a script entry into a ModelTurn, calling it with the messages if dynamic."""
        if isinstance(scripted, ModelTurn):
            return scripted
        if isinstance(scripted, str):
            return reply(scripted)
        produced = await _resolve(
            scripted(self.messages), what="a turn function", allow_async=allow_async
        )
        if isinstance(produced, str):
            return reply(produced)
        if not isinstance(produced, ModelTurn):
            raise FakeAgentError(
                f"turn function {scripted!r} returned {produced!r}; it must return a "
                "ModelTurn (reply(), call_tool(), provider_error(), …) or a str"
            )
        return produced

    def _with_id(self, call: ToolCallSpec) -> ToolCallSpec:
        if call.id is not None:
            return call
        self._tool_call_ids += 1
        return replace(call, id=f"call_{self._tool_call_ids}")

    def _last_assistant_content(self) -> str | None:
        for message in reversed(self._history):
            if message.role == "assistant":
                return message.content
        return None

    def _result(
        self,
        state: _CallState,
        content: str | None,
        stop_reason: StopReason,
        *,
        error: Exception | None = None,
    ) -> Result:
        return Result(
            content=content,
            messages=self.messages,
            tool_calls_made=list(state.tool_calls_made),
            usage=state.usage,
            turns=state.turns,
            error=ResultError.from_exception(error) if error is not None else None,
            stop_reason=stop_reason,
        )


# ---------------------------------------------------------------- module helpers


def _checked_tools(tools: Mapping[str, Tool] | None) -> dict[str, Tool]:
    if tools is None:
        return {}
    if not isinstance(tools, Mapping):
        raise TypeError(
            f"tools must be a mapping of name to callable, got {type(tools).__name__}; "
            'e.g. tools={"search": search}'
        )
    for name, tool in tools.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"tool names must be non-empty str, got {name!r}")
        if not callable(tool):
            raise TypeError(f"tool {name!r} must be callable, got {tool!r}")
    return dict(tools)


async def _resolve(value: Any, *, what: str, allow_async: bool) -> Any:
    """Await `value` if it is awaitable and we are in arun; refuse it in sync run."""
    if not inspect.isawaitable(value):
        return value
    if not allow_async:
        if inspect.iscoroutine(value):
            value.close()  # no "never awaited" warning on top of our error
        raise FakeAgentError(
            f"{what} is async; use `await agent.arun(...)` / `acontinue(...)` instead of "
            "run() / continue_()"
        )
    return await value


def _finish_without_event_loop(coroutine: Coroutine[Any, Any, Result]) -> Result:
    """Drive the loop for sync run(): it never awaits anything real, so one step finishes it."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        result: Result = finished.value
        return result
    coroutine.close()
    raise FakeAgentError("the sync FakeAgent loop suspended; this is a bug in agentfakes")


def _openai_tool_call(call: ToolCallSpec) -> dict[str, Any]:
    """A tool call as an OpenAI-style agent keeps it on the assistant message."""
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(dict(call.arguments))},
    }


def _tool_message_content(result: ToolResult) -> str:
    """What the model is fed back: the value as JSON, or "Error: …" (RubyPi's format)."""
    if result.success:
        return json.dumps(result.value, default=str)
    return f"Error: {result.error}"


def _elapsed_ms(started: float) -> float:
    return max(0.0, (time.perf_counter() - started) * 1000)
