"""Pydantic models of what travels on the Hermes Runs API wire, and of an agent's Result.

Wire models (`Run`, `RunUsage`, the `RunEvent` union) parse a real server's JSON (unknown
extra keys are kept, so a newer server still parses) and give back the exact dict the real
server sends with `to_wire()`: absent fields stay absent, key order follows the server.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal, Self, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

RUN_ID_PATTERN = r"^run_[0-9a-f]{32}$"

# spec §9.4 / hermes run_agent.py `_format_turn_completion_explanation`: the notice Hermes
# puts in `output` when the agent ran out of tool iterations.
ITERATION_LIMIT_MARKER = "No reply: the maximum tool-iteration limit was reached"
ITERATION_LIMIT_NOTICE = (
    "⚠️ No reply: the maximum tool-iteration limit was reached before a final answer. "
    "Send `continue` to keep going, or raise `max_iterations`."
)


def with_iteration_limit_notice(summary: str | None) -> str:
    """The `output` Hermes reports when the iteration limit ends a run (spec §9.4)."""
    if not summary:
        return ITERATION_LIMIT_NOTICE
    return f"{summary}\n\n{ITERATION_LIMIT_NOTICE}"


def carries_iteration_limit_notice(output: str | None) -> bool:
    return bool(output) and ITERATION_LIMIT_MARKER in str(output)


def wire_json(data: Any) -> str:
    """JSON exactly as aiohttp's `json_response` writes it (json.dumps defaults, spec §0)."""
    return json.dumps(data)


class RunStatus(StrEnum):
    """The seven values of a run's `status` (spec §4). `started` is only in the 202 body."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING_FOR_APPROVAL = "waiting_for_approval"
    STOPPING = "stopping"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class StopReason(StrEnum):
    """Why an agent loop ended (RubyPi's Result.stop_reason)."""

    COMPLETE = "complete"
    MAX_ITERATIONS = "max_iterations"
    ERROR = "error"


class _WireModel(BaseModel):
    """Base of the wire models: unknown keys are kept so a newer server still round-trips."""

    model_config = ConfigDict(extra="allow", frozen=False, populate_by_name=True)

    def _extras(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class _TokenCounts(BaseModel):
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    total_tokens: int = Field(default=-1)

    @model_validator(mode="after")
    def _default_total(self) -> Self:
        if self.total_tokens == -1:
            self.total_tokens = self.input_tokens + self.output_tokens
        if self.total_tokens < 0:
            raise ValueError("total_tokens must be >= 0")
        return self

    def __add__(self, other: _TokenCounts) -> Self:
        return type(self)(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )

    def to_wire(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
        }


class RunUsage(_TokenCounts):
    """`usage` of a completed run: the agent's cumulative token counters (spec §3)."""

    model_config = ConfigDict(extra="allow")


class Usage(_TokenCounts):
    """Token usage of an agent Result, summed over its turns."""


class Run(_WireModel):
    """The run object of `GET /v1/runs/{id}` (spec §3)."""

    object: Literal["hermes.run"] = "hermes.run"
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    status: RunStatus
    updated_at: float
    created_at: float
    session_id: Any = None
    model: Any = "hermes-agent"
    last_event: str | None = None
    output: str | None = None
    usage: RunUsage | None = None
    error: str | None = None

    @model_validator(mode="after")
    def _fields_match_status(self) -> Self:
        if self.session_id is None:
            self.session_id = self.run_id
        if self.status is RunStatus.COMPLETED:
            if self.usage is None:
                self.usage = RunUsage()
        else:
            if self.output is not None or self.usage is not None:
                raise ValueError(
                    f"output and usage are only present on completed runs, not {self.status.value}"
                )
        if self.status is RunStatus.FAILED and self.error is None:
            raise ValueError("a failed run carries its error text in `error`")
        if self.status is not RunStatus.FAILED and self.error is not None:
            raise ValueError(f"error is only present on failed runs, not {self.status.value}")
        return self

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def to_wire(self) -> dict[str, Any]:
        """The JSON dict the real server sends: absent fields absent, in the server's order."""
        wire = run_wire(
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
        )
        wire.update(self._extras())
        return wire


def run_wire(
    *,
    run_id: str,
    status: RunStatus,
    updated_at: float,
    created_at: float,
    session_id: Any,
    model: Any,
    last_event: str | None,
    output: str | None,
    usage: RunUsage | None,
    error: str | None,
) -> dict[str, Any]:
    """The run object of spec §3: `last_event` once set, `output`/`usage` only when
    completed, `error` only when failed; keys in the server's insertion order."""
    wire: dict[str, Any] = {
        "object": "hermes.run",
        "run_id": run_id,
        "status": status.value,
        "updated_at": updated_at,
        "created_at": created_at,
        "session_id": session_id,
        "model": model,
    }
    if last_event is not None:
        wire["last_event"] = last_event
    if status is RunStatus.COMPLETED:
        wire["output"] = output
        wire["usage"] = (usage or RunUsage()).to_wire()
    elif status is RunStatus.FAILED:
        wire["error"] = error
    return wire


# ---------------------------------------------------------------- events (spec §5.3)


class _Event(_WireModel):
    """Envelope shared by every run event: `event`, `run_id`, `timestamp` first (spec §5.2)."""

    run_id: str = Field(pattern=RUN_ID_PATTERN)
    timestamp: float

    def _payload(self) -> dict[str, Any]:
        return {}

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "event": getattr(self, "event"),  # noqa: B009 - declared on each subclass
            "run_id": self.run_id,
            "timestamp": self.timestamp,
        }
        wire.update(self._payload())
        wire.update(self._extras())
        return wire

    def to_sse(self) -> str:
        """The SSE frame the server writes for this event: one `data:` line (spec §5.1)."""
        return f"data: {wire_json(self.to_wire())}\n\n"

    @property
    def is_terminal(self) -> bool:
        return getattr(self, "event") in TERMINAL_EVENTS  # noqa: B009


class MessageDelta(_Event):
    event: Literal["message.delta"] = "message.delta"
    delta: str

    def _payload(self) -> dict[str, Any]:
        return {"delta": self.delta}


class ReasoningAvailable(_Event):
    event: Literal["reasoning.available"] = "reasoning.available"
    text: str = ""

    def _payload(self) -> dict[str, Any]:
        return {"text": self.text}


class ToolStarted(_Event):
    event: Literal["tool.started"] = "tool.started"
    tool: str
    preview: str | None = None

    def _payload(self) -> dict[str, Any]:
        return {"tool": self.tool, "preview": self.preview}


class ToolCompleted(_Event):
    event: Literal["tool.completed"] = "tool.completed"
    tool: str
    duration: float = Field(ge=0)
    error: bool = False

    @field_validator("duration")
    @classmethod
    def _three_decimals(cls, value: float) -> float:
        return round(value, 3)  # spec §5.3: rounded to 3 dp

    def _payload(self) -> dict[str, Any]:
        return {"tool": self.tool, "duration": self.duration, "error": self.error}


APPROVAL_CHOICES = ("once", "session", "always", "deny")


def approval_choices(*, allow_permanent: bool | None, smart_denied: bool | None) -> list[str]:
    """The `choices` list the server offers (spec §5.4, `A:71-74`)."""
    if smart_denied:
        return ["once", "deny"]
    if allow_permanent is False:
        return ["once", "session", "deny"]
    return list(APPROVAL_CHOICES)


class ApprovalRequest(_Event):
    """`approval.request`: the approval keys come first, the envelope after (spec §5.4)."""

    event: Literal["approval.request"] = "approval.request"
    command: str
    pattern_key: str
    pattern_keys: list[str]
    description: str
    allow_permanent: bool | None = None
    smart_denied: bool | None = None
    choices: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _default_choices(self) -> Self:
        if not self.choices:
            self.choices = approval_choices(
                allow_permanent=self.allow_permanent, smart_denied=self.smart_denied
            )
        return self

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "command": self.command,
            "pattern_key": self.pattern_key,
            "pattern_keys": list(self.pattern_keys),
            "description": self.description,
        }
        if self.allow_permanent is not None:
            wire["allow_permanent"] = self.allow_permanent
        if self.smart_denied is not None:
            wire["smart_denied"] = self.smart_denied
        wire.update(self._extras())
        wire.update(
            event=self.event,
            run_id=self.run_id,
            timestamp=self.timestamp,
            choices=list(self.choices),
        )
        return wire


class ApprovalResponded(_Event):
    event: Literal["approval.responded"] = "approval.responded"
    choice: Literal["once", "session", "always", "deny"]
    resolved: int = Field(ge=0)

    def _payload(self) -> dict[str, Any]:
        return {"choice": self.choice, "resolved": self.resolved}


class RunCompleted(_Event):
    event: Literal["run.completed"] = "run.completed"
    output: str | None
    usage: RunUsage = Field(default_factory=RunUsage)

    def _payload(self) -> dict[str, Any]:
        return {"output": self.output, "usage": self.usage.to_wire()}


class RunFailed(_Event):
    event: Literal["run.failed"] = "run.failed"
    error: str

    def _payload(self) -> dict[str, Any]:
        return {"error": self.error}


class RunCancelled(_Event):
    event: Literal["run.cancelled"] = "run.cancelled"


RunEvent: TypeAlias = Annotated[
    MessageDelta
    | ReasoningAvailable
    | ToolStarted
    | ToolCompleted
    | ApprovalRequest
    | ApprovalResponded
    | RunCompleted
    | RunFailed
    | RunCancelled,
    Field(discriminator="event"),
]
"""Any run event; parse a wire dict with `parse_event`."""

EVENT_NAMES = (
    "message.delta",
    "reasoning.available",
    "tool.started",
    "tool.completed",
    "approval.request",
    "approval.responded",
    "run.completed",
    "run.failed",
    "run.cancelled",
)
TERMINAL_EVENTS = frozenset({"run.completed", "run.failed", "run.cancelled"})

_EVENT_ADAPTER: TypeAdapter[RunEvent] = TypeAdapter(RunEvent)


def parse_event(data: dict[str, Any] | str | bytes) -> RunEvent:
    """Parse one wire event (a dict, its JSON, or a whole `data: ...` SSE frame)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    if isinstance(data, str):
        text = data.strip()
        if text.startswith("data:"):
            text = text[len("data:") :].strip()
        return _EVENT_ADAPTER.validate_json(text)
    return _EVENT_ADAPTER.validate_python(data)


# ---------------------------------------------------------------- agent Result (RubyPi)


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
