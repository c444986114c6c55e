"""Run events (spec §5.3): one model per event name, `RunEvent` their union on `event`.

Each parses a real server's wire dict (unknown keys are kept) and `to_wire()` gives back
the dict the server sends, keys in its order; the SSE framing is `agentfakes.models.sse`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self, TypeAlias

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from agentfakes.models._base import _WireModel
from agentfakes.models.runs import RUN_ID_PATTERN, RunUsage
from agentfakes.models.sse import encode_event, parse_frame, parse_frames


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
        return encode_event(self).decode()

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


_FRAME_STARTS = ("data:", "event:", ":")


def parse_event(data: dict[str, Any] | str | bytes) -> RunEvent:
    """Parse one wire event (a dict, its JSON, or a whole `data: ...` SSE frame, §5.1)."""
    if isinstance(data, dict):
        return _EVENT_ADAPTER.validate_python(data)
    text = (data.decode("utf-8") if isinstance(data, bytes) else data).strip()
    if text.startswith(_FRAME_STARTS):
        text = parse_frame(text).data or ""
    return _EVENT_ADAPTER.validate_json(text)


def parse_run_events(data: bytes | str) -> list[RunEvent]:
    """The run events of a captured Runs stream (§5.1): each `data:` frame parsed with
    `parse_event`, comments (`: keepalive`, `: stream closed`) skipped."""
    events: list[RunEvent] = []
    for number, frame in enumerate(parse_frames(data)):
        if frame.data is None:
            continue
        try:
            events.append(_EVENT_ADAPTER.validate_json(frame.data))
        except ValidationError as exc:
            raise ValueError(
                f"SSE frame {number} is not a Hermes run event: {_clip(frame.data)}\n{exc}"
            ) from exc
    return events


def _clip(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
