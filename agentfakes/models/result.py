"""An agent loop's outcome, with RubyPi's semantics: `Result` and the parts it is made of.

`Result.from_run` maps a finished Hermes run (and its events) onto it, so an app's code
that handles agent outcomes can be tested against either an in-process agent or the API.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentfakes.models._base import _TokenCounts
from agentfakes.models.events import RunEvent, ToolCompleted, ToolStarted, parse_event
from agentfakes.models.runs import Run, RunStatus, RunUsage, carries_iteration_limit_notice


class StopReason(StrEnum):
    """Why an agent loop ended (RubyPi's Result.stop_reason)."""

    COMPLETE = "complete"
    MAX_ITERATIONS = "max_iterations"
    ERROR = "error"


class Usage(_TokenCounts):
    """Token usage of an agent Result, summed over its turns."""


class Message(BaseModel):
    """One conversation message an agent loop accumulated."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    name: str | None = None


class ToolResult(BaseModel):
    """What one tool execution gave back: value on success, error text on failure."""

    name: str
    success: bool
    value: Any = None
    error: str | None = None
    duration_ms: float = Field(default=0.0, ge=0)


class ToolCall(BaseModel):
    """One tool call the agent made, with its result (RubyPi's tool_calls_made entry)."""

    tool_name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: ToolResult

    @property
    def succeeded(self) -> bool:
        return self.result.success


class ResultError(BaseModel):
    """The error that ended an agent loop: its class name and message."""

    model_config = ConfigDict(populate_by_name=True)

    class_name: str = Field(alias="class")
    message: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> ResultError:
        return cls(class_name=type(exc).__name__, message=str(exc))

    def to_dict(self) -> dict[str, str]:
        return {"class": self.class_name, "message": self.message}

    def __str__(self) -> str:
        return f"{self.class_name}: {self.message}"


class Result(BaseModel):
    """The outcome of one agent loop call, with RubyPi's semantics.

    `success` is false when `error` is set or the loop hit max_iterations; `truncated` is
    true only for max_iterations.
    """

    content: str | None = None
    messages: list[Message] = Field(default_factory=list)
    tool_calls_made: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    turns: int = Field(default=0, ge=0)
    error: ResultError | None = None
    stop_reason: StopReason = StopReason.COMPLETE

    @field_validator("error", mode="before")
    @classmethod
    def _error_from_exception(cls, value: Any) -> Any:
        if isinstance(value, BaseException):
            return ResultError.from_exception(value)
        if isinstance(value, str):
            return ResultError(class_name="Error", message=value)
        return value

    @model_validator(mode="after")
    def _error_means_error_stop(self) -> Self:
        if self.error is not None and self.stop_reason is not StopReason.ERROR:
            raise ValueError(
                f"a Result with an error has stop_reason 'error', not '{self.stop_reason.value}'"
            )
        return self

    @property
    def success(self) -> bool:
        return self.error is None and self.stop_reason is not StopReason.MAX_ITERATIONS

    @property
    def truncated(self) -> bool:
        return self.stop_reason is StopReason.MAX_ITERATIONS

    def to_dict(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "messages": [m.model_dump(exclude_none=True) for m in self.messages],
            "tool_calls_made": [c.model_dump() for c in self.tool_calls_made],
            "usage": self.usage.to_wire(),
            "turns": self.turns,
            "error": self.error.to_dict() if self.error else None,
            "success": self.success,
            "stop_reason": self.stop_reason.value,
            "truncated": self.truncated,
        }

    def __repr__(self) -> str:
        status = "success" if self.success else "failure"
        content = self.content if self.content is not None else ""
        if len(content) > 40:
            content = content[:37] + "..."
        error = f" error={self.error}" if self.error else ""
        return (
            f"<Result status={status} turns={self.turns} stop_reason={self.stop_reason.value} "
            f"tools={len(self.tool_calls_made)}{error} content={json.dumps(content)}>"
        )

    __str__ = __repr__

    @classmethod
    def from_run(
        cls,
        run: Run | dict[str, Any],
        events: list[RunEvent] | list[dict[str, Any]] | None = None,
        *,
        max_iterations: int | None = None,
    ) -> Result:
        """Map a finished Hermes run (and, if given, its events) to a Result.

        completed → complete; completed with the iteration-limit notice → max_iterations;
        failed → error (the run's error text as `error.message`, class `RunFailed`);
        cancelled → error with class `RunCancelled` (a stopped run did not succeed).
        """
        if isinstance(run, dict):
            run = Run.model_validate(run)
        parsed = [e if isinstance(e, BaseModel) else parse_event(e) for e in events or []]
        tool_calls = _tool_calls_from_events(parsed)
        tool_turns = len(tool_calls)
        if run.status is RunStatus.COMPLETED:
            usage = Usage(**(run.usage or RunUsage()).to_wire())
            messages = [Message(role="assistant", content=run.output)]
            if carries_iteration_limit_notice(run.output):
                return cls(
                    content=run.output,
                    messages=messages,
                    tool_calls_made=tool_calls,
                    usage=usage,
                    turns=max_iterations if max_iterations is not None else max(tool_turns, 1),
                    stop_reason=StopReason.MAX_ITERATIONS,
                )
            return cls(
                content=run.output,
                messages=messages,
                tool_calls_made=tool_calls,
                usage=usage,
                turns=tool_turns + 1,
                stop_reason=StopReason.COMPLETE,
            )
        if run.status is RunStatus.FAILED:
            error = ResultError(class_name="RunFailed", message=run.error or "")
        elif run.status is RunStatus.CANCELLED:
            error = ResultError(class_name="RunCancelled", message=f"run {run.run_id} was stopped")
        else:
            raise ValueError(
                f"run {run.run_id} is still {run.status.value}; "
                "a Result exists only for a finished run (completed, failed or cancelled)"
            )
        return cls(
            content=None,
            tool_calls_made=tool_calls,
            turns=tool_turns,
            error=error,
            stop_reason=StopReason.ERROR,
        )


def _tool_calls_from_events(events: list[Any]) -> list[ToolCall]:
    """Pair tool.started with tool.completed events (the wire carries no arguments or results)."""
    open_calls: list[str] = []
    calls: list[ToolCall] = []
    for event in events:
        if isinstance(event, ToolStarted):
            open_calls.append(event.tool)
        elif isinstance(event, ToolCompleted):
            if event.tool in open_calls:
                open_calls.remove(event.tool)
            calls.append(
                ToolCall(
                    tool_name=event.tool,
                    result=ToolResult(
                        name=event.tool,
                        success=not event.error,
                        error="tool reported an error" if event.error else None,
                        duration_ms=event.duration * 1000,
                    ),
                )
            )
    return calls
